"""moto in server mode, with its own (broken) Lambda delivery switched off.

moto stores event source mappings and bucket notifications, and on every DynamoDB
write it also "delivers" the stream records to the mapped function itself: it invokes
the stored function (docker, or a canned reply without docker), then DISCARDS the shard's
records when that call returns anything, so the dynamodbstreams API never shows them; and
a binary attribute makes that call, and with it the PutItem, fail with HTTP 500.
S3 notifications to Lambda are likewise invoked in-process. The local data plane is what
delivers these locally, so this launcher turns moto's delivery off and leaves every API
(including DynamoDB Streams and the stored configuration) as it is.

Usage: python -m scripts.local.dataplane.moto_server [-H 127.0.0.1] [-p PORT]
(the same arguments as moto_server).
"""

from __future__ import annotations

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


def main(argv: list[str] | None = None) -> None:
    disable_in_process_delivery()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
