"""Benchmarks: each prints and writes ratios against a baseline measured in the same run."""
