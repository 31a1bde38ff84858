"""Firehose data transformation: change records (JSON lines) to CSV rows.

Every input record gets exactly one result with its recordId: ``Ok`` with the CSV row,
``Dropped`` only for what the mapping says to ignore (TTL deletes with
``ignore_ttl_deletes``), and ``ProcessingFailed`` with the original data for anything that
cannot be loaded (Firehose then writes it under the error prefix, where ``replay`` finds
it). One bad record never fails the invocation. The response stays under Firehose's
6 MB limit: if converted rows would not fit, the remaining records are returned as
``ProcessingFailed`` (with their original, smaller data) rather than losing the batch.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddb2aurora.change_record import ChangeRecord, ChangeRecordError
from ddb2aurora.csv_dialect import encode_row
from ddb2aurora.mapping import RecordRejected, TableMapping

# Lambda's synchronous payload limit (6 MB, as 6 MiB) for request and response alike:
# a request within it can always be answered within it, since a failed record echoes
# its data and Ok rows are smaller than their change records but for binary columns.
RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
# what one response record costs besides its data and recordId: keys, quotes, the
# longest result name and the separator between records, as json.dumps writes them
_ENVELOPE_BYTES = len(json.dumps({"recordId": "", "result": "ProcessingFailed", "data": ""})) + 2


@dataclass(frozen=True, slots=True)
class Failure:
    record_id: str
    reason: str
    seq: str | None = None


@dataclass(slots=True)
class TransformOutcome:
    records: list[dict[str, str]] = field(default_factory=list)
    ok: int = 0
    dropped: int = 0
    failures: list[Failure] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        return {"records": self.records}


def csv_line(record: ChangeRecord, mapping: TableMapping) -> bytes:
    """The CSV row for one change record; raise RecordRejected with the reason."""
    if mapping.source_table is not None and record.source != mapping.source_table:
        raise RecordRejected(
            f"record from table {record.source!r}, mapping is for {mapping.source_table!r}"
        )
    if record.op == "upsert":
        assert record.image is not None  # noqa: S101 - ChangeRecord.from_json guarantees it
        values = mapping.row(record.image)
    else:
        values = _delete_values(record, mapping)
    values += [record.op, record.seq, str(record.ts), record.event_id]
    try:
        return encode_row(values).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordRejected(f"a value is not valid Unicode: {exc.reason}") from exc


def _delete_values(record: ChangeRecord, mapping: TableMapping) -> list[str | bytes | None]:
    """A delete keeps the item's last values (its old image) when they map to the same
    key; otherwise only the keys. A delete is never rejected for what it removes."""
    keys_only = mapping.key_row(record.keys)
    if record.image is None:
        return keys_only
    try:
        values = mapping.row(record.image)
    except RecordRejected:
        return keys_only
    key_names = set(mapping.keys)
    for index, column in enumerate(mapping.columns):
        if column.name in key_names and values[index] != keys_only[index]:
            return keys_only
    return values


def transform(
    records: Sequence[Mapping[str, Any]],
    mapping: TableMapping,
    response_limit_bytes: int = RESPONSE_LIMIT_BYTES,
) -> TransformOutcome:
    """Transform one Firehose batch (the event's ``records``)."""
    outcome = TransformOutcome()
    reserved = sum(_envelope(r) + len(r.get("data", "")) for r in records)
    used = 0
    for raw in records:
        record_id = str(raw["recordId"])
        data = str(raw.get("data", ""))
        reserved -= _envelope(raw) + len(data)
        result, payload, failure = _transform_one(record_id, data, mapping)
        if result == "Ok" and used + len(payload) + reserved > response_limit_bytes:
            result, payload = "ProcessingFailed", data
            failure = Failure(record_id, "response would exceed Firehose's 6 MB limit")
        used += _envelope(raw) + len(payload)
        outcome.records.append({"recordId": record_id, "result": result, "data": payload})
        if failure is not None:
            outcome.failures.append(failure)
        elif result == "Ok":
            outcome.ok += 1
        else:
            outcome.dropped += 1
    return outcome


def _envelope(record: Mapping[str, Any]) -> int:
    return _ENVELOPE_BYTES + len(str(record["recordId"]))


def _transform_one(
    record_id: str, data: str, mapping: TableMapping
) -> tuple[str, str, Failure | None]:
    try:
        line = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return "ProcessingFailed", data, Failure(record_id, "data is not valid base64")
    try:
        record = ChangeRecord.from_json(line)
    except ChangeRecordError as exc:
        return "ProcessingFailed", data, Failure(record_id, f"not a change record: {exc}")
    if record.op == "delete" and record.ttl_delete and mapping.ignore_ttl_deletes:
        return "Dropped", "", None
    try:
        row = csv_line(record, mapping)
    except RecordRejected as exc:
        return "ProcessingFailed", data, Failure(record_id, str(exc), record.seq)
    except Exception as exc:  # a bug on one hostile record must not fail the whole batch
        reason = f"unexpected {type(exc).__name__}: {exc}"
        return "ProcessingFailed", data, Failure(record_id, reason, record.seq)
    return "Ok", base64.b64encode(row).decode("ascii"), None
