"""DynamoDB Streams event source mappings, polled and delivered as Lambda does.

Per Enabled mapping and shard: read with GetRecords from the checkpoint (or the
mapping's StartingPosition), gather a batch of at most BatchSize records (waiting up to
MaximumBatchingWindowInSeconds for it to fill, except while draining, and never over
Lambda's 6 MB payload), build the documented event and invoke synchronously.

Failure handling follows the documented semantics:
- a function error or timeout retries the batch; with BisectBatchOnFunctionError a
  failing batch of more than one record is split in halves (splitting does not use up a
  retry; the halves keep the parent's count), each retried on its own;
- with ReportBatchItemFailures, the records before the lowest reported itemIdentifier are
  done and the rest is retried (one retry used); an empty list means success; an
  identifier that is missing, empty or not in the batch fails the whole batch. With
  BisectBatchOnFunctionError too, AWS documents that such a response bisects the batch
  "at the returned sequence number": one naming the first record retries the whole batch,
  it is not halved (halving is for an invocation that failed);
- after MaximumRetryAttempts retries (-1: until the record expires), or when the oldest
  record is older than MaximumRecordAgeInSeconds, the batch's metadata goes to the
  OnFailure destination (SQS) with condition RetryAttemptsExhausted or RecordAgeExceeded
  and the shard moves on.
Locally, retries happen without delay and shards are processed one after another with
one batch in flight per shard (ParallelizationFactor > 1 is read but processed
sequentially, which keeps per-key order as AWS does). Checkpoints (the last sequence
number done per shard) are saved so a restarted data plane resumes.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from .runtime import InvokeResult

log = logging.getLogger("dataplane.streams")

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


class Invoker(Protocol):
    def invoke(self, name_or_arn: str, event: Any) -> InvokeResult: ...


@dataclass(frozen=True)
class MappingSpec:
    uuid: str
    function_arn: str
    source_arn: str
    batch_size: int
    window_s: float
    starting_position: str
    bisect: bool
    report_item_failures: bool
    max_retries: int  # -1: infinite
    max_record_age_s: int  # -1: infinite
    parallelization: int
    on_failure_arn: str | None

    @classmethod
    def from_api(cls, mapping: dict[str, Any]) -> MappingSpec:
        return cls(
            uuid=mapping["UUID"],
            function_arn=mapping["FunctionArn"],
            source_arn=mapping["EventSourceArn"],
            batch_size=int(mapping.get("BatchSize") or 100),
            window_s=float(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            starting_position=mapping.get("StartingPosition") or "TRIM_HORIZON",
            bisect=bool(mapping.get("BisectBatchOnFunctionError")),
            report_item_failures="ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
            max_retries=int(mapping.get("MaximumRetryAttempts", -1)),
            max_record_age_s=int(mapping.get("MaximumRecordAgeInSeconds", -1)),
            parallelization=int(mapping.get("ParallelizationFactor") or 1),
            on_failure_arn=((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            ),
        )

    @property
    def table_name(self) -> str:
        return self.source_arn.split(":table/", 1)[1].split("/", 1)[0]


def wire_attribute(value: Any) -> Any:
    """A boto3-parsed AttributeValue back in its wire form (binary as base64)."""
    if isinstance(value, dict):
        return {key: wire_attribute(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_attribute(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def epoch_seconds(value: Any) -> int:
    """ApproximateCreationDateTime as Lambda's event carries it: epoch seconds, rounded down."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(float(value))


@dataclass
class Attempt:
    records: list[dict[str, Any]]
    retries: int = 0


@dataclass
class ShardState:
    shard_id: str
    checkpoint: str | None = None
    iterator: str | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    first_pending_at: float = 0.0
    work: list[Attempt] = field(default_factory=list)
    closed: bool = False  # the shard ended and every record is done


@dataclass
class StreamStats:
    changes_streamed: int = 0
    batches: int = 0
    retries: int = 0
    bisections: int = 0
    records_sent_to_on_failure: int = 0
    records_discarded: int = 0  # gave up on with no destination configured


class MappingPoller:
    def __init__(
        self,
        spec: MappingSpec,
        *,
        streams_client: Any,
        sqs_client: Any,
        invoker: Invoker,
        region: str,
        checkpoints: dict[str, str],
        ttl_markers: list[dict[str, Any]],
        stats: StreamStats,
    ) -> None:
        self.spec = spec
        self.streams = streams_client
        self.sqs = sqs_client
        self.invoker = invoker
        self.region = region
        self.checkpoints = checkpoints  # shard id -> last sequence number done (shared, saved)
        self.ttl_markers = ttl_markers
        self.stats = stats
        self.shards: dict[str, ShardState] = {}
        self.stream_view_type = "NEW_AND_OLD_IMAGES"

    # -- shards -----------------------------------------------------------------------
    def refresh_shards(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.spec.source_arn)[
            "StreamDescription"
        ]
        self.stream_view_type = description.get("StreamViewType", self.stream_view_type)
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self.shards:
                self.shards[shard_id] = ShardState(shard_id, self.checkpoints.get(shard_id))

    def _iterator(self, shard: ShardState) -> str:
        if shard.checkpoint is not None:
            kwargs = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "SequenceNumber": shard.checkpoint,
            }
        else:
            kwargs = {"ShardIteratorType": self.spec.starting_position}
        response = self.streams.get_shard_iterator(
            StreamArn=self.spec.source_arn, ShardId=shard.shard_id, **kwargs
        )
        return str(response["ShardIterator"])

    def _fetch(self, shard: ShardState) -> int:
        if shard.closed:
            return 0
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=1000)
        except self.streams.exceptions.ExpiredIteratorException:
            shard.iterator = self._iterator(shard)
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=1000)
        records = response.get("Records", [])
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None and not records and not shard.pending and not shard.work:
            shard.closed = True
        if records and not shard.pending:
            shard.first_pending_at = time.monotonic()
        shard.pending.extend(records)
        return len(records)

    # -- stepping ---------------------------------------------------------------------
    def step(self, *, flush: bool) -> bool:
        """One batch invocation (or fetch) per shard; True when anything happened."""
        if not self.shards:
            self.refresh_shards()
        busy = False
        for shard in list(self.shards.values()):
            busy |= self._step_shard(shard, flush=flush)
        return busy

    def pending_records(self) -> int:
        return sum(len(shard.pending) for shard in self.shards.values())

    def _step_shard(self, shard: ShardState, *, flush: bool) -> bool:
        fetched = 0
        if not shard.work:
            if len(shard.pending) < self.spec.batch_size:
                fetched = self._fetch(shard)
            if not shard.pending:
                return fetched > 0
            window_open = time.monotonic() - shard.first_pending_at < self.spec.window_s
            if len(shard.pending) < self.spec.batch_size and window_open and not flush:
                return fetched > 0
            shard.work = [Attempt(self._take_batch(shard.pending))]
        self._run_attempt(shard)
        return True

    def _take_batch(self, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        size = 0
        for record in pending[: self.spec.batch_size]:
            record_size = len(json.dumps(self._event_record(record), default=str))
            if batch and size + record_size > MAX_PAYLOAD_BYTES:
                break
            batch.append(record)
            size += record_size
        return batch

    def _run_attempt(self, shard: ShardState) -> None:
        attempt = shard.work[0]
        oldest = epoch_seconds(attempt.records[0]["dynamodb"]["ApproximateCreationDateTime"])
        if self.spec.max_record_age_s != -1 and time.time() - oldest > self.spec.max_record_age_s:
            self._give_up(shard, attempt, "RecordAgeExceeded", None)
            return
        event = {"Records": [self._event_record(record) for record in attempt.records]}
        self.stats.batches += 1
        result = self.invoker.invoke(self.spec.function_arn, event)
        failure = self._first_failed_index(result, attempt.records)
        if failure is None:
            self.stats.changes_streamed += len(attempt.records)
            self._done(shard, attempt.records)
            shard.work.pop(0)
            return
        failed_from, whole_batch_failed = failure
        if failed_from > 0:
            self.stats.changes_streamed += failed_from
            self._done(shard, attempt.records[:failed_from])
            attempt.records = attempt.records[failed_from:]
        elif whole_batch_failed and self.spec.bisect and len(attempt.records) > 1:
            half = len(attempt.records) // 2
            shard.work[0:1] = [
                Attempt(attempt.records[:half], attempt.retries),
                Attempt(attempt.records[half:], attempt.retries),
            ]
            self.stats.bisections += 1
            return
        attempt.retries += 1
        self.stats.retries += 1
        if self.spec.max_retries != -1 and attempt.retries > self.spec.max_retries:
            self._give_up(shard, attempt, "RetryAttemptsExhausted", result)

    def _first_failed_index(
        self, result: InvokeResult, records: list[dict[str, Any]]
    ) -> tuple[int, bool] | None:
        """None: the whole batch succeeded; else the index from which to retry, and whether
        the batch failed as a whole (an error, or a response Lambda cannot use) rather than
        by a valid partial batch response."""
        if not result.ok:
            return 0, True
        if not self.spec.report_item_failures:
            return None
        payload = result.payload
        if payload is None or not isinstance(payload, dict):
            return None
        failures = payload.get("batchItemFailures")
        if not failures:
            return None
        positions = {
            record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(records)
        }
        indexes = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in positions:
                log.warning(
                    "mapping %s: invalid batchItemFailures entry %r: the whole batch failed",
                    self.spec.uuid,
                    failure,
                )
                return 0, True
            indexes.append(positions[identifier])
        return min(indexes), False

    def _done(self, shard: ShardState, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        count = len(records)
        if shard.pending[:count] != records:
            raise RuntimeError("stream records done out of order")  # a bug in this module
        del shard.pending[:count]
        shard.checkpoint = records[-1]["dynamodb"]["SequenceNumber"]
        self.checkpoints[shard.shard_id] = shard.checkpoint
        if shard.pending:
            shard.first_pending_at = time.monotonic()

    def _give_up(
        self, shard: ShardState, attempt: Attempt, condition: str, result: InvokeResult | None
    ) -> None:
        records = attempt.records
        log.error(
            "mapping %s: giving up on %d records (%s..%s): %s",
            self.spec.uuid,
            len(records),
            records[0]["dynamodb"]["SequenceNumber"],
            records[-1]["dynamodb"]["SequenceNumber"],
            condition,
        )
        if self.spec.on_failure_arn:
            send_to_queue(
                self.sqs,
                self.spec.on_failure_arn,
                self._failure_record(shard, attempt, condition, result),
            )
            self.stats.records_sent_to_on_failure += len(records)
        else:
            self.stats.records_discarded += len(records)
        self._done(shard, records)
        shard.work.pop(0)

    def _failure_record(
        self, shard: ShardState, attempt: Attempt, condition: str, result: InvokeResult | None
    ) -> dict[str, Any]:
        records = attempt.records

        def arrival(record: dict[str, Any]) -> str:
            seconds = epoch_seconds(record["dynamodb"]["ApproximateCreationDateTime"])
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if result is not None and result.function_error:
            response_context["functionError"] = result.function_error
        return {
            "requestContext": {
                "requestId": result.request_id if result else str(uuid.uuid4()),
                "functionArn": self.spec.function_arn,
                "condition": condition,
                "approximateInvokeCount": max(attempt.retries, 1),
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": iso_now(),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(records[0]),
                "approximateArrivalOfLastRecord": arrival(records[-1]),
                "batchSize": len(records),
                "streamArn": self.spec.source_arn,
            },
        }

    # -- events -----------------------------------------------------------------------
    def _event_record(self, record: dict[str, Any]) -> dict[str, Any]:
        stream = record["dynamodb"]
        dynamodb: dict[str, Any] = {
            "ApproximateCreationDateTime": epoch_seconds(stream["ApproximateCreationDateTime"])
        }
        for name in ("Keys", "NewImage", "OldImage"):
            if name in stream:
                dynamodb[name] = wire_attribute(stream[name])
        dynamodb["SequenceNumber"] = stream["SequenceNumber"]
        dynamodb["SizeBytes"] = stream.get("SizeBytes", 0)
        dynamodb["StreamViewType"] = stream.get("StreamViewType", self.stream_view_type)
        event = {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self.region),
            "dynamodb": dynamodb,
            "eventSourceARN": self.spec.source_arn,
        }
        identity = record.get("userIdentity") or self._ttl_identity(record, dynamodb)
        if identity:
            record["userIdentity"] = identity  # stays with the record through retries
            event["userIdentity"] = identity
        return event

    def _ttl_identity(
        self, record: dict[str, Any], dynamodb: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Test hook: moto never expires items, so a test deletes the item itself and
        marks that REMOVE as TTL's (POST /inject {"kind": "ttl_delete", ...})."""
        if record["eventName"] != "REMOVE":
            return None
        for marker in self.ttl_markers:
            if marker["table_name"] == self.spec.table_name and marker["keys"] == dynamodb.get(
                "Keys"
            ):
                self.ttl_markers.remove(marker)
                return dict(TTL_IDENTITY)
        return None


def iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def queue_url(sqs_client: Any, queue_arn: str) -> str:
    parts = queue_arn.split(":")
    return str(
        sqs_client.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
    )


def send_to_queue(sqs_client: Any, destination_arn: str, body: dict[str, Any]) -> None:
    if ":sqs:" not in destination_arn:
        log.error("destination %s is not an SQS queue; only SQS is emulated", destination_arn)
        return
    sqs_client.send_message(
        QueueUrl=queue_url(sqs_client, destination_arn), MessageBody=json.dumps(body)
    )
