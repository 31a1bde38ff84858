"""replay: re-drive what the pipeline gave up on, through the same path, never twice in
effect (the loader's manifest skips an object it has loaded; ``_seq`` makes a change
applied again a no-op). A dead-letter message is deleted only after its re-drive
succeeded; one that could not be re-driven stays in its queue and is reported.

- stream-dlq: the batch's SequenceNumber range is read again from the shard
  (AT_SEQUENCE_NUMBER) and run through stream_processor's own logic to Firehose. When
  the stream no longer holds it (24 hours), the report says so: run a backfill.
- loader-dlq: each object of the failed S3 event is copied to ``<key>.replay-<time>``
  under the data prefix, whose ObjectCreated event reaches the loader (a copy onto the
  same key would keep its ETag, and the local data plane, like the loader's manifest,
  treats an unchanged key and ETag as the same object); done when the manifest shows
  the copy loaded.
- errors: the records under the Firehose error prefix (``rawData``: the original change
  record) are put through Firehose again, then the object moves to ``replayed/``.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from ddb2aurora.adapters.dynamodb import ItemFetchError
from ddb2aurora.aurora_loader import S3Object
from ddb2aurora.change_record import ChangeRecord, ChangeRecordError
from ddb2aurora.ops.aws import Client
from ddb2aurora.ops.dlq import (
    LoaderFailure,
    MessageError,
    RecordTooLarge,
    StreamBatchFailure,
    parse_loader_message,
    parse_stream_message,
)
from ddb2aurora.ops.errors import OpsError
from ddb2aurora.ops.records import (
    DELIVERY_POLICY,
    NO_DEADLINE_MS,
    Sender,
    firehose_put,
    keys_text,
    too_large,
    wire,
)
from ddb2aurora.ops.target import Target
from ddb2aurora.settings import StreamProcessorSettings
from ddb2aurora.sql import MANIFEST_TABLE
from ddb2aurora.stream_processor import Ports, process_event

EXPIRED_CODES = {"TrimmedDataAccessException", "ResourceNotFoundException"}
REPLAYED_PREFIX = "replayed/"
VISIBILITY_SECONDS = 900
EMPTY_POLLS_AT_SHARD_END = 3
Progress = Callable[[int], None]


@dataclass
class Outcome:
    source: str  # message id or object key
    status: str  # replayed | already_loaded | expired | too_large | failed | unreadable
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("replayed", "already_loaded")


@dataclass
class ReplayReport:
    what: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return {
            "what": self.what,
            "ok": self.ok,
            "counts": counts,
            "outcomes": [outcome.__dict__ for outcome in self.outcomes],
        }


def _logger() -> Logger:
    """stream_processor logs through Powertools; send it to stderr, so --json stays clean."""
    return Logger(
        service="ddb2aurora-ops",
        level="WARNING",
        logger_handler=logging.StreamHandler(sys.stderr),
    )


# ---- SQS ------------------------------------------------------------------------------------


@dataclass
class Message:
    message_id: str
    receipt_handle: str
    body: str


def receive_all(sqs: Client, queue_url: str, limit: int | None) -> Iterator[Message]:
    """Every visible message once (each stays invisible for the run, so none is seen twice)."""
    seen = 0
    while limit is None or seen < limit:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10 if limit is None else max(1, min(10, limit - seen)),
            VisibilityTimeout=VISIBILITY_SECONDS,
            WaitTimeSeconds=1,
        )
        messages = response.get("Messages", [])
        if not messages:
            return
        for message in messages:
            seen += 1
            yield Message(message["MessageId"], message["ReceiptHandle"], message["Body"])


def _settle(sqs: Client, queue_url: str, message: Message, done: bool, kept: list[Message]) -> None:
    """Delete a re-driven message; keep any other for ``_release`` at the end of the run."""
    if done:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message.receipt_handle)
    else:
        kept.append(message)


def _release(sqs: Client, queue_url: str, kept: list[Message]) -> None:
    """Make the messages that were not re-driven visible again for the next attempt, once
    the run is over: earlier, this run would receive them again, without end while the
    cause lasts."""
    for message in kept:
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
        )


# ---- stream-dlq --------------------------------------------------------------------------


class StreamExpired(Exception):
    """The stream no longer holds (all of) the batch."""


def _event_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as the Lambda event carries it."""
    change = record["dynamodb"]
    created = change.get("ApproximateCreationDateTime")
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": created.timestamp()
        if isinstance(created, datetime)
        else created,
        "SequenceNumber": change["SequenceNumber"],
        "SizeBytes": change.get("SizeBytes", 0),
        "StreamViewType": change.get("StreamViewType", "NEW_AND_OLD_IMAGES"),
    }
    for name in ("Keys", "NewImage", "OldImage"):
        if name in change:
            dynamodb[name] = wire(change[name])
    event = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", ""),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if record.get("userIdentity"):
        event["userIdentity"] = record["userIdentity"]
    return event


def reread_batch(streams: Client, failure: StreamBatchFailure) -> list[dict[str, Any]]:
    """The batch's records from the shard, in order; StreamExpired when they are gone."""
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=failure.stream_arn,
            ShardId=failure.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=failure.start_sequence_number,
        ).get("ShardIterator")
    except OpsError as error:
        if error.code in EXPIRED_CODES or error.code == "ValidationException":
            raise StreamExpired(str(error)) from error
        raise
    records: list[dict[str, Any]] = []
    empty_polls = 0
    end = int(failure.end_sequence_number)
    while iterator:
        try:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
        except OpsError as error:
            if error.code in EXPIRED_CODES:
                raise StreamExpired(str(error)) from error
            raise
        batch = response.get("Records", [])
        empty_polls = 0 if batch else empty_polls + 1
        for record in batch:
            number = int(record["dynamodb"]["SequenceNumber"])
            if number > end:
                return _checked(records, failure)
            if failure.contains(record["dynamodb"]["SequenceNumber"]):
                records.append(_event_record(record, failure.stream_arn))
        if empty_polls >= EMPTY_POLLS_AT_SHARD_END:
            break
        iterator = response.get("NextShardIterator")
    return _checked(records, failure)


def _checked(records: list[dict[str, Any]], failure: StreamBatchFailure) -> list[dict[str, Any]]:
    first = records[0]["dynamodb"]["SequenceNumber"] if records else None
    if first != failure.start_sequence_number:
        raise StreamExpired(
            f"the shard no longer starts the batch at {failure.start_sequence_number} "
            f"(first record found: {first})"
        )
    return records


def replay_stream_dlq(target: Target, limit: int | None, progress: Progress) -> ReplayReport:
    sqs = target.aws.client("sqs")
    queue = target.require("stream_dlq_url")
    streams = target.aws.client("dynamodbstreams")
    dynamodb = target.aws.client("dynamodb")
    put = firehose_put(target.aws.client("firehose"), target.require("delivery_stream"))
    too_large_reports: list[str] = []

    def dead_letter(body: str) -> None:
        """A record too large for Firehose: reported, and kept in the queue as
        stream_processor itself would keep it."""
        sqs.send_message(QueueUrl=queue, MessageBody=body)
        too_large_reports.append(body)

    def fetch_item(table: str, keys: dict[str, Any]) -> dict[str, Any] | None:
        try:
            item = dynamodb.get_item(TableName=table, Key=keys, ConsistentRead=True).get("Item")
        except OpsError as error:
            raise ItemFetchError(str(error)) from error
        return wire(item) if item else None

    ports = Ports(
        put_record_batch=put,
        fetch_item=fetch_item,
        remaining_ms=lambda: NO_DEADLINE_MS,
        send_dead_letter=dead_letter,
    )
    settings = StreamProcessorSettings(
        delivery_stream_name=target.require("delivery_stream"),
        dead_letter_queue_url=None,
        put_max_attempts=DELIVERY_POLICY.max_attempts,
        put_backoff_base_ms=DELIVERY_POLICY.base_ms,
        put_backoff_max_ms=DELIVERY_POLICY.max_ms,
    )
    logger = _logger()
    report = ReplayReport("stream-dlq")
    kept: list[Message] = []
    try:
        for message in receive_all(sqs, queue, limit):
            outcome = _replay_stream_message(message, streams, settings, ports, logger)
            if too_large_reports:
                for body in too_large_reports:
                    report.outcomes.append(_too_large_outcome(message.message_id, body))
                too_large_reports.clear()
            report.outcomes.append(outcome)
            _settle(sqs, queue, message, outcome.ok, kept)
            progress(1)
    finally:
        _release(sqs, queue, kept)
    return report


def _too_large_outcome(message_id: str, body: str) -> Outcome:
    report = json.loads(body)
    return Outcome(
        message_id,
        "too_large",
        f"{report['source']} {keys_text(report['keys'])} (seq {report['seq']}, "
        f"{report['size_bytes']} bytes) exceeds Firehose's record limit; reported to the "
        "queue again",
    )


def _replay_stream_message(
    message: Message,
    streams: Client,
    settings: StreamProcessorSettings,
    ports: Ports,
    logger: Logger,
) -> Outcome:
    try:
        parsed = parse_stream_message(message.body)
    except MessageError as error:
        return Outcome(message.message_id, "unreadable", str(error))
    if isinstance(parsed, RecordTooLarge):
        return Outcome(
            message.message_id,
            "too_large",
            f"{parsed.source} {keys_text(parsed.keys)} (seq {parsed.seq}, {parsed.size_bytes} "
            "bytes) exceeds Firehose's 1,000 KiB record limit: shrink the item or leave "
            "the large attribute out of the mapping, then touch the item; this message "
            "stays in the queue",
        )
    where = f"shard {parsed.shard_id} {parsed.start_sequence_number}..{parsed.end_sequence_number}"
    try:
        records = reread_batch(streams, parsed)
    except StreamExpired as error:
        return Outcome(
            message.message_id,
            "expired",
            f"{where}: the stream no longer holds these records ({error}); they are lost "
            "from the stream: run `ddb2aurora backfill` (safe while streaming) to repair",
        )
    try:
        result = process_event({"Records": records}, settings, ports, logger)
    except OpsError as error:
        return Outcome(message.message_id, "failed", f"{where}: {error}")
    if result.first_failed_sequence_number is not None:
        return Outcome(
            message.message_id,
            "failed",
            f"{where}: delivery stopped at {result.first_failed_sequence_number}; run again",
        )
    return Outcome(message.message_id, "replayed", f"{where}: {result.records_sent} records")


# ---- loader-dlq --------------------------------------------------------------------------


def manifest_has(connection: Any, obj: S3Object) -> bool:
    """Is this object, or a replay copy of it, in the loader's manifest?"""
    connection.commit()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM `{MANIFEST_TABLE}` WHERE `object_id` = %s OR (`bucket` = %s AND "
            "`object_key` LIKE %s) LIMIT 1",
            (obj.object_id, obj.bucket, _like_prefix(obj.key) + ".replay-%"),
        )
        return cursor.fetchone() is not None


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def replay_copy_key(key: str, now: datetime) -> str:
    return f"{key}.replay-{now.strftime('%Y%m%dT%H%M%S%fZ')}"


def replay_loader_dlq(
    target: Target, connection: Any, limit: int | None, wait_seconds: float, progress: Progress
) -> ReplayReport:
    sqs = target.aws.client("sqs")
    s3 = target.aws.client("s3")
    queue = target.require("loader_dlq_url")
    report = ReplayReport("loader-dlq")
    kept: list[Message] = []
    try:
        for message in receive_all(sqs, queue, limit):
            try:
                failure = parse_loader_message(message.body)
            except MessageError as error:
                outcome = Outcome(message.message_id, "unreadable", str(error))
            else:
                outcome = _replay_objects(message, failure, s3, connection, wait_seconds)
            report.outcomes.append(outcome)
            _settle(sqs, queue, message, outcome.ok, kept)
            progress(1)
    finally:
        _release(sqs, queue, kept)
    return report


def _replay_objects(
    message: Message, failure: LoaderFailure, s3: Client, connection: Any, wait_seconds: float
) -> Outcome:
    pending: list[S3Object] = []
    for obj in failure.objects:
        if manifest_has(connection, obj):
            continue
        try:
            copy = s3.copy_object(
                Bucket=obj.bucket,
                Key=replay_copy_key(obj.key, datetime.now(UTC)),
                CopySource={"Bucket": obj.bucket, "Key": obj.key},
                MetadataDirective="COPY",
            )
        except OpsError as error:
            if error.code in ("NoSuchKey", "404", "NotFound"):
                return Outcome(
                    message.message_id,
                    "failed",
                    f"{obj.uri} no longer exists (expired by the lifecycle rule?): its "
                    "changes are lost from S3; run `ddb2aurora backfill`",
                )
            raise
        etag = str(copy["CopyObjectResult"]["ETag"]).strip('"')
        pending.append(S3Object(obj.bucket, obj.key, etag, obj.size))
    if not pending:
        return Outcome(message.message_id, "already_loaded", _uris(failure))
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if all(manifest_has(connection, obj) for obj in pending):
            return Outcome(message.message_id, "replayed", _uris(failure))
        time.sleep(1)
    return Outcome(
        message.message_id,
        "failed",
        f"{_uris(failure)}: the copy was not loaded within {wait_seconds:.0f} s (the loader "
        f"failed again? original error: {failure.error or 'unknown'}); see the loader's logs",
    )


def _uris(failure: LoaderFailure) -> str:
    return ", ".join(obj.uri for obj in failure.objects)


# ---- errors (Firehose error prefix) --------------------------------------------------------


def list_keys(s3: Client, bucket: str, prefix: str, limit: int | None = None) -> list[str]:
    keys: list[str] = []
    for page in s3.pages(
        "list_objects_v2",
        "ContinuationToken",
        "NextContinuationToken",
        Bucket=bucket,
        Prefix=prefix,
    ):
        keys += [entry["Key"] for entry in page.get("Contents", [])]
        if limit is not None and len(keys) >= limit:
            return keys[:limit]
    return keys


def error_records(body: bytes) -> list[bytes]:
    """The original Firehose records of an error object (JSON lines with ``rawData``)."""
    text = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    records = []
    for number, line in enumerate(text.decode().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(base64.b64decode(json.loads(line)["rawData"], validate=True))
        except (ValueError, KeyError, TypeError) as error:
            raise MessageError(f"line {number} is not a Firehose error record: {error}") from None
    return records


def replay_errors(
    target: Target, delete: bool, limit: int | None, progress: Progress, on_total: Progress
) -> ReplayReport:
    s3 = target.aws.client("s3")
    bucket = target.require("bucket")
    sender = Sender(firehose_put(target.aws.client("firehose"), target.require("delivery_stream")))
    keys = list_keys(s3, bucket, target.error_prefix_root(), limit)
    on_total(len(keys))
    report = ReplayReport("errors")
    for key in keys:
        report.outcomes += _replay_error_object(s3, sender, bucket, key, delete)
        progress(1)
    return report


def _replay_error_object(
    s3: Client, sender: Sender, bucket: str, key: str, delete: bool
) -> list[Outcome]:
    try:
        lines = error_records(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        for line in lines:
            ChangeRecord.from_json(line)  # the object holds change records, or it stays
    except (MessageError, ChangeRecordError) as error:
        return [Outcome(key, "unreadable", f"left in place: {error}")]
    sendable = [line for line in lines if not too_large(line)]
    outcomes = [
        Outcome(key, "too_large", keys_text(ChangeRecord.from_json(line).keys))
        for line in lines
        if too_large(line)
    ]
    try:
        sender.send(sendable)
    except OpsError as error:
        return [*outcomes, Outcome(key, "failed", str(error))]
    if not delete:
        s3.copy_object(
            Bucket=bucket,
            Key=REPLAYED_PREFIX + key,
            CopySource={"Bucket": bucket, "Key": key},
            MetadataDirective="COPY",
        )
    s3.delete_object(Bucket=bucket, Key=key)
    return [*outcomes, Outcome(key, "replayed", f"{len(sendable)} records")]
