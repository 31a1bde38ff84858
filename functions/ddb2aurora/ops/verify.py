"""verify: does the database hold what DynamoDB holds?

DynamoDB items go through ``TableMapping.row`` (the transform's own validation and
conversion), database rows are read as stored; both become canonical text and a digest
per row (digest.py). Items the mapping rejects are reported apart: they are expected
under the error prefix, not in the table. Soft-deleted rows (``_deleted_at`` set) count
as absent. ``--sample N`` checks N random items against the database and N random live
rows against DynamoDB instead of everything. Keys still differing after a consistent
re-read of both sides (``recheck``) are drift; changes in flight settle out.
Each run is stored in ``_ddb2aurora_verify_runs`` for ``status``.

Memory: the full pass keeps per key only its key text and a 16-byte digest per side (item
keys only where they cannot be rebuilt from the key text): about 0.7 KiB per row whatever
the row's width (tracemalloc peak, 20,000 and 100,000 rows; 2.5 KiB when it kept values),
growing with the number of keys only; differing keys are read again to describe them.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ddb2aurora.mapping import RecordRejected, TableMapping
from ddb2aurora.ops.aws import Client
from ddb2aurora.ops.digest import (
    Drift,
    Key,
    Side,
    canonical_row,
    compare,
    differing_columns,
    key_text,
)
from ddb2aurora.ops.errors import OpsError
from ddb2aurora.ops.records import keys_text, wire
from ddb2aurora.ops.scan import RateLimiter, describe_table, read_budget, scan_segment
from ddb2aurora.ops.target import Target
from ddb2aurora.sql_types import Kind, quote_identifier

VERIFY_RUNS_TABLE = "_ddb2aurora_verify_runs"
REPORT_KEYS_LIMIT = 100  # keys stored per category; the printed report shows fewer
KEY_BATCH = 100
Progress = Callable[[int], None]


def create_verify_runs_table() -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {VERIFY_RUNS_TABLE} ("
        "`id` BIGINT NOT NULL AUTO_INCREMENT, `target_table` VARCHAR(64) NOT NULL, "
        "`mode` VARCHAR(16) NOT NULL, `started_at` DATETIME(3) NOT NULL, "
        "`finished_at` DATETIME(3) NOT NULL, `ok` BOOLEAN NOT NULL, "
        "`source_rows` BIGINT NOT NULL, `database_rows` BIGINT NOT NULL, "
        "`missing` BIGINT NOT NULL, `extra` BIGINT NOT NULL, `different` BIGINT NOT NULL, "
        "`rejected` BIGINT NOT NULL, `report` LONGTEXT NOT NULL, PRIMARY KEY (`id`)"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )


@dataclass
class VerifyResult:
    table: str
    target_table: str
    mode: str
    started_at: datetime
    finished_at: datetime
    drift: Drift
    mapping: TableMapping

    @property
    def ok(self) -> bool:
        return self.drift.ok

    def as_dict(self, limit: int = REPORT_KEYS_LIMIT) -> dict[str, Any]:
        drift = self.drift
        names = self.mapping.keys

        def keys(items: Sequence[Key]) -> list[dict[str, str]]:
            return [dict(zip(names, key, strict=True)) for key in items[:limit]]

        return {
            "ok": self.ok,
            "table": self.table,
            "target_table": self.target_table,
            "mode": self.mode,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "source_rows": drift.source_rows,
            "database_rows": drift.database_rows,
            "deleted_rows": drift.deleted_rows,
            "counts": {
                "missing": len(drift.missing),
                "extra": len(drift.extra),
                "different": len(drift.different),
                "rejected": len(drift.rejected),
            },
            "missing": keys(drift.missing),
            "extra": keys(drift.extra),
            "different": [
                {
                    "key": dict(zip(names, d.key, strict=True)),
                    "columns": [
                        {"column": c, "dynamodb": a, "database": b} for c, a, b in d.columns
                    ],
                }
                for d in drift.different[:limit]
            ],
            "rejected": [{"keys": k, "reason": r} for k, r in drift.rejected[:limit]],
        }


# ---- DynamoDB side -------------------------------------------------------------------------


def add_item(
    mapping: TableMapping,
    side: Side,
    item: dict[str, Any],
    attribute_types: dict[str, str] | None = None,
) -> None:
    """Add the item's row; with ``attribute_types`` (the full pass) also keep the item's
    key wherever ``guess_typed_keys`` would not rebuild it, for the re-reads."""
    keys = {name: item[name] for name in _key_attributes(mapping) if name in item}
    try:
        row = canonical_row(mapping, mapping.row(wire(item)))
    except RecordRejected as rejection:
        side.rejected.append((keys_text(wire(keys)), str(rejection)))
        return
    rebuilt = attribute_types is None or _rebuilds(mapping, row.key, keys, attribute_types)
    side.add(row, None if rebuilt else keys)


def _rebuilds(
    mapping: TableMapping, key: Key, keys: dict[str, Any], attribute_types: dict[str, str]
) -> bool:
    try:
        return guess_typed_keys(mapping, key, attribute_types) == keys
    except ValueError:
        return False


def _item_keys(
    mapping: TableMapping, source: Side, keys: Iterable[Key], attribute_types: dict[str, str]
) -> list[dict[str, Any]]:
    """The DynamoDB keys of source keys: as kept, else rebuilt (add_item checked they can be)."""
    return [
        source.typed_keys.get(key) or guess_typed_keys(mapping, key, attribute_types)
        for key in keys
    ]


def _key_attributes(mapping: TableMapping) -> list[str]:
    return [str(column.path[0]) for column in mapping.key_columns]


def source_side(
    dynamodb: Client,
    *,
    table: str,
    mapping: TableMapping,
    attribute_types: dict[str, str],
    segments: int,
    budget: float | None,
    progress: Progress,
) -> Side:
    side = Side(keep_rows=False)
    lock = threading.Lock()
    stop = threading.Event()
    limiter = RateLimiter(budget) if budget else None

    def run(segment: int) -> None:
        for items, _ in scan_segment(
            dynamodb,
            table=table,
            segment=segment,
            total_segments=segments,
            start_key=None,
            limiter=limiter,
            stop=stop,
            page_size=1000,
            consistent=True,
        ):
            with lock:
                for item in items:
                    add_item(mapping, side, item, attribute_types)
            progress(len(items))

    threads = [threading.Thread(target=_guard(run, stop), args=(s,)) for s in range(segments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if getattr(stop, "error", None):
        raise stop.error  # type: ignore[attr-defined]
    return side


def _guard(run: Callable[[int], None], stop: threading.Event) -> Callable[[int], None]:
    def guarded(segment: int) -> None:
        try:
            run(segment)
        except BaseException as error:
            stop.error = error  # type: ignore[attr-defined]
            stop.set()

    return guarded


# ---- database side -------------------------------------------------------------------------


def _select_columns(mapping: TableMapping) -> str:
    return ", ".join(quote_identifier(c.name) for c in mapping.columns) + ", `_deleted_at`"


def database_side(
    connection: Any,
    mapping: TableMapping,
    rows: Iterable[Sequence[Any]],
    *,
    keep_rows: bool = True,
) -> Side:
    side = Side(keep_rows=keep_rows)
    for *values, deleted_at in rows:
        if deleted_at is not None:
            side.deleted += 1
            continue
        side.add(canonical_row(mapping, values))
    return side


def read_database(
    connection: Any,
    mapping: TableMapping,
    progress: Progress,
    *,
    missing_ok: bool = False,
    keep_rows: bool = True,
) -> Side:
    """Every row of the target table (values too with ``keep_rows``); a table that does
    not exist yet is an OpsError, or (``missing_ok``) an empty side."""
    table = quote_identifier(mapping.target_table)
    connection.commit()  # a fresh snapshot
    side = Side(keep_rows=keep_rows)
    with connection.cursor() as cursor:
        if not _table_exists(cursor, mapping):
            if missing_ok:
                return side
            raise OpsError(
                f"the target table {mapping.target_table} does not exist in the database: "
                "the loader creates it with the first object it loads, so nothing has been "
                "loaded yet (check the loader's dead-letter queue and `ddb2aurora status`)"
            )
        cursor.execute(f"SELECT {_select_columns(mapping)} FROM {table}")
        while batch := cursor.fetchmany(5000):
            side.merge(database_side(connection, mapping, batch, keep_rows=keep_rows))
            progress(len(batch))
    return side


def _key_parameter(kind: Kind, text: str) -> Any:
    return bytes.fromhex(text) if kind is Kind.BINARY else text


def database_rows_for(connection: Any, mapping: TableMapping, keys: Sequence[Key]) -> Side:
    """The database rows (live or deleted) with these keys."""
    table = quote_identifier(mapping.target_table)
    kinds = [c.sql_type.kind for c in mapping.key_columns]
    match = " AND ".join(f"{quote_identifier(k)} = %s" for k in mapping.keys)
    side = Side()
    with connection.cursor() as cursor:
        for start in range(0, len(keys), KEY_BATCH):
            batch = keys[start : start + KEY_BATCH]
            where = " OR ".join(f"({match})" for _ in batch)
            params = [
                _key_parameter(kind, v) for key in batch for kind, v in zip(kinds, key, strict=True)
            ]
            cursor.execute(f"SELECT {_select_columns(mapping)} FROM {table} WHERE {where}", params)
            side.merge(database_side(connection, mapping, cursor.fetchall()))
    return side


def guess_typed_keys(
    mapping: TableMapping, key: Key, attribute_types: dict[str, str]
) -> dict[str, Any]:
    """The DynamoDB key of a database row, rebuilt from its key columns: verbatim for
    strings, numbers and binary; a DATETIME key in the ISO-8601 spelling with ``Z`` and
    the column's fractional digits (the spelling the sample mapping's schema enforces)."""
    typed: dict[str, Any] = {}
    for column, text in zip(mapping.key_columns, key, strict=True):
        attribute = str(column.path[0])
        kind = attribute_types.get(attribute, "S")
        if kind == "B":
            typed[attribute] = {"B": bytes.fromhex(text)}
        elif column.sql_type.kind is Kind.DATETIME and column.format in (None, "iso8601"):
            moment = datetime.fromisoformat(text)
            digits = column.sql_type.length
            fraction = f".{moment.microsecond:06d}"[: digits + 1] if digits else ""
            typed[attribute] = {"S": moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"}
        elif column.sql_type.kind in (Kind.DATETIME, Kind.DATE):
            raise ValueError(f"key column {column.name} cannot be turned back into its item key")
        else:
            typed[attribute] = {kind: text}
    return typed


def source_items_for(
    dynamodb: Client, table: str, mapping: TableMapping, keys: Iterable[dict[str, Any]]
) -> Side:
    """Consistent GetItem of each typed key."""
    side = Side()
    for typed in keys:
        response = dynamodb.get_item(TableName=table, Key=typed, ConsistentRead=True)
        if "Item" in response:
            add_item(mapping, side, response["Item"])
    return side


def _attribute_types(dynamodb: Client, table: str) -> dict[str, str]:
    described = dynamodb.describe_table(TableName=table)["Table"]
    return {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}


# ---- the command --------------------------------------------------------------------------


def run_verify(
    target: Target,
    connection: Any,
    *,
    sample: int | None,
    segments: int,
    read_share: float | None,
    max_rcu: float | None,
    recheck_after: float,
    progress: Progress,
    on_total: Progress,
) -> VerifyResult:
    mapping = target.mapping()
    if mapping.write_mode == "append":
        raise OpsError(
            f"{mapping.target_table} is an append-mode table (one row per change), so it "
            "holds history, not DynamoDB's current state: verify compares upsert-mode tables"
        )
    dynamodb = target.aws.client("dynamodb")
    table = target.require("table")
    info = describe_table(dynamodb, table)
    budget = read_budget(info, read_share or 1.0, max_rcu) if (read_share or max_rcu) else None
    started = datetime.now(UTC)
    if sample:
        drift = _sampled(
            dynamodb,
            table=table,
            mapping=mapping,
            connection=connection,
            sample=sample,
            item_count=info.item_count,
            on_total=on_total,
            progress=progress,
        )
    else:
        on_total(info.item_count + _row_count(connection, mapping))
        types = _attribute_types(dynamodb, table)
        source = source_side(
            dynamodb,
            table=table,
            mapping=mapping,
            attribute_types=types,
            segments=segments,
            budget=budget,
            progress=progress,
        )
        database = read_database(connection, mapping, progress, keep_rows=False)
        drift = compare(mapping, source, database)
        reader = _KeyReader(dynamodb, table, mapping, connection, source, types)
        if not drift.ok and recheck_after >= 0:
            drift = _recheck(reader, drift, recheck_after)
        elif drift.different:
            _describe_differences(reader, drift)
    result = VerifyResult(
        table=table,
        target_table=mapping.target_table,
        mode=f"sample:{sample}" if sample else "full",
        started_at=started,
        finished_at=datetime.now(UTC),
        drift=drift,
        mapping=mapping,
    )
    store_result(connection, result)
    return result


def _sampled(
    dynamodb: Client,
    *,
    table: str,
    mapping: TableMapping,
    connection: Any,
    sample: int,
    item_count: int,
    on_total: Progress,
    progress: Progress,
) -> Drift:
    """N random items (one random Scan segment sized to hold about N) against the
    database, and N random live rows against DynamoDB."""
    on_total(sample * 2)
    total_segments = max(1, min(1_000_000, item_count // max(1, sample)))
    segment = random.randrange(total_segments)  # noqa: S311 - sampling, not security
    source = Side()
    stop = threading.Event()
    for items, _ in scan_segment(
        dynamodb,
        table=table,
        segment=segment,
        total_segments=total_segments,
        start_key=None,
        limiter=None,
        stop=stop,
        page_size=1000,
        consistent=True,
    ):
        for item in items[: sample - len(source.digests) - len(source.rejected)]:
            add_item(mapping, source, item)
        progress(len(items))
        if len(source.digests) + len(source.rejected) >= sample:
            break
    database = database_rows_for(connection, mapping, list(source.digests))
    drift = compare(mapping, source, database, keys=list(source.digests))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_select_columns(mapping)} FROM {quote_identifier(mapping.target_table)} "
            "WHERE `_deleted_at` IS NULL ORDER BY RAND() LIMIT %s",
            (sample,),
        )
        live = database_side(connection, mapping, cursor.fetchall())
    progress(len(live.digests))
    types = _attribute_types(dynamodb, table)
    try:
        typed = [guess_typed_keys(mapping, key, types) for key in live.digests]
        found: Side | None = source_items_for(dynamodb, table, mapping, typed)
    except ValueError:
        found = None  # key columns not invertible: only the DynamoDB → database direction
    if found is not None:
        back = compare(mapping, found, live, keys=list(live.digests))
        drift.extra = sorted(set(drift.extra) | set(back.extra))
        known = {d.key for d in drift.different}
        drift.different += [d for d in back.different if d.key not in known]
    drift.source_rows, drift.database_rows = item_count, _live_count(connection, mapping)
    return drift


def _live_count(connection: Any, mapping: TableMapping) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {quote_identifier(mapping.target_table)} "
            "WHERE `_deleted_at` IS NULL"
        )
        return int(cursor.fetchone()[0])


def _row_count(connection: Any, mapping: TableMapping) -> int:
    """Every row a full pass reads, soft-deleted ones too (0 while the table does not exist
    yet: the pass itself says so)."""
    with connection.cursor() as cursor:
        if not _table_exists(cursor, mapping):
            return 0
        cursor.execute(f"SELECT COUNT(*) FROM {quote_identifier(mapping.target_table)}")
        return int(cursor.fetchone()[0])


def _table_exists(cursor: Any, mapping: TableMapping) -> bool:
    cursor.execute(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_name = %s",
        (mapping.target_table,),
    )
    return bool(cursor.fetchone()[0])


@dataclass(frozen=True)
class _KeyReader:
    """After a full pass: reads just the keys it names on both sides."""

    dynamodb: Client
    table: str
    mapping: TableMapping
    connection: Any
    source: Side  # the pass's DynamoDB side, for the typed keys it saw
    attribute_types: dict[str, str]

    def read(self, keys: Sequence[Key], database_only: Sequence[Key] = ()) -> tuple[Side, Side]:
        """(DynamoDB, database) for ``keys``, looked up in DynamoDB by the typed keys the
        pass saw, and ``database_only`` keys (rows no item was scanned for), by keys typed
        from the table's attribute types when they can be built."""
        database = database_rows_for(self.connection, self.mapping, [*keys, *database_only])
        typed = _item_keys(self.mapping, self.source, keys, self.attribute_types)
        for key in database_only:
            try:
                typed.append(guess_typed_keys(self.mapping, key, self.attribute_types))
            except ValueError:
                continue  # stays extra: no item key can be built to look for it
        return source_items_for(self.dynamodb, self.table, self.mapping, typed), database


def _recheck(reader: _KeyReader, drift: Drift, delay: float) -> Drift:
    """Re-read the drifting keys on both sides after ``delay`` seconds; keep what still
    differs. Extra rows are re-read from the database only (a scan found no item)."""
    time.sleep(delay)
    reader.connection.commit()
    scanned = drift.missing + [d.key for d in drift.different]
    fresh, database = reader.read(scanned, database_only=drift.extra)
    rechecked = compare(reader.mapping, fresh, database, keys=scanned + drift.extra)
    drift.missing, drift.extra, drift.different = (
        rechecked.missing,
        rechecked.extra,
        rechecked.different,
    )
    return drift


def _describe_differences(reader: _KeyReader, drift: Drift) -> None:
    """Name the differing columns of keys a digest-only pass found different, from a
    read of just those keys on both sides (the database in the pass's snapshot)."""
    fresh, database = reader.read([d.key for d in drift.different])
    for difference in drift.different:
        difference.columns = differing_columns(
            reader.mapping, fresh.rows.get(difference.key), database.rows.get(difference.key)
        )


def store_result(connection: Any, result: VerifyResult) -> None:
    counts = result.as_dict()["counts"]
    with connection.cursor() as cursor:
        cursor.execute(create_verify_runs_table())
        cursor.execute(
            f"INSERT INTO {VERIFY_RUNS_TABLE} (`target_table`, `mode`, `started_at`, "
            "`finished_at`, `ok`, `source_rows`, `database_rows`, `missing`, `extra`, "
            "`different`, `rejected`, `report`) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s)",
            (
                result.target_table,
                result.mode,
                result.started_at.replace(tzinfo=None),
                result.finished_at.replace(tzinfo=None),
                result.ok,
                result.drift.source_rows,
                result.drift.database_rows,
                counts["missing"],
                counts["extra"],
                counts["different"],
                counts["rejected"],
                json.dumps(result.as_dict()),
            ),
        )
    connection.commit()


def last_result(connection: Any) -> dict[str, Any] | None:
    with connection.cursor() as cursor:
        cursor.execute(create_verify_runs_table())
        cursor.execute(
            f"SELECT `finished_at`, `mode`, `ok`, `source_rows`, `database_rows`, `missing`, "
            f"`extra`, `different`, `rejected` FROM {VERIFY_RUNS_TABLE} ORDER BY `id` DESC LIMIT 1"
        )
        row = cursor.fetchone()
    connection.commit()
    if row is None:
        return None
    names = (
        "finished_at",
        "mode",
        "ok",
        "source_rows",
        "database_rows",
        "missing",
        "extra",
        "different",
        "rejected",
    )
    result = dict(zip(names, row, strict=True))
    result["ok"] = bool(result["ok"])
    result["finished_at"] = str(result["finished_at"])
    return result


def describe(result: VerifyResult, limit: int = 10) -> list[str]:
    """The report as lines of text naming the keys."""
    drift, mapping = result.drift, result.mapping
    lines = [
        f"{result.table} (DynamoDB) vs {result.target_table} (database), {result.mode}: "
        f"{drift.source_rows} items, {drift.database_rows} live rows, "
        f"{drift.deleted_rows} soft-deleted, {len(drift.rejected)} rejected by the mapping",
    ]
    for title, keys in (
        ("missing in the database", drift.missing),
        ("extra in the database", drift.extra),
    ):
        if keys:
            lines.append(f"{len(keys)} {title}:")
            lines += [f"  {key_text(mapping, key)}" for key in keys[:limit]]
    if drift.different:
        lines.append(f"{len(drift.different)} differing:")
        for difference in drift.different[:limit]:
            columns = "; ".join(f"{c}: {a!r} != {b!r}" for c, a, b in difference.columns)
            lines.append(f"  {key_text(mapping, difference.key)}: {columns}")
    if drift.rejected:
        lines.append(f"{len(drift.rejected)} items the mapping rejects (not drift; see errors/):")
        lines += [f"  {keys}: {reason}" for keys, reason in drift.rejected[:limit]]
    lines.append("OK: no drift" if result.ok else "DRIFT: the database differs from DynamoDB")
    return lines
