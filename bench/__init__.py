"""Benchmarks: each module here has `main(argv) -> int` and prints its own results; `make bench` runs all."""
