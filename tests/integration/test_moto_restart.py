"""The emulator restarts keeping its account: ``scripts/local/stack.py::restart_moto``.

moto keeps every resource in memory only, so a plain restart would hand the pipeline an
empty account. The launcher (``scripts/local/dataplane/moto_server.py``) saves its backends
on SIGUSR1 and a new process on the same port loads them. What the pipeline reads across a
restart must be the same afterwards: the stream (same ARN, shard, positions; new records
after the old ones), objects, queued and in-flight messages, keys that decrypt what they
encrypted, functions and their mappings, parameters and secrets.
"""

from __future__ import annotations

import io
import json
import socket
import urllib.parse
import zipfile
from pathlib import Path

import pytest

from scripts.local import stack as local_stack


def _port_refuses(url: str) -> bool:
    address = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((address.hostname, address.port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def test_restart_keeps_the_account_the_pipeline_reads(tmp_path: Path) -> None:
    paths = local_stack.StatePaths(tmp_path)
    url = local_stack.start_moto(paths)
    try:
        client = lambda service: local_stack.boto_client(service, url)  # noqa: E731
        dynamodb, streams = client("dynamodb"), client("dynamodbstreams")
        dynamodb.create_table(
            TableName="web_analytics",
            KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for number in range(20):
            dynamodb.put_item(
                TableName="web_analytics",
                Item={"event_id": {"S": f"e{number}"}, "payload": {"B": b"\x00\xff"}},
            )
        stream_arn = dynamodb.describe_table(TableName="web_analytics")["Table"]["LatestStreamArn"]
        shard_id = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0][
            "ShardId"
        ]
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        first_ten = streams.get_records(ShardIterator=iterator, Limit=10)["Records"]
        checkpoint = first_ten[-1]["dynamodb"]["SequenceNumber"]

        s3 = client("s3")
        s3.create_bucket(Bucket="delivery")
        s3.put_object(Bucket="delivery", Key="cdc/it's 100% + ü.csv", Body=b"x" * 100_000)
        sqs = client("sqs")
        queue_url = sqs.create_queue(QueueName="loader-dlq")["QueueUrl"]
        for body in ("first", "second"):
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        in_flight = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, VisibilityTimeout=600
        )["Messages"][0]["Body"]
        kms = client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        ciphertext = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
        role = client("iam").create_role(
            RoleName="loader",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        lambda_ = client("lambda")
        code_sha = lambda_.create_function(
            FunctionName="processor",
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _function_zip()},
        )["CodeSha256"]
        mapping_uuid = lambda_.create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName="processor", StartingPosition="TRIM_HORIZON"
        )["UUID"]
        client("ssm").put_parameter(Name="/ddb2aurora/mapping", Value="{}", Type="String")
        client("secretsmanager").create_secret(Name="db", SecretString='{"password": "p"}')

        def while_down() -> None:
            assert _port_refuses(url), "the old process still listens"
            saved = paths.moto_state.stat()
            assert saved.st_size > 0
            assert saved.st_mode & 0o077 == 0, "the saved account (with its secrets) is private"

        assert local_stack.restart_moto(tmp_path, while_down=while_down) == url
        assert not paths.moto_state.exists(), "the new process consumed the saved state"

        dynamodb, streams = client("dynamodb"), client("dynamodbstreams")
        assert dynamodb.describe_table(TableName="web_analytics")["Table"]["LatestStreamArn"] == (
            stream_arn
        )
        assert dynamodb.scan(TableName="web_analytics", Select="COUNT")["Count"] == 20
        resumed = streams.get_shard_iterator(
            StreamArn=stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=checkpoint,
        )["ShardIterator"]
        rest = streams.get_records(ShardIterator=resumed, Limit=100)
        assert [r["dynamodb"]["Keys"]["event_id"]["S"] for r in rest["Records"]] == [
            f"e{number}" for number in range(10, 20)
        ]
        dynamodb.put_item(TableName="web_analytics", Item={"event_id": {"S": "after"}})
        newer = streams.get_records(ShardIterator=rest["NextShardIterator"])["Records"]
        assert [r["dynamodb"]["Keys"]["event_id"]["S"] for r in newer] == ["after"]
        assert int(newer[0]["dynamodb"]["SequenceNumber"]) > int(checkpoint)

        assert (
            client("s3").get_object(Bucket="delivery", Key="cdc/it's 100% + ü.csv")["Body"].read()
            == b"x" * 100_000
        )
        sqs = client("sqs")
        visible = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in visible] == list({"first", "second"} - {in_flight}), (
            "the waiting message is there, the one in flight stays hidden"
        )
        assert client("kms").decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"secret"
        lambda_ = client("lambda")
        assert lambda_.get_function(FunctionName="processor")["Configuration"]["CodeSha256"] == (
            code_sha
        )
        assert lambda_.get_event_source_mapping(UUID=mapping_uuid)["EventSourceArn"] == stream_arn
        assert client("ssm").get_parameter(Name="/ddb2aurora/mapping")["Parameter"]["Value"] == "{}"
        assert json.loads(client("secretsmanager").get_secret_value(SecretId="db")["SecretString"])
    finally:
        local_stack.stop_moto(paths)


def test_restart_refuses_a_server_that_is_not_running(tmp_path: Path) -> None:
    with pytest.raises(local_stack.StackError, match="is not running"):
        local_stack.restart_moto(tmp_path)
