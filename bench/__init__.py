"""Benchmarks: scripts that print figures and never fail on time. Run `python -m bench`.

Kept empty on purpose: the import-time benchmark imports `bench.baseline_app`, and this package
must add nothing to that figure.
"""
