"""The per-store records the programmes act on: customers (guests included), orders, refunds, fulfilments, catalog."""
