"""Least privilege and exposure of the deployed root stack, read from its Terraform state.

Source: ``terraform show -json`` of the session's shared local stack (tests/conftest.py),
i.e. the root stack as applied to moto, with every ARN and rendered policy document resolved
(a plan would leave the documents that depend on new resources unknown, and would miss the
policies AWS fills in, such as a VPC endpoint's default). The checks are in
tests/support/policy_scan.py and unit-tested in tests/unit/test_policy_scan.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.local import stack
from tests.support.policy_scan import (
    bucket_denies_insecure_transport,
    managed_resources,
    permission_findings,
    policy_documents,
    statement_findings,
)

pytestmark = pytest.mark.localstack


@dataclass(frozen=True)
class Deployed:
    state: dict[str, Any]  # terraform show -json

    def resources(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in managed_resources(self.state) if r["type"] == kind]


@pytest.fixture(scope="module")
def deployed(shared_local_stack: Any) -> Deployed:
    paths = stack.StatePaths(shared_local_stack.state_dir)
    endpoint = shared_local_stack.info["aws_endpoint_url"]
    raw = _terraform(paths.tf_dir, ["show", "-json", "-no-color"], endpoint)
    return Deployed(json.loads(raw))


def _terraform(tf_dir: Path, args: list[str], endpoint: str) -> str:
    result = subprocess.run(
        [shutil.which("terraform") or "terraform", f"-chdir={tf_dir}", *args],
        env=stack._terraform_env(endpoint),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"terraform {args[0]} failed:\n{result.stderr[-4000:]}"
    return result.stdout


def _findings(deployed: Deployed) -> list[str]:
    policies = list(policy_documents(deployed.state))
    findings = [line for policy in policies for line in statement_findings(policy)]
    return findings + permission_findings(deployed.state)


def test_iam_policies_grant_no_wildcard_actions_or_unscoped_resources(deployed: Deployed) -> None:
    """Every Allow statement of every policy document in the state: no `*` or `service:*`
    action, `*` resource only for unscopable actions or in a key policy, no `*` principal."""
    policies = list(policy_documents(deployed.state))
    covered = {(p.resource_type, p.attribute) for p in policies}
    # The scan saw what the stack is known to hold, so a silent miss cannot pass.
    assert {
        ("aws_iam_role", "assume_role_policy"),
        ("aws_iam_role_policy", "policy"),
        ("aws_kms_key", "policy"),
        ("aws_vpc_endpoint", "policy"),
    } <= covered, covered
    roles = deployed.resources("aws_iam_role")
    assert len([p for p in policies if p.attribute == "assume_role_policy"]) == len(roles)
    assert len(roles) >= 3  # the three functions' execution roles at least

    findings = _findings(deployed)
    assert not findings, "too broad:\n" + "\n".join(findings)


def test_delivery_bucket_denies_non_tls_access(deployed: Deployed) -> None:
    (bucket,) = [
        r for r in deployed.resources("aws_s3_bucket") if r["address"].startswith("module.firehose")
    ]
    policies = [
        json.loads(r["values"]["policy"])
        for r in deployed.resources("aws_s3_bucket_policy")
        if r["values"]["bucket"] == bucket["values"]["bucket"]
    ]
    assert policies, "the delivery bucket has no bucket policy in the state"
    assert any(bucket_denies_insecure_transport(p, bucket["values"]["arn"]) for p in policies), (
        policies
    )


def test_aurora_is_not_publicly_accessible(deployed: Deployed) -> None:
    instances = deployed.resources("aws_rds_cluster_instance")
    assert instances, "no Aurora instance in the state"
    exposed = [r["address"] for r in instances if r["values"]["publicly_accessible"] is not False]
    assert not exposed, f"publicly accessible: {exposed}"
    # The cluster's subnets are private, in a VPC without an internet gateway.
    assert not deployed.resources("aws_internet_gateway")
    (subnet_group,) = deployed.resources("aws_db_subnet_group")
    subnets = {r["values"]["id"]: r for r in deployed.resources("aws_subnet")}
    for subnet_id in subnet_group["values"]["subnet_ids"]:
        assert subnets[subnet_id]["values"]["map_public_ip_on_launch"] is False, subnet_id
