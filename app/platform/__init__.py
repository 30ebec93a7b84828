"""Plumbing every feature uses, naming none: Redis and RQ, jobs, store API clients, SQL helpers, column types."""
