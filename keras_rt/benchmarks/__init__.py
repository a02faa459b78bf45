"""Benchmarks: library functions behind the scripts in `benchmarks/` (tables + JSON)."""
