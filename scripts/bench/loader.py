"""Loader benchmark on a private MariaDB: merge a large object into a populated table.

- ours: ``Loader.load`` (method ``local``) of an object of N rows into the target table
  that already holds N rows; half of the object's rows update existing keys (with a
  newer ``_seq``), half are new. Timed from the S3 copy to the commit. The N rows
  already there are setup, loaded with one plain LOAD DATA straight into the target.
- ceiling: plain ``LOAD DATA LOCAL INFILE`` of the same file into an empty table with
  the staging table's columns, on the same server and connection settings.

The merge and the ceiling each run in a fresh child process that prints its own peak
RSS, so the memory figure is the loader's process, object included (the copier streams
it in 1 MiB chunks, as the S3 adapter does). N is 1,000,000 times ``BENCH_SCALE``.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pymysql
from ddb2aurora import sql
from ddb2aurora.aurora_loader import Loader, S3Object
from ddb2aurora.csv_dialect import decode_row, encode_field, load_data_statement
from ddb2aurora.firehose_transform import transform
from ddb2aurora.mapping import TableMapping

from scripts.bench.common import (
    FIRST_TS_MS,
    Row,
    Section,
    firehose_batch,
    peak_rss_mb,
    private_tmp,
    run_child,
    sample_mapping,
    scale,
)
from scripts.local.mariadb import Connection, MariaDBServer, connect

FULL_ROWS = 1_000_000
TARGET_VS_CEILING = 0.40
RSS_LIMIT_MB = 150
CHUNK_BYTES = 1024 * 1024
CEILING_TABLE = "bench_ceiling"
POOL_SIZE = 2_000
# Server settings for the run, closer to Aurora than the stand-in's test defaults: the
# buffer pool is sized to the instance there (64 MB here would measure disk thrashing).
SERVER_SETTINGS = {"innodb_buffer_pool_size": 1024 * 1024 * 1024}


@functools.cache
def _row_pool() -> tuple[list[str | None], ...]:
    """Realistic rows: sample records through the real transform, decoded back."""
    records = firehose_batch()[:POOL_SIZE]
    outcome = transform(records, sample_mapping())
    return tuple(decode_row(base64.b64decode(r["data"]).decode()) for r in outcome.records)


def object_rows(first_key: int, rows: int, seq_base: int, variant: int) -> Iterator[str]:
    """The CSV lines of an object of ``rows`` rows for keys first_key… (the key depends
    only on the number, so two objects overlap where their ranges do); ``variant`` picks
    other values for the non-key columns. Each line is what ``encode_row`` writes for
    those values; the pool's fields are encoded once (the timestamps and change fields
    filled in per row need no escaping), so a million rows take seconds, not a minute."""
    pool = _row_pool()
    keys = [encode_field(values[0]) for values in pool]
    middles = [",".join(encode_field(v) for v in values[2:-4]) for values in pool]
    size = len(pool)
    for number in range(first_key, first_key + rows):
        seconds, millis = divmod(number, 1000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        day, hours = divmod(hours, 24)
        seq = seq_base + number
        yield (
            f'{keys[number % size]},"2026-11-{1 + day:02d} {hours:02d}:{minutes:02d}:'
            f'{seconds:02d}.{millis:03d}",{middles[(number + variant) % size]},"upsert",'
            f'"{seq}","{FIRST_TS_MS + number}","e-{seq}"\n'
        )


def write_object(path: Path, first_key: int, rows: int, seq_base: int, variant: int) -> int:
    """Write :func:`object_rows` to ``path``; returns the size in bytes."""
    with path.open("w", encoding="utf-8", newline="") as sink:
        sink.writelines(object_rows(first_key, rows, seq_base, variant))
    return path.stat().st_size


def _file_copier(path: Path) -> Any:
    def copy(bucket: str, key: str, etag: str, sink: BinaryIO) -> tuple[int, int]:
        size = lines = 0
        with path.open("rb") as source:
            while chunk := source.read(CHUNK_BYTES):
                sink.write(chunk)
                size += len(chunk)
                lines += chunk.count(b"\n")
        return size, lines

    return copy


def _connection(state_file: str) -> Any:
    state = Connection(**json.loads(Path(state_file).read_text()))
    return connect(state, autocommit=False, local_infile=True)


class _TimedCursor:
    """A cursor that records how long each statement takes (the merge's profile)."""

    def __init__(self, cursor: Any, log: list[tuple[str, float]]) -> None:
        self._cursor = cursor
        self._log = log

    def execute(self, statement: str, args: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return self._cursor.execute(statement, args)
        finally:
            self._log.append((statement, time.perf_counter() - started))

    def __enter__(self) -> _TimedCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _TimedConnection:
    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.log: list[tuple[str, float]] = []

    def cursor(self) -> _TimedCursor:
        return _TimedCursor(self._connection.cursor(), self.log)

    def commit(self) -> None:
        started = time.perf_counter()
        self._connection.commit()
        self.log.append(("COMMIT", time.perf_counter() - started))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


# What the server did during a load (global counters of the private server, so the
# deltas are the load's own): row operations and the pages read from disk.
SERVER_COUNTERS = (
    "Handler_read_key",
    "Handler_write",
    "Handler_update",
    "Innodb_buffer_pool_read_requests",
    "Innodb_buffer_pool_reads",
    "Innodb_data_written",
)


def _counters(conn: Any) -> dict[str, int]:
    names = ", ".join(f"'{name}'" for name in SERVER_COUNTERS)
    with conn.cursor() as cursor:
        cursor.execute(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")
        return {name: int(value) for name, value in cursor.fetchall()}


def _deltas(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in SERVER_COUNTERS if name in after}


def _child_merge(state_file: str, object_file: str, tmp_dir: str) -> None:
    mapping = sample_mapping()
    path = Path(object_file)
    conn = _TimedConnection(_connection(state_file))
    loader = Loader(mapping, "local", copy_object=_file_copier(path), tmp_dir=tmp_dir)
    loader.ensure_tables(conn, "mariadb")
    obj = S3Object("bench", path.name, f"etag-{time.time_ns()}", path.stat().st_size)
    before = _counters(conn)
    started = time.perf_counter()
    conn.log.clear()
    result = loader.load(conn, obj, "mariadb")
    seconds = time.perf_counter() - started
    counters = _deltas(before, _counters(conn))
    conn.close()
    steps = [(statement[:70], round(took, 3)) for statement, took in conn.log if took >= 0.01]
    print(
        json.dumps(
            {
                "rows": result.rows,
                "seconds": seconds,
                "peak_rss_mb": peak_rss_mb(),
                "steps": steps,
                "counters": counters,
            }
        )
    )


def _child_ceiling(state_file: str, object_file: str) -> None:
    mapping = sample_mapping()
    conn = _connection(state_file)
    staging = sql.create_staging_tables(mapping, "mariadb")[1]
    with conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CEILING_TABLE}")
        cursor.execute(
            staging.replace(
                f"CREATE TEMPORARY TABLE {sql.STAGING_TABLE}", f"CREATE TABLE {CEILING_TABLE}"
            )
        )
        conn.commit()
        statement = load_data_statement(
            source="local", table=CEILING_TABLE, columns=mapping.csv_columns()
        )
        before = _counters(conn)
        started = time.perf_counter()
        cursor.execute(statement, (object_file,))
        rows = cursor.rowcount
        conn.commit()
        seconds = time.perf_counter() - started
        counters = _deltas(before, _counters(conn))
        cursor.execute(f"DROP TABLE {CEILING_TABLE}")
    conn.close()
    print(
        json.dumps(
            {"rows": rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb(), "counters": counters}
        )
    )


def seed_statement(mapping: TableMapping) -> str:
    """Plain LOAD DATA of an object straight into the empty target table, setting the
    metadata columns as the merge sets them for a new key: the setup of the populated
    table, much faster than merging it (which is not what is measured)."""
    statement = load_data_statement(
        source="local", table=mapping.target_table, columns=mapping.csv_columns()
    )
    for name in ("_op", "_ts", "_event_id"):
        statement = statement.replace(f"`{name}`", f"@{name}", 1)
    event_time = "TIMESTAMP'1970-01-01 00:00:00' + INTERVAL @_ts * 1000 MICROSECOND"
    assignments = f"`_event_ts` = {event_time}, `_loaded_at` = UTC_TIMESTAMP(3)"
    has_set_clause = any(column.binary for column in mapping.csv_columns())
    return statement + (", " if has_set_clause else " SET ") + assignments


def seed(conn: Any, mapping: TableMapping, object_file: Path) -> float:
    """Create the Loader's tables and load ``object_file`` into the empty target with
    :func:`seed_statement`; returns its seconds."""
    Loader(mapping, "local", copy_object=_file_copier(object_file)).ensure_tables(conn, "mariadb")
    started = time.perf_counter()
    with conn.cursor() as cursor:
        cursor.execute(seed_statement(mapping), (str(object_file),))
        cursor.execute("SHOW WARNINGS LIMIT 5")
        warnings = cursor.fetchall()
    conn.commit()
    if warnings:
        raise RuntimeError(f"seeding the target reported warnings: {warnings}")
    return time.perf_counter() - started


def _admin(server: MariaDBServer, state: Connection) -> Any:
    return pymysql.connect(
        unix_socket=state.socket,
        user=state.admin_user,
        password=state.admin_password,
        autocommit=True,
    )


def run() -> Section:
    rows = max(1_000, int(FULL_ROWS * scale()))
    section = Section("loader")
    with private_tmp("loader-") as work:
        tmp = str(work)
        server = MariaDBServer(work / "mariadb")
        state = server.start()
        try:
            admin = _admin(server, state)
            with admin.cursor() as cursor:
                for name, value in SERVER_SETTINGS.items():
                    cursor.execute(f"SET GLOBAL {name} = {value}")
                cursor.execute("SELECT VERSION()")
                (version,) = cursor.fetchone()
                settings = {}
                for name in SERVER_SETTINGS:
                    cursor.execute(f"SELECT @@{name}")
                    settings[name] = cursor.fetchone()[0]
            admin.close()
            state_file = str(server.state_file)
            base = work / "base.csv"
            changes = work / "changes.csv"
            write_object(base, 0, rows, 0, 0)
            changes_bytes = write_object(changes, rows // 2, rows, rows * 2, 1)

            ceiling_first = run_child("scripts.bench.loader", "--ceiling", state_file, str(changes))
            seed_conn = _connection(state_file)
            try:
                seed_seconds = seed(seed_conn, sample_mapping(), base)
            finally:
                seed_conn.close()
            merged = run_child("scripts.bench.loader", "--merge", state_file, str(changes), tmp)
            ceiling_second = run_child(
                "scripts.bench.loader", "--ceiling", state_file, str(changes)
            )
            _verify(state, rows)
        finally:
            server.stop()

    ceiling = min(ceiling_first["seconds"], ceiling_second["seconds"])
    merge_rate = merged["rows"] / merged["seconds"]
    ceiling_rate = rows / ceiling
    ratio = merge_rate / ceiling_rate
    rss = merged["peak_rss_mb"]
    object_mb = changes_bytes / 1e6
    section.rows = [
        Row(
            "loader",
            f"rows/s merging {rows:,} rows into {rows:,} (half updates) vs plain LOAD DATA",
            f"{merge_rate:,.0f}",
            f"{ceiling_rate:,.0f}",
            ratio,
            f">= {TARGET_VS_CEILING:.0%}",
            ratio >= TARGET_VS_CEILING,
        ),
        Row(
            "loader",
            f"peak RSS of the loader process, {object_mb:,.0f} MB object (MB)",
            f"{rss:.0f}",
            f"{RSS_LIMIT_MB}",
            None,
            f"< {RSS_LIMIT_MB} MB" + ("" if object_mb >= 100 else " (object < 100 MB: scaled run)"),
            rss < RSS_LIMIT_MB,
        ),
    ]
    section.measurements = {
        "rows": rows,
        "object_bytes": changes_bytes,
        "server_version": version,
        "server_settings": settings,
        "merge_seconds": merged["seconds"],
        "merge_rows_per_second": merge_rate,
        "seed_seconds": seed_seconds,
        "ceiling_seconds": [ceiling_first["seconds"], ceiling_second["seconds"]],
        "ceiling_rows_per_second": ceiling_rate,
        "merge_steps": merged["steps"],
        "server_counters": {"merge": merged["counters"], "ceiling": ceiling_second["counters"]},
        "peak_rss_mb": {
            "merge": merged["peak_rss_mb"],
            "ceiling": ceiling_first["peak_rss_mb"],
        },
    }
    return section


def _verify(state: Connection, rows: int) -> None:
    """The merge really happened: 1.5 N rows, and every overlapping key took the newer change."""
    conn = connect(state)
    with conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), SUM(`_seq` >= %s) FROM web_analytics", (rows * 2,))
        total, newer = cursor.fetchone()
    conn.close()
    if (total, int(newer)) != (rows + rows // 2, rows):
        raise RuntimeError(f"merge result wrong: {total} rows, {newer} from the second object")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merge", nargs=3, metavar=("STATE", "OBJECT", "TMP"))
    parser.add_argument("--ceiling", nargs=2, metavar=("STATE", "OBJECT"))
    args = parser.parse_args()
    if args.merge:
        _child_merge(*args.merge)
    elif args.ceiling:
        _child_ceiling(*args.ceiling)
    else:
        section = run()
        for row in section.rows:
            print(row)
        print(json.dumps(section.measurements, indent=1))
