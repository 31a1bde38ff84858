"""stream_processor: AWS's documented DynamoDB Streams event shapes → change records →
a fake Firehose that accepts, rejects or throttles (the logic), and the handler wired to
moto's Firehose and S3 in process."""

from __future__ import annotations

import io
import json
import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from ddb2aurora.adapters.dynamodb import ItemFetchError
from ddb2aurora.adapters.firehose import DeliveryError
from ddb2aurora.adapters.sqs import QueueSendError
from ddb2aurora.change_record import FIREHOSE_MAX_RECORD_BYTES, ChangeRecord
from ddb2aurora.settings import StreamProcessorSettings
from ddb2aurora.stream_processor import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    TIME_RESERVE_MS,
    Ports,
    RetryPolicy,
    StreamEventError,
    chunks,
    process_event,
    to_change_record,
)

TABLE = "ExampleTableWithStream"
STREAM_ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}/stream/2015-06-27T00:48:05.899"
SETTINGS = StreamProcessorSettings(
    delivery_stream_name="ddb2aurora",
    dead_letter_queue_url=None,
    put_max_attempts=5,
    put_backoff_base_ms=100,
    put_backoff_max_ms=3000,
)
KEYS = {"Id": {"N": "101"}}
NEW_IMAGE = {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}
OLD_IMAGE = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}


def stream_record(
    event_name: str,
    seq: int | str,
    *,
    view: str = "NEW_AND_OLD_IMAGES",
    keys: dict[str, Any] | None = None,
    new_image: dict[str, Any] | None = None,
    old_image: dict[str, Any] | None = None,
    created: float = 1428537600,
    ttl: bool = False,
) -> dict[str, Any]:
    """A record as in AWS's documented Lambda event for DynamoDB Streams."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": created,
        "Keys": keys or KEYS,
        "SequenceNumber": str(seq),
        "SizeBytes": 59,
        "StreamViewType": view,
    }
    if new_image is not None:
        change["NewImage"] = new_image
    if old_image is not None:
        change["OldImage"] = old_image
    record: dict[str, Any] = {
        "eventID": f"event-{seq}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def inserts(count: int, payload_bytes: int = 10, first_seq: int = 1000) -> dict[str, Any]:
    return {
        "Records": [
            stream_record(
                "INSERT",
                first_seq + n,
                keys={"Id": {"N": str(n)}},
                new_image={"Id": {"N": str(n)}, "Data": {"S": "x" * payload_bytes}},
            )
            for n in range(count)
        ]
    }


def no_fetch(table: str, keys: dict[str, Any]) -> dict[str, Any] | None:
    raise AssertionError(f"unexpected GetItem on {table} {keys}")


@dataclass
class FakeFirehose:
    """Records every call; ``reject`` decides per (call number, record) whether Firehose
    rejects the entry, ``raise_on`` which calls fail as a whole (throttling)."""

    reject: Callable[[int, bytes], bool] = lambda call, data: False
    raise_on: Callable[[int], bool] = lambda call: False
    calls: list[list[bytes]] = field(default_factory=list)
    accepted: list[bytes] = field(default_factory=list)

    def put_record_batch(self, records: Sequence[bytes]) -> list[str | None]:
        assert 0 < len(records) <= 500
        assert sum(map(len, records)) <= 4 * 1024 * 1024
        assert all(len(data) <= FIREHOSE_MAX_RECORD_BYTES for data in records)
        call = len(self.calls)
        self.calls.append(list(records))
        if self.raise_on(call):
            raise DeliveryError("ThrottlingException: Rate exceeded")
        codes: list[str | None] = []
        for data in records:
            if self.reject(call, data):
                codes.append("ServiceUnavailableException")
            else:
                self.accepted.append(data)
                codes.append(None)
        return codes

    def accepted_seqs(self) -> list[str]:
        return [ChangeRecord.from_json(data).seq for data in self.accepted]


@dataclass
class Harness:
    firehose: FakeFirehose = field(default_factory=FakeFirehose)
    fetch_item: Callable[[str, dict[str, Any]], dict[str, Any] | None] = no_fetch
    remaining: int = 60_000
    dead_letters: list[dict[str, Any]] | None = None
    dead_letter_fails: bool = False
    sleeps: list[float] = field(default_factory=list)
    log: io.StringIO = field(default_factory=io.StringIO)

    def send_dead_letter(self, body: str) -> None:
        if self.dead_letter_fails:
            raise QueueSendError("AccessDenied")
        assert self.dead_letters is not None
        self.dead_letters.append(json.loads(body))

    def run(self, event: dict[str, Any], settings: StreamProcessorSettings = SETTINGS) -> Any:
        ports = Ports(
            put_record_batch=self.firehose.put_record_batch,
            fetch_item=self.fetch_item,
            remaining_ms=lambda: self.remaining,
            send_dead_letter=(
                self.send_dead_letter
                if self.dead_letters is not None or self.dead_letter_fails
                else None
            ),
            sleep=self.sleeps.append,
            jitter=lambda: 0.5,
        )
        logger = Logger(service=f"test-{uuid.uuid4()}", stream=self.log)
        return process_event(event, settings, ports, logger)

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines()]


# ---- stream records → change records ---------------------------------------------------


def test_insert_becomes_upsert_of_new_image() -> None:
    record = to_change_record(stream_record("INSERT", 111, new_image=OLD_IMAGE), no_fetch)
    assert record == ChangeRecord(
        op="upsert",
        keys=KEYS,
        image=OLD_IMAGE,
        seq="111",
        ts=1428537600000,
        event_id="event-111",
        source=TABLE,
    )


def test_modify_becomes_upsert_of_new_image_not_old() -> None:
    record = to_change_record(
        stream_record("MODIFY", 222, new_image=NEW_IMAGE, old_image=OLD_IMAGE), no_fetch
    )
    assert (record.op, record.image, record.ttl_delete) == ("upsert", NEW_IMAGE, False)


def test_remove_becomes_delete_carrying_the_old_image() -> None:
    record = to_change_record(stream_record("REMOVE", 333, old_image=OLD_IMAGE), no_fetch)
    assert (record.op, record.keys, record.image, record.ttl_delete) == (
        "delete",
        KEYS,
        OLD_IMAGE,
        False,
    )
    assert json.loads(record.to_json_line())["op"] == "delete"


def test_ttl_remove_is_flagged() -> None:
    record = to_change_record(stream_record("REMOVE", 444, old_image=OLD_IMAGE, ttl=True), no_fetch)
    assert (record.op, record.ttl_delete) == ("delete", True)


def test_remove_by_a_user_is_not_a_ttl_delete() -> None:
    event = stream_record("REMOVE", 445, old_image=OLD_IMAGE)
    event["userIdentity"] = {"type": "Service", "principalId": "other.amazonaws.com"}
    assert to_change_record(event, no_fetch).ttl_delete is False


def test_new_image_stream_view() -> None:
    insert = stream_record("INSERT", 1, view="NEW_IMAGE", new_image=NEW_IMAGE)
    remove = stream_record("REMOVE", 2, view="NEW_IMAGE")
    assert to_change_record(insert, no_fetch).image == NEW_IMAGE
    assert (to_change_record(remove, no_fetch).op, to_change_record(remove, no_fetch).image) == (
        "delete",
        None,
    )


def test_keys_only_insert_reads_the_item_consistently() -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    def fetch(table: str, keys: dict[str, Any]) -> dict[str, Any] | None:
        asked.append((table, keys))
        return NEW_IMAGE

    record = to_change_record(stream_record("MODIFY", 5, view="KEYS_ONLY"), fetch)
    assert asked == [(TABLE, KEYS)]
    assert (record.op, record.image) == ("upsert", NEW_IMAGE)


def test_keys_only_item_already_gone_becomes_delete() -> None:
    record = to_change_record(stream_record("INSERT", 6, view="KEYS_ONLY"), lambda t, k: None)
    assert (record.op, record.image, record.ttl_delete) == ("delete", None, False)


def test_keys_only_remove_needs_no_read() -> None:
    assert to_change_record(stream_record("REMOVE", 7, view="KEYS_ONLY"), no_fetch).op == "delete"


@pytest.mark.parametrize(
    ("created", "expected_ms"),
    [
        (1428537600, 1428537600000),
        (1700000000.123456, 1700000000123),
        ("1700000000.5", 1700000000500),
    ],
)
def test_creation_time_becomes_epoch_milliseconds(created: Any, expected_ms: int) -> None:
    record = to_change_record(
        stream_record("INSERT", 1, new_image=NEW_IMAGE, created=created), no_fetch
    )
    assert record.ts == expected_ms


def test_malformed_record_names_the_missing_field() -> None:
    broken = stream_record("INSERT", 1, new_image=NEW_IMAGE)
    del broken["dynamodb"]["SequenceNumber"]
    with pytest.raises(StreamEventError, match=r"dynamodb\.SequenceNumber"):
        to_change_record(broken, no_fetch)
    with pytest.raises(StreamEventError, match="eventSourceARN"):
        to_change_record(
            stream_record("INSERT", 1) | {"eventSourceARN": "arn:aws:s3:::b"}, no_fetch
        )


# ---- chunking ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "calls"), [(1, 1), (499, 1), (500, 1), (501, 2), (1000, 2), (1001, 3)]
)
def test_calls_are_ceil_n_over_500_for_small_records(count: int, calls: int) -> None:
    harness = Harness()
    result = harness.run(inserts(count))
    assert result.put_calls == calls == math.ceil(count / MAX_BATCH_RECORDS)
    assert [len(call) for call in harness.firehose.calls][:-1] == [500] * (calls - 1)
    assert harness.firehose.accepted_seqs() == [str(1000 + n) for n in range(count)]
    assert result.response() == {"batchItemFailures": []}
    assert (result.records_sent, result.put_retry_calls) == (count, 0)


def test_chunk_of_exactly_4_mib_is_one_call_and_one_byte_more_is_two() -> None:
    quarter = MAX_BATCH_BYTES // 4
    exact = [b"x" * quarter] * 4
    assert list(chunks(range(4), exact)) == [[0, 1, 2, 3]]
    over = [*exact[:3], b"x" * (quarter + 1)]
    assert list(chunks(range(4), over)) == [[0, 1, 2], [3]]


def test_four_mib_limit_binds_before_500_records() -> None:
    # 900 KiB payloads: four fit in 4 MiB, the fifth starts a new call.
    harness = Harness()
    result = harness.run(inserts(9, payload_bytes=900 * 1024))
    assert [len(call) for call in harness.firehose.calls] == [4, 4, 1]
    assert result.records_sent == 9
    assert result.response() == {"batchItemFailures": []}


# ---- retries ----------------------------------------------------------------------------


def test_only_rejected_entries_are_retried() -> None:
    rejected_first_time = {b'"seq":"1003"', b'"seq":"1500"'}
    firehose = FakeFirehose(
        reject=lambda call, data: call < 2 and any(marker in data for marker in rejected_first_time)
    )
    harness = Harness(firehose=firehose)
    result = harness.run(inserts(600))
    assert [len(call) for call in firehose.calls] == [500, 100, 2]
    assert [ChangeRecord.from_json(data).seq for data in firehose.calls[2]] == ["1003", "1500"]
    assert sorted(firehose.accepted_seqs()) == [str(1000 + n) for n in range(600)]
    assert result.response() == {"batchItemFailures": []}
    assert (result.put_calls, result.put_retry_calls, result.records_sent) == (3, 1, 600)
    assert harness.sleeps == [0.05]  # full jitter 0.5 x base 100 ms


def test_throttled_call_counts_as_all_entries_failed() -> None:
    firehose = FakeFirehose(raise_on=lambda call: call == 0)
    harness = Harness(firehose=firehose)
    result = harness.run(inserts(3))
    assert [len(call) for call in firehose.calls] == [3, 3]
    assert result.response() == {"batchItemFailures": []}
    assert result.put_retry_calls == 1


def test_gives_up_naming_the_first_undelivered_record_in_event_order() -> None:
    always_rejected = (b'"seq":"1007"', b'"seq":"1003"')
    firehose = FakeFirehose(reject=lambda call, data: any(m in data for m in always_rejected))
    harness = Harness(firehose=firehose)
    result = harness.run(inserts(10))
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "1003"}]}
    assert len(firehose.calls) == SETTINGS.put_max_attempts
    assert result.records_sent == 8
    # backoff doubles from the base, with full jitter (0.5 here)
    assert harness.sleeps == [0.05, 0.1, 0.2, 0.4]
    warning = [line for line in harness.log_lines() if line["level"] == "WARNING"][-1]
    assert warning["first_failed_sequence_number"] == "1003"


def test_backoff_is_capped_and_fully_jittered() -> None:
    policy = RetryPolicy(max_attempts=10, base_ms=100, max_ms=3000)
    assert [policy.backoff_ms(retry, 1.0) for retry in range(1, 8)] == [
        100,
        200,
        400,
        800,
        1600,
        3000,
        3000,
    ]
    assert policy.backoff_ms(6, 0.0) == 0


def test_no_retry_when_the_invocation_is_about_to_time_out() -> None:
    firehose = FakeFirehose(raise_on=lambda call: True)
    harness = Harness(firehose=firehose, remaining=TIME_RESERVE_MS)
    result = harness.run(inserts(2))
    assert len(firehose.calls) == 1
    assert harness.sleeps == []
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "1000"}]}


def test_keys_only_read_failure_stops_the_batch_at_that_record() -> None:
    def fetch(table: str, keys: dict[str, Any]) -> dict[str, Any] | None:
        if keys == {"Id": {"N": "2"}}:
            raise ItemFetchError("ProvisionedThroughputExceededException")
        return {**keys, "Data": {"S": "fetched"}}

    event = {
        "Records": [
            stream_record("INSERT", 10 + n, view="KEYS_ONLY", keys={"Id": {"N": str(n)}})
            for n in range(4)
        ]
    }
    harness = Harness(fetch_item=fetch)
    result = harness.run(event)
    assert harness.firehose.accepted_seqs() == ["10", "11"]
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "12"}]}


def test_empty_event_sends_nothing() -> None:
    harness = Harness()
    result = harness.run({"Records": []})
    assert harness.firehose.calls == []
    assert result.response() == {"batchItemFailures": []}


# ---- oversized records --------------------------------------------------------------------


def oversized_event() -> dict[str, Any]:
    event = inserts(3)
    big_keys = {"Id": {"N": "1"}}
    event["Records"][1] = stream_record(
        "MODIFY",
        1001,
        keys=big_keys,
        new_image={**big_keys, "Blob": {"S": "y" * FIREHOSE_MAX_RECORD_BYTES}},
    )
    return event


def test_oversized_record_goes_to_the_dead_letter_queue_with_its_keys() -> None:
    harness = Harness(dead_letters=[])
    result = harness.run(oversized_event())
    assert harness.firehose.accepted_seqs() == ["1000", "1002"]
    assert harness.dead_letters is not None
    [letter] = harness.dead_letters
    assert letter["reason"] == "record_too_large"
    assert (letter["source"], letter["keys"], letter["seq"]) == (TABLE, {"Id": {"N": "1"}}, "1001")
    assert letter["event_id"] == "event-1001"
    assert letter["size_bytes"] > FIREHOSE_MAX_RECORD_BYTES
    assert result.oversized_records == 1
    assert result.response() == {"batchItemFailures": []}
    [logged] = [line for line in harness.log_lines() if "1,000 KiB" in line["message"]]
    assert (logged["keys"], logged["dead_lettered"]) == ({"Id": {"N": "1"}}, True)


def test_record_exactly_at_the_limit_is_sent() -> None:
    probe = to_change_record(
        stream_record("INSERT", 1, new_image={"Id": {"N": "1"}, "Blob": {"S": ""}}), no_fetch
    )
    padding = FIREHOSE_MAX_RECORD_BYTES - len(probe.to_json_line())
    event = {
        "Records": [
            stream_record("INSERT", 1, new_image={"Id": {"N": "1"}, "Blob": {"S": "z" * padding}})
        ]
    }
    harness = Harness()
    result = harness.run(event)
    assert len(harness.firehose.accepted[0]) == FIREHOSE_MAX_RECORD_BYTES
    assert (result.records_sent, result.oversized_records) == (1, 0)


@pytest.mark.parametrize("queue", ["absent", "failing"])
def test_oversized_record_without_a_working_queue_is_a_batch_item_failure(queue: str) -> None:
    harness = Harness(dead_letter_fails=queue == "failing")
    result = harness.run(oversized_event())
    assert harness.firehose.accepted_seqs() == ["1000"]
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "1001"}]}
    assert result.oversized_records == 1
    logged = [line for line in harness.log_lines() if "1,000 KiB" in line["message"]]
    assert logged[0]["dead_lettered"] is False


# ---- the handler, wired to moto's Firehose and S3 ---------------------------------------


@dataclass
class FakeLambdaContext:
    function_name: str = "stream_processor"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stream_processor"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "request-1"
    log_group_name: str = "/aws/lambda/stream_processor"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


BUCKET = "ddb2aurora-test-bucket"


@pytest.fixture
def wired_handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The handler module with moto's Firehose (writing to S3) and SQS in process."""
    import boto3
    import stream_processor as handler_module
    from ddb2aurora.adapters import client
    from moto import mock_aws

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "DELIVERY_STREAM_NAME": "ddb2aurora-test",
        "PUT_BACKOFF_BASE_MS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)
    handler_module.settings.cache_clear()
    client.cache_clear()
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        boto3.client("firehose").create_delivery_stream(
            DeliveryStreamName="ddb2aurora-test",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": f"arn:aws:s3:::{BUCKET}",
            },
        )
        yield handler_module
    client.cache_clear()
    handler_module.settings.cache_clear()


def delivered() -> list[ChangeRecord]:
    import boto3

    s3 = boto3.client("s3")
    objects = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    body = b"".join(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in objects)
    return [ChangeRecord.from_json(line) for line in body.splitlines()]


def emitted_metrics(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    lines = capsys.readouterr().out.splitlines()
    [metrics] = [json.loads(line) for line in lines if '"_aws"' in line]
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ddb2aurora"
    return {name: value for name, value in metrics.items() if isinstance(value, list)}


def test_handler_delivers_to_firehose_and_emits_metrics(
    wired_handler: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {
        "Records": [
            stream_record("INSERT", 1, new_image=OLD_IMAGE),
            stream_record("MODIFY", 2, new_image=NEW_IMAGE, old_image=OLD_IMAGE),
            stream_record("REMOVE", 3, old_image=NEW_IMAGE, ttl=True),
        ]
    }
    assert wired_handler.handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    assert [(r.op, r.seq, r.ttl_delete) for r in delivered()] == [
        ("upsert", "1", False),
        ("upsert", "2", False),
        ("delete", "3", True),
    ]
    assert emitted_metrics(capsys) == {
        "ChangeRecordsSent": [3.0],
        "PutRecordBatchCalls": [1.0],
        "PutRecordBatchRetries": [0.0],
        "OversizedRecords": [0.0],
        "BatchItemFailures": [0.0],
    }


def test_handler_dead_letters_an_oversized_record_to_sqs(
    wired_handler: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    queue_url = boto3.client("sqs").create_queue(QueueName="oversized")["QueueUrl"]
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", queue_url)
    assert wired_handler.handler(oversized_event(), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    assert [r.seq for r in delivered()] == ["1000", "1002"]
    [message] = boto3.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    letter = json.loads(message["Body"])
    assert (letter["reason"], letter["seq"], letter["keys"]) == (
        "record_too_large",
        "1001",
        {"Id": {"N": "1"}},
    )
    metrics = emitted_metrics(capsys)
    assert (metrics["OversizedRecords"], metrics["BatchItemFailures"]) == ([1.0], [0.0])


def test_handler_without_a_queue_reports_the_oversized_record(
    wired_handler: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    response = wired_handler.handler(oversized_event(), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "1001"}]}
    assert [r.seq for r in delivered()] == ["1000"]
    assert emitted_metrics(capsys)["BatchItemFailures"] == [1.0]
