"""Benchmarks (figures, not tests): run each script as `python bench/NAME.py`."""
