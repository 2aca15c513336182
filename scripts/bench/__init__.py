"""Benchmarks for `make bench` (apart from the tests): each prints ratios measured side by side."""
