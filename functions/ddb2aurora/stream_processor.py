"""stream_processor: DynamoDB Streams records → change records → Firehose PutRecordBatch.

The delivery contract with the event source mapping: everything up to the first record
that could not be delivered is in Firehose (or, when too large, in the dead-letter
queue); the response names that first record's SequenceNumber, so the mapping resumes
there, in order. Records after it may be sent again on that retry; the loader's
``_seq`` guard makes duplicates harmless.

Firehose limits: at most 500 records and 4 MiB per PutRecordBatch call, at most
1,000 KiB per record. Only the entries Firehose rejected are retried, with exponential
backoff and full jitter, bounded by the attempts and the invocation's remaining time.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from aws_lambda_powertools import Logger

from ddb2aurora.adapters.dynamodb import ItemFetchError
from ddb2aurora.adapters.firehose import DeliveryError
from ddb2aurora.adapters.sqs import QueueSendError
from ddb2aurora.change_record import FIREHOSE_MAX_RECORD_BYTES, ChangeRecord, TypedItem
from ddb2aurora.settings import StreamProcessorSettings

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
# A retry is not started unless this much time would be left after its backoff, so the
# function returns its partial-failure response instead of timing out.
TIME_RESERVE_MS = 1_000
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

PutRecordBatch = Callable[[Sequence[bytes]], Sequence[str | None]]
"""Sends one batch; returns per record None (accepted) or its error code; raises
DeliveryError when the whole call failed."""
ItemFetcher = Callable[[str, TypedItem], TypedItem | None]
"""Consistent GetItem: (table name, typed keys) → typed item, or None when it is gone."""


class StreamEventError(ValueError):
    """A stream record lacks a field DynamoDB Streams always sends."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    base_ms: int
    max_ms: int

    def backoff_ms(self, retry: int, jitter: float) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^(retry-1))); ``jitter`` in [0, 1)."""
        return jitter * min(float(self.max_ms), self.base_ms * 2.0 ** (retry - 1))


@dataclass(frozen=True, slots=True)
class Ports:
    """What the logic needs from the outside world; fakes replace them in tests."""

    put_record_batch: PutRecordBatch
    fetch_item: ItemFetcher
    remaining_ms: Callable[[], int]
    send_dead_letter: Callable[[str], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    undelivered: list[int]
    """Indexes (into the lines given to ``deliver``) that were never accepted."""
    calls: int
    retry_calls: int


@dataclass(frozen=True, slots=True)
class BatchResult:
    records_sent: int
    put_calls: int
    put_retry_calls: int
    oversized_records: int
    first_failed_sequence_number: str | None = None

    def response(self) -> dict[str, list[dict[str, str]]]:
        """The partial batch response (ReportBatchItemFailures)."""
        if self.first_failed_sequence_number is None:
            return {"batchItemFailures": []}
        return {"batchItemFailures": [{"itemIdentifier": self.first_failed_sequence_number}]}


def _field(mapping: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in mapping:
        raise StreamEventError(f"stream record has no {where}{name}")
    return mapping[name]


def table_name(event_source_arn: str) -> str:
    """``arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`` → ``<name>``."""
    resource = event_source_arn.split(":", 5)[-1]
    parts = resource.split("/")
    if len(parts) < 2 or parts[0] != "table" or not parts[1]:
        raise StreamEventError(f"eventSourceARN is not a DynamoDB stream ARN: {event_source_arn!r}")
    return parts[1]


def epoch_ms(approximate_creation_date_time: Any) -> int:
    """ApproximateCreationDateTime (epoch seconds, possibly fractional) → epoch milliseconds."""
    try:
        return int(Decimal(str(approximate_creation_date_time)) * 1000)
    except InvalidOperation:
        raise StreamEventError(
            "dynamodb.ApproximateCreationDateTime is not a number: "
            f"{approximate_creation_date_time!r}"
        ) from None


def to_change_record(stream_record: Mapping[str, Any], fetch_item: ItemFetcher) -> ChangeRecord:
    """One stream record as a change record. INSERT and MODIFY become upserts of the new
    image; without one (KEYS_ONLY or OLD_IMAGE streams) the item is read with a consistent
    GetItem, and an item that is already gone becomes a delete. REMOVE becomes a delete
    carrying the old image when the stream has one, flagged ``ttl_delete`` when DynamoDB's
    TTL removed the item."""
    change = _field(stream_record, "dynamodb", "")
    event_name = _field(stream_record, "eventName", "")
    source = table_name(_field(stream_record, "eventSourceARN", ""))
    keys: TypedItem = _field(change, "Keys", "dynamodb.")
    delete = ChangeRecord(
        op="delete",
        keys=keys,
        seq=str(_field(change, "SequenceNumber", "dynamodb.")),
        ts=epoch_ms(_field(change, "ApproximateCreationDateTime", "dynamodb.")),
        event_id=str(_field(stream_record, "eventID", "")),
        source=source,
    )
    if event_name == "REMOVE":
        return replace(
            delete,
            image=change.get("OldImage"),  # the last values, kept by soft deletes
            ttl_delete=stream_record.get("userIdentity") == TTL_IDENTITY,
        )
    if event_name not in ("INSERT", "MODIFY"):
        raise StreamEventError(f"eventName must be INSERT, MODIFY or REMOVE, got {event_name!r}")
    image: TypedItem | None = change.get("NewImage")
    if image is None:
        image = fetch_item(source, keys)
        if image is None:
            return delete
    return replace(delete, op="upsert", image=image)


def chunks(indexes: Sequence[int], lines: Sequence[bytes]) -> Iterator[list[int]]:
    """Group ``indexes`` (in order) into PutRecordBatch calls within Firehose's limits."""
    chunk: list[int] = []
    size = 0
    for index in indexes:
        length = len(lines[index])
        if chunk and (len(chunk) == MAX_BATCH_RECORDS or size + length > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(index)
        size += length
    if chunk:
        yield chunk


def deliver(lines: Sequence[bytes], policy: RetryPolicy, ports: Ports) -> DeliveryReport:
    """Send every line, retrying only the rejected ones. A call that raises DeliveryError
    (throttled, service error) counts as all of its records rejected."""
    pending = list(range(len(lines)))
    calls = retry_calls = 0
    for attempt in range(1, policy.max_attempts + 1):
        if attempt > 1:
            delay_ms = policy.backoff_ms(attempt - 1, ports.jitter())
            if ports.remaining_ms() - delay_ms < TIME_RESERVE_MS:
                break
            ports.sleep(delay_ms / 1000)
        rejected: list[int] = []
        for chunk in chunks(pending, lines):
            calls += 1
            retry_calls += attempt > 1
            try:
                codes = ports.put_record_batch([lines[index] for index in chunk])
            except DeliveryError:
                rejected.extend(chunk)
                continue
            rejected.extend(index for index, code in zip(chunk, codes, strict=True) if code)
        pending = rejected
        if not pending:
            break
    return DeliveryReport(undelivered=pending, calls=calls, retry_calls=retry_calls)


def _dead_letter(record: ChangeRecord, size_bytes: int, ports: Ports, logger: Logger) -> bool:
    """Report a record too large for Firehose; True when it reached the dead-letter queue."""
    context = {
        "source": record.source,
        "keys": record.keys,
        "seq": record.seq,
        "event_id": record.event_id,
        "size_bytes": size_bytes,
    }
    sent = False
    if ports.send_dead_letter is not None:
        body = {"reason": "record_too_large", **context}
        try:
            ports.send_dead_letter(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
            sent = True
        except QueueSendError as exc:
            logger.error("dead-letter queue send failed", extra={**context, "error": str(exc)})
    logger.error(
        "change record over Firehose's 1,000 KiB record limit",
        extra={**context, "dead_lettered": sent},
    )
    return sent


def process_event(
    event: Mapping[str, Any], settings: StreamProcessorSettings, ports: Ports, logger: Logger
) -> BatchResult:
    """Turn a DynamoDB Streams event into change records and deliver them; see the module
    docstring for what the result promises."""
    stream_records: Sequence[Mapping[str, Any]] = event.get("Records") or []
    lines: list[bytes] = []
    line_positions: list[int] = []  # each line's position in the event
    stopped_at: int | None = None  # first record neither sent nor dead-lettered
    oversized = 0
    for position, stream_record in enumerate(stream_records):
        try:
            record = to_change_record(stream_record, ports.fetch_item)
        except ItemFetchError as exc:
            logger.warning("GetItem failed; stopping the batch here", extra={"error": str(exc)})
            stopped_at = position
            break
        line = record.to_json_line()
        if len(line) > FIREHOSE_MAX_RECORD_BYTES:
            oversized += 1
            if not _dead_letter(record, len(line), ports, logger):
                stopped_at = position
                break
            continue
        lines.append(line)
        line_positions.append(position)

    policy = RetryPolicy(
        settings.put_max_attempts, settings.put_backoff_base_ms, settings.put_backoff_max_ms
    )
    report = deliver(lines, policy, ports)
    failed_positions = [line_positions[index] for index in report.undelivered]
    if stopped_at is not None:
        failed_positions.append(stopped_at)
    first_failed = min(failed_positions, default=None)
    result = BatchResult(
        records_sent=len(lines) - len(report.undelivered),
        put_calls=report.calls,
        put_retry_calls=report.retry_calls,
        oversized_records=oversized,
        first_failed_sequence_number=(
            None
            if first_failed is None
            else str(stream_records[first_failed]["dynamodb"]["SequenceNumber"])
        ),
    )
    if result.first_failed_sequence_number is not None:
        logger.warning(
            "batch not fully delivered; the mapping resumes at the first undelivered record",
            extra={
                "first_failed_sequence_number": result.first_failed_sequence_number,
                "undelivered_records": len(report.undelivered),
                "records_in_batch": len(stream_records),
            },
        )
    return result
