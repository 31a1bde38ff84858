"""Amazon Data Firehose PutRecordBatch."""

from __future__ import annotations

from collections.abc import Sequence

from ddb2aurora.adapters import aws_errors, client


class DeliveryError(Exception):
    """The whole PutRecordBatch call failed (throttled, service error, network)."""


def put_record_batch(delivery_stream_name: str, records: Sequence[bytes]) -> list[str | None]:
    """Send ``records`` in one call. Return, per record in order, None when Firehose accepted
    it or its ErrorCode (for example ServiceUnavailableException) when it did not.
    Raise DeliveryError when the call itself failed."""
    try:
        response = client("firehose").put_record_batch(
            DeliveryStreamName=delivery_stream_name,
            Records=[{"Data": data} for data in records],
        )
    except aws_errors() as exc:
        raise DeliveryError(str(exc)) from exc
    return [entry.get("ErrorCode") or None for entry in response["RequestResponses"]]
