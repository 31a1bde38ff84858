"""The least-privilege checker (tests/support/policy_scan.py) flags what it promises to flag,
so the scan of the deployed stack (tests/integration/test_security_local_stack.py) can fail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.policy_scan import (
    bucket_denies_insecure_transport,
    permission_findings,
    policy_documents,
    statement_findings,
)

ROOT = "arn:aws:iam::123456789012:root"


def show_json(*resources: dict[str, Any]) -> dict[str, Any]:
    """A `terraform show -json` shape: resources split between the root and a child module."""
    first, rest = resources[0], resources[1:]
    return {
        "values": {
            "root_module": {
                "resources": [first],
                "child_modules": [{"address": "module.m", "resources": list(rest)}],
            }
        }
    }


def resource(kind: str, name: str = "this", **values: Any) -> dict[str, Any]:
    return {"address": f"module.m.{kind}.{name}", "mode": "managed", "type": kind, "values": values}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def findings(state: dict[str, Any]) -> list[str]:
    return [line for policy in policy_documents(state) for line in statement_findings(policy)]


SCOPED = {
    "Sid": "Read",
    "Effect": "Allow",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*",
}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}, "wildcard action '*'"),
        ({"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b"}, "'s3:*'"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "can be scoped"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}, "NotAction"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "x"}, "NotResource"),
        (
            {
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "s3:PutObject"],
                "Resource": "*",
            },
            "['s3:PutObject']",
        ),
    ],
)
def test_broad_allow_statements_are_flagged_naming_address_and_statement(
    statement: dict[str, Any], expected: str
) -> None:
    state = show_json(
        resource("aws_iam_role", assume_role_policy=document()),
        resource("aws_iam_role_policy", policy=document(SCOPED, {"Sid": "Bad", **statement})),
    )
    (line,) = findings(state)
    assert line.startswith("module.m.aws_iam_role_policy.this policy statement 1 (Sid 'Bad')")
    assert expected in line


def test_unscopable_actions_kms_key_resource_and_deny_statements_pass() -> None:
    key_policy = document(
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
    )  # fmt: skip
    state = show_json(
        resource("aws_kms_key", policy=key_policy),
        resource(
            "aws_iam_role_policy",
            policy=document(
                SCOPED,
                {"Effect": "Allow", "Action": ["ec2:DescribeNetworkInterfaces"], "Resource": "*"},
            ),
        ),
        resource(
            "aws_s3_bucket_policy",
            policy=document(
                {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}
            ),
        ),
    )
    assert len(list(policy_documents(state))) == 3
    assert findings(state) == []


def test_kms_star_only_for_the_account_root_of_a_key_policy() -> None:
    wide = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/r"},
            "Action": "kms:*", "Resource": "*"}  # fmt: skip
    in_role = {"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:1:key/k"}
    state = show_json(
        resource("aws_kms_key", policy=document(wide)),
        resource("aws_iam_role_policy", policy=document(in_role)),
    )
    assert [line.split(":")[0] for line in findings(state)] == [
        "module.m.aws_kms_key.this policy statement 0 (Sid '-')",
        "module.m.aws_iam_role_policy.this policy statement 0 (Sid '-')",
    ]


def test_anyone_as_principal_is_flagged_in_trust_and_resource_policies() -> None:
    trust = document({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    queue = document(
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:q"}
    )
    own_account = {"StringEquals": {"AWS:SourceOwner": "123456789012"}}
    topic = document(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Publish",
         "Resource": "arn:t", "Condition": own_account},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Publish",
         "Resource": "arn:t", "Condition": {"StringLike": {"aws:SourceAccount": "*"}}},
    )  # fmt: skip
    state = show_json(
        resource("aws_iam_role", assume_role_policy=trust),
        resource("aws_sqs_queue_policy", policy=queue),
        resource("aws_sns_topic", policy=topic),
        resource("aws_lambda_permission", principal="*"),
    )
    anyone = [line for line in findings(state) if "Principal '*'" in line]
    assert [line.split(":")[0] for line in anyone] == [
        "module.m.aws_iam_role.this assume_role_policy statement 0 (Sid '-')",
        "module.m.aws_sqs_queue_policy.this policy statement 0 (Sid '-')",
        "module.m.aws_sns_topic.this policy statement 1 (Sid '-')",
    ]
    assert permission_findings(state) == [
        "module.m.aws_lambda_permission.this: Lambda permission for Principal '*'"
    ]


def test_inline_and_unlisted_policy_attributes_are_read() -> None:
    bad = document({"Effect": "Allow", "Action": "*", "Resource": "*"})
    state = show_json(
        resource("aws_iam_role", assume_role_policy=document(), inline_policy=[{"policy": bad}]),
        resource("aws_secretsmanager_secret", policy=bad),
    )
    addresses = {line.split(" statement")[0] for line in findings(state)}
    assert addresses == {
        "module.m.aws_iam_role.this inline_policy[0].policy",
        "module.m.aws_secretsmanager_secret.this policy",
    }


def test_attached_policies_must_be_the_stacks_own() -> None:
    own = "arn:aws:iam::123456789012:policy/own"
    state = show_json(
        resource("aws_iam_policy", arn=own, policy=document(SCOPED)),
        resource("aws_iam_role_policy_attachment", "a", policy_arn=own),
        resource("aws_iam_role_policy_attachment", "b", policy_arn="arn:aws:iam::aws:policy/Admin"),
    )
    assert permission_findings(state) == [
        "module.m.aws_iam_role_policy_attachment.b: attaches arn:aws:iam::aws:policy/Admin,"
        " a policy this stack does not define (its document is not checked here)"
    ]


def test_tls_only_bucket_statement_is_recognised_exactly() -> None:
    arn = "arn:aws:s3:::b"
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert bucket_denies_insecure_transport(json.loads(document(deny)), arn)
    for broken in (
        {**deny, "Effect": "Allow"},
        {**deny, "Resource": [arn]},
        {**deny, "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {**deny, "Action": "s3:GetObject"},
    ):
        assert not bucket_denies_insecure_transport(json.loads(document(broken)), arn)
