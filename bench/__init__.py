"""Benchmarks, run as modules: `python -m bench.ingest` (see bench/README.md)."""
