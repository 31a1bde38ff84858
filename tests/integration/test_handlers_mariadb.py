"""The transform and loader handlers wired to AWS (moto, in process) and the real
MariaDB, with AWS's documented event shapes."""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import aurora_loader
import boto3
import firehose_transform
import pytest
from ddb2aurora.adapters import client, db
from moto import mock_aws

from tests.support.records import (
    SAMPLE_MAPPING_PATH,
    clickstream_item,
    csv_object,
    sample_mapping,
    upsert,
)
from tests.support.secret_scan import find_leaks

pytestmark = pytest.mark.mariadb
REGION = "us-east-1"


class Context:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def reset_caches() -> None:
    client.cache_clear()
    for cached in (
        aurora_loader.settings,
        aurora_loader.loader,
        aurora_loader.prepared_database,
        firehose_transform.mapping,
    ):
        cached.cache_clear()
    db.discard_connection()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    reset_caches()
    with mock_aws():
        yield
    reset_caches()


def s3_event(bucket: str, key: str, etag: str, size: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-30T01:02:03.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "loader",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key), "size": size, "eTag": etag},
                },
            }
        ]
    }


def loader_environment(monkeypatch: pytest.MonkeyPatch, mariadb: Any, password: str) -> None:
    secret = boto3.client("secretsmanager").create_secret(
        Name="db", SecretString=json.dumps({"username": mariadb.user, "password": password})
    )
    boto3.client("ssm").put_parameter(
        Name="/ddb2aurora/mapping",
        Type="String",
        Value=SAMPLE_MAPPING_PATH.read_text(),
        Tier="Advanced",
    )
    for name, value in {
        "TABLE_MAPPING_PARAMETER": "/ddb2aurora/mapping",
        "DB_HOST": mariadb.host,
        "DB_PORT": str(mariadb.port),
        "DB_NAME": mariadb.database,
        "DB_SECRET_ARN": secret["ARN"],
        "DB_TLS_MODE": "required",
        "LOAD_METHOD": "local",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    "key",
    ["data/2026/11/30/01/plain", "data/with space+plus%25 'quote\"; DROP TABLE x;--/ünïcødé 😀"],
)
def test_loader_handler_loads_once_from_an_s3_event(
    aws: None, db_conn: Any, mariadb: Any, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    loader_environment(monkeypatch, mariadb, mariadb.password)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="delivery")
    body = csv_object(
        [upsert(clickstream_item(f"/p/{n}"), n + 1) for n in range(25)], sample_mapping()
    )
    etag = s3.put_object(Bucket="delivery", Key=key, Body=body)["ETag"].strip('"')
    event = s3_event("delivery", key, etag, len(body))

    first = aurora_loader.handler(event, Context())
    assert first == {"objects": [{"key": key, "status": "loaded", "rows": 25}]}
    again = aurora_loader.handler(event, Context())
    assert again["objects"][0]["status"] == "skipped"
    db_conn.commit()
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM web_analytics")
        assert cursor.fetchone() == (25,)
        cursor.execute("SELECT object_key FROM _ddb2aurora_manifest")
        assert cursor.fetchall() == ((key,),)


# A wrong password whose plain, URL-encoded and JSON-escaped spellings all differ.
WRONG_PASSWORD = 'wr0ng p@ss/"w%rd"+\u00e9-never-logged'


def _everything_logged(failure: pytest.ExceptionInfo[Any], capsys: Any, caplog: Any) -> str:
    """What Lambda would record: stdout/stderr (Powertools' JSON lines), log records with
    their tracebacks, and the unhandled error as the runtime prints it."""
    captured = capsys.readouterr()
    return "\n".join(
        [
            captured.out,
            captured.err,
            caplog.text,
            "".join(traceback.format_exception(failure.value)),
            repr(failure.value),
        ]
    )


@pytest.mark.usefixtures("aws", "db_conn")
def test_loader_handler_raises_so_async_retries_take_over(
    mariadb: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: Any,
) -> None:
    """Cold start with a wrong password: the error propagates (async retries take over) and
    names the server and user, never the password in any spelling."""
    loader_environment(monkeypatch, mariadb, WRONG_PASSWORD)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="delivery")
    with pytest.raises(db.DatabaseConnectError) as failure:
        aurora_loader.handler(s3_event("delivery", "data/x", "e", 1), Context())
    logged = _everything_logged(failure, capsys, caplog)
    assert "Access denied" in logged
    assert find_leaks({"wrong password": WRONG_PASSWORD}, [("logs", logged)]) == []


@pytest.mark.usefixtures("aws", "db_conn")
def test_a_load_that_cannot_reconnect_logs_no_password(
    mariadb: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: Any,
) -> None:
    """Warm function, then the secret changes and the connection is gone: the per-object
    failure is logged with its traceback (logger.exception) and still carries no password."""
    loader_environment(monkeypatch, mariadb, mariadb.password)
    boto3.client("s3").create_bucket(Bucket="delivery")
    aurora_loader.prepared_database()  # cold start done with the right password
    boto3.client("secretsmanager").put_secret_value(
        SecretId="db",
        SecretString=json.dumps({"username": mariadb.user, "password": WRONG_PASSWORD}),
    )
    db.discard_connection()
    with pytest.raises(aurora_loader.ObjectsNotLoaded) as failure:
        aurora_loader.handler(s3_event("delivery", "data/x", "e", 1), Context())
    logged = _everything_logged(failure, capsys, caplog)
    assert "object not loaded" in logged
    assert "cannot connect to" in logged
    secrets = {"wrong password": WRONG_PASSWORD, "right password": mariadb.password}
    assert find_leaks(secrets, [("logs", logged)]) == []


def test_loader_handler_reports_an_object_that_is_gone(
    aws: None, db_conn: Any, mariadb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader_environment(monkeypatch, mariadb, mariadb.password)
    boto3.client("s3").create_bucket(Bucket="delivery")
    with pytest.raises(aurora_loader.ObjectsNotLoaded, match="data/missing"):
        aurora_loader.handler(s3_event("delivery", "data/missing", "etag", 10), Context())
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM _ddb2aurora_manifest")
        assert cursor.fetchone() == (0,)


def test_transform_handler_answers_every_record(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_MAPPING", SAMPLE_MAPPING_PATH.read_text())
    line = upsert(clickstream_item("/t"), 9).to_json_line()
    event = {
        "invocationId": "inv-1",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/ddb2aurora",
        "region": REGION,
        "records": [
            {
                "recordId": "1",
                "approximateArrivalTimestamp": 1,
                "data": base64.b64encode(line).decode(),
            },
            {
                "recordId": "2",
                "approximateArrivalTimestamp": 1,
                "data": base64.b64encode(b"[]").decode(),
            },
        ],
    }
    response = firehose_transform.handler(event, Context())
    assert [(r["recordId"], r["result"]) for r in response["records"]] == [
        ("1", "Ok"),
        ("2", "ProcessingFailed"),
    ]


def test_transform_handler_fails_loudly_without_a_mapping(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TABLE_MAPPING", raising=False)
    monkeypatch.delenv("TABLE_MAPPING_PARAMETER", raising=False)
    with pytest.raises(ValueError, match="TABLE_MAPPING"):
        firehose_transform.handler({"records": []}, Context())
