"""The operator CLI (`ddb2aurora`) against the local stack: backfill, verify, replay and
status as an on-call engineer runs them, through the console entry point, with --local.

One stack serves the module (applying it is the slow part); each test uses its own
page_id prefix. "Items that existed before the stream" are made by writing items,
letting them replicate, then deleting their rows from the database: the database is
then exactly as if those items predated the stream, while DynamoDB and its stream keep
running. Sizes: the backfill test uses 3,000 items in `make test`; the issue's 50,000
runs in the `long` variant (`make long-test`).
"""

from __future__ import annotations

import gzip
import json
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from scripts.local.sample_data import ClickstreamGenerator, key_of, to_dynamodb
from tests.support.local_stack import LocalStack

pytestmark = pytest.mark.localstack

BACKFILL_ITEMS = 3_000
LONG_BACKFILL_ITEMS = 50_000


@pytest.fixture(scope="module")
def stack(shared_local_stack: Any) -> LocalStack:
    """The session's local stack (tests/conftest.py), shared with the end-to-end tests,
    whose rejected records are cleared from the error prefix first: these tests count it."""
    shared = LocalStack.of(shared_local_stack)
    _clear_error_prefix(shared)
    return shared


def _put_items(stack: LocalStack, items: Sequence[dict[str, Any]]) -> None:
    dynamodb = stack.client("dynamodb")
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        pending = {stack.table: requests}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems")


def _set_environment(stack: LocalStack, function: str, **changes: str) -> dict[str, str]:
    """Change a deployed function's environment (as a bad deploy would) and make the
    data plane read it back; returns the previous environment."""
    client = stack.client("lambda")
    before = client.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    client.update_function_configuration(
        FunctionName=function, Environment={"Variables": {**before, **changes}}
    )
    stack.control("/reload", {})
    return dict(before)


def _restore_environment(stack: LocalStack, function: str, environment: dict[str, str]) -> None:
    stack.client("lambda").update_function_configuration(
        FunctionName=function, Environment={"Variables": environment}
    )
    stack.control("/reload", {})


def _items(prefix: str, count: int, seed: int) -> list[dict[str, Any]]:
    generator = ClickstreamGenerator(seed=seed)
    return [
        to_dynamodb({**item, "page_id": f"/{prefix}{item['page_id']}"})
        for item in generator.items(count)
    ]


def settle(stack: LocalStack) -> None:
    """Drain, and nothing failed since the last drain nor is stuck (a drain reports each
    failed load once, so the loads the replay test breaks on purpose are not seen here)."""
    report = stack.drain()
    assert report["ok"], report["reasons"]


def _predating_the_stream(stack: LocalStack, prefix: str, items: list[dict[str, Any]]) -> None:
    """The items are in DynamoDB and nowhere in the database."""
    _put_items(stack, items)
    settle(stack)
    stack.sql("DELETE FROM web_analytics WHERE page_id LIKE %s", (f"/{prefix}/%",))


def _live_rows(stack: LocalStack, prefix: str) -> int:
    rows = stack.sql(
        "SELECT COUNT(*) FROM web_analytics WHERE page_id LIKE %s AND _deleted_at IS NULL",
        (f"/{prefix}/%",),
    )
    return int(rows[0][0])


def _checkpoint_items(path: Path) -> int:
    try:
        return sum(unit["items"] for unit in json.loads(path.read_text())["units"].values())
    except (OSError, ValueError):
        return 0


# ---- backfill ---------------------------------------------------------------------------


def test_a_backfill_stopped_halfway_resumes_and_completes_without_duplicates(stack, tmp_path):
    items = _items("resume", 1_000, seed=11)
    _predating_the_stream(stack, "resume", items)
    checkpoint = tmp_path / "resume.json"
    args = (
        "backfill",
        "--segments",
        "2",
        "--page-size",
        "50",
        "--max-rcu",
        "15",
        "--checkpoint",
        str(checkpoint),
    )
    process = subprocess.Popen(
        stack.cli_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while _checkpoint_items(checkpoint) < 100 and time.monotonic() < deadline:
        assert process.poll() is None, "the backfill ended before it could be interrupted"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)  # Ctrl-C
    _stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    stopped = json.loads(checkpoint.read_text())
    assert not all(unit["done"] for unit in stopped["units"].values())
    sent_before = _checkpoint_items(checkpoint)

    report = stack.cli_json(*args)
    assert report["resumed"] and report["complete"]
    # every item counted exactly once over both runs: no page was sent as new twice
    assert report["items_sent"] == _checkpoint_items(checkpoint) > sent_before
    table_items = stack.client("dynamodb").scan(TableName=stack.table, Select="COUNT")["Count"]
    assert report["items_sent"] == table_items
    settle(stack)
    assert _live_rows(stack, "resume") == len(items)
    assert stack.cli_json("verify")["ok"]

    again = stack.cli("backfill", *args[1:])  # a finished checkpoint: nothing sent again
    assert again.returncode == 0, again.stderr


def _backfill_while_streaming(stack: LocalStack, tmp_path: Path, count: int) -> None:
    prefix = f"pre{count}"
    items = _items(prefix, count, seed=count)
    _predating_the_stream(stack, prefix, items)
    assert stack.cli("verify", "--recheck-after", "-1").returncode == 1  # they are missing

    generator = ClickstreamGenerator(seed=99)
    updated = [to_dynamodb({**generator.updated(_plain(item))}) for item in items[:200]]
    deleted = [key_of(_plain(item)) for item in items[200:300]]
    fresh = _items(f"{prefix}new", 200, seed=count + 1)
    stop_streaming = threading.Event()

    def keep_changing() -> None:  # changes stream while the backfill runs
        for start in range(0, 200, 20):
            _put_items(stack, updated[start : start + 20])
            stack.write(deletes=deleted[start // 2 : start // 2 + 10])
            _put_items(stack, fresh[start : start + 20])
            if stop_streaming.wait(0.2):
                return

    writer = threading.Thread(target=keep_changing)
    writer.start()
    try:
        report = stack.cli_json(
            "backfill",
            "--segments",
            "4",
            "--max-rcu",
            "5000",
            "--checkpoint",
            str(tmp_path / f"{prefix}.json"),
        )
    finally:
        writer.join()
    assert report["complete"] and not report["too_large"]
    settle(stack)
    result = stack.cli_json("verify")
    assert result["ok"], result
    assert _live_rows(stack, prefix) == count - len(deleted)
    # the streamed updates won over the backfill's seq-0 copies
    pairs = [(i["page_id"]["S"], i["activity_dt"]["S"].replace("T", " ")[:-1]) for i in updated]
    seqs = stack.sql(
        "SELECT COUNT(*), MIN(_seq) FROM web_analytics WHERE (page_id, activity_dt) IN ("
        + ", ".join(["(%s, %s)"] * len(pairs))
        + ")",
        [value for pair in pairs for value in pair],
    )
    assert seqs[0][0] == len(updated) and seqs[0][1] > 0


def _plain(item: dict[str, Any]) -> dict[str, str]:
    return {name: value["S"] for name, value in item.items()}


def test_a_backfill_of_items_predating_the_stream_while_changes_stream_verifies_clean(
    stack, tmp_path
):
    _backfill_while_streaming(stack, tmp_path, BACKFILL_ITEMS)


@pytest.mark.long
def test_a_backfill_of_fifty_thousand_items_while_changes_stream_verifies_clean(stack, tmp_path):
    _backfill_while_streaming(stack, tmp_path, LONG_BACKFILL_ITEMS)


def test_a_backfill_from_a_dynamodb_export_loads_the_exported_items(stack, tmp_path):
    """An export in the documented layout (manifest-summary.json, manifest-files.json,
    data/*.json.gz of {"Item": …} lines), as ExportTableToPointInTime writes it."""
    items = _items("export", 120, seed=41)
    _predating_the_stream(stack, "export", items)
    s3, bucket = stack.client("s3"), stack.bucket
    root = "exports/AWSDynamoDB/01700000000000-abcdef12/"
    files = []
    for number, start in enumerate(range(0, len(items), 50)):
        key = f"{root}data/part-{number}.json.gz"
        lines = "".join(json.dumps({"Item": item}) + "\n" for item in items[start : start + 50])
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(lines.encode()))
        files.append({"itemCount": len(items[start : start + 50]), "dataFileS3Key": key})
    s3.put_object(
        Bucket=bucket,
        Key=root + "manifest-files.json",
        Body="".join(json.dumps(f) + "\n" for f in files).encode(),
    )
    summary = {
        "exportType": "FULL_EXPORT",
        "outputFormat": "DYNAMODB_JSON",
        "manifestFilesS3Key": root + "manifest-files.json",
        "itemCount": len(items),
    }
    s3.put_object(Bucket=bucket, Key=root + "manifest-summary.json", Body=json.dumps(summary))

    report = stack.cli_json(
        "backfill",
        "--export",
        f"s3://{bucket}/{root}",
        "--checkpoint",
        str(tmp_path / "export.json"),
    )
    assert report["complete"] and report["items_sent"] == len(items)
    settle(stack)
    assert _live_rows(stack, "export") == len(items)
    assert stack.cli_json("verify")["ok"]


# ---- verify -----------------------------------------------------------------------------


def test_verify_names_a_missing_an_extra_and_an_altered_row_and_exits_non_zero(stack):
    items = _items("drift", 5, seed=21)
    rejected = {**items[4], "payload": {"S": "{not json"}}
    _put_items(stack, [*items[:4], rejected])
    settle(stack)
    assert stack.cli_json("verify")["counts"]["rejected"] >= 1  # reported, not drift

    missing, altered = items[0], items[1]
    stack.sql("DELETE FROM web_analytics WHERE page_id = %s", (missing["page_id"]["S"],))
    stack.sql(
        "UPDATE web_analytics SET hits = hits + 1 WHERE page_id = %s", (altered["page_id"]["S"],)
    )
    stack.sql(
        "INSERT INTO web_analytics (page_id, activity_dt, hits, _seq, _event_ts, _loaded_at)"
        " VALUES ('/drift/extra', '2026-11-30 00:00:00', 1, 1, NOW(), NOW()),"
        " ('/drift/extra-deleted', '2026-11-30 00:00:00', 1, 1, NOW(), NOW()),"
        " ('/drift/extra-deleted-2', '2026-11-30 00:00:00', 1, 1, NOW(), NOW())"
    )
    stack.sql(
        "UPDATE web_analytics SET _deleted_at = NOW() WHERE page_id LIKE %s",
        ("/drift/extra-deleted%",),
    )

    result = stack.cli("verify", "--recheck-after", "0")
    assert result.returncode == 1, result.stderr
    assert missing["page_id"]["S"] in result.stdout
    assert altered["page_id"]["S"] in result.stdout and "hits" in result.stdout
    assert "/drift/extra" in result.stdout and "/drift/extra-deleted" not in result.stdout
    # its last progress line: every item and every row read, soft-deleted rows too, of a total
    # that counted them all
    assert re.search(r"^verify: ([\d,]+) of \1 \(100%\)$", result.stderr, re.M), result.stderr
    report = stack.cli_json("verify", expect=1)
    assert report["counts"] == {
        "missing": 1,
        "extra": 1,
        "different": 1,
        "rejected": report["counts"]["rejected"],
    }
    assert [k["page_id"] for k in report["missing"]] == [missing["page_id"]["S"]]
    assert [k["page_id"] for k in report["extra"]] == ["/drift/extra"]
    assert report["different"][0]["columns"][0]["column"] == "hits"
    # without the recheck the digest-only pass reads the differing keys alone to name columns
    unchecked = stack.cli_json("verify", "--recheck-after", "-1", expect=1)
    drift = ("counts", "missing", "extra", "different")
    assert {k: unchecked[k] for k in drift} == {k: report[k] for k in drift}
    status = stack.cli_json("status", expect=1)
    assert status["last_verify"]["ok"] is False and status["last_verify"]["missing"] == 1

    # repair: the row comes back through the pipeline; the injected rows go
    stack.sql("DELETE FROM web_analytics WHERE page_id LIKE '/drift/extra%%'")
    stack.sql(
        "UPDATE web_analytics SET hits = hits - 1 WHERE page_id = %s", (altered["page_id"]["S"],)
    )
    stack.write(deletes=[{"page_id": rejected["page_id"], "activity_dt": rejected["activity_dt"]}])
    _put_items(stack, [{**missing, "payload": missing["payload"]}])
    _clear_error_prefix(stack)
    settle(stack)
    assert stack.cli_json("verify")["ok"]


def _clear_error_prefix(stack: LocalStack) -> None:
    s3 = stack.client("s3")
    listing = s3.list_objects_v2(Bucket=stack.bucket, Prefix="errors/")
    for entry in listing.get("Contents", []):
        s3.delete_object(Bucket=stack.bucket, Key=entry["Key"])


# ---- replay -----------------------------------------------------------------------------


def test_replay_recovers_every_dead_letter_path_and_applies_nothing_twice(stack):
    outputs = stack.outputs
    sqs = stack.client("sqs")
    run = uuid.uuid4().hex[:6]  # fresh keys, whatever ran on this stack before

    # 1. stream_processor cannot deliver (a bad deploy): batches end in the stream DLQ
    before = _set_environment(
        stack, outputs["stream_processor_function_name"], DELIVERY_STREAM_NAME="no-such-stream"
    )
    stream_items = _items(f"sdlq{run}", 3, seed=31)
    _put_items(stack, stream_items)
    assert not stack.drain()["ok"]
    _restore_environment(stack, outputs["stream_processor_function_name"], before)
    assert stack.queue_depth("stream_dead_letter_queue_url") >= 1

    # 2. the loader cannot reach its database: objects end in the loader DLQ
    before = _set_environment(stack, outputs["aurora_loader_function_name"], DB_NAME="nosuchdb")
    loader_items = _items(f"ldlq{run}", 3, seed=32)
    _put_items(stack, loader_items)
    assert not stack.drain()["ok"]
    _restore_environment(stack, outputs["aurora_loader_function_name"], before)
    assert stack.queue_depth("loader_dead_letter_queue_url") >= 1

    # 3. a mapping that rejects every record: they land under the error prefix
    ssm = stack.client("ssm")
    parameter = outputs["table_mapping_parameter_name"]
    good_mapping = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    strict = json.loads(good_mapping)
    strict["record_schema"]["properties"]["payload"]["properties"]["Hits"]["maximum"] = -1
    ssm.put_parameter(Name=parameter, Value=json.dumps(strict), Overwrite=True)
    transform = outputs["firehose_transform_function_name"]
    before = _set_environment(stack, transform, MAPPING_VERSION="strict")  # restarts it
    error_items = _items(f"errs{run}", 3, seed=33)
    _put_items(stack, error_items)
    stack.drain()
    ssm.put_parameter(Name=parameter, Value=good_mapping, Overwrite=True)  # the mapping fix
    _restore_environment(stack, transform, before)
    assert stack.cli_json("status", expect=1)["error_prefix"]["objects"] >= 1

    # a duplicate of each dead-letter message (SQS delivers at least once)
    for output in ("stream_dead_letter_queue_url", "loader_dead_letter_queue_url"):
        url = outputs[output]
        message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
        sqs.send_message(QueueUrl=url, MessageBody=message["Body"])
    assert stack.cli("verify", "--recheck-after", "-1").returncode == 1

    stream = stack.cli_json("replay", "stream-dlq")
    assert stream["ok"] and stream["counts"]["replayed"] >= 2, stream
    loader = stack.cli_json("replay", "loader-dlq", "--wait", "120")
    assert loader["ok"], loader
    assert loader["counts"].get("already_loaded", 0) >= 1  # the duplicate message
    errors = stack.cli_json("replay", "errors")
    assert errors["ok"] and errors["counts"]["replayed"] >= 1, errors
    settle(stack)

    # replaying again finds nothing; every path's rows are there once, from the stream
    for kind in ("stream-dlq", "loader-dlq", "errors"):
        assert stack.cli_json("replay", kind)["counts"] == {}
    for prefix, items in (
        (f"sdlq{run}", stream_items),
        (f"ldlq{run}", loader_items),
        (f"errs{run}", error_items),
    ):
        rows = stack.sql(
            "SELECT COUNT(*), MIN(_seq) FROM web_analytics WHERE page_id LIKE %s", (f"/{prefix}/%",)
        )
        assert rows[0][0] == len(items) and rows[0][1] > 0, prefix
    copies = stack.sql(
        "SELECT COUNT(*), COUNT(DISTINCT SUBSTRING_INDEX(object_key, '.replay-', 1))"
        " FROM _ddb2aurora_manifest WHERE object_key LIKE '%%.replay-%%'"
    )
    assert copies[0][0] == copies[0][1] >= 1  # each failed object re-driven once
    assert stack.cli_json("verify")["ok"]
    status = stack.cli_json("status")
    assert status["healthy"], status


def test_status_and_messages_for_missing_resources(stack, tmp_path):
    healthy = stack.cli_json("status")
    assert healthy["stream_dlq"]["visible"] == 0 and healthy["last_load"]["rows"] >= 1
    sampled = stack.cli_json("verify", "--sample", "20")
    assert sampled["ok"] and sampled["mode"] == "sample:20"
    wrong = stack.cli("verify", "--table", "no-such-table")
    assert wrong.returncode == 2
    assert "not found" in wrong.stderr and "no-such-table" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    missing_state = subprocess.run(
        [
            sys.executable,
            "-m",
            "ddb2aurora.ops.cli",
            "status",
            "--local",
            "--state-dir",
            str(tmp_path / "nothing"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing_state.returncode == 2 and "stack.json" in missing_state.stderr
    script = Path(sys.executable).parent / "ddb2aurora"
    assert script.exists(), "the console script is installed with the package"
