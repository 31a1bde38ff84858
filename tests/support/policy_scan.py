"""Least-privilege checks over the policy documents in a `terraform show -json` document.

Every managed resource's policy attributes are read (IAM role inline, trust and attached
policies, bucket, queue, topic, secret and KMS key policies, whatever the stack holds), and
each Allow statement is checked:

- no ``*`` action and no ``service:*`` action (nor ``NotAction``, which allows the rest);
- no ``*`` resource (nor ``NotResource``) unless every action of the statement is one whose
  API takes no resource ARN (``UNSCOPABLE_ACTIONS``), or the document is a KMS key policy,
  where ``*`` means the key itself;
- no ``*`` principal, unless a condition limits it to an account, organization or network.

Deny statements are not checked: a wildcard in a Deny narrows what is allowed (the delivery
bucket's ``DenyInsecureTransport`` denies ``s3:*`` to ``*`` on purpose).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Actions that may be allowed on Resource "*", each with why no narrower resource works.
UNSCOPABLE_ACTIONS = {
    # X-Ray's trace APIs take no resource ARN (no resource-level permissions).
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
    # A function in a VPC: Lambda creates and deletes its (Hyperplane) network interfaces with
    # the execution role. Describe* calls only work on "*"; the interfaces' ids are Lambda's
    # and unknown in advance, and AWS documents (and AWSLambdaVPCAccessExecutionRole grants)
    # the whole set on "*".
    "ec2:CreateNetworkInterface": "the interface id is Lambda's, unknown in advance",
    "ec2:DescribeNetworkInterfaces": "EC2 Describe* calls only work on Resource *",
    "ec2:DescribeSubnets": "EC2 Describe* calls only work on Resource *",
    "ec2:DeleteNetworkInterface": "the interface id is Lambda's, unknown in advance",
    "ec2:AssignPrivateIpAddresses": "on Lambda's own interfaces, unknown in advance",
    "ec2:UnassignPrivateIpAddresses": "on Lambda's own interfaces, unknown in advance",
    # CloudWatch metrics are not resources; the namespace is scoped by condition, not ARN.
    "cloudwatch:PutMetricData": "metrics have no ARN (scope with cloudwatch:namespace)",
}

# Policy attributes holding a JSON policy document, per resource type. Any other attribute
# named *policy that parses as a policy document is checked too (see ``policy_documents``).
POLICY_ATTRIBUTES = {
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_kms_key": ("policy",),
}

_ACCOUNT_ROOT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")


@dataclass(frozen=True)
class PolicyDocument:
    address: str  # the resource address in the state
    resource_type: str
    attribute: str  # which attribute (``inline_policy[0].policy`` for nested ones)
    document: dict[str, Any]


def managed_resources(show_json: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every managed resource of the root module and its child modules, depth first."""
    stack = [show_json.get("values", {}).get("root_module", {})]
    while stack:
        module = stack.pop()
        for resource in module.get("resources", []):
            if resource.get("mode") == "managed":
                yield resource
        stack.extend(module.get("child_modules", []))


def _as_document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, dict) and "Statement" in value:
        return value
    return None


def policy_documents(show_json: dict[str, Any]) -> Iterator[PolicyDocument]:
    for resource in managed_resources(show_json):
        values = resource.get("values") or {}
        kind = resource["type"]
        names = set(POLICY_ATTRIBUTES.get(kind, ()))
        names.update(name for name in values if name.endswith("policy"))
        for name in sorted(names):
            document = _as_document(values.get(name))
            if document is not None:
                yield PolicyDocument(resource["address"], kind, name, document)
        for index, inline in enumerate(values.get("inline_policy") or []):
            document = _as_document(inline.get("policy"))
            if document is not None:
                yield PolicyDocument(
                    resource["address"], kind, f"inline_policy[{index}].policy", document
                )


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    return [p for values in principal.values() for p in _strings(values)]


def _is_default_key_policy_statement(policy: PolicyDocument, statement: dict[str, Any]) -> bool:
    """AWS's default key policy statement: the key's own account root gets ``kms:*``, which
    hands every use of the key to IAM policies (without it the key can become unmanageable)."""
    if policy.resource_type != "aws_kms_key" or _strings(statement.get("Action")) != ["kms:*"]:
        return False
    principal = statement.get("Principal")
    roots = _strings(principal.get("AWS")) if isinstance(principal, dict) else []
    return len(roots) == 1 and _ACCOUNT_ROOT.match(roots[0]) is not None


# Condition keys that limit a Principal "*" statement to one account, organization or
# network (AWS's default SNS topic policy is "*" with AWS:SourceOwner = the account).
_LIMITING_CONDITION_KEYS = {
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:sourcevpc",
    "aws:sourcevpce",
}


def _limited_to_accounts(statement: dict[str, Any]) -> bool:
    conditions = statement.get("Condition") or {}
    return any(
        key.lower() in _LIMITING_CONDITION_KEYS and "*" not in "".join(_strings(values))
        for operator, entries in conditions.items()
        if operator.startswith("StringEquals") or operator.startswith("ArnEquals")
        for key, values in entries.items()
    )


def statement_findings(policy: PolicyDocument) -> list[str]:
    """What is too broad in the document's Allow statements; each line names the resource
    address, the attribute and the statement (index and Sid)."""
    statements = policy.document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    findings: list[str] = []
    for index, statement in enumerate(statements):
        if statement.get("Effect", "Allow") != "Allow":
            continue
        where = (
            f"{policy.address} {policy.attribute} statement {index}"
            f" (Sid {statement.get('Sid', '-')!r})"
        )

        def flag(problem: str, where: str = where) -> None:
            findings.append(f"{where}: {problem}")

        actions = _strings(statement.get("Action"))
        if "NotAction" in statement:
            flag(f"Allow with NotAction {statement['NotAction']!r} allows every other action")
        if "NotResource" in statement:
            flag(f"Allow with NotResource {statement['NotResource']!r}")
        if not _is_default_key_policy_statement(policy, statement):
            for action in actions:
                if action == "*" or action.endswith(":*"):
                    flag(f"wildcard action {action!r}")
        resources = _strings(statement.get("Resource"))
        if "*" in resources and policy.resource_type != "aws_kms_key":
            scopable = sorted(a for a in actions if a not in UNSCOPABLE_ACTIONS)
            if scopable:
                flag(f"Resource '*' for actions that can be scoped: {scopable}")
        if "*" in _principals(statement) and not _limited_to_accounts(statement):
            flag("Principal '*' (anyone) without an account or network condition")
    return findings


def bucket_denies_insecure_transport(document: dict[str, Any], bucket_arn: str) -> bool:
    """Whether a statement denies every S3 action to everyone on the bucket and its objects
    when ``aws:SecureTransport`` is false."""
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        condition = statement.get("Condition", {}).get("Bool", {})
        if (
            statement.get("Effect") == "Deny"
            and _strings(statement.get("Action")) in (["s3:*"], ["*"])
            and _principals(statement) == ["*"]
            and {bucket_arn, f"{bucket_arn}/*"} <= set(_strings(statement.get("Resource")))
            and _strings(condition.get("aws:SecureTransport")) == ["false"]
        ):
            return True
    return False


def permission_findings(show_json: dict[str, Any]) -> list[str]:
    """Grants outside policy documents: a Lambda permission for any principal, and attached
    managed policies that are not this stack's own (whose documents are checked above)."""
    own_policy_arns = {
        (resource.get("values") or {}).get("arn")
        for resource in managed_resources(show_json)
        if resource["type"] == "aws_iam_policy"
    }
    findings: list[str] = []
    for resource in managed_resources(show_json):
        values = resource.get("values") or {}
        if resource["type"] == "aws_lambda_permission" and values.get("principal") == "*":
            findings.append(f"{resource['address']}: Lambda permission for Principal '*'")
        if resource["type"] in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment"):
            arn = values.get("policy_arn")
            if arn not in own_policy_arns:
                findings.append(
                    f"{resource['address']}: attaches {arn}, a policy this stack does not"
                    " define (its document is not checked here)"
                )
        for arn in values.get("managed_policy_arns") or []:
            if arn not in own_policy_arns:
                findings.append(f"{resource['address']}: managed_policy_arns holds {arn}")
    return findings
