"""The root Terraform stack against moto server: apply, check the wiring through the AWS APIs,
destroy, and check that nothing the stack made is left.

The wiring checked here is what the local data plane and AWS itself rely on: handler
strings, environment variables, the event source mapping's failure handling, the delivery
stream's processor and prefixes, the bucket notification and the loader's async config.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from scripts.local import stack

pytestmark = pytest.mark.localstack


@dataclass
class Applied:
    paths: stack.StatePaths
    endpoint: str
    outputs: dict[str, Any]

    def client(self, service: str) -> Any:
        return stack.boto_client(service, self.endpoint)


@pytest.fixture(scope="module")
def applied(shared_local_stack: Any) -> Applied:
    """The session's local stack (tests/conftest.py): the root stack applied to moto."""
    paths = stack.StatePaths(shared_local_stack.state_dir)
    endpoint = shared_local_stack.info["aws_endpoint_url"]
    return Applied(paths, endpoint, stack.terraform_outputs(paths, endpoint))


def _state_addresses(paths: stack.StatePaths, endpoint: str) -> list[str]:
    return stack._run_terraform(
        paths, ["state", "list"], endpoint, 60, "terraform-state.log"
    ).split()


def _function(applied: Applied, name: str) -> dict[str, Any]:
    return applied.client("lambda").get_function_configuration(FunctionName=name)


def test_outputs_name_everything_the_local_stack_needs(applied: Applied) -> None:
    out = applied.outputs
    assert out["data_prefix"] == "data/"
    assert out["error_prefix"] == "errors/"
    assert out["target_table"] == "web_analytics"
    assert out["table_name"] == "web_analytics"
    for name in (
        "stream_arn",
        "bucket_name",
        "cluster_endpoint",
        "database_name",
        "db_secret_arn",
        "delivery_stream_name",
        "stream_processor_function_name",
        "firehose_transform_function_name",
        "aurora_loader_function_name",
        "stream_dead_letter_queue_url",
        "loader_dead_letter_queue_url",
        "dashboard_name",
    ):
        assert out[name], name


def test_table_streams_new_and_old_images_with_pitr(applied: Applied) -> None:
    ddb = applied.client("dynamodb")
    table = ddb.describe_table(TableName=applied.outputs["table_name"])["Table"]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table["LatestStreamArn"] == applied.outputs["stream_arn"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("page_id", "HASH"),
        ("activity_dt", "RANGE"),
    ]
    backups = ddb.describe_continuous_backups(TableName=applied.outputs["table_name"])
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_stream_mapping_bisects_reports_failures_and_dead_letters(applied: Applied) -> None:
    out = applied.outputs
    awslambda = applied.client("lambda")
    function = _function(applied, out["stream_processor_function_name"])
    [mapping] = [
        m
        for m in awslambda.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"] == function["FunctionArn"]
    ]
    assert mapping["EventSourceArn"] == out["stream_arn"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue_arn = applied.client("sqs").get_queue_attributes(
        QueueUrl=out["stream_dead_letter_queue_url"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn

    assert function["Handler"] == "stream_processor.handler"
    assert function["Runtime"] == "python3.12"
    env = function["Environment"]["Variables"]
    assert env["DELIVERY_STREAM_NAME"] == out["delivery_stream_name"]
    assert env["DEAD_LETTER_QUEUE_URL"] == out["stream_dead_letter_queue_url"]


def test_delivery_stream_transforms_into_the_contract_prefixes(applied: Applied) -> None:
    out = applied.outputs
    description = applied.client("firehose").describe_delivery_stream(
        DeliveryStreamName=out["delivery_stream_name"]
    )["DeliveryStreamDescription"]
    s3 = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert s3["BucketARN"] == f"arn:aws:s3:::{out['bucket_name']}"
    assert s3["Prefix"] == "data/!{timestamp:yyyy/MM/dd/HH}/"
    assert s3["ErrorOutputPrefix"] == (
        "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
    )
    processor = s3["ProcessingConfiguration"]["Processors"][0]
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    transform = _function(applied, out["firehose_transform_function_name"])
    assert parameters["LambdaArn"] == transform["FunctionArn"]
    assert transform["Handler"] == "firehose_transform.handler"
    mapping_parameter = transform["Environment"]["Variables"]["TABLE_MAPPING_PARAMETER"]
    assert mapping_parameter == out["table_mapping_parameter_name"]
    stored = applied.client("ssm").get_parameter(Name=mapping_parameter)["Parameter"]["Value"]
    assert '"target_table":"web_analytics"' in stored


def test_bucket_is_encrypted_private_and_triggers_the_loader(applied: Applied) -> None:
    out = applied.outputs
    s3 = applied.client("s3")
    bucket = out["bucket_name"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    # The real TLS-only policy is deployed: the moto launcher lets requests through it.
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    [deny] = [s for s in policy["Statement"] if s.get("Sid") == "DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    loader = _function(applied, out["aurora_loader_function_name"])
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    [target] = notification["LambdaFunctionConfigurations"]
    assert target["LambdaFunctionArn"] == loader["FunctionArn"]
    assert target["Events"] == ["s3:ObjectCreated:*"]
    # AWS takes "prefix" and answers "Prefix"; emulators echo what they were given.
    [rule] = target["Filter"]["Key"]["FilterRules"]
    assert (rule["Name"].lower(), rule["Value"]) == ("prefix", "data/")


def test_loader_runs_in_the_vpc_with_the_contract_environment(applied: Applied) -> None:
    out = applied.outputs
    loader = _function(applied, out["aurora_loader_function_name"])
    assert loader["Handler"] == "aurora_loader.handler"
    assert len(loader["VpcConfig"]["SubnetIds"]) >= 2
    env = loader["Environment"]["Variables"]
    assert env["DB_HOST"] == out["cluster_endpoint"]
    assert env["DB_NAME"] == out["database_name"]
    assert env["DB_SECRET_ARN"] == out["db_secret_arn"]
    assert env["TABLE_MAPPING_PARAMETER"] == out["table_mapping_parameter_name"]
    assert env["LOAD_METHOD"] in ("s3", "local")
    assert not any("PASSWORD" in name for name in env)

    invoke = applied.client("lambda").get_function_event_invoke_config(
        FunctionName=out["aurora_loader_function_name"]
    )
    queue_arn = applied.client("sqs").get_queue_attributes(
        QueueUrl=out["loader_dead_letter_queue_url"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn


@pytest.mark.destroys_stack
def test_destroy_leaves_nothing_behind(applied: Applied) -> None:
    """Runs last (destroys_stack): it destroys the session's shared stack."""
    stack.stop_dataplane(applied.paths)
    started = time.monotonic()
    stack.destroy_terraform(applied.paths, applied.endpoint)
    print(f"terraform destroy {time.monotonic() - started:.0f} s")
    assert _state_addresses(applied.paths, applied.endpoint) == []

    client = applied.client
    assert client("dynamodb").list_tables()["TableNames"] == []
    assert client("lambda").list_functions()["Functions"] == []
    assert client("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    assert client("firehose").list_delivery_streams()["DeliveryStreamNames"] == []
    assert client("s3").list_buckets()["Buckets"] == []
    assert client("sqs").list_queues().get("QueueUrls", []) == []
    assert client("rds").describe_db_clusters()["DBClusters"] == []
    assert client("rds").describe_db_instances()["DBInstances"] == []
    assert client("ssm").describe_parameters()["Parameters"] == []
    assert client("iam").list_roles()["Roles"] == []
    assert client("logs").describe_log_groups()["logGroups"] == []
    assert client("secretsmanager").list_secrets()["SecretList"] == []
    assert client("sns").list_topics()["Topics"] == []
    assert client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert client("cloudwatch").list_dashboards()["DashboardEntries"] == []
    assert [v for v in client("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")] == []

    # KMS keys cannot vanish at once: ours must be scheduled for deletion. Keys behind the
    # aws/* aliases are the emulator's AWS managed keys, not the stack's.
    kms = client("kms")
    managed = {
        alias["TargetKeyId"]
        for alias in kms.list_aliases()["Aliases"]
        if alias["AliasName"].startswith("alias/aws/") and "TargetKeyId" in alias
    }
    live = [
        key["KeyId"]
        for key in kms.list_keys()["Keys"]
        if key["KeyId"] not in managed
        and kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"
    ]
    assert live == []
