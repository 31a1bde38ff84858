"""The local data plane against moto in server mode, with small fixture functions.

The fixture zips hold tiny handlers (echo, fail on demand, partial batch failures,
Firehose transform, crash) so these tests need neither the real functions nor Terraform;
the end-to-end tests on the real stack cover that path.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest

from scripts.local.dataplane.core import DataPlane
from scripts.local.dataplane.firehose import DeliveryStreamSpec, expand_prefix

pytestmark = pytest.mark.localstack

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"

FIXTURE_SOURCE = Path(__file__).with_name("test_dataplane_fixture") / "fixture.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.local.dataplane.moto_server", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)  # noqa: S310
            break
        except OSError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


class Aws:
    def __init__(self, url: str) -> None:
        kwargs = {
            "endpoint_url": url,
            "region_name": REGION,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }
        self.kwargs = kwargs
        self.ddb = boto3.client("dynamodb", **kwargs)
        self.lam = boto3.client("lambda", **kwargs)
        self.sqs = boto3.client("sqs", **kwargs)
        self.s3 = boto3.client("s3", **kwargs)
        self.firehose = boto3.client("firehose", **kwargs)
        self.role = boto3.client("iam", **kwargs).create_role(
            RoleName="fn", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]

    def function(self, name: str, zip_bytes: bytes, handler: str, env: dict[str, str]) -> str:
        return str(
            self.lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=self.role,
                Handler=handler,
                Code={"ZipFile": zip_bytes},
                Environment={"Variables": env},
                Timeout=10,
            )["FunctionArn"]
        )

    def table(self, name: str) -> str:
        table = self.ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        return str(table["TableDescription"]["LatestStreamArn"])

    def queue(self, name: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def messages(self, url: str) -> list[dict[str, Any]]:
        out = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in out.get("Messages", [])]

    def objects(self, bucket: str) -> dict[str, bytes]:
        listing = self.s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {
            o["Key"]: self.s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            for o in listing
        }


@pytest.fixture
def aws(moto_url: str) -> Aws:
    reset = urllib.request.Request(moto_url + "/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset)  # noqa: S310

    return Aws(moto_url)


@pytest.fixture
def code(tmp_path: Path) -> tuple[Path, bytes]:
    directory = tmp_path / "dist"
    directory.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fixture.py", FIXTURE_SOURCE.read_text())
    (directory / "fixture.zip").write_bytes(buffer.getvalue())
    return directory, buffer.getvalue()


@pytest.fixture
def event_log(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"


def logged(path: Path, kind: str = "event") -> list[Any]:
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return [entry["payload"] for entry in entries if entry["kind"] == kind]


@pytest.fixture
def plane_factory(moto_url: str, code: tuple[Path, bytes], tmp_path: Path) -> Iterator[Any]:
    planes: list[DataPlane] = []

    def make(**kwargs: Any) -> DataPlane:
        settings: dict[str, Any] = {
            "aws_endpoint_url": moto_url,
            "region": REGION,
            "state_dir": tmp_path / "state",
            "code_dirs": [code[0]],
            "runtime_dir": ROOT / ".local" / "runtime",
            "async_retry_delay_s": 0.01,
        }
        plane = DataPlane(**{**settings, **kwargs}).start()
        planes.append(plane)
        return plane

    yield make
    for plane in planes:
        plane.close(flush=False)


class Deploy:
    """Deploys the fixture zip's functions and wires them as each test needs: every
    function logs what it receives to ``event_log``; the rest is what the test states."""

    def __init__(self, aws: Aws, zip_bytes: bytes, event_log: Path) -> None:
        self.aws = aws
        self.zip_bytes = zip_bytes
        self.event_log = event_log

    def function(self, name: str, handler: str, **env: str) -> str:
        return self.aws.function(
            name, self.zip_bytes, handler, {"EVENT_LOG": str(self.event_log), **env}
        )

    def stream_mapping(
        self,
        handler: str,
        *,
        env: dict[str, str] | None = None,
        on_failure: bool = False,
        **mapping: Any,
    ) -> tuple[str, str]:
        """Table "items" whose stream is mapped to function "proc" from TRIM_HORIZON, with
        ``mapping``'s settings; ``on_failure`` adds queue "stream-dlq" as its destination.
        Returns the stream ARN and the queue URL ("" without one)."""
        stream_arn = self.aws.table("items")
        self.function("proc", handler, **(env or {}))
        dlq_url = ""
        if on_failure:
            dlq_url, dlq_arn = self.aws.queue("stream-dlq")
            mapping["DestinationConfig"] = {"OnFailure": {"Destination": dlq_arn}}
        self.aws.lam.create_event_source_mapping(
            EventSourceArn=stream_arn,
            FunctionName="proc",
            StartingPosition="TRIM_HORIZON",
            **mapping,
        )
        return stream_arn, dlq_url

    def delivery_stream(self, handler: str = "fixture.transform", **hints: int) -> str:
        """Delivery stream "changes" to bucket "lake", transformed by function "xform"
        (returned: its ARN)."""
        arn = self.function("xform", handler)
        make_delivery_stream(self.aws, arn, **hints)
        return arn

    def object_loader(self, handler: str, *, prefix: str = "in/", suffix: str = "") -> str:
        """Function "loader" notified of objects created in bucket "drop" (returns its ARN)."""
        arn = self.function("loader", handler)
        notify(self.aws, arn, prefix=prefix, suffix=suffix)
        return arn


@pytest.fixture
def deploy(aws: Aws, code: tuple[Path, bytes], event_log: Path) -> Deploy:
    return Deploy(aws, code[1], event_log)


def seqs(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]


# -- function runtime ------------------------------------------------------------------------
def test_runtime_uses_deployed_handler_environment_and_interpreter(
    deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    deploy.function("echo", "fixture.echo", SETTING="x")
    plane = plane_factory()
    result = plane.functions.invoke("echo", {"hello": "world"})
    assert result.ok, result.payload
    assert result.payload["env"] == "x"
    assert 0 < result.payload["remaining"] <= 10_000
    assert logged(event_log) == [{"hello": "world"}]
    worker = plane.functions.workers["echo"]
    assert "3.12" in worker.interpreter or worker.interpreter == sys.executable
    env = worker.environment()
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "echo"
    assert env["AWS_ENDPOINT_URL_FIREHOSE"] == plane.firehose_api.url
    assert env["AWS_ENDPOINT_URL"] == plane.endpoint
    # one warm worker reused across invocations
    plane.functions.invoke("echo", {})
    assert plane.functions.stats["echo"].cold_starts == 1


def test_wrong_handler_fails_visibly(aws: Aws, deploy: Deploy, plane_factory: Any) -> None:
    _, dlq_url = deploy.stream_mapping(
        "fixture_typo.echo", on_failure=True, BatchSize=10, MaximumRetryAttempts=1
    )
    plane = plane_factory()
    aws.ddb.put_item(TableName="items", Item={"pk": {"S": "a"}})
    report = plane.drain(timeout_s=60)
    assert not report["ok"]
    assert any("dead-letter queue" in reason for reason in report["reasons"])
    (message,) = aws.messages(dlq_url)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert plane.functions.stats["proc"].errors == 2  # first try + one retry
    assert "Runtime.ImportModuleError" in (plane.state_dir / "logs" / "proc.log").read_text()


def test_code_other_than_deployed_is_refused(
    deploy: Deploy, code: tuple[Path, bytes], event_log: Path, plane_factory: Any
) -> None:
    deploy.function("echo", "fixture.echo")
    (code[0] / "fixture.zip").write_bytes(code[1] + b"\0")  # dist no longer what was deployed
    plane = plane_factory()
    result = plane.functions.invoke("echo", {})
    assert not result.ok
    assert result.error_type == "DataPlane.CodeMismatch"
    assert "run `make up` again" in result.error_message  # what the operator does about it
    assert logged(event_log) == []


# -- DynamoDB Streams ------------------------------------------------------------------------
def test_stream_batches_and_event_shape(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    stream_arn, _ = deploy.stream_mapping("fixture.echo", BatchSize=3)
    plane = plane_factory()
    for index in range(7):
        aws.ddb.put_item(
            TableName="items",
            Item={"pk": {"S": f"k{index}"}, "blob": {"B": b"\x00\xff"}, "n": {"N": "1.5"}},
        )
    aws.ddb.delete_item(TableName="items", Key={"pk": {"S": "k0"}})
    report = plane.drain(timeout_s=60)
    assert report["ok"], report["reasons"]
    events = logged(event_log)
    assert [len(e["Records"]) for e in events] == [3, 3, 2]
    first = events[0]["Records"][0]
    assert first["eventName"] == "INSERT"
    assert first["eventSource"] == "aws:dynamodb"
    assert first["awsRegion"] == REGION
    assert first["eventSourceARN"] == stream_arn
    assert first["dynamodb"]["Keys"] == {"pk": {"S": "k0"}}
    assert first["dynamodb"]["NewImage"]["blob"] == {"B": base64.b64encode(b"\x00\xff").decode()}
    assert first["dynamodb"]["NewImage"]["n"] == {"N": "1.5"}
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], int)
    last = events[-1]["Records"][-1]
    assert last["eventName"] == "REMOVE" and "OldImage" in last["dynamodb"]
    assert "userIdentity" not in last
    all_seqs = [s for e in events for s in seqs(e)]
    assert all_seqs == sorted(all_seqs, key=int)
    assert report["stats"]["changes_streamed"] == 8


def test_ttl_delete_injection_sets_user_identity(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    deploy.stream_mapping("fixture.echo")
    plane = plane_factory()
    aws.ddb.put_item(TableName="items", Item={"pk": {"S": "gone"}})
    aws.ddb.put_item(TableName="items", Item={"pk": {"S": "kept"}})
    plane.inject({"kind": "ttl_delete", "table_name": "items", "keys": {"pk": {"S": "gone"}}})
    aws.ddb.delete_item(TableName="items", Key={"pk": {"S": "gone"}})
    aws.ddb.delete_item(TableName="items", Key={"pk": {"S": "kept"}})
    assert plane.drain(timeout_s=60)["ok"]
    removes = [r for e in logged(event_log) for r in e["Records"] if r["eventName"] == "REMOVE"]
    assert removes[0]["userIdentity"] == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }
    assert "userIdentity" not in removes[1]


def test_partial_batch_response_resumes_from_lowest_failure(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    deploy.stream_mapping(
        "fixture.partial_once", BatchSize=5, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    plane = plane_factory()
    for index in range(5):
        item = {"pk": {"S": f"k{index}"}}
        if index in (2, 4):
            item["flaky"] = {"BOOL": True}
        aws.ddb.put_item(TableName="items", Item=item)
    assert plane.drain(timeout_s=60)["ok"]
    first, second = logged(event_log)
    assert seqs(second) == seqs(first)[2:]  # from the lowest reported failure on
    assert plane.stream_stats.changes_streamed == 5


def test_bisect_retries_and_on_failure_record(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    stream_arn, dlq_url = deploy.stream_mapping(
        "fixture.fail_on_poison",
        on_failure=True,
        BatchSize=4,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
    )
    plane = plane_factory()
    for index in range(4):
        item = {"pk": {"S": f"k{index}"}}
        if index == 1:
            item["poison"] = {"S": "yes"}
        aws.ddb.put_item(TableName="items", Item=item)
    report = plane.drain(timeout_s=60)
    events = logged(event_log)
    all_seqs = seqs(events[0])
    assert (
        [seqs(e) for e in events]
        == [
            all_seqs,  # the batch fails
            all_seqs[:2],  # bisected: the first half fails
            all_seqs[:1],  # bisected again: fine
            all_seqs[1:2],  # the poison record alone fails
            all_seqs[1:2],  # its one retry fails too
            all_seqs[2:],  # the second half is fine
        ]
    )
    (message,) = aws.messages(dlq_url)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["functionArn"].endswith(":function:proc")
    assert message["version"] == "1.0"
    info = message["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == all_seqs[1]
    assert info["streamArn"] == stream_arn
    assert set(info) >= {
        "shardId",
        "approximateArrivalOfFirstRecord",
        "approximateArrivalOfLastRecord",
    }
    assert not report["ok"]
    assert report["stats"]["changes_streamed"] == 3


def test_partial_response_fault_is_bisected_at_the_reported_record_not_halved(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    """AWS: with BisectBatchOnFunctionError and ReportBatchItemFailures, a partial batch
    response bisects the batch at the returned sequence number and only the rest is
    retried; halving is for a failed invocation. So a function that keeps reporting the
    same record retries from it until MaximumRetryAttempts, then that position goes to
    the on-failure destination."""
    _, dlq_url = deploy.stream_mapping(
        "fixture.report_poison",
        on_failure=True,
        BatchSize=4,
        BisectBatchOnFunctionError=True,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=2,
    )
    plane = plane_factory()
    for index in range(4):
        item = {"pk": {"S": f"k{index}"}}
        if index == 1:
            item["poison"] = {"S": "yes"}
        aws.ddb.put_item(TableName="items", Item=item)
    report = plane.drain(timeout_s=60)
    events = logged(event_log)
    all_seqs = seqs(events[0])
    assert (
        [seqs(e) for e in events]
        == [
            all_seqs,  # the poison record is reported: k0 is done
            all_seqs[1:],  # retry 1: from the reported record on, not a half
            all_seqs[1:],  # retry 2: the last one
        ]
    )
    assert plane.stream_stats.bisections == 0
    (message,) = aws.messages(dlq_url)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = message["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == all_seqs[1]
    assert info["endSequenceNumber"] == all_seqs[-1]
    assert info["batchSize"] == 3
    assert not report["ok"]
    assert report["stats"]["changes_streamed"] == 1


def test_records_older_than_the_maximum_age_go_to_on_failure(
    aws: Aws, deploy: Deploy, plane_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts.local.dataplane import streams

    class AnHourLater:
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def time() -> float:
            return time.time() + 3600

    _, dlq_url = deploy.stream_mapping(
        "fixture.always_fail",
        on_failure=True,
        MaximumRetryAttempts=-1,
        MaximumRecordAgeInSeconds=60,
    )
    plane = plane_factory()
    aws.ddb.put_item(TableName="items", Item={"pk": {"S": "old"}})
    monkeypatch.setattr(streams, "time", AnHourLater)
    report = plane.drain(timeout_s=60)
    (message,) = aws.messages(dlq_url)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["DDBStreamBatchInfo"]["batchSize"] == 1
    assert not report["ok"]


def test_records_given_up_with_no_destination_are_reported_by_one_drain(
    aws: Aws, deploy: Deploy, plane_factory: Any
) -> None:
    """Lambda drops a batch that used up its retries when the mapping has no on-failure
    destination: the drain after it says so once; the stats keep the count."""
    deploy.stream_mapping("fixture.always_fail", MaximumRetryAttempts=1)
    plane = plane_factory()
    aws.ddb.put_item(TableName="items", Item={"pk": {"S": "lost"}})
    report = plane.drain(timeout_s=60)
    assert any("given up on with no on-failure destination" in r for r in report["reasons"])
    again = plane.drain(timeout_s=60)
    assert again["ok"], again["reasons"]
    assert again["stats"]["streams"]["records_discarded"] == 1


def test_checkpoints_survive_a_restart(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    deploy.stream_mapping("fixture.echo")
    plane = plane_factory()
    aws.ddb.put_item(TableName="items", Item={"pk": {"S": "before"}})
    assert plane.drain(timeout_s=60)["ok"]
    plane.close()
    aws.ddb.put_item(TableName="items", Item={"pk": {"S": "after"}})
    assert plane_factory().drain(timeout_s=60)["ok"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for e in logged(event_log) for r in e["Records"]]
    assert keys == ["before", "after"]


# -- Firehose --------------------------------------------------------------------------------
def make_delivery_stream(
    aws: Aws, processor_arn: str, *, size_mb: int = 1, interval_s: int = 300, retries: int = 1
) -> None:
    aws.s3.create_bucket(Bucket="lake")
    aws.firehose.create_delivery_stream(
        DeliveryStreamName="changes",
        ExtendedS3DestinationConfiguration={
            "RoleARN": aws.role,
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "data/!{timestamp:yyyy/MM/dd/HH}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/",
            "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval_s},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {"ParameterName": "LambdaArn", "ParameterValue": processor_arn},
                            {"ParameterName": "NumberOfRetries", "ParameterValue": str(retries)},
                        ],
                    }
                ],
            },
        },
    )


def local_firehose(plane: DataPlane) -> Any:
    return boto3.client(
        "firehose",
        endpoint_url=plane.firehose_api.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_prefix_expressions() -> None:
    from datetime import UTC, datetime

    when = datetime(2024, 3, 5, 7, 9, 11, tzinfo=UTC)
    assert expand_prefix("data/!{timestamp:yyyy/MM/dd/HH}/", when) == "data/2024/03/05/07/"
    assert expand_prefix("x/!{timestamp:yyyy-MM-dd HH:mm:ss}/", when) == "x/2024-03-05 07:09:11/"
    assert (
        expand_prefix(
            "e/!{firehose:error-output-type}/", when, error_output_type="processing-failed"
        )
        == "e/processing-failed/"
    )
    random_part = expand_prefix("r/!{firehose:random-string}/", when)
    assert len(random_part) == len("r//") + 11

    def spec_with(prefix: str) -> DeliveryStreamSpec:
        destination = {"BucketARN": "arn:aws:s3:::b", "Prefix": prefix}
        description = {
            "DeliveryStreamName": "s",
            "DeliveryStreamARN": "arn:aws:firehose:us-east-1:1:deliverystream/s",
            "Destinations": [{"ExtendedS3DestinationDescription": destination}],
        }
        spec = DeliveryStreamSpec.from_api(description)
        assert spec is not None
        return spec

    # no prefix, or one without expressions: Firehose adds the UTC hour path
    assert expand_prefix(spec_with("").prefix, when) == "2024/03/05/07/"
    assert expand_prefix(spec_with("raw/").prefix, when) == "raw/2024/03/05/07/"
    assert spec_with("").error_prefix.startswith("!{firehose:error-output-type}/")


def test_firehose_buffers_transforms_and_writes_prefixes(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    arn = deploy.delivery_stream(size_mb=1, interval_s=300)
    plane = plane_factory()
    client = local_firehose(plane)
    response = client.put_record_batch(
        DeliveryStreamName="changes",
        Records=[{"Data": d} for d in (b"one\n", b"bad two\n", b"drop three\n", b"four\n")],
    )
    assert response["FailedPutCount"] == 0
    assert client.describe_delivery_stream(DeliveryStreamName="changes")  # forwarded to moto
    plane.step()
    assert aws.objects("lake") == {}  # buffered: neither size nor interval reached
    (reason,) = plane.drain(timeout_s=60)["reasons"]
    assert "match no bucket notification, so nothing loads them" in reason  # none configured
    again = plane.drain(timeout_s=60)  # said once; the stats keep it
    assert again["ok"], again["reasons"]
    assert again["stats"]["objects_never_loaded"] == 1
    objects = aws.objects("lake")
    (data_key,) = [k for k in objects if k.startswith("data/")]
    (error_key,) = [k for k in objects if k.startswith("errors/")]
    assert objects[data_key] == b"ONE\nFOUR\n"
    stamp = time.strftime("%Y/%m/%d/", time.gmtime())
    assert data_key.startswith(f"data/{stamp}")
    name = data_key.rsplit("/", 1)[1]
    assert name.startswith("changes-1-" + time.strftime("%Y-%m-%d-", time.gmtime()))
    assert len(name.split("-")) == 2 + 6 + 5  # stream-version-6 time parts-uuid (5 parts)
    assert error_key.startswith(f"errors/processing-failed/{stamp}")
    (entry,) = [json.loads(line) for line in objects[error_key].splitlines()]
    assert base64.b64decode(entry["rawData"]) == b"bad two\n"
    assert entry["errorCode"] == "Lambda.ProcessingFailedStatus"
    assert entry["lambdaArn"] == arn
    assert set(entry) == {
        "attemptsMade",
        "arrivalTimestamp",
        "errorCode",
        "errorMessage",
        "attemptEndingTimestamp",
        "rawData",
        "lambdaArn",
    }
    (invocation,) = logged(event_log, "transform")
    assert invocation == {
        "count": 4,
        "keys": ["deliveryStreamArn", "invocationId", "records", "region"],
    }
    stats = plane.stats()
    assert (stats["records_transformed"], stats["records_failed"], stats["records_dropped"]) == (
        2,
        1,
        1,
    )


def test_firehose_time_zone_and_file_extension(
    aws: Aws, code: tuple[Path, bytes], plane_factory: Any
) -> None:
    aws.s3.create_bucket(Bucket="lake")
    aws.firehose.create_delivery_stream(
        DeliveryStreamName="plain",
        ExtendedS3DestinationConfiguration={
            "RoleARN": aws.role,
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "tz/!{timestamp:yyyy-MM-dd HH}/",
            "CustomTimeZone": "Asia/Kolkata",
            "FileExtension": ".csv",
        },
    )
    plane = plane_factory()
    local_firehose(plane).put_record(DeliveryStreamName="plain", Record={"Data": b"raw\n"})
    plane.drain(timeout_s=60)
    (key,) = aws.objects("lake")
    from datetime import datetime
    from zoneinfo import ZoneInfo

    hour = datetime.now(ZoneInfo("Asia/Kolkata")).strftime("%Y-%m-%d %H")  # UTC+05:30
    assert key.startswith(f"tz/{hour}/plain-1-")
    assert key.endswith(".csv")


def test_buffered_firehose_records_survive_a_killed_data_plane(
    aws: Aws, deploy: Deploy, plane_factory: Any
) -> None:
    deploy.delivery_stream()
    first = plane_factory()
    local_firehose(first).put_record_batch(
        DeliveryStreamName="changes", Records=[{"Data": b"one\n"}, {"Data": b"two\n"}]
    )
    first.close(flush=False)  # as if killed: nothing delivered
    assert aws.objects("lake") == {}
    plane_factory().drain(timeout_s=60)
    assert list(aws.objects("lake").values()) == [b"ONE\nTWO\n"]
    third = plane_factory()  # delivered records are not delivered again
    third.drain(timeout_s=60)
    assert len(aws.objects("lake")) == 1


def test_firehose_flushes_when_the_size_hint_is_reached(
    aws: Aws, deploy: Deploy, plane_factory: Any
) -> None:
    deploy.delivery_stream(size_mb=1, interval_s=900)
    plane = plane_factory()
    client = local_firehose(plane)
    chunk = b"x" * 200_000 + b"\n"
    for _ in range(6):  # 1.2 MB > 1 MiB
        client.put_record_batch(DeliveryStreamName="changes", Records=[{"Data": chunk}])
    plane.step()
    assert [k for k in aws.objects("lake") if k.startswith("data/")]


def test_firehose_contract_violation_fails_the_whole_batch(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    deploy.delivery_stream("fixture.transform_missing_id", retries=1)
    plane = plane_factory()
    local_firehose(plane).put_record_batch(
        DeliveryStreamName="changes", Records=[{"Data": b"a\n"}, {"Data": b"b\n"}]
    )
    plane.drain(timeout_s=60)
    objects = aws.objects("lake")
    assert not [k for k in objects if k.startswith("data/")]
    (error_key,) = objects
    entries = [json.loads(line) for line in objects[error_key].splitlines()]
    assert [base64.b64decode(e["rawData"]) for e in entries] == [b"a\n", b"b\n"]
    assert {e["errorCode"] for e in entries} == {"Lambda.MissingRecordId"}
    assert {e["attemptsMade"] for e in entries} == {2}  # NumberOfRetries 1
    assert len(logged(event_log, "transform")) == 2


def test_moto_launcher_lets_tls_only_buckets_work(aws: Aws) -> None:
    aws.s3.create_bucket(Bucket="hardened")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::hardened", "arn:aws:s3:::hardened/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::hardened/locked/*",
            },
        ],
    }
    aws.s3.put_bucket_policy(Bucket="hardened", Policy=json.dumps(policy))
    aws.s3.put_object(Bucket="hardened", Key="data/a.csv", Body=b"1")
    assert aws.objects("hardened") == {"data/a.csv": b"1"}
    with pytest.raises(aws.s3.exceptions.ClientError, match="403"):
        aws.s3.put_object(Bucket="hardened", Key="locked/b.csv", Body=b"1")


def test_failed_delivery_keeps_records_and_drain_says_why(
    aws: Aws, deploy: Deploy, plane_factory: Any
) -> None:
    deploy.delivery_stream()
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::lake/*",
            }
        ],
    }
    aws.s3.put_bucket_policy(Bucket="lake", Policy=json.dumps(deny))
    plane = plane_factory()
    local_firehose(plane).put_record_batch(DeliveryStreamName="changes", Records=[{"Data": b"a\n"}])
    report = plane.drain(timeout_s=60)
    assert any("Firehose changes cannot deliver" in reason for reason in report["reasons"])
    assert report["stats"]["pending"]["firehose_records"] == 1
    aws.s3.delete_bucket_policy(Bucket="lake")
    plane.drain(timeout_s=60)
    assert list(aws.objects("lake").values()) == [b"A\n"]


def test_firehose_put_fault_injection(deploy: Deploy, plane_factory: Any) -> None:
    deploy.delivery_stream()
    plane = plane_factory()
    client = local_firehose(plane)
    plane.inject({"kind": "firehose_put_failure", "mode": "partial", "calls": 1, "every": 2})
    response = client.put_record_batch(
        DeliveryStreamName="changes", Records=[{"Data": b"%d\n" % i} for i in range(4)]
    )
    assert response["FailedPutCount"] == 2
    assert [r.get("ErrorCode") for r in response["RequestResponses"]] == [
        "ServiceUnavailableException",
        None,
        "ServiceUnavailableException",
        None,
    ]
    plane.inject({"kind": "firehose_put_failure", "mode": "error", "calls": 1})
    no_retry = boto3.client(
        "firehose",
        endpoint_url=plane.firehose_api.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=boto3.session.Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(no_retry.exceptions.ServiceUnavailableException):
        no_retry.put_record_batch(DeliveryStreamName="changes", Records=[{"Data": b"x"}])
    assert (
        client.put_record_batch(DeliveryStreamName="changes", Records=[{"Data": b"y"}])[
            "FailedPutCount"
        ]
        == 0
    )


def test_firehose_put_fault_matching_a_marker_rejects_it_on_every_call_until_cleared(
    aws: Aws, code: tuple[Path, bytes], plane_factory: Any
) -> None:
    arn = aws.function("xform", code[1], "fixture.transform", {"EVENT_LOG": "/dev/null"})
    make_delivery_stream(aws, arn)
    plane = plane_factory()
    client = local_firehose(plane)
    with pytest.raises(ValueError, match="match"):
        plane.inject({"kind": "firehose_put_failure", "mode": "match", "calls": -1})
    plane.inject({"kind": "firehose_put_failure", "mode": "match", "match": "poison", "calls": -1})
    plane.inject({"kind": "firehose_put_failure", "mode": "partial", "calls": 1, "every": 1})

    def codes(*datas: bytes) -> list[str | None]:
        response = client.put_record_batch(
            DeliveryStreamName="changes", Records=[{"Data": data} for data in datas]
        )
        return [entry.get("ErrorCode") for entry in response["RequestResponses"]]

    for _ in range(3):  # rejected every time, whatever else is in the call
        assert codes(b"a\n", b"x-poison-y\n", b"b\n") == [
            None,
            "ServiceUnavailableException",
            None,
        ]
    assert codes(b"c\n") == ["ServiceUnavailableException"]  # the partial fault, still queued
    assert codes(b"clean\n") == [None]  # the poison fault leaves other calls alone
    cleared = plane.inject({"kind": "clear_firehose_put_failures"})["cleared"]
    assert [fault["mode"] for fault in cleared] == ["match"]
    assert codes(b"x-poison-y\n") == [None]


# -- S3 notifications and asynchronous invocation -----------------------------------------------
def notify(aws: Aws, function_arn: str, prefix: str = "in/", suffix: str = "") -> None:
    aws.s3.create_bucket(Bucket="drop")
    rules = [{"Name": "prefix", "Value": prefix}]
    if suffix:
        rules.append({"Name": "suffix", "Value": suffix})
    aws.s3.put_bucket_notification_configuration(
        Bucket="drop",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "load-it",
                    "LambdaFunctionArn": function_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": rules}},
                }
            ]
        },
    )


def test_s3_events_url_encode_keys_like_s3(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    deploy.object_loader("fixture.echo", prefix="in/", suffix=".csv")
    plane = plane_factory()
    keys = [
        "in/plain.csv",
        "in/with space.csv",
        "in/a+b.csv",
        "in/100%.csv",
        'in/it\'s "q".csv',
        "in/ünï/çødé.csv",
    ]
    for key in [*keys, "other/x.csv", "in/x.txt"]:
        aws.s3.put_object(Bucket="drop", Key=key, Body=b"k")
    assert plane.drain(timeout_s=60)["ok"]
    events = logged(event_log)
    assert all(len(e["Records"]) == 1 for e in events)
    records = [e["Records"][0] for e in events]
    assert sorted(r["s3"]["object"]["key"] for r in records) == sorted(
        quote_plus(k, safe="/") for k in keys
    )
    assert "in/with+space.csv" in {r["s3"]["object"]["key"] for r in records}
    record = records[0]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "load-it"
    assert record["s3"]["bucket"]["name"] == "drop"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::drop"
    assert record["s3"]["object"]["size"] == 1
    assert record["s3"]["object"]["eTag"] and record["s3"]["object"]["sequencer"]
    # an unchanged object is not announced again
    assert plane.drain(timeout_s=30)["ok"]
    assert len(logged(event_log)) == len(keys)


def test_async_retries_then_on_failure_destination(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any, caplog: Any
) -> None:
    deploy.object_loader("fixture.always_fail")
    dlq_url, dlq_arn = aws.queue("load-failures")
    aws.lam.put_function_event_invoke_config(
        FunctionName="loader",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
    )
    plane = plane_factory()
    aws.s3.put_object(Bucket="drop", Key="in/file 1.csv", Body=b"x")
    report = plane.drain(timeout_s=60)
    assert not report["ok"]
    assert any("in/file 1.csv" in reason for reason in report["reasons"])
    assert any("dead-letter queue" in reason for reason in report["reasons"])
    assert len(logged(event_log)) == 2  # the first try and one retry
    # the failed first try is logged when it fails, not only once the retries are over
    (retry,) = [r.getMessage() for r in caplog.records if "retried in" in r.getMessage()]
    assert "(attempt 1 of 2)" in retry and "ValueError this function always fails" in retry
    (message,) = aws.messages(dlq_url)
    assert message["requestContext"]["condition"] == "RetriesExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 2
    assert message["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "in/file+1.csv"
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert message["responsePayload"]["errorType"] == "ValueError"
    assert report["stats"]["load_failures"] == 1


def test_a_drain_with_the_emulator_gone_logs_an_unreadable_queue_and_tries_no_more(
    aws: Aws, deploy: Deploy, plane_factory: Any, caplog: Any
) -> None:
    """Each call to an emulator that does not answer costs a whole retry budget while the
    drain holds the data plane's lock: the first one is logged and ends the queue checks."""
    deploy.object_loader("fixture.always_fail")
    _, on_failure = aws.queue("on-failure")
    dead_letter, _ = aws.queue("dead-letter")
    aws.lam.put_function_event_invoke_config(
        FunctionName="loader", DestinationConfig={"OnFailure": {"Destination": on_failure}}
    )
    aws.lam.update_function_configuration(  # a queue the function dead-letters to itself
        FunctionName="loader", Environment={"Variables": {"DEAD_LETTER_QUEUE_URL": dead_letter}}
    )
    plane = plane_factory()
    assert plane.drain(timeout_s=60)["ok"]  # both queues read, both empty
    plane.sqs = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{free_port()}",  # nothing listens: refused
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    (reason,) = plane.drain(timeout_s=60)["reasons"]
    assert reason.startswith("cannot read dead-letter queue arn:aws:sqs:"), reason
    assert reason.endswith("1 more not checked"), reason
    logged_lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("cannot read dead-letter queue" in line for line in logged_lines), logged_lines


def test_a_failed_load_is_reported_by_one_drain_and_kept_in_stats(
    aws: Aws, deploy: Deploy, plane_factory: Any
) -> None:
    deploy.object_loader("fixture.always_fail")
    aws.lam.put_function_event_invoke_config(FunctionName="loader", MaximumRetryAttempts=0)
    plane = plane_factory()
    aws.s3.put_object(Bucket="drop", Key="in/first.csv", Body=b"x")
    (reason,) = plane.drain(timeout_s=60)["reasons"]
    assert "s3://drop/in/first.csv not loaded by loader (RetriesExhausted)" in reason
    assert plane.drain(timeout_s=60)["reasons"] == []  # reported once
    aws.s3.put_object(Bucket="drop", Key="in/second.csv", Body=b"x")
    (reason,) = plane.drain(timeout_s=60)["reasons"]  # only the new one
    assert "s3://drop/in/second.csv not loaded" in reason
    stats = plane.stats()
    assert stats["load_failures"] == 2
    assert stats["failed_loads"] == ["s3://drop/in/first.csv", "s3://drop/in/second.csv"]


def test_worker_crash_is_retried_in_a_fresh_worker(
    aws: Aws, deploy: Deploy, plane_factory: Any
) -> None:
    deploy.object_loader("fixture.crash_once")
    plane = plane_factory()
    aws.s3.put_object(Bucket="drop", Key="in/a.csv", Body=b"x")
    report = plane.drain(timeout_s=60)
    assert report["ok"], report["reasons"]
    stats = report["stats"]["invocations"]["loader"]
    assert (stats["invocations"], stats["errors"], stats["cold_starts"]) == (2, 1, 2)
    assert report["stats"]["objects_loaded"] == 1


def test_queued_object_events_survive_a_restart(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any
) -> None:
    deploy.object_loader("fixture.crash_once")
    first = plane_factory(async_retry_delay_s=3600)
    aws.s3.put_object(Bucket="drop", Key="in/a.csv", Body=b"x")
    first.step(flush=True)  # announced, crashed, queued for a retry an hour away
    assert first.async_invoker.waiting() == 1
    first.close()
    second = plane_factory()
    report = second.drain(timeout_s=60)
    assert report["ok"], report["reasons"]
    assert report["stats"]["objects_loaded"] == 1
    assert len(logged(event_log)) == 2


def test_timeout_is_enforced(aws: Aws, code: tuple[Path, bytes], plane_factory: Any) -> None:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("slow.py", "import time\ndef handler(e, c):\n    time.sleep(30)\n")
    (code[0] / "slow.zip").write_bytes(zipped.getvalue())
    aws.lam.create_function(
        FunctionName="slow",
        Runtime="python3.12",
        Role=aws.role,
        Handler="slow.handler",
        Code={"ZipFile": zipped.getvalue()},
        Timeout=1,
    )
    plane = plane_factory()
    result = plane.functions.invoke("slow", {})
    assert not result.ok
    assert result.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.error_message


# -- the whole pipeline ------------------------------------------------------------------------
@pytest.mark.parametrize("notification_prefix", ["data/", "wrong/"])
def test_pipeline_stream_to_firehose_to_s3_to_loader(
    aws: Aws, deploy: Deploy, event_log: Path, plane_factory: Any, notification_prefix: str
) -> None:
    deploy.stream_mapping(
        "fixture.to_firehose",
        env={"DELIVERY_STREAM_NAME": "changes"},
        BatchSize=100,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    deploy.delivery_stream()
    loader = deploy.function("loader", "fixture.load")
    aws.s3.put_bucket_notification_configuration(
        Bucket="lake",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": loader,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {"FilterRules": [{"Name": "prefix", "Value": notification_prefix}]}
                    },
                }
            ]
        },
    )
    plane = plane_factory()
    count = int(os.environ.get("DATAPLANE_BENCH_ITEMS", "300"))
    for index in range(count):
        aws.ddb.put_item(TableName="items", Item={"pk": {"S": f"k{index}"}})
    began = time.perf_counter()
    report = plane.drain(timeout_s=300)
    elapsed = time.perf_counter() - began
    if notification_prefix != "data/":  # broken wiring: delivered, never loaded, and said so
        (reason,) = report["reasons"]
        assert "match no bucket notification" in reason
        assert logged(event_log, "load") == []
        return
    assert report["ok"], report["reasons"]
    stats = report["stats"]
    assert stats["changes_streamed"] == count
    assert stats["records_transformed"] == count
    assert stats["objects_loaded"] == 1
    assert stats["lag_ms"]["samples"] == count
    (loaded,) = logged(event_log, "load")
    (data_key,) = [k for k in aws.objects("lake") if k.startswith("data/")]
    assert loaded == [quote_plus(data_key, safe="/")]
    print(
        f"\npipeline: {count} changes in {elapsed:.2f} s = {count / elapsed:.0f} changes/s; "
        f"invocations {json.dumps(stats['invocations'])}"
    )


# -- the serve process and its CLI -----------------------------------------------------------
def test_serve_drain_and_stats_cli(
    aws: Aws, deploy: Deploy, moto_url: str, code: tuple[Path, bytes], tmp_path: Path
) -> None:
    deploy.stream_mapping("fixture.fail_on_poison", on_failure=True, MaximumRetryAttempts=0)
    state = tmp_path / "served"
    state.mkdir()
    (state / "stack.json").write_text(json.dumps({"aws_endpoint_url": moto_url, "region": REGION}))
    (state / "runtime").symlink_to(ROOT / ".local" / "runtime")
    cli = [sys.executable, "-m", "scripts.local.dataplane", "--state-dir", str(state)]
    server = subprocess.Popen([*cli, "serve", "--dist-dir", str(code[0])], cwd=ROOT)
    try:
        for _ in range(300):
            if (state / "dataplane.json").exists():
                break
            assert server.poll() is None, (state / "logs" / "dataplane.log").read_text()
            time.sleep(0.1)
        info = json.loads((state / "dataplane.json").read_text())
        assert info["pid"] == server.pid
        assert info["firehose_endpoint_url"].startswith("http://127.0.0.1:")

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*cli, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
            )

        aws.ddb.put_item(TableName="items", Item={"pk": {"S": "fine"}})
        drained = run("drain", "--timeout", "60")
        assert drained.returncode == 0, drained.stderr
        assert json.loads(drained.stdout)["stats"]["changes_streamed"] == 1

        aws.ddb.put_item(TableName="items", Item={"pk": {"S": "bad"}, "poison": {"S": "1"}})
        drained = run("drain", "--timeout", "60")
        assert drained.returncode == 1
        assert "messages in dead-letter queue" in drained.stderr

        stats = json.loads(run("stats").stdout)
        assert stats["invocations"]["proc"]["invocations"] == 2
        assert stats["streams"]["records_sent_to_on_failure"] == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not (state / "dataplane.json").exists()
    assert "serving" in (state / "logs" / "dataplane.log").read_text()
