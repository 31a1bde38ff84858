"""Adapters: the only modules that talk to AWS (boto3) or the database (PyMySQL).

boto3 is imported lazily, inside the functions that need it, so the package imports
without it (the pure core and the zips' import checks) and clients are created on
first use, once per cold start. Each adapter turns AWS errors into its own small
exception type so callers never import botocore.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service_name: str) -> Any:
    """One boto3 client per service for the life of the execution environment. Region and
    endpoint follow boto3's standard resolution (AWS_REGION, AWS_ENDPOINT_URL)."""
    import boto3  # noqa: PLC0415 - lazy: the Lambda runtime provides boto3, tests may not
    from botocore.config import Config  # noqa: PLC0415

    # Standard retry mode with few attempts: callers apply their own retry policy
    # (stream_processor's backoff, the loader's asynchronous retries). Timeouts well inside
    # the functions' own (60 s stream processor): with botocore's default 60 s read timeout
    # one unresponsive endpoint would use the whole invocation three times over, and the
    # function would time out instead of reporting what it could not deliver.
    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10
    )
    return boto3.client(service_name, config=config)


def aws_errors() -> tuple[type[Exception], ...]:
    """The exception types that mean an AWS call failed (service error or transport)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    return (ClientError, BotoCoreError)
