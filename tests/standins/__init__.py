"""Stand-in platform servers for tests: small HTTP servers on loopback speaking the API subset we use."""
