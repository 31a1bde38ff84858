"""The operator tool's pure parts: canonical values and row digests (the same on both
sides of verify), the backfill checkpoint, dead-letter message parsing, and the
messages for missing permissions and resources."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from ddb2aurora.mapping import load_mapping
from ddb2aurora.ops.checkpoint import Checkpoint
from ddb2aurora.ops.cli import main
from ddb2aurora.ops.digest import NULL, Side, canonical, canonical_row, compare
from ddb2aurora.ops.dlq import (
    MessageError,
    RecordTooLarge,
    StreamBatchFailure,
    parse_loader_message,
    parse_stream_message,
)
from ddb2aurora.ops.errors import OpsError, explain
from ddb2aurora.ops.records import wire
from ddb2aurora.ops.replay import StreamExpired, error_records, replay_copy_key, reread_batch
from ddb2aurora.ops.scan import RateLimiter, TableInfo, page_cost, read_budget
from ddb2aurora.ops.target import resolve
from ddb2aurora.ops.verify import database_side, guess_typed_keys, source_side
from ddb2aurora.sql_types import Kind

REPO = Path(__file__).resolve().parents[2]
MAPPING = load_mapping((REPO / "mappings" / "web_analytics.json").read_text())


def _item(hits: int = 3, latitude: str = "1.5") -> dict:
    payload = {
        "Hits": hits,
        "device": {"make": "x", "location": {"latitude": float(latitude)}},
        "session": {"session_id": "s", "start_timestamp": 1_700_000_000_123},
    }
    return {
        "page_id": {"S": "/a"},
        "activity_dt": {"S": "2026-11-30T01:02:03.456Z"},
        "payload": {"S": json.dumps(payload, default=str)},
    }


# ---- canonical values: the DynamoDB side (CSV text) equals the database side (PyMySQL) --


@pytest.mark.parametrize(
    ("kind", "from_csv", "from_db"),
    [
        (Kind.DECIMAL, "1.5", Decimal("1.500000")),
        (Kind.DECIMAL, "0", Decimal("0.000000")),
        (Kind.DECIMAL, "100", Decimal("100.000000")),
        (Kind.INTEGER, "42", 42),
        (Kind.DOUBLE, "0.1", 0.1),
        (Kind.BOOLEAN, "1", 1),
        (Kind.DATETIME, "2026-11-30 01:02:03.456", dt.datetime(2026, 11, 30, 1, 2, 3, 456000)),
        (Kind.DATE, "2026-11-30", dt.date(2026, 11, 30)),
        (Kind.JSON, '{"b":1.50,"a":[1,2]}', '{"a": [1, 2], "b": 1.5}'),
        (Kind.BINARY, b"\x00\xff", b"\x00\xff"),
        (Kind.VARCHAR, "é ,\n", "é ,\n"),
    ],
)
def test_both_sides_agree_on_equal_values(kind, from_csv, from_db):
    assert canonical(kind, from_csv) == canonical(kind, from_db)


def test_null_differs_from_every_text():
    assert canonical(Kind.VARCHAR, None) == NULL
    assert canonical(Kind.VARCHAR, "") != NULL
    assert canonical(Kind.VARCHAR, "NULL") != NULL


@pytest.mark.parametrize(
    ("kind", "left", "right"),
    [
        (Kind.DECIMAL, "1.5", Decimal("1.500001")),
        (Kind.DATETIME, "2026-11-30 01:02:03.456", dt.datetime(2026, 11, 30, 1, 2, 3, 457000)),
        (Kind.VARCHAR, "abc", "abc "),
        (Kind.VARCHAR, "abc", "ABC"),
        (Kind.JSON, '{"a":1}', '{"a":"1"}'),
    ],
)
def test_different_values_differ(kind, left, right):
    assert canonical(kind, left) != canonical(kind, right)


def test_row_digest_and_key_from_the_mapping():
    left = canonical_row(MAPPING, MAPPING.row(_item()))
    assert left.key == ("/a", "2026-11-30 01:02:03.456000")
    assert left.digest == canonical_row(MAPPING, MAPPING.row(_item())).digest
    assert left.digest != canonical_row(MAPPING, MAPPING.row(_item(hits=4))).digest


def test_compare_names_missing_extra_and_different_keys():
    source, database = Side(), Side()
    rows = {
        name: canonical_row(MAPPING, MAPPING.row(_item(hits=n))) for name, n in (("a", 1), ("b", 2))
    }
    same = rows["a"]
    source.add(same)
    database.add(same)
    moved = canonical_row(MAPPING, MAPPING.row({**_item(), "page_id": {"S": "/missing"}}))
    source.add(moved)
    extra = canonical_row(MAPPING, MAPPING.row({**_item(), "page_id": {"S": "/extra"}}))
    database.add(extra)
    changed = canonical_row(MAPPING, MAPPING.row({**_item(hits=7), "page_id": {"S": "/c"}}))
    source.add(changed)
    database.add(canonical_row(MAPPING, MAPPING.row({**_item(hits=8), "page_id": {"S": "/c"}})))
    drift = compare(MAPPING, source, database)
    assert drift.missing == [moved.key]
    assert drift.extra == [extra.key]
    assert [d.key for d in drift.different] == [changed.key]
    assert drift.different[0].columns == [("hits", "7", "8")]
    assert not drift.ok


def test_a_datetime_key_is_rebuilt_in_the_schema_spelling():
    key = canonical_row(MAPPING, MAPPING.row(_item())).key
    typed = guess_typed_keys(MAPPING, key, {"page_id": "S", "activity_dt": "S"})
    assert typed == {"page_id": {"S": "/a"}, "activity_dt": {"S": "2026-11-30T01:02:03.456Z"}}


class _OnePageTable:
    """A DynamoDB client's scan() over one page of items (source_side's only call)."""

    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def scan(self, **_params: object) -> dict:
        return {"Items": self.items}


def _full_pass(items: list[dict], attribute_types: dict[str, str]) -> tuple[Side, Side]:
    source = source_side(
        _OnePageTable(items),
        table="t",
        mapping=MAPPING,
        attribute_types=attribute_types,
        segments=1,
        budget=None,
        progress=lambda _n: None,
    )
    rows = [(*MAPPING.row(wire(item)), None) for item in items]
    rows[0] = (*MAPPING.row(wire({**_item(hits=99), "page_id": items[0]["page_id"]})), None)
    database = database_side(None, MAPPING, rows, keep_rows=False)
    return source, database


def test_a_full_pass_keeps_a_16_byte_digest_per_key_and_no_row_values():
    items = [{**_item(hits=n), "page_id": {"S": f"/p{n}"}} for n in range(20)]
    source, database = _full_pass(items, {"page_id": "S", "activity_dt": "S"})
    drift = compare(MAPPING, source, database)
    assert [d.key for d in drift.different] == [("/p0", "2026-11-30 01:02:03.456000")]
    assert drift.different[0].columns == []  # named later, from a read of just that key
    assert len(source.digests) == len(database.digests) == 20
    assert {len(digest) for digest in [*source.digests.values(), *database.digests.values()]} == {
        16
    }
    assert source.rows == {} and database.rows == {}
    assert source.typed_keys == {}  # every item key is rebuilt from its key text


def test_a_full_pass_keeps_the_item_keys_it_cannot_rebuild():
    items = [{**_item(), "page_id": {"S": "/p"}}]
    source, _ = _full_pass(items, {"page_id": "N", "activity_dt": "S"})
    key = ("/p", "2026-11-30 01:02:03.456000")
    assert source.typed_keys == {
        key: {"page_id": {"S": "/p"}, "activity_dt": items[0]["activity_dt"]}
    }


# ---- checkpoint -----------------------------------------------------------------------


def test_checkpoint_resumes_where_it_stopped(tmp_path):
    path = tmp_path / "cp.json"
    first = Checkpoint.open(path, "scan:t", ["0", "1"], restart=False)
    first.record("0", {"k": {"S": "x"}}, 10)
    first.record("1", None, 5)
    again = Checkpoint.open(path, "scan:t", ["0", "1"], restart=False)
    assert again.resumed and again.run_id == first.run_id
    assert again.units["0"].last_key == {"k": {"S": "x"}} and not again.units["0"].done
    assert again.units["1"].done and again.items == 15 and not again.complete
    again.record("0", None, 1)
    assert Checkpoint.open(path, "scan:t", ["0", "1"], restart=False).complete


def test_checkpoint_for_other_work_is_refused_unless_restarted(tmp_path):
    path = tmp_path / "cp.json"
    Checkpoint.open(path, "scan:t", ["0", "1"], restart=False).record("0", None, 3)
    with pytest.raises(OpsError, match="belongs to 'scan:t'"):
        Checkpoint.open(path, "scan:other", ["0", "1"], restart=False)
    with pytest.raises(OpsError, match="same --segments"):
        Checkpoint.open(path, "scan:t", ["0", "1", "2"], restart=False)
    fresh = Checkpoint.open(path, "scan:t", ["0", "1", "2"], restart=True)
    assert fresh.items == 0 and not fresh.resumed


def test_checkpoint_writes_are_atomic_under_threads(tmp_path):
    checkpoint = Checkpoint.open(tmp_path / "cp.json", "scan:t", ["0", "1", "2"], restart=False)

    def pages(unit: str) -> None:
        for n in range(50):
            checkpoint.record(unit, {"n": {"N": str(n)}}, 1)

    threads = [threading.Thread(target=pages, args=(u,)) for u in ("0", "1", "2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = json.loads((tmp_path / "cp.json").read_text())
    assert sum(unit["items"] for unit in stored["units"].values()) == 150


# ---- dead-letter messages -------------------------------------------------------------

STREAM_FAILURE = {
    "requestContext": {"requestId": "r", "condition": "RetryAttemptsExhausted"},
    "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2026-11-30T00:00:00.000Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-1",
        "startSequenceNumber": "100",
        "endSequenceNumber": "250",
        "approximateArrivalOfFirstRecord": "2026-11-30T00:00:00Z",
        "approximateArrivalOfLastRecord": "2026-11-30T00:00:01Z",
        "batchSize": 3,
        "streamArn": "arn:aws:dynamodb:us-east-1:1:table/t/stream/x",
    },
}


def test_stream_batch_failure_is_parsed():
    failure = parse_stream_message(json.dumps(STREAM_FAILURE))
    assert isinstance(failure, StreamBatchFailure)
    assert (failure.shard_id, failure.batch_size, failure.condition) == (
        "shardId-1",
        3,
        "RetryAttemptsExhausted",
    )
    assert failure.contains("100") and failure.contains("250") and not failure.contains("251")
    assert not failure.contains("99")


def test_record_too_large_report_is_parsed():
    body = {
        "reason": "record_too_large",
        "source": "t",
        "keys": {"k": {"S": "a"}},
        "seq": "7",
        "event_id": "e",
        "size_bytes": 2_000_000,
    }
    parsed = parse_stream_message(json.dumps(body))
    assert parsed == RecordTooLarge("t", {"k": {"S": "a"}}, "7", 2_000_000)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"other": 1}),
        json.dumps({"DDBStreamBatchInfo": {"shardId": "s"}}),
        json.dumps(
            {
                "DDBStreamBatchInfo": {
                    **STREAM_FAILURE["DDBStreamBatchInfo"],
                    "startSequenceNumber": "x",
                }
            }
        ),
    ],
)
def test_other_stream_messages_are_refused(body):
    with pytest.raises(MessageError):
        parse_stream_message(body)


def test_loader_failure_names_the_objects_with_decoded_keys():
    event = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": "b"},
                    "object": {"key": "data/a+b%2Bc", "eTag": "e1", "size": 3},
                },
            }
        ]
    }
    body = {
        "requestContext": {"condition": "RetriesExhausted"},
        "requestPayload": event,
        "responsePayload": {"errorType": "X", "errorMessage": "boom"},
    }
    failure = parse_loader_message(json.dumps(body))
    assert [(o.bucket, o.key, o.etag) for o in failure.objects] == [("b", "data/a b+c", "e1")]
    assert failure.error == "X: boom" and failure.condition == "RetriesExhausted"
    with pytest.raises(MessageError, match="requestPayload"):
        parse_loader_message(json.dumps({"requestContext": {}}))


def test_error_prefix_objects_yield_the_original_records():
    lines = [{"rawData": "eyJhIjoxfQo=", "errorCode": "x"}, {"rawData": "Yg==", "errorCode": "y"}]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    assert error_records(body) == [b'{"a":1}\n', b"b"]
    with pytest.raises(MessageError, match="line 1"):
        error_records(b'{"no": "raw"}\n')


def test_replay_copies_get_distinct_keys_under_the_original():
    now = dt.datetime(2026, 11, 30, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert replay_copy_key("data/x", now) == "data/x.replay-20261130T010203000004Z"


# ---- read budget ------------------------------------------------------------------------


def test_read_budget_is_a_share_of_provisioned_capacity_or_an_explicit_cap():
    provisioned = TableInfo("t", ("k",), 10, 200, None)
    on_demand = TableInfo("t", ("k",), 10, 0, None)
    assert read_budget(provisioned, 0.25, None) == 50
    assert read_budget(provisioned, 0.5, 20) == 20
    assert read_budget(on_demand, 0.5, 300) == 300
    with pytest.raises(OpsError, match="on-demand.*--max-rcu"):
        read_budget(on_demand, 0.5, None)
    with pytest.raises(OpsError, match="--read-share"):
        read_budget(provisioned, 1.5, None)


def test_page_cost_prefers_the_reported_capacity():
    assert page_cost({"ConsumedCapacity": {"CapacityUnits": 12.5}, "Items": []}) == 12.5
    assert page_cost({"Items": [{"a": {"S": "x" * 16_000}}]}) > 1.9


def test_rate_limiter_waits_off_its_debt():
    limiter = RateLimiter(1000.0)
    stop = threading.Event()
    limiter.spend(1000.0)
    limiter.wait(stop)  # returns: the bucket refills at 1000 units/s
    stop.set()
    limiter.spend(10**9)
    limiter.wait(stop)  # a stopped run never blocks


# ---- messages for missing permissions and resources ---------------------------------


def _client_error(code: str, message: str = "m") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Scan")


def test_access_denied_names_the_action_and_the_resource():
    error = explain(_client_error("AccessDeniedException"), "dynamodb", "Scan", {"TableName": "t"})
    assert "permission denied" in str(error)
    assert "dynamodb:Scan" in str(error) and "TableName=t" in str(error)
    assert error.code == "AccessDeniedException"


def test_missing_resources_are_named():
    error = explain(
        _client_error("NoSuchBucket"), "s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "errors/"}
    )
    assert str(error).startswith("not found: s3://b/errors/")
    queue = explain(
        _client_error("AWS.SimpleQueueService.NonExistentQueue"),
        "sqs",
        "ReceiveMessage",
        {"QueueUrl": "https://q"},
    )
    assert "QueueUrl=https://q" in str(queue) and "not found" in str(queue)


# ---- where the names come from ----------------------------------------------------------


def test_names_come_from_terraform_outputs_and_options_override_them(tmp_path):
    outputs = {
        "table_name": {"value": "web_analytics", "type": "string", "sensitive": False},
        "bucket_name": {"value": "b"},
        "error_prefix": {"value": "errors/!{firehose:error-output-type}/"},
        "stream_dead_letter_queue_url": {"value": "https://sqs/q1"},
        "cluster_endpoint": {"value": "db.example"},
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    target = resolve(local_state=None, outputs_file=path, overrides={"table": "other"})
    assert (target.table, target.bucket, target.stream_dlq_url, target.db_host) == (
        "other",
        "b",
        "https://sqs/q1",
        "db.example",
    )
    assert target.error_prefix_root() == "errors/"
    with pytest.raises(OpsError, match="--delivery-stream, --stack-outputs"):
        target.require("delivery_stream")


def test_the_cli_says_what_is_missing_instead_of_a_traceback(capsys, monkeypatch):
    for name in ("DDB2AURORA_STACK_OUTPUTS", "DDB2AURORA_DB_HOST", "DDB2AURORA_TABLE"):
        monkeypatch.delenv(name, raising=False)
    assert main(["verify", "--region", "us-east-1"]) == 2
    assert "no db host known: pass --db-host" in capsys.readouterr().err
    assert main(["status", "--local", "--state-dir", "/nonexistent"]) == 2
    assert "stack.json" in capsys.readouterr().err


# ---- re-reading a failed stream batch (moto never trims a stream, so fakes say it here) --


class _Shard:
    """GetShardIterator/GetRecords over a list of sequence numbers; ``trimmed`` makes
    AT_SEQUENCE_NUMBER fail as AWS does beyond the trim horizon."""

    def __init__(self, numbers: list[int], trimmed: bool = False) -> None:
        self.numbers, self.trimmed = numbers, trimmed

    def get_shard_iterator(self, **params: str) -> dict[str, str]:
        if self.trimmed:
            raise OpsError("trimmed", "TrimmedDataAccessException")
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        start = int(ShardIterator)
        page = self.numbers[start : start + 2]
        records = [
            {
                "eventID": str(n),
                "eventName": "INSERT",
                "dynamodb": {
                    "SequenceNumber": str(n),
                    "Keys": {"k": {"B": b"\x01"}},
                    "ApproximateCreationDateTime": dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
                },
            }
            for n in page
        ]
        return {"Records": records, "NextShardIterator": str(start + 2)}


def _failure(start: str, end: str) -> StreamBatchFailure:
    return StreamBatchFailure("arn:aws:dynamodb:r:1:table/t/stream/s", "shard-1", start, end, 3, "")


def test_a_failed_batch_is_read_again_exactly_as_lambda_saw_it():
    records = reread_batch(_Shard([100, 150, 200, 250, 300]), _failure("100", "250"))  # type: ignore[arg-type]
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == ["100", "150", "200", "250"]
    assert records[0]["eventSourceARN"].endswith("/stream/s")
    assert records[0]["dynamodb"]["Keys"] == {"k": {"B": "AQ=="}}  # binary as the event has it
    assert records[0]["dynamodb"]["ApproximateCreationDateTime"] == 1_795_996_800


def test_a_batch_the_stream_no_longer_holds_is_reported_as_expired():
    with pytest.raises(StreamExpired, match="trimmed"):
        reread_batch(_Shard([100], trimmed=True), _failure("100", "100"))  # type: ignore[arg-type]
    with pytest.raises(StreamExpired, match="no longer starts the batch at 100"):
        reread_batch(_Shard([150, 200]), _failure("100", "200"))  # type: ignore[arg-type]


def test_backfill_records_carry_scanned_binary_as_base64() -> None:
    """A boto3 Scan returns B and BS values as bytes; the change record must still be JSON
    (a stack holding a binary attribute once crashed every backfill)."""
    from ddb2aurora.change_record import ChangeRecord
    from ddb2aurora.ops.records import backfill_record

    item = {"pk": {"S": "a"}, "blob": {"B": b"\x00\xff"}, "set": {"BS": [b"\x01"]}}
    record = backfill_record(item, ["pk"], "t", 1, "e")
    parsed = ChangeRecord.from_json(record.to_json_line())
    assert parsed.image == {"pk": {"S": "a"}, "blob": {"B": "AP8="}, "set": {"BS": ["AQ=="]}}


def test_progress_without_a_terminal_is_a_line_every_interval_and_one_at_the_end():
    from ddb2aurora.ops.cli import ProgressLines

    now = [0.0]
    lines: list[str] = []
    progress = ProgressLines("verify web_analytics", lines.append, lambda: now[0], every_s=30)
    progress.set_total(2_000_000)
    for _ in range(100):  # 100 pages of 10,000 over 50 s: one line, at 30 s
        now[0] += 0.5
        progress.advance(10_000)
    assert lines == ["verify web_analytics: 600,000 of 2,000,000 (30%)"]
    progress.report()  # what the caller does at the end
    assert lines[-1] == "verify web_analytics: 1,000,000 of 2,000,000 (50%)"
    unknown = ProgressLines("replay loader-dlq", lines.append, lambda: now[0])
    unknown.advance(3)
    unknown.report()
    assert lines[-1] == "replay loader-dlq: 3"
