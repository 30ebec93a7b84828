"""Privacy requests: the platforms' compliance webhooks and the merchant's own, exports and erasure."""
