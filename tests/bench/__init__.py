"""Benchmarks: `make bench` runs every `bench_*` module; each prints ours beside a baseline from the same run."""
