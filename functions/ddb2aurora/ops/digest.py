"""One canonical text per mapped value, and a digest per row, computed the same way for
a DynamoDB item (through ``TableMapping.row``, the transform's own conversion) and for a
database row (what PyMySQL returns). Equal digests mean equal rows in every mapped column.

Canonical forms by column kind: integers and decimals as normalised decimal text
(``1.500000`` and ``1.5`` agree), doubles by ``repr(float)``, booleans ``1``/``0``,
datetimes ``YYYY-MM-DD HH:MM:SS.ffffff``, dates ISO, JSON re-serialised with sorted keys
and normalised numbers (Aurora MySQL reformats stored JSON), binary as hex, text as is.
NULL is a marker no text can equal.

A full pass keeps only key -> 16-byte digest per row (``Side(keep_rows=False)``), so its
memory grows with the number of keys, not with row width; the values of the few keys that
differ are read again afterwards to describe them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ddb2aurora.mapping import TableMapping
from ddb2aurora.sql_types import Kind

NULL = "\x00NULL"
SEPARATOR = "\x1f"
Key = tuple[str, ...]


def _decimal_text(value: Any) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def _json_canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_json_canonical(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return {"\x00number": _decimal_text(value)}
    return str(value)


def canonical(kind: Kind, value: Any) -> str:
    """The canonical text of one value, from CSV text (mapping.row) or a database value."""
    if value is None:
        return NULL
    if kind in (Kind.INTEGER, Kind.DECIMAL):
        return _decimal_text(value)
    if kind is Kind.DOUBLE:
        return repr(float(value))
    if kind is Kind.BOOLEAN:
        text = str(value).lower()
        return {"true": "1", "false": "0"}.get(text, str(int(value)) if text.isdigit() else text)
    if kind is Kind.DATETIME:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if kind is Kind.DATE:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return day.isoformat()
    if kind is Kind.JSON:
        text = value.decode() if isinstance(value, bytes | bytearray) else value
        document = json.loads(text, parse_float=Decimal) if isinstance(text, str) else text
        return json.dumps(_json_canonical(document), sort_keys=True, ensure_ascii=False)
    if kind is Kind.BINARY:
        return bytes(value).hex()
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


@dataclass(frozen=True, slots=True)
class CanonicalRow:
    key: Key
    values: tuple[str, ...]

    @property
    def digest(self) -> bytes:
        return hashlib.blake2b(SEPARATOR.join(self.values).encode(), digest_size=16).digest()


def canonical_row(mapping: TableMapping, values: Sequence[Any]) -> CanonicalRow:
    """Mapped column values (in mapping order) in canonical form, with the row's key."""
    texts = tuple(
        canonical(column.sql_type.kind, value)
        for column, value in zip(mapping.columns, values, strict=True)
    )
    index = {column.name: i for i, column in enumerate(mapping.columns)}
    return CanonicalRow(tuple(texts[index[name]] for name in mapping.keys), texts)


def key_text(mapping: TableMapping, key: Key) -> str:
    """``page_id=/a, activity_dt=2026-…`` for reports."""
    return ", ".join(f"{name}={value}" for name, value in zip(mapping.keys, key, strict=True))


@dataclass
class Side:
    """One side of a comparison: a digest per key; the canonical values per key only with
    ``keep_rows`` (reads of a few keys; a full pass keeps digests alone); rejected items and
    (source side, given by the caller) the item keys that cannot be rebuilt from the key."""

    keep_rows: bool = True
    digests: dict[Key, bytes] = field(default_factory=dict)
    rows: dict[Key, tuple[str, ...]] = field(default_factory=dict)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (item keys, reason)
    deleted: int = 0
    typed_keys: dict[Key, dict[str, Any]] = field(default_factory=dict)

    def add(self, row: CanonicalRow, typed_keys: dict[str, Any] | None = None) -> None:
        self.digests[row.key] = row.digest
        if self.keep_rows:
            self.rows[row.key] = row.values
        if typed_keys is not None:
            self.typed_keys[row.key] = typed_keys

    def merge(self, other: Side) -> None:
        self.digests.update(other.digests)
        if self.keep_rows:
            self.rows.update(other.rows)
        self.typed_keys.update(other.typed_keys)
        self.rejected += other.rejected
        self.deleted += other.deleted


@dataclass
class Difference:
    key: Key
    columns: list[tuple[str, str, str]]  # (column, DynamoDB side, database side)


@dataclass
class Drift:
    source_rows: int
    database_rows: int
    missing: list[Key]
    extra: list[Key]
    different: list[Difference]
    rejected: list[tuple[str, str]]
    deleted_rows: int

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different)


def differing_columns(
    mapping: TableMapping, source: tuple[str, ...] | None, database: tuple[str, ...] | None
) -> list[tuple[str, str, str]]:
    """(column, DynamoDB side, database side) for each column whose values differ; none
    when either side's values are unknown."""
    if source is None or database is None:
        return []
    names = [column.name for column in mapping.columns]
    return [
        (name, want, got)
        for name, want, got in zip(names, source, database, strict=True)
        if want != got
    ]


def compare(
    mapping: TableMapping, source: Side, database: Side, keys: Iterable[Key] | None = None
) -> Drift:
    """Compare the sides over ``keys`` (default: every key on either side). Differing keys
    name their columns where both sides kept rows, else none (the caller reads them)."""
    wanted = set(keys) if keys is not None else set(source.digests) | set(database.digests)
    missing = sorted(k for k in wanted if k in source.digests and k not in database.digests)
    extra = sorted(k for k in wanted if k in database.digests and k not in source.digests)
    different = [
        Difference(key, differing_columns(mapping, source.rows.get(key), database.rows.get(key)))
        for key in sorted(k for k in wanted if k in source.digests and k in database.digests)
        if source.digests[key] != database.digests[key]
    ]
    return Drift(
        source_rows=len(source.digests),
        database_rows=len(database.digests),
        missing=missing,
        extra=extra,
        different=different,
        rejected=source.rejected,
        deleted_rows=database.deleted,
    )
