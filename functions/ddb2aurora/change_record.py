"""The change record: what stream_processor sends through Firehose, one JSON object per line.

An upsert carries the new image; a delete carries the old image when the stream has
one (NEW_AND_OLD_IMAGES), so a soft-deleted row keeps the item's last values whatever
order objects are applied in.
Images and keys stay in DynamoDB's typed JSON (``{"S": "x"}``, ``{"N": "1.50"}``) so that
nothing is lost between the stream and the transform: numbers keep every digit, binary
stays base64, sets stay sets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["upsert", "delete"]
TypedItem = dict[str, dict[str, Any]]

FIREHOSE_MAX_RECORD_BYTES = 1_000 * 1024


class ChangeRecordError(ValueError):
    """A line that is not a valid change record; the message names the field."""


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    op: Op
    keys: TypedItem
    seq: str
    ts: int
    event_id: str
    source: str
    image: TypedItem | None = None
    ttl_delete: bool = False

    def to_json_line(self) -> bytes:
        """Serialize as one UTF-8 JSON line (newline-terminated), as Firehose receives it."""
        body: dict[str, Any] = {
            "op": self.op,
            "keys": self.keys,
            "seq": self.seq,
            "ts": self.ts,
            "event_id": self.event_id,
            "source": self.source,
            "ttl_delete": self.ttl_delete,
        }
        if self.image is not None:
            body["image"] = self.image
        return (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> ChangeRecord:
        """Parse one change record; raise ChangeRecordError naming the bad field."""
        try:
            body = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ChangeRecordError(f"not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise ChangeRecordError("change record must be a JSON object")
        op = body.get("op")
        if op not in ("upsert", "delete"):
            raise ChangeRecordError(f"field 'op' must be 'upsert' or 'delete', got {op!r}")
        keys = body.get("keys")
        if not isinstance(keys, dict) or not keys:
            raise ChangeRecordError("field 'keys' must be a non-empty object")
        seq = body.get("seq")
        if not isinstance(seq, str) or not seq.isdigit() or len(seq) > 40:
            raise ChangeRecordError("field 'seq' must be a decimal string of at most 40 digits")
        ts = body.get("ts")
        if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
            raise ChangeRecordError("field 'ts' must be a non-negative integer (epoch ms)")
        event_id = body.get("event_id")
        if not isinstance(event_id, str):
            raise ChangeRecordError("field 'event_id' must be a string")
        source = body.get("source")
        if not isinstance(source, str):
            raise ChangeRecordError("field 'source' must be a string")
        image = body.get("image")
        if op == "upsert" and not isinstance(image, dict):
            raise ChangeRecordError("field 'image' must be an object for an upsert")
        if image is not None and not isinstance(image, dict):
            raise ChangeRecordError("field 'image' must be an object")
        ttl_delete = body.get("ttl_delete", False)
        if not isinstance(ttl_delete, bool):
            raise ChangeRecordError("field 'ttl_delete' must be a boolean")
        return cls(
            op=op,
            keys=keys,
            seq=seq,
            ts=ts,
            event_id=event_id,
            source=source,
            image=image,
            ttl_delete=ttl_delete,
        )
