"""Amazon SQS SendMessage (stream_processor's dead-letter path)."""

from __future__ import annotations

from ddb2aurora.adapters import aws_errors, client


class QueueSendError(Exception):
    """SendMessage failed."""


def send_message(queue_url: str, body: str) -> None:
    try:
        client("sqs").send_message(QueueUrl=queue_url, MessageBody=body)
    except aws_errors() as exc:
        raise QueueSendError(str(exc)) from exc
