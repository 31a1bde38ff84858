"""The AWS adapters against moto (in process): what they return, and the errors they turn
AWS failures into (never carrying a secret's value)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from ddb2aurora.adapters import client, db, dynamodb, firehose, secrets, sqs, ssm
from ddb2aurora.settings import DatabaseSettings, MappingSource
from moto import mock_aws


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client.cache_clear()
    with mock_aws():
        yield
    client.cache_clear()


def test_secret_gives_username_and_password() -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name="db", SecretString=json.dumps({"username": "loader", "password": "s3cr3t"})
    )["ARN"]
    credentials = secrets.get_database_credentials(arn)
    assert (credentials.username, credentials.password) == ("loader", "s3cr3t")
    assert "s3cr3t" not in repr(credentials)


@pytest.mark.parametrize(
    ("secret_string", "expected"),
    [
        ('{"username": "loader"}', "lacks string field(s): password"),
        ("not json s3cr3t", "is not a JSON SecretString"),
        ('["s3cr3t"]', "is not a JSON object"),
    ],
)
def test_bad_secret_names_the_problem_not_the_value(secret_string: str, expected: str) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="db", SecretString=secret_string)["ARN"]
    with pytest.raises(secrets.SecretError) as excinfo:
        secrets.get_database_credentials(arn)
    assert expected in str(excinfo.value)
    assert "s3cr3t" not in str(excinfo.value)


def test_missing_secret_is_a_secret_error() -> None:
    with pytest.raises(secrets.SecretError, match="cannot read secret"):
        secrets.get_database_credentials("arn:aws:secretsmanager:us-east-1:123456789012:secret:no")


def test_mapping_from_an_ssm_parameter() -> None:
    mapping = json.dumps({"target_table": "web_analytics", "padding": "x" * 5000})
    boto3.client("ssm").put_parameter(Name="/ddb2aurora/mapping", Value=mapping, Type="String")
    assert ssm.get_parameter("/ddb2aurora/mapping") == mapping
    assert MappingSource(parameter_name="/ddb2aurora/mapping").resolve() == mapping
    with pytest.raises(ssm.ParameterError, match="/ddb2aurora/absent"):
        ssm.get_parameter("/ddb2aurora/absent")


def test_dead_letter_message_is_sent() -> None:
    queue_url = boto3.client("sqs").create_queue(QueueName="dlq")["QueueUrl"]
    sqs.send_message(queue_url, '{"reason": "record_too_large"}')
    [message] = boto3.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    assert message["Body"] == '{"reason": "record_too_large"}'
    with pytest.raises(sqs.QueueSendError):
        sqs.send_message(queue_url.replace("dlq", "absent"), "{}")


def test_get_item_returns_the_typed_item_or_none() -> None:
    boto3.client("dynamodb").create_table(
        TableName="web_analytics",
        KeySchema=[{"AttributeName": "page_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "page_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item: dict[str, Any] = {"page_id": {"S": "p1"}, "hits": {"N": "12345678901234567890.5"}}
    boto3.client("dynamodb").put_item(TableName="web_analytics", Item=item)
    assert dynamodb.get_item("web_analytics", {"page_id": {"S": "p1"}}) == item
    assert dynamodb.get_item("web_analytics", {"page_id": {"S": "gone"}}) is None
    with pytest.raises(dynamodb.ItemFetchError, match="absent_table"):
        dynamodb.get_item("absent_table", {"page_id": {"S": "p1"}})


def test_put_record_batch_reports_per_record_and_whole_call_failures() -> None:
    boto3.client("s3").create_bucket(Bucket="ddb2aurora-adapter-test")
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName="changes",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::ddb2aurora-adapter-test",
        },
    )
    assert firehose.put_record_batch("changes", [b"a\n", b"b\n"]) == [None, None]
    with pytest.raises(firehose.DeliveryError):
        firehose.put_record_batch("absent", [b"a\n"])


def test_iam_auth_token_is_a_signed_connect_request_for_the_user() -> None:
    settings = DatabaseSettings(
        host="cluster.example",
        port=3306,
        name="analytics",
        secret_arn=None,
        iam_user="loader",
        tls_mode="required",
        tls_ca_bundle=None,
        connect_timeout_seconds=5,
    )
    credentials = db.resolve_credentials(settings)
    assert credentials.username == "loader"
    token = urlsplit("https://" + credentials.password)
    query = parse_qs(token.query)
    assert token.netloc == "cluster.example:3306"
    assert query["Action"] == ["connect"]
    assert query["DBUser"] == ["loader"]
    assert "X-Amz-Signature" in query
