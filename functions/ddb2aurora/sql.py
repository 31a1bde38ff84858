"""SQL text built from a validated mapping: DDL for the target, tombstone, manifest and
staging tables, and the merge that applies one staged object with the ``_seq`` guard.

Identifiers come only from the mapping (validated against a strict pattern) and are
quoted; values are always driver parameters. Statements are written to run on both
Aurora MySQL 3 (MySQL 8.0) and MariaDB 10.11: ``VALUES(col)`` in ON DUPLICATE KEY
UPDATE (MySQL 8's ``AS new`` alias is a MariaDB syntax error), qualified column names,
and the sequence column assigned last so the guards compare against the old value.
"""

from __future__ import annotations

from dataclasses import dataclass

from ddb2aurora.mapping import Column, TableMapping
from ddb2aurora.sql_types import Dialect, Kind, key_collation, quote_identifier

MANIFEST_TABLE = "_ddb2aurora_manifest"
STAGING_TABLE = "_ddb2aurora_staging"
# Both independent of the session time zone: event time from epoch ms, load time in UTC.
_EVENT_TIME = "(TIMESTAMP'1970-01-01 00:00:00' + INTERVAL s.`_ts` * 1000 MICROSECOND)"
_NOW = "UTC_TIMESTAMP(3)"
_TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"


def _column_ddl(column: Column, dialect: Dialect, *, key: bool) -> str:
    ddl = f"{quote_identifier(column.name)} {column.sql_type.ddl}"
    if key and column.sql_type.kind is Kind.VARCHAR:
        ddl += f" COLLATE {key_collation(dialect)}"
    return ddl + (" NOT NULL" if key else " NULL")


def _mapped_columns_ddl(mapping: TableMapping, dialect: Dialect) -> list[str]:
    keys = set(mapping.keys)
    return [_column_ddl(c, dialect, key=c.name in keys) for c in mapping.columns]


def _key_list(mapping: TableMapping, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote_identifier(k) for k in mapping.keys)


def _key_join(mapping: TableMapping, left: str, right: str) -> str:
    return " AND ".join(
        f"{left}.{quote_identifier(k)} = {right}.{quote_identifier(k)}" for k in mapping.keys
    )


def create_target_table(mapping: TableMapping, dialect: Dialect) -> str:
    columns = _mapped_columns_ddl(mapping, dialect)
    primary_key = _key_list(mapping)
    if mapping.write_mode == "append":
        columns.append("`_op` VARCHAR(6) NOT NULL")
        primary_key += ", `_seq`"
    columns += [
        "`_seq` DECIMAL(40,0) NOT NULL",
        "`_event_ts` DATETIME(3) NOT NULL",
        "`_deleted_at` DATETIME(3) NULL",
        "`_loaded_at` DATETIME(3) NOT NULL",
        f"PRIMARY KEY ({primary_key})",
    ]
    return (
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(mapping.target_table)} "
        f"({', '.join(columns)}) {_TABLE_OPTIONS}"
    )


def create_tombstone_table(mapping: TableMapping, dialect: Dialect) -> str:
    """Hard deletes remove the row but keep (keys, _seq) here, so an older upsert that
    arrives late cannot bring the item back."""
    columns = [_column_ddl(c, dialect, key=True) for c in mapping.key_columns]
    columns += ["`_seq` DECIMAL(40,0) NOT NULL", f"PRIMARY KEY ({_key_list(mapping)})"]
    return (
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(mapping.tombstone_table)} "
        f"({', '.join(columns)}) {_TABLE_OPTIONS}"
    )


def create_manifest_table() -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(MANIFEST_TABLE)} ("
        "`object_id` CHAR(64) NOT NULL, "
        "`bucket` VARCHAR(255) NOT NULL, "
        "`object_key` VARCHAR(1024) NOT NULL, "
        "`etag` VARCHAR(128) NOT NULL, "
        "`target_table` VARCHAR(64) NOT NULL, "
        "`row_count` BIGINT NOT NULL, "
        "`loaded_at` DATETIME(3) NOT NULL, "
        f"PRIMARY KEY (`object_id`)) {_TABLE_OPTIONS}"
    )


def create_tables(mapping: TableMapping, dialect: Dialect) -> list[str]:
    """Idempotent DDL for everything the loader writes to (safe under concurrent starts)."""
    statements = [create_manifest_table(), create_target_table(mapping, dialect)]
    if mapping.delete_mode == "hard":
        statements.append(create_tombstone_table(mapping, dialect))
    return statements


def create_staging_tables(mapping: TableMapping, dialect: Dialect) -> list[str]:
    """Per-connection TEMPORARY tables: concurrent loaders never share staging, and
    temporary-table DDL does not end the surrounding transaction."""
    columns = _mapped_columns_ddl(mapping, dialect)
    columns += [
        "`_op` VARCHAR(6) NOT NULL",
        "`_seq` DECIMAL(40,0) NOT NULL",
        "`_ts` BIGINT NOT NULL",
        "`_event_id` VARCHAR(128) NOT NULL",
    ]
    return [
        f"DROP TEMPORARY TABLE IF EXISTS {STAGING_TABLE}",
        f"CREATE TEMPORARY TABLE {STAGING_TABLE} ({', '.join(columns)}) {_TABLE_OPTIONS}",
    ]


@dataclass(frozen=True, slots=True)
class MergePlan:
    """The statements that apply the staged rows, in order, inside one transaction."""

    statements: tuple[str, ...]


def _guarded_upsert(mapping: TableMapping, source: str, where: str, soft: bool) -> str:
    """INSERT … SELECT … ON DUPLICATE KEY UPDATE where every assignment only takes the
    new value when the incoming ``_seq`` is greater than the stored one.

    Rows are applied one after another, each compared with the row as the previous
    ones left it, so several changes to one item in one object end at the newest one
    without a separate latest-per-key pass (which cost 45% of the merge time).
    """
    target = quote_identifier(mapping.target_table)
    names = [quote_identifier(c.name) for c in mapping.columns]
    deleted = f"IF(s.`_op` = 'delete', {_EVENT_TIME}, NULL)" if soft else "NULL"
    select = ", ".join(f"s.{n}" for n in names)
    newer = f"VALUES(`_seq`) > {target}.`_seq`"
    assignments = []
    keys = {quote_identifier(k) for k in mapping.keys}
    for name in names:
        if name in keys:
            continue
        # the newest change sets every column: a soft delete brings the item's last
        # values (its old image), so the result never depends on arrival order
        assignments.append(f"{target}.{name} = IF({newer}, VALUES({name}), {target}.{name})")
    for meta in ("`_event_ts`", "`_deleted_at`", "`_loaded_at`"):
        assignments.append(f"{target}.{meta} = IF({newer}, VALUES({meta}), {target}.{meta})")
    assignments.append(f"{target}.`_seq` = GREATEST({target}.`_seq`, VALUES(`_seq`))")
    return (
        f"INSERT INTO {target} ({', '.join(names)}, `_seq`, `_event_ts`, `_deleted_at`, "
        f"`_loaded_at`) SELECT {select}, s.`_seq`, {_EVENT_TIME}, {deleted}, {_NOW} "
        f"{source}{where} ON DUPLICATE KEY UPDATE {', '.join(assignments)}"
    )


def merge_plan(mapping: TableMapping) -> MergePlan:
    """How one staged object is applied, by write and delete mode.

    upsert/soft: the newest change per key wins if newer than the row; deletes set
    ``_deleted_at``. upsert/hard: deletes go to the tombstone table and remove older
    rows; upserts older than a tombstone are skipped. append: every change becomes a
    row keyed by (keys…, ``_seq``), so a repeated change is a no-op.
    """
    if mapping.write_mode == "append":
        target = quote_identifier(mapping.target_table)
        names = ", ".join(quote_identifier(c.name) for c in mapping.columns)
        select = ", ".join(f"s.{quote_identifier(c.name)}" for c in mapping.columns)
        return MergePlan(
            (
                f"INSERT INTO {target} ({names}, `_op`, `_seq`, `_event_ts`, `_deleted_at`, "
                f"`_loaded_at`) SELECT {select}, s.`_op`, s.`_seq`, {_EVENT_TIME}, "
                f"IF(s.`_op` = 'delete', {_EVENT_TIME}, NULL), {_NOW} FROM {STAGING_TABLE} s "
                f"ON DUPLICATE KEY UPDATE {target}.`_seq` = {target}.`_seq`",
            )
        )
    staged = f"FROM {STAGING_TABLE} s"
    if mapping.delete_mode == "soft":
        return MergePlan((_guarded_upsert(mapping, staged, "", True),))

    # hard: 1) every staged delete raises the tombstone to its _seq; 2) rows older than a
    # staged delete go; 3) upserts newer than the tombstone apply, guarded by _seq
    target = quote_identifier(mapping.target_table)
    tombstones = quote_identifier(mapping.tombstone_table)
    keys = _key_list(mapping)
    record_tombstones = (
        f"INSERT INTO {tombstones} ({keys}, `_seq`) SELECT {_key_list(mapping, 's')}, s.`_seq` "
        f"{staged} WHERE s.`_op` = 'delete' "
        f"ON DUPLICATE KEY UPDATE {tombstones}.`_seq` = "
        f"GREATEST({tombstones}.`_seq`, VALUES(`_seq`))"
    )
    delete_older_rows = (
        f"DELETE t FROM {target} t JOIN {STAGING_TABLE} s ON {_key_join(mapping, 't', 's')} "
        "WHERE s.`_op` = 'delete' AND t.`_seq` < s.`_seq`"
    )
    upsert_unless_tombstoned = _guarded_upsert(
        mapping,
        f"{staged} LEFT JOIN {tombstones} d ON {_key_join(mapping, 's', 'd')}",
        " WHERE s.`_op` = 'upsert' AND (d.`_seq` IS NULL OR s.`_seq` > d.`_seq`)",
        False,
    )
    return MergePlan((record_tombstones, delete_older_rows, upsert_unless_tombstoned))


def claim_object() -> str:
    """The manifest row, inserted first: a second loader of the same object blocks on
    its row lock and then fails on the duplicate key, so it skips instead of reloading."""
    return (
        f"INSERT INTO {quote_identifier(MANIFEST_TABLE)} "
        "(`object_id`, `bucket`, `object_key`, `etag`, `target_table`, `row_count`, `loaded_at`) "
        f"VALUES (%s, %s, %s, %s, %s, 0, {_NOW})"
    )


def record_row_count() -> str:
    return f"UPDATE {quote_identifier(MANIFEST_TABLE)} SET `row_count` = %s WHERE `object_id` = %s"


def object_loaded() -> str:
    return f"SELECT 1 FROM {quote_identifier(MANIFEST_TABLE)} WHERE `object_id` = %s"
