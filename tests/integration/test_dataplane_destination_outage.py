"""The data plane's asynchronous invocations when the emulator is unreachable at the moment
an event has used up its retries: the dead-letter queue and the on-failure destination
cannot be reached (a real boto3 SQS client pointed at a loopback port nobody listens on).

Lambda then drops the event and counts it (DeadLetterErrors, DestinationDeliveryFailures).
The data plane used to let the SQS error escape the step instead: the event was neither
dead-lettered nor reported as a failed load, so a drain after the outage said nothing was
wrong while the object was never loaded."""

from __future__ import annotations

import socket
import time
from typing import Any

import boto3
from botocore.config import Config

from scripts.local.dataplane.async_invoke import AsyncConfig, AsyncEvent, AsyncInvoker
from scripts.local.dataplane.runtime import InvokeResult, failure

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:loader-dlq"


class AlwaysFailing:
    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, name_or_arn: str, event: Any) -> InvokeResult:
        self.calls += 1
        return failure(f"request-{self.calls}", "DatabaseConnectError", "cannot connect")


def unreachable_sqs() -> Any:
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2),
    )


def test_an_event_whose_dead_letter_queue_is_unreachable_is_reported_not_lost_silently() -> None:
    function = AlwaysFailing()
    given_up: list[str] = []
    invoker = AsyncInvoker(
        invoker=function,
        sqs_client=unreachable_sqs(),
        configs=lambda _arn: AsyncConfig(max_retries=1, on_failure_arn=QUEUE_ARN),
        dead_letter_arn=lambda _arn: QUEUE_ARN,
        retry_delay_s=0.0,
    )
    invoker.submit(
        AsyncEvent(
            "arn:aws:lambda:us-east-1:123456789012:function:loader",
            {"Records": []},
            enqueued_at=time.monotonic(),
            on_exhausted=lambda _result, condition: given_up.append(condition),
        )
    )
    invoker.step()  # the first attempt fails: queued for its retry
    invoker.step()  # the retry fails: exhausted, and no queue to take it

    assert function.calls == 2
    assert invoker.waiting() == 0  # dropped, as Lambda drops it
    assert invoker.stats.exhausted == 1
    assert invoker.stats.dead_letter_errors == 1
    (condition,) = given_up  # reported, so the drain names the object
    assert condition.startswith("RetriesExhausted; not dead-lettered: EndpointConnectionError")
