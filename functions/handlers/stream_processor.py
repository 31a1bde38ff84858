"""Lambda entry point ``stream_processor.handler``: DynamoDB Streams → Firehose.

The logic lives in ``ddb2aurora.stream_processor``; this module only wires it to AWS.
Settings are parsed on the first invocation and cached for the life of the execution
environment (still once per cold start), not at import: importing the module then needs
neither the environment variables nor boto3, which the zip build checks, while a bad
configuration still fails the first invocation with a ConfigurationError naming every
bad variable.
"""

from __future__ import annotations

import os
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ddb2aurora.adapters import dynamodb, firehose, sqs
from ddb2aurora.observability import get_logger, get_metrics
from ddb2aurora.settings import StreamProcessorSettings
from ddb2aurora.stream_processor import Ports, process_event

logger = get_logger("stream_processor")
metrics = get_metrics("stream_processor")


@cache
def settings() -> StreamProcessorSettings:
    return StreamProcessorSettings.from_env(os.environ)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = settings()
    ports = Ports(
        put_record_batch=partial(firehose.put_record_batch, config.delivery_stream_name),
        fetch_item=dynamodb.get_item,
        remaining_ms=context.get_remaining_time_in_millis,
        send_dead_letter=(
            partial(sqs.send_message, config.dead_letter_queue_url)
            if config.dead_letter_queue_url
            else None
        ),
    )
    result = process_event(event, config, ports, logger)
    metrics.add_metric(name="ChangeRecordsSent", unit=MetricUnit.Count, value=result.records_sent)
    metrics.add_metric(name="PutRecordBatchCalls", unit=MetricUnit.Count, value=result.put_calls)
    metrics.add_metric(
        name="PutRecordBatchRetries", unit=MetricUnit.Count, value=result.put_retry_calls
    )
    metrics.add_metric(
        name="OversizedRecords", unit=MetricUnit.Count, value=result.oversized_records
    )
    response = result.response()
    metrics.add_metric(
        name="BatchItemFailures",
        unit=MetricUnit.Count,
        value=len(response["batchItemFailures"]),
    )
    return response
