"""Does the database hold what DynamoDB holds? The demo's and the e2e tests' view of the
operator tool's verify (ddb2aurora.ops.verify, ddb2aurora.ops.digest): one implementation
of the comparison, kept here as the small API those callers use.

Every item goes through the mapping the functions use; rows compare by canonical values
(``Decimal('1.5')`` equals ``Decimal('1.500000')``, datetimes as datetimes), keys exactly
(case, trailing spaces and all), so a collation that merges two DynamoDB keys shows up as
a missing row. Items the mapping rejects are expected to be absent (they land under the
error prefix instead) and are counted apart; soft-deleted rows count as absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddb2aurora.mapping import TableMapping, load_mapping
from ddb2aurora.ops.digest import Key, Side
from ddb2aurora.ops.digest import compare as compare_sides
from ddb2aurora.ops.verify import add_item, read_database

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_MAPPING = REPO_ROOT / "mappings" / "web_analytics.json"


def sample_mapping() -> TableMapping:
    return load_mapping(SAMPLE_MAPPING.read_text())


def scan_items(dynamodb: Any, table_name: str) -> Iterator[dict[str, Any]]:
    """Every item of the table in typed DynamoDB JSON (a boto3 low-level client)."""
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        yield from page["Items"]


def expected_state(mapping: TableMapping, items: Iterable[Mapping[str, Any]]) -> Side:
    side = Side()
    for item in items:
        add_item(mapping, side, dict(item))
    return side


def database_state(connection: Any, mapping: TableMapping) -> Side:
    return read_database(connection, mapping, lambda _rows: None, missing_ok=True)


@dataclass
class Comparison:
    expected_rows: int
    live_rows: int
    deleted_rows: int
    rejected_items: int
    missing: list[Key]
    unexpected: list[Key]
    different: list[tuple[Key, str, str, str]]  # (key, column, DynamoDB side, database side)

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


def compare(mapping: TableMapping, expected: Side, actual: Side) -> Comparison:
    drift = compare_sides(mapping, expected, actual)
    return Comparison(
        expected_rows=drift.source_rows,
        live_rows=drift.database_rows,
        deleted_rows=drift.deleted_rows,
        rejected_items=len(drift.rejected),
        missing=drift.missing,
        unexpected=drift.extra,
        different=[(d.key, *column) for d in drift.different for column in d.columns],
    )


def compare_table(
    dynamodb: Any, table_name: str, connection: Any, mapping: TableMapping
) -> Comparison:
    """Scan DynamoDB, read the database, compare (the one call the demo and tests use)."""
    connection.commit()  # a fresh snapshot: end any transaction the connection holds
    expected = expected_state(mapping, scan_items(dynamodb, table_name))
    return compare(mapping, expected, database_state(connection, mapping))
