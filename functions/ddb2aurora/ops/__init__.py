"""Operator tooling: the ``ddb2aurora`` command (backfill, verify, replay, status).

Run by people, not by the functions, so it is left out of the Lambda zips
(scripts/build_zips.py) and may import boto3 and rich at module level.
"""
