"""End to end on the local stack: the root Terraform stack applied to moto, the real zips run
by the local data plane, MariaDB as Aurora. Writes go to DynamoDB with boto3; after a drain
the database must equal the state DynamoDB holds.

One stack serves the whole module (applying it is the slow part). Tests use their own
page_id prefixes, and the ones that break the wiring on purpose run last, followed by the
destroy check. With LOCALSTACK_ENDPOINT set, the same tests target LocalStack and wait for
the database instead of draining (not exercised in this project's CI).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from scripts.local import stack as local_stack_module
from scripts.local.compare import Comparison, compare_table, sample_mapping
from scripts.local.mariadb import connect_view
from scripts.local.sample_data import ClickstreamGenerator, key_of, to_dynamodb
from tests.support.local_stack import DRAIN_TIMEOUT_SECONDS, REPO_ROOT, LocalStack

pytestmark = pytest.mark.localstack

ON_LOCALSTACK = bool(os.environ.get("LOCALSTACK_ENDPOINT"))


@pytest.fixture(scope="module")
def stack(shared_local_stack: Any) -> LocalStack:
    return LocalStack.of(shared_local_stack)


def _compare(stack: LocalStack) -> Comparison:
    connection = connect_view(stack.info["mysql"], autocommit=False)
    try:
        return compare_table(stack.client("dynamodb"), stack.table, connection, sample_mapping())
    finally:
        connection.close()


def _drain(stack: LocalStack, *, expect_ok: bool = True) -> subprocess.CompletedProcess[str]:
    """The data plane's drain command; on LocalStack, a wait until the database agrees."""
    if ON_LOCALSTACK:
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while not _compare(stack).agrees and time.monotonic() < deadline:
            time.sleep(5)
        return subprocess.CompletedProcess([], 0, "", "")
    result = stack.drain_with_cli()
    if expect_ok:
        assert result.returncode == 0, f"drain failed:\n{result.stdout}\n{result.stderr}"
    return result


def _page(prefix: str, item: dict[str, str]) -> dict[str, str]:
    return {**item, "page_id": f"/{prefix}{item['page_id']}"}


def test_inserts_updates_deletes_and_reinserts_reach_the_database(stack: LocalStack) -> None:
    generator = ClickstreamGenerator(seed=1)
    items = [_page("crud", item) for item in generator.items(120)]
    updated = [generator.updated(item) for item in items[:30]]
    deleted = items[30:50]
    reinserted = [generator.updated(item) for item in items[50:60]]
    stack.write(puts=[to_dynamodb(item) for item in items])
    stack.write(puts=[to_dynamodb(item) for item in updated])
    stack.write(deletes=[key_of(item) for item in deleted + reinserted])
    stack.write(puts=[to_dynamodb(item) for item in reinserted])  # delete, then re-insert
    _drain(stack)

    comparison = _compare(stack)
    assert comparison.agrees, comparison.describe()
    assert comparison.expected_rows >= 100
    deleted_keys = {(item["page_id"], item["activity_dt"]) for item in deleted}
    assert not deleted_keys & stack.live_keys("crud")

    # A second round on the same keys after a drain: delete again, re-insert again.
    stack.write(deletes=[key_of(item) for item in reinserted[:5]])
    _drain(stack)
    stack.write(puts=[to_dynamodb(generator.updated(item)) for item in reinserted[:5]])
    _drain(stack)
    comparison = _compare(stack)
    assert comparison.agrees, comparison.describe()


@pytest.mark.skipif(ON_LOCALSTACK, reason="the TTL marker is a local data plane hook")
def test_ttl_removes_are_applied(stack: LocalStack) -> None:
    items = [_page("ttl", item) for item in ClickstreamGenerator(seed=2).items(10)]
    stack.write(puts=[to_dynamodb(item) for item in items])
    _drain(stack)
    # moto never expires items: mark the next REMOVE of these keys as TTL's, then delete.
    for item in items[:4]:
        stack.control(
            "/inject", {"kind": "ttl_delete", "table_name": stack.table, "keys": key_of(item)}
        )
    stack.write(deletes=[key_of(item) for item in items[:4]])
    _drain(stack)
    comparison = _compare(stack)
    assert comparison.agrees, comparison.describe()
    assert len(stack.live_keys("ttl")) == 6


MALFORMED = {
    "payload is not JSON": {"payload": {"S": "{not json"}},
    "Hits missing": {"payload": {"S": json.dumps({"device": {}, "session": {"session_id": "s"}})}},
    "Hits negative": {
        "payload": {"S": json.dumps({"Hits": -1, "device": {}, "session": {"session_id": "s"}})}
    },
    "country not ISO alpha-2": {
        "payload": {
            "S": json.dumps(
                {
                    "Hits": 1,
                    "device": {"location": {"country": "usa"}},
                    "session": {"session_id": "s"},
                }
            )
        }
    },
    "payload missing": {},
    "payload of the wrong type": {"payload": {"N": "7"}},
}


def _error_records(stack: LocalStack) -> list[dict[str, Any]]:
    """Every record Firehose wrote under the error prefix, with its decoded change record."""
    s3 = stack.client("s3")
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="errors/"):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=stack.bucket, Key=entry["Key"])["Body"].read().decode()
            for line in body.splitlines():
                if line.strip():
                    record = json.loads(line)
                    record["_key"] = entry["Key"]
                    record["_change"] = json.loads(base64.b64decode(record["rawData"]))
                    records.append(record)
    return records


def test_malformed_payloads_land_under_the_error_prefix_with_their_reason(
    stack: LocalStack,
) -> None:
    before = stack.stats() if not ON_LOCALSTACK else {}
    items = []
    for index, (reason, attributes) in enumerate(MALFORMED.items()):
        item = {
            "page_id": {"S": f"/malformed/{index}/{reason}"},
            "activity_dt": {"S": f"2026-11-30T00:00:0{index}.000Z"},
            **attributes,
        }
        items.append(item)
    # a valid payload under an activity_dt spelled differently from the one the key keeps
    valid_payload = to_dynamodb(next(ClickstreamGenerator(seed=3).items(1)))["payload"]
    items.append(
        {
            "page_id": {"S": "/malformed/activity_dt"},
            "activity_dt": {"S": "2026-11-30 00:00:00"},
            "payload": valid_payload,
        }
    )
    stack.write(puts=items)
    _drain(stack)

    comparison = _compare(stack)
    assert comparison.agrees, comparison.describe()
    assert not stack.live_keys("malformed")
    failed = [
        record
        for record in _error_records(stack)
        if str(record["_change"].get("keys", {}).get("page_id", {}).get("S", "")).startswith(
            "/malformed/"
        )
    ]
    failed_pages = {record["_change"]["keys"]["page_id"]["S"] for record in failed}
    assert failed_pages == {item["page_id"]["S"] for item in items}
    assert all(record.get("errorMessage") for record in failed)
    assert all("/processing-failed/" in record["_key"] for record in failed)
    if not ON_LOCALSTACK:
        after = stack.stats()
        assert after["records_failed"] - before["records_failed"] == len(items)


AWKWARD_TEXT = [
    "comma, separated",
    'double "quoted"',
    "single 'quoted'",
    "back\\slash\\",
    "new\nline",
    "carriage\r\nreturn",
    "tab\tseparated",
    "nul\x00byte",
    "\\N",
    "NULL",
    "emoji 🦆🚀 and 中文",
    "trailing space ",
    "trailing space",
    "CaseKey",
    "casekey",
    "e\u0301",  # e + combining acute: a different key from the precomposed é
    "\u00e9",
    "x" * 400,
]


def test_awkward_values_round_trip_exactly(stack: LocalStack) -> None:
    items = []
    for index, text in enumerate(AWKWARD_TEXT):
        payload = {
            "Hits": [0, 4294967295][index % 2],
            "device": {
                "make": text[:255],
                "platform": {"name": "" if index % 3 == 0 else text[:255], "version": text[:64]},
                "location": {"latitude": -90 + index, "longitude": 180 - index, "country": "NZ"},
            },
            "session": {"session_id": text[:64], "start_timestamp": 0, "stop_timestamp": 1},
        }
        items.append(
            {
                "page_id": {"S": f"/awkward/{text}"},
                "activity_dt": {"S": "2026-11-30T23:59:59.999Z"},
                "payload": {"S": json.dumps(payload, ensure_ascii=index % 2 == 0)},
                # attributes outside the mapping must not disturb anything
                "big": {"N": "12345678901234567890123456789012345678"},
                "tiny": {"N": "-0.00000000000000000000000000000000000001"},
                "blob": {"B": b"\x00\xff\x10"},
                "tags": {"SS": ["a,b", 'c"d']},
            }
        )
    stack.write(puts=items)
    _drain(stack)
    comparison = _compare(stack)
    assert comparison.agrees, comparison.describe()
    assert len(stack.live_keys("awkward")) == len(AWKWARD_TEXT)


def _redeliver(stack: LocalStack, key: str, etag: str, size: int, work_dir: Path) -> None:
    """Send the loader, as deployed, the same ObjectCreated event S3 already sent once
    (S3 delivers at least once), through the data plane's own function runtime."""
    from scripts.local.dataplane.runtime import FunctionRuntime, FunctionSpec, LaunchSettings
    from scripts.local.dataplane.s3events import NotificationSpec, s3_event

    notification = stack.client("s3").get_bucket_notification_configuration(Bucket=stack.bucket)
    spec = NotificationSpec.from_api(stack.bucket, notification["LambdaFunctionConfigurations"][0])
    assert spec.matches("ObjectCreated:Put", key)
    function = FunctionSpec.from_configuration(
        stack.client("lambda").get_function_configuration(FunctionName=spec.function_arn)
    )
    mysql = stack.info["mysql"]
    runtime = FunctionRuntime(
        LaunchSettings(
            aws_endpoint_url=stack.info["aws_endpoint_url"],
            region=stack.info["region"],
            environment_overrides={
                function.name: {"DB_HOST": str(mysql["host"]), "DB_PORT": str(mysql["port"])}
            },
            runtime_dir=stack.state_dir / "runtime",
            functions_dir=work_dir / "functions",
            logs_dir=work_dir / "logs",
            code_dirs=[REPO_ROOT / "dist"],
        )
    )
    try:
        runtime.load([function])
        event = s3_event(
            spec,
            stack.info["region"],
            key=key,
            size=size,
            etag=etag,
            event_name="ObjectCreated:Put",
        )
        result = runtime.invoke(function.name, event)
    finally:
        runtime.close()
    assert result.ok, f"{result.error_type}: {result.error_message}"


@pytest.mark.skipif(ON_LOCALSTACK, reason="uses the local data plane's function runtime")
def test_redelivered_s3_event_changes_nothing(stack: LocalStack, tmp_path: Path) -> None:
    generator = ClickstreamGenerator(seed=4)
    items = [_page("redeliver", item) for item in generator.items(5)]
    s3 = stack.client("s3")

    def data_objects() -> dict[str, dict[str, Any]]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="data/")
        return {entry["Key"]: entry for page in pages for entry in page.get("Contents", [])}

    before = data_objects()
    stack.write(puts=[to_dynamodb(item) for item in items])
    _drain(stack)
    first = [entry for key, entry in data_objects().items() if key not in before]
    assert first, "the first writes produced no object under data/"
    # Newer versions of the same items, so a replayed old object must not roll them back.
    stack.write(puts=[to_dynamodb(generator.updated(item)) for item in items])
    _drain(stack)
    snapshot = stack.sql("SELECT * FROM web_analytics ORDER BY page_id, activity_dt, _seq")
    manifest = stack.sql("SELECT * FROM _ddb2aurora_manifest ORDER BY object_id")

    for entry in first:
        _redeliver(stack, entry["Key"], entry["ETag"].strip('"'), int(entry["Size"]), tmp_path)

    assert stack.sql("SELECT * FROM web_analytics ORDER BY page_id, activity_dt, _seq") == (
        snapshot
    )
    assert stack.sql("SELECT * FROM _ddb2aurora_manifest ORDER BY object_id") == manifest
    comparison = _compare(stack)
    assert comparison.agrees, comparison.describe()


# ---- breaking the wiring must fail (marked breaks_stack: they run after every other test
# on the shared stack, since they leave it broken) ----


def _replace_in_tree(root: Path, pattern: str, replacement: str) -> int:
    """Edit the copied Terraform tree; returns how many places changed (0 fails the test)."""
    replaced = 0
    for tf_file in root.rglob("*.tf"):
        if ".terraform" in tf_file.parts:
            continue
        text, count = re.subn(pattern, replacement, tf_file.read_text())
        if count:
            tf_file.write_text(text)
            replaced += count
    return replaced


@pytest.mark.breaks_stack
@pytest.mark.skipif(ON_LOCALSTACK, reason="re-applies a mutated copy of the stack")
def test_a_wrong_handler_string_fails(stack: LocalStack) -> None:
    def break_handler(tf_dir: Path) -> None:
        assert _replace_in_tree(
            tf_dir, r'"firehose_transform\.handler"', '"firehose_transform.handle"'
        )

    local_stack_module.up(
        stack.state_dir, mutate=break_handler, refresh=False, targets=["module.firehose"]
    )
    items = [_page("wronghandler", item) for item in ClickstreamGenerator(seed=5).items(5)]
    stack.write(puts=[to_dynamodb(item) for item in items])
    result = _drain(stack, expect_ok=False)
    comparison = _compare(stack)
    assert result.returncode != 0 or not comparison.agrees
    assert not stack.live_keys("wronghandler")


@pytest.mark.breaks_stack
@pytest.mark.skipif(ON_LOCALSTACK, reason="re-applies a mutated copy of the stack")
def test_a_wrong_notification_prefix_fails(stack: LocalStack) -> None:
    def break_prefix(tf_dir: Path) -> None:
        assert _replace_in_tree(
            tf_dir, r"filter_prefix\s*=\s*var\.data_prefix", 'filter_prefix = "wrong/"'
        )

    local_stack_module.up(
        stack.state_dir, mutate=break_prefix, refresh=False, targets=["module.loader"]
    )
    items = [_page("wrongprefix", item) for item in ClickstreamGenerator(seed=6).items(5)]
    stack.write(puts=[to_dynamodb(item) for item in items])
    result = _drain(stack, expect_ok=False)
    comparison = _compare(stack)
    assert result.returncode != 0 or not comparison.agrees
    assert not stack.live_keys("wrongprefix")


@pytest.mark.destroys_stack
def test_terraform_destroy_leaves_nothing(stack: LocalStack) -> None:
    local_stack_module.stop_dataplane(local_stack_module.StatePaths(stack.state_dir))
    local_stack_module.destroy_terraform(
        local_stack_module.StatePaths(stack.state_dir), stack.info["aws_endpoint_url"]
    )
    left = {
        "dynamodb tables": stack.client("dynamodb").list_tables()["TableNames"],
        "lambda functions": [
            f["FunctionName"] for f in stack.client("lambda").list_functions()["Functions"]
        ],
        "event source mappings": stack.client("lambda").list_event_source_mappings()[
            "EventSourceMappings"
        ],
        "delivery streams": stack.client("firehose").list_delivery_streams()["DeliveryStreamNames"],
        "buckets": [b["Name"] for b in stack.client("s3").list_buckets()["Buckets"]],
        "queues": stack.client("sqs").list_queues().get("QueueUrls", []),
        "db clusters": [
            c["DBClusterIdentifier"]
            for c in stack.client("rds").describe_db_clusters()["DBClusters"]
        ],
        "db instances": [
            i["DBInstanceIdentifier"]
            for i in stack.client("rds").describe_db_instances()["DBInstances"]
        ],
        "iam roles": [r["RoleName"] for r in stack.client("iam").list_roles()["Roles"]],
        "log groups": [
            g["logGroupName"] for g in stack.client("logs").describe_log_groups()["logGroups"]
        ],
        "vpcs": [
            v["VpcId"]
            for v in stack.client("ec2").describe_vpcs()["Vpcs"]
            if not v.get("IsDefault")
        ],
        "secrets": [s["Name"] for s in stack.client("secretsmanager").list_secrets()["SecretList"]],
    }
    assert {what: found for what, found in left.items() if found} == {}
