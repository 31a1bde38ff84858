"""Change records made by the operator tool, and the delivery of lines to Firehose through
the stream_processor's own chunking and retry logic (``stream_processor.deliver``)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ddb2aurora.adapters.firehose import DeliveryError
from ddb2aurora.change_record import FIREHOSE_MAX_RECORD_BYTES, ChangeRecord, TypedItem
from ddb2aurora.ops.aws import Client
from ddb2aurora.ops.errors import OpsError
from ddb2aurora.stream_processor import Ports, RetryPolicy, deliver

BACKFILL_SEQ = "0"  # any streamed change (a real SequenceNumber) is greater, so it wins
DELIVERY_POLICY = RetryPolicy(max_attempts=8, base_ms=200, max_ms=10_000)
NO_DEADLINE_MS = 2**62


def wire(value: Any) -> Any:
    """A boto3-parsed AttributeValue back in DynamoDB JSON (binary as base64), as the
    stream event and exports carry it."""
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def backfill_record(
    item: TypedItem, key_names: Sequence[str], source: str, ts_ms: int, event_id: str
) -> ChangeRecord:
    """An item that existed before the stream, as an upsert that any streamed change beats.
    Items from a boto3 Scan carry binary as bytes; the record carries them as base64."""
    item = wire(item)
    keys = {name: item[name] for name in key_names if name in item}
    if len(keys) != len(key_names):
        raise OpsError(f"item lacks key attribute(s) {list(key_names)}: {sorted(item)[:10]}")
    return ChangeRecord(
        op="upsert",
        keys=keys,
        seq=BACKFILL_SEQ,
        ts=ts_ms,
        event_id=event_id,
        source=source,
        image=item,
    )


def firehose_put(client: Client, stream_name: str) -> Callable[[Sequence[bytes]], list[str | None]]:
    """PutRecordBatch as stream_processor's ``deliver`` expects it: per record None or its
    error code; DeliveryError when the whole call failed."""

    def put(records: Sequence[bytes]) -> list[str | None]:
        try:
            response = client.raw.put_record_batch(
                DeliveryStreamName=stream_name, Records=[{"Data": data} for data in records]
            )
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
            if code in ("AccessDeniedException", "ResourceNotFoundException"):
                raise OpsError(
                    f"firehose:PutRecordBatch on DeliveryStreamName={stream_name} failed: "
                    f"{code}: {error}",
                    code,
                ) from error
            raise DeliveryError(str(error)) from error
        return [entry.get("ErrorCode") or None for entry in response["RequestResponses"]]

    return put


class Sender:
    """Sends change-record lines through Firehose; raises OpsError when some were never
    accepted after the retries."""

    def __init__(self, put: Callable[[Sequence[bytes]], Sequence[str | None]]) -> None:
        self.ports = Ports(
            put_record_batch=put,
            fetch_item=lambda _table, _keys: None,
            remaining_ms=lambda: NO_DEADLINE_MS,
            sleep=time.sleep,
        )

    def send(self, lines: Sequence[bytes]) -> int:
        """Deliver every line (callers leave out lines over FIREHOSE_MAX_RECORD_BYTES)."""
        report = deliver(lines, DELIVERY_POLICY, self.ports)
        if report.undelivered:
            raise OpsError(
                f"Firehose did not accept {len(report.undelivered)} of {len(lines)} records "
                f"after {DELIVERY_POLICY.max_attempts} attempts; run the command again "
                "(delivered records are not applied twice)"
            )
        return len(lines)


def too_large(line: bytes) -> bool:
    return len(line) > FIREHOSE_MAX_RECORD_BYTES


def keys_text(keys: Mapping[str, Any]) -> str:
    """Typed keys as ``name=value`` for messages."""
    parts = []
    for name, typed in sorted(keys.items()):
        value = next(iter(typed.values())) if isinstance(typed, dict) and typed else typed
        parts.append(f"{name}={value}")
    return ", ".join(parts)
