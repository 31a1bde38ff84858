"""Asynchronous invocation (the Event invocation type) with Lambda's retry semantics.

Lambda queues the event, invokes, and on a function error retries twice by default
(MaximumRetryAttempts from the function's event invoke config, 0-2) as long as the event
is younger than MaximumEventAgeInSeconds (default 6 h); then it sends the invocation
record to the OnFailure destination and/or the event to the function's dead-letter queue.
AWS waits about 1 minute before the first retry and 2 minutes before the second; locally
the delay is `retry_delay_s` (default 0.5 s) so tests and drains finish quickly.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .runtime import InvokeResult
from .streams import Invoker, iso_now, queue_url, send_to_queue

log = logging.getLogger("dataplane.async")

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_EVENT_AGE_S = 21600


@dataclass(frozen=True)
class AsyncConfig:
    max_retries: int = DEFAULT_MAX_RETRIES
    max_event_age_s: int = DEFAULT_MAX_EVENT_AGE_S
    on_failure_arn: str | None = None
    on_success_arn: str | None = None

    @classmethod
    def from_api(cls, config: dict[str, Any]) -> AsyncConfig:
        destinations = config.get("DestinationConfig") or {}
        return cls(
            max_retries=int(config.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES)),
            max_event_age_s=int(config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_S)),
            on_failure_arn=(destinations.get("OnFailure") or {}).get("Destination"),
            on_success_arn=(destinations.get("OnSuccess") or {}).get("Destination"),
        )


@dataclass
class AsyncEvent:
    function_arn: str
    event: Any
    enqueued_at: float
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: int = 0
    next_at: float = 0.0
    on_success: Callable[[InvokeResult], None] | None = None
    on_exhausted: Callable[[InvokeResult, str], None] | None = None
    label: dict[str, str] | None = None  # what the event is about (saved across restarts)


@dataclass
class AsyncStats:
    queued: int = 0
    succeeded: int = 0
    retried: int = 0
    exhausted: int = 0
    dead_letter_errors: int = 0  # given up, and the destination could not take the event


class AsyncInvoker:
    def __init__(
        self,
        *,
        invoker: Invoker,
        sqs_client: Any,
        configs: Callable[[str], AsyncConfig],
        dead_letter_arn: Callable[[str], str | None],
        retry_delay_s: float = 0.5,
    ) -> None:
        self.invoker = invoker
        self.sqs = sqs_client
        self.configs = configs
        self.dead_letter_arn = dead_letter_arn
        self.retry_delay_s = retry_delay_s
        self.queue: list[AsyncEvent] = []
        self.stats = AsyncStats()

    def submit(self, item: AsyncEvent) -> None:
        self.queue.append(item)
        self.stats.queued += 1

    def waiting(self) -> int:
        return len(self.queue)

    def step(self) -> bool:
        """Invoke every event that is due; True when anything ran."""
        now = time.monotonic()
        due = [item for item in self.queue if item.next_at <= now]
        for item in due:
            self.queue.remove(item)
            self._run(item)
        return bool(due)

    def _run(self, item: AsyncEvent) -> None:
        config = self.configs(item.function_arn)
        item.attempts += 1
        result = self.invoker.invoke(item.function_arn, item.event)
        if result.ok:
            self.stats.succeeded += 1
            if config.on_success_arn:
                send_to_queue(
                    self.sqs, config.on_success_arn, self._record(item, result, "Success")
                )
            if item.on_success:
                item.on_success(result)
            return
        age = time.monotonic() - item.enqueued_at
        if age > config.max_event_age_s:
            self._exhausted(item, result, "EventAgeExceeded", config)
        elif item.attempts > config.max_retries:
            self._exhausted(item, result, "RetriesExhausted", config)
        else:
            self.stats.retried += 1
            delay_s = self.retry_delay_s * item.attempts
            # each failed attempt is logged, as Lambda's log of the invocation shows it: an
            # outage shows within one attempt, not after the last of the retries
            log.warning(
                "async event %s to %s failed (attempt %d of %d), retried in %.1f s: %s %s",
                item.request_id,
                item.function_arn,
                item.attempts,
                config.max_retries + 1,
                delay_s,
                result.error_type,
                result.error_message[:300],
            )
            item.next_at = time.monotonic() + delay_s
            self.queue.append(item)

    def _record(self, item: AsyncEvent, result: InvokeResult, condition: str) -> dict[str, Any]:
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if result.function_error:
            response_context["functionError"] = result.function_error
        return {
            "version": "1.0",
            "timestamp": iso_now(),
            "requestContext": {
                "requestId": item.request_id,
                "functionArn": f"{item.function_arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": item.attempts,
            },
            "requestPayload": item.event,
            "responseContext": response_context,
            "responsePayload": result.payload,
        }

    def _exhausted(
        self, item: AsyncEvent, result: InvokeResult, condition: str, config: AsyncConfig
    ) -> None:
        self.stats.exhausted += 1
        log.error(
            "async event %s to %s given up after %d attempts (%s): %s %s",
            item.request_id,
            item.function_arn,
            item.attempts,
            condition,
            result.error_type,
            result.error_message[:300],
        )
        try:
            self._dead_letter(item, result, condition, config)
        except Exception as error:
            # Lambda drops the event when its destination cannot take it (DeadLetterErrors,
            # DestinationDeliveryFailures); locally that is the emulator being unreachable.
            # Counted and handed on, so the drain names the object instead of losing it.
            self.stats.dead_letter_errors += 1
            log.exception("async event %s: not dead-lettered, dropped", item.request_id)
            condition = f"{condition}; not dead-lettered: {type(error).__name__}: {error}"
        if item.on_exhausted:
            item.on_exhausted(result, condition)

    def _dead_letter(
        self, item: AsyncEvent, result: InvokeResult, condition: str, config: AsyncConfig
    ) -> None:
        """Send the invocation record to the on-failure destination and the event to the
        function's dead-letter queue, as configured."""
        if config.on_failure_arn:
            send_to_queue(self.sqs, config.on_failure_arn, self._record(item, result, condition))
        dead_letter = self.dead_letter_arn(item.function_arn)
        if dead_letter and ":sqs:" in dead_letter:
            self.sqs.send_message(
                QueueUrl=queue_url(self.sqs, dead_letter),
                MessageBody=json.dumps(item.event),
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": item.request_id},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {
                        "DataType": "String",
                        "StringValue": (result.error_message or result.error_type)[:1000]
                        or "error",
                    },
                },
            )
