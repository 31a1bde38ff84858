"""Benchmarks behind ``make bench``: each measures our code against a baseline or a
physical ceiling in the same run and returns rows for the results table."""
