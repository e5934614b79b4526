"""Benchmarks: `python -m benchmarks` (or `make bench`) measures the gateway against references."""
