"""Scale benchmarks: each `bench_*.py` module runs in its own process on a fresh database."""
