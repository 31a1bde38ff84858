"""Powertools Logger and Metrics for the three functions, configured in one place.

Logs are structured JSON lines (Powertools). Nothing here logs configuration values:
settings hold no secrets (the database password comes from Secrets Manager or an IAM
token at connect time), and credentials are never passed to a logger.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

DEFAULT_METRICS_NAMESPACE = "ddb2aurora"

__all__ = ["DEFAULT_METRICS_NAMESPACE", "MetricUnit", "get_logger", "get_metrics"]


def _service(function_name: str) -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or function_name


def get_logger(function_name: str) -> Logger:
    """A structured logger; service is POWERTOOLS_SERVICE_NAME or the function's name,
    level POWERTOOLS_LOG_LEVEL (Powertools reads it) or INFO."""
    return Logger(service=_service(function_name))


def get_metrics(function_name: str) -> Metrics:
    """CloudWatch embedded-metric-format metrics in POWERTOOLS_METRICS_NAMESPACE
    (default "ddb2aurora"), dimension ``service``. Flush them by decorating the
    handler with ``@metrics.log_metrics``."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE
    return Metrics(namespace=namespace, service=_service(function_name))
