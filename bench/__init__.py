"""Carethread's benchmark suite: `python -m bench [--quick | --smoke | --knee ...]`.

See bench/RESULTS.md for what it measures, how, and the figures on the reference machine.
"""
