"""moto in server mode, with its own (broken) Lambda delivery switched off.

moto stores event source mappings and bucket notifications, and on every DynamoDB
write it also "delivers" the stream records to the mapped function itself: it invokes
the stored function (docker, or a canned reply without docker), then DISCARDS the shard's
records when that call returns anything, so the dynamodbstreams API never shows them; and
a binary attribute makes that call, and with it the PutItem, fail with HTTP 500.
S3 notifications to Lambda are likewise invoked in-process. The local data plane is what
delivers these locally, so this launcher turns moto's delivery off and leaves every API
(including DynamoDB Streams and the stored configuration) as it is.

It also fixes one gap that makes a hardened bucket unusable: moto evaluates bucket policies
without their Condition blocks, so the usual DenyInsecureTransport statement (Deny s3:* when
aws:SecureTransport is false) denies every object read and write. The launcher drops just
those statements before moto evaluates a bucket policy, as if every request came over TLS
(which is what the SDKs use against AWS); every other statement is evaluated as before.

Usage: python -m scripts.local.dataplane.moto_server [-H 127.0.0.1] [-p PORT]
(the same arguments as moto_server).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def disable_in_process_delivery() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.s3 import notifications

    def keep_stream_records(self: Any, function_arn: str, items: list[Any], source: str) -> None:
        return None  # falsy: moto keeps the shard's records for the dynamodbstreams API

    def no_lambda_invoke(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        return None

    LambdaBackend.send_dynamodb_items = keep_stream_records  # type: ignore[method-assign,assignment]
    notifications._invoke_awslambda = no_lambda_invoke


def is_insecure_transport_deny(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    bool_condition = {k.lower(): v for k, v in (condition.get("Bool") or {}).items()}
    return (
        statement.get("Effect") == "Deny"
        and list(condition) == ["Bool"]
        and list(bool_condition) == ["aws:securetransport"]
        and str(bool_condition["aws:securetransport"]).lower() == "false"
    )


def treat_requests_as_tls() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        document["Statement"] = [s for s in statements if not is_insecure_transport_deny(s)]
        if not document["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    disable_in_process_delivery()
    treat_requests_as_tls()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
