"""Lambda entry point ``firehose_transform.handler``: Firehose change records → CSV rows.

The logic lives in ``ddb2aurora.firehose_transform``. Settings and the mapping are read
on the first invocation and cached for the execution environment (once per cold start),
so importing the module needs neither environment variables nor boto3; a bad setting or
mapping fails that first invocation with an error naming it.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ddb2aurora.firehose_transform import transform
from ddb2aurora.mapping import TableMapping, load_mapping
from ddb2aurora.observability import get_logger, get_metrics
from ddb2aurora.settings import TransformSettings

logger = get_logger("firehose_transform")
metrics = get_metrics("firehose_transform")


@cache
def mapping() -> TableMapping:
    return load_mapping(TransformSettings.from_env(os.environ).mapping.resolve())


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = transform(event.get("records", []), mapping())
    for failure in outcome.failures:
        logger.warning(
            "record failed transformation",
            extra={"record_id": failure.record_id, "seq": failure.seq, "reason": failure.reason},
        )
    metrics.add_metric(name="RecordsTransformed", unit=MetricUnit.Count, value=outcome.ok)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(outcome.failures))
    metrics.add_metric(name="RecordsDropped", unit=MetricUnit.Count, value=outcome.dropped)
    return outcome.response()
