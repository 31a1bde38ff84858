"""Opt-in stage against a real AWS account: apply, run a small flow, verify, destroy.

Guarded twice: it runs only with ``DDB2AURORA_AWS_TEST=1`` and an ``AWS_PROFILE``, and it
refuses to run when ``CI`` is set (this project's CI never touches an account). Every name
carries a unique prefix, so it cannot collide with anything already in the account, and
the stack is destroyed at the end even when a step fails.

What it verifies from outside the VPC (the cluster is private): the sample items reach the
delivery prefix as objects, nothing lands under the error prefix, the loader is invoked and
reports no errors (AWS/Lambda metrics), and every dead-letter queue of the stack is empty.

Usage: DDB2AURORA_AWS_TEST=1 AWS_PROFILE=sandbox make aws-test  [AWS_REGION=eu-west-1]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from scripts.local.sample_data import ClickstreamGenerator, to_dynamodb  # noqa: E402

ITEMS = 50
FLOW_TIMEOUT_SECONDS = 20 * 60
NAME_PREFIX_VARIABLES = ("name_prefix", "name")


def refuse_unless_opted_in() -> None:
    if os.environ.get("CI"):
        sys.exit("aws-test refuses to run in CI (CI is set)")
    if os.environ.get("DDB2AURORA_AWS_TEST") != "1":
        sys.exit("aws-test is opt-in: set DDB2AURORA_AWS_TEST=1 (it creates billable resources)")
    if not os.environ.get("AWS_PROFILE"):
        sys.exit("aws-test needs AWS_PROFILE naming the account to use")


def terraform(tf_dir: Path, *args: str, timeout: float = 3600) -> str:
    command = ["terraform", f"-chdir={tf_dir}", *args, "-no-color"]
    print("$", " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"terraform {args[0]} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def root_variables(tf_dir: Path) -> set[str]:
    import re

    names: set[str] = set()
    for tf_file in tf_dir.glob("*.tf"):
        names.update(re.findall(r'^variable\s+"([^"]+)"', tf_file.read_text(), re.MULTILINE))
    return names


def wait_for(description: str, check: Any, timeout: float = FLOW_TIMEOUT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            print(f"ok: {description}", flush=True)
            return value
        time.sleep(20)
    raise RuntimeError(f"timed out waiting for: {description}")


def count_objects(s3: Any, bucket: str, prefix: str) -> int:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sum(len(page.get("Contents", [])) for page in pages)


def lambda_metric(cloudwatch: Any, function_name: str, metric: str, since: dt.datetime) -> float:
    reply = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function_name}],
        StartTime=since,
        EndTime=dt.datetime.now(dt.UTC),
        Period=60,
        Statistics=["Sum"],
    )
    return float(sum(point["Sum"] for point in reply["Datapoints"]))


def run_flow(outputs: dict[str, Any], session: Any) -> None:
    table, bucket = outputs["table_name"], outputs["bucket_name"]
    data_prefix = str(outputs.get("data_prefix", "data/")).split("!")[0]
    error_prefix = str(outputs.get("error_prefix", "errors/")).split("!")[0]
    loader = next(
        (str(value) for name, value in outputs.items() if "loader" in name and "name" in name),
        None,
    )
    started = dt.datetime.now(dt.UTC)
    dynamodb, s3 = session.client("dynamodb"), session.client("s3")
    for item in ClickstreamGenerator(seed=7).items(ITEMS):
        dynamodb.put_item(TableName=table, Item=to_dynamodb(item))
    wait_for("objects under the delivery prefix", lambda: count_objects(s3, bucket, data_prefix))
    if loader:
        cloudwatch = session.client("cloudwatch")
        wait_for(
            "the loader ran",
            lambda: lambda_metric(cloudwatch, loader, "Invocations", started) > 0,
        )
        errors = lambda_metric(cloudwatch, loader, "Errors", started)
        if errors:
            raise RuntimeError(f"the loader reported {errors:.0f} errors")
    failed = count_objects(s3, bucket, error_prefix)
    if failed:
        raise RuntimeError(f"{failed} objects under the error prefix {error_prefix}")
    sqs = session.client("sqs")
    for url in sqs.list_queues(QueueNamePrefix=outputs["_prefix"]).get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        if int(attributes["ApproximateNumberOfMessages"]):
            raise RuntimeError(f"dead-letter queue {url} is not empty")
    print("ok: no errors, dead-letter queues empty", flush=True)


def main() -> int:
    refuse_unless_opted_in()
    import boto3

    prefix = f"d2a-{secrets.token_hex(3)}"
    session = boto3.Session()
    work = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    tf_dir = work / "terraform"
    shutil.copytree(
        REPO_ROOT / "terraform",
        tf_dir,
        ignore=shutil.ignore_patterns(
            ".terraform", "*.tfstate*", "*.tfvars", ".terraform.lock.hcl"
        ),
    )
    declared = root_variables(tf_dir)
    tfvars: dict[str, Any] = {"deletion_protection": False, "skip_final_snapshot": True}
    tfvars.update({name: prefix for name in NAME_PREFIX_VARIABLES if name in declared})
    tfvars.update({name: str(REPO_ROOT / "dist") for name in ("package_dir",) if name in declared})
    (tf_dir / "stage.auto.tfvars.json").write_text(
        json.dumps({k: v for k, v in tfvars.items() if k in declared})
    )
    print(f"stage {prefix} in {session.region_name} (profile {os.environ['AWS_PROFILE']})")
    failure: Exception | None = None
    try:
        terraform(tf_dir, "init", "-input=false")
        terraform(tf_dir, "apply", "-auto-approve", "-input=false")
        raw = json.loads(terraform(tf_dir, "output", "-json"))
        outputs = {name: value["value"] for name, value in raw.items()}
        outputs["_prefix"] = prefix
        run_flow(outputs, session)
    except Exception as error:  # destroy regardless, then report
        failure = error
    finally:
        try:
            terraform(tf_dir, "destroy", "-auto-approve", "-input=false")
        except Exception as error:
            print(f"DESTROY FAILED, clean up resources named {prefix}*: {error}", file=sys.stderr)
            failure = failure or error
    if failure:
        print(f"aws-test failed: {failure}", file=sys.stderr)
        return 1
    print(f"aws-test passed; stage {prefix} destroyed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
