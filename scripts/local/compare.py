"""Does the database hold what DynamoDB holds? Scan the table, map every item with the
same mapping the functions use, and compare with the target table row by row.

Values are compared as typed values (``Decimal('1.5') == Decimal('1.500000')``, datetimes
as datetimes), keys exactly (case, trailing spaces and all), so a collation that merges
two DynamoDB keys shows up as a missing row. Items the mapping rejects are expected to
be absent (they land under the error prefix instead) and are counted apart.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ddb2aurora.mapping import RecordRejected, TableMapping, load_mapping
from ddb2aurora.sql_types import Kind, quote_identifier

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_MAPPING = REPO_ROOT / "mappings" / "web_analytics.json"
Key = tuple[Any, ...]


def sample_mapping() -> TableMapping:
    return load_mapping(SAMPLE_MAPPING.read_text())


def _typed(kind: Kind, value: Any) -> Any:
    """One comparable Python value from either the CSV text or what PyMySQL returns."""
    if value is None:
        return None
    match kind:
        case Kind.INTEGER:
            return int(value)
        case Kind.DECIMAL:
            return Decimal(str(value))
        case Kind.DOUBLE:
            return float(value)
        case Kind.BOOLEAN:
            text = str(value).lower()
            return {"true": 1, "false": 0}.get(text, int(value) if text.isdigit() else text)
        case Kind.DATETIME:
            return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        case Kind.DATE:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        case Kind.JSON:
            return json.loads(value, parse_float=Decimal) if isinstance(value, str) else value
        case Kind.BINARY:
            return bytes(value)
        case _:
            return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def _typed_row(mapping: TableMapping, row: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(
        _typed(column.sql_type.kind, value)
        for column, value in zip(mapping.columns, row, strict=True)
    )


def _key(mapping: TableMapping, row: tuple[Any, ...]) -> Key:
    index = {column.name: i for i, column in enumerate(mapping.columns)}
    return tuple(row[index[name]] for name in mapping.keys)


def scan_items(dynamodb: Any, table_name: str) -> Iterator[dict[str, Any]]:
    """Every item of the table in typed DynamoDB JSON (a boto3 low-level client)."""
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        yield from page["Items"]


@dataclass
class Expected:
    rows: dict[Key, tuple[Any, ...]] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)  # item key text -> reason


def expected_state(mapping: TableMapping, items: Iterable[Mapping[str, Any]]) -> Expected:
    expected = Expected()
    for item in items:
        try:
            row = _typed_row(mapping, mapping.row(item))
        except RecordRejected as rejection:
            expected.rejected[json.dumps(item.get(mapping.keys[0]), sort_keys=True)] = str(
                rejection
            )
            continue
        expected.rows[_key(mapping, row)] = row
    return expected


@dataclass
class Actual:
    live: dict[Key, tuple[Any, ...]] = field(default_factory=dict)
    deleted: set[Key] = field(default_factory=set)


def database_state(connection: Any, mapping: TableMapping) -> Actual:
    columns = ", ".join(quote_identifier(column.name) for column in mapping.columns)
    table = quote_identifier(mapping.target_table)
    actual = Actual()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}, `_deleted_at` FROM {table}")
        for *values, deleted_at in cursor.fetchall():
            row = _typed_row(mapping, values)
            if deleted_at is None:
                actual.live[_key(mapping, row)] = row
            else:
                actual.deleted.add(_key(mapping, row))
    return actual


@dataclass
class Comparison:
    expected_rows: int
    live_rows: int
    deleted_rows: int
    rejected_items: int
    missing: list[Key]
    unexpected: list[Key]
    different: list[tuple[Key, str, Any, Any]]

    @property
    def agrees(self) -> bool:
        return not (self.missing or self.unexpected or self.different)

    def describe(self, limit: int = 5) -> str:
        if self.agrees:
            return f"database agrees with DynamoDB ({self.expected_rows} rows)"
        parts = [
            f"{len(self.missing)} missing {self.missing[:limit]}",
            f"{len(self.unexpected)} unexpected {self.unexpected[:limit]}",
            f"{len(self.different)} different {self.different[:limit]}",
        ]
        return "database differs from DynamoDB: " + "; ".join(parts)


def compare(mapping: TableMapping, expected: Expected, actual: Actual) -> Comparison:
    names = [column.name for column in mapping.columns]
    different = [
        (key, name, want, got)
        for key, row in expected.rows.items()
        if key in actual.live
        for name, want, got in zip(names, row, actual.live[key], strict=True)
        if want != got
    ]
    return Comparison(
        expected_rows=len(expected.rows),
        live_rows=len(actual.live),
        deleted_rows=len(actual.deleted),
        rejected_items=len(expected.rejected),
        missing=sorted(set(expected.rows) - set(actual.live), key=repr),
        unexpected=sorted(set(actual.live) - set(expected.rows), key=repr),
        different=different,
    )


def compare_table(
    dynamodb: Any, table_name: str, connection: Any, mapping: TableMapping
) -> Comparison:
    """Scan DynamoDB, read the database, compare (the one call the demo and tests use)."""
    connection.commit()  # a fresh snapshot: end any transaction the connection holds
    expected = expected_state(mapping, scan_items(dynamodb, table_name))
    return compare(mapping, expected, database_state(connection, mapping))
