"""The loader against the real MariaDB: merge modes, idempotence, order independence,
and failures that must leave nothing half applied. S3 is a dict of objects here (the
loader's copier port); the database side is real."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, BinaryIO

import pymysql
import pymysql.cursors
import pytest
from ddb2aurora.aurora_loader import Loader, LoadRejected, S3Object
from ddb2aurora.mapping import TableMapping
from ddb2aurora.sql import STAGING_TABLE

from scripts.local.mariadb import connect
from tests.support.records import clickstream_item, csv_object, delete, sample_mapping, upsert

pytestmark = pytest.mark.mariadb
COMPARED = (
    "page_id, activity_dt, hits, device_make, platform_name, platform_version, latitude, "
    "longitude, country_code, session_id, session_start, session_end, _seq, _event_ts, _deleted_at"
)


class FakeBucket:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.before_copy: Callable[[], None] | None = None

    def put(self, key: str, body: bytes) -> S3Object:
        self.objects[key] = body
        return S3Object("bucket", key, f"etag-{hash(body) & 0xFFFFFFFF:x}", len(body))

    def copy(self, bucket: str, key: str, etag: str, sink: BinaryIO) -> tuple[int, int]:
        if self.before_copy is not None:
            self.before_copy()
        body = self.objects[key]
        sink.write(body)
        return len(body), body.count(b"\n")


def rows(
    conn: Any,
    table: str = "web_analytics",
    columns: str = COMPARED,
    order: str = "page_id, activity_dt",
) -> list[tuple[Any, ...]]:
    conn.commit()
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM `{table}` ORDER BY {order}")
        return list(cursor.fetchall())


def make_loader(mapping: TableMapping, bucket: FakeBucket, conn: Any) -> Loader:
    loader = Loader(mapping, "local", copy_object=bucket.copy)
    loader.ensure_tables(conn, "mariadb")
    return loader


def history(mapping: TableMapping, bucket: FakeBucket) -> list[S3Object]:
    """Five objects of interleaved changes to a few items, in stream order."""
    a, b, c = (clickstream_item(f"/p/{n}") for n in "abc")
    batches = [
        [upsert(a, 10), upsert(b, 11)],
        [
            upsert(clickstream_item("/p/a", hits=2), 12),
            upsert(c, 13),
            delete("/p/b", b["activity_dt"], 14, old_image=b),
        ],
        [upsert(clickstream_item("/p/a", hits=3, make="Samsung"), 15)],
        [
            delete("/p/c", c["activity_dt"], 16, old_image=c),
            upsert(clickstream_item("/p/b", hits=9), 17),
        ],
        [
            upsert(clickstream_item("/p/c", hits=4), 18),
            delete("/p/a", a["activity_dt"], 19),
        ],  # keys only, as a KEYS_ONLY stream sends,
    ]
    return [bucket.put(f"data/{i}", csv_object(batch, mapping)) for i, batch in enumerate(batches)]


@pytest.mark.parametrize("delete_mode", ["soft", "hard"])
def test_any_order_any_number_of_times_equals_once_in_order(db_conn: Any, delete_mode: str) -> None:
    mapping = sample_mapping(delete_mode=delete_mode)
    bucket = FakeBucket()
    objects = history(mapping, bucket)
    loader = make_loader(mapping, bucket, db_conn)
    for obj in objects:
        assert loader.load(db_conn, obj, "mariadb").status == "loaded"
    expected = rows(db_conn)
    # after once in order: a deleted, b re-inserted by 17, c re-inserted by 18
    live = [r for r in expected if r[-1] is None]
    assert [(r[0], r[2]) for r in live] == [("/p/b", 9), ("/p/c", 4)]

    rng = random.Random(7)
    for _ in range(6):
        with db_conn.cursor() as cursor:
            for table in ("web_analytics", "web_analytics__tombstones", "_ddb2aurora_manifest"):
                cursor.execute(f"DROP TABLE IF EXISTS `{table}`")
        loader.ensure_tables(db_conn, "mariadb")
        sequence = [rng.choice(objects) for _ in range(12)] + objects
        rng.shuffle(sequence)
        for obj in sequence:
            loader.load(db_conn, obj, "mariadb")
        assert rows(db_conn) == expected


def test_same_object_twice_is_a_no_op(db_conn: Any) -> None:
    mapping = sample_mapping()
    bucket = FakeBucket()
    obj = bucket.put("data/x", csv_object([upsert(clickstream_item("/p/x"), 5)], mapping))
    loader = make_loader(mapping, bucket, db_conn)
    assert loader.load(db_conn, obj, "mariadb").rows == 1
    before = rows(db_conn, columns="*")
    second = loader.load(db_conn, obj, "mariadb")
    assert (second.status, second.rows) == ("skipped", 0)
    assert rows(db_conn, columns="*") == before


def test_objects_in_reverse_order_keep_the_newest_change(db_conn: Any) -> None:
    mapping = sample_mapping()
    bucket = FakeBucket()
    old = bucket.put("data/1", csv_object([upsert(clickstream_item("/p/r", hits=1), 1)], mapping))
    new = bucket.put("data/2", csv_object([upsert(clickstream_item("/p/r", hits=2), 2)], mapping))
    loader = make_loader(mapping, bucket, db_conn)
    loader.load(db_conn, new, "mariadb")
    loader.load(db_conn, old, "mariadb")
    assert [(r[0], r[2], r[12]) for r in rows(db_conn)] == [("/p/r", 2, 2)]


def test_soft_delete_keeps_values_and_reinsert_clears_it(db_conn: Any) -> None:
    mapping = sample_mapping()
    bucket = FakeBucket()
    item = clickstream_item("/p/s", hits=7)
    loader = make_loader(mapping, bucket, db_conn)
    loader.load(
        db_conn,
        bucket.put(
            "d/1",
            csv_object(
                [upsert(item, 1), delete("/p/s", item["activity_dt"], 2, old_image=item)], mapping
            ),
        ),
        "mariadb",
    )
    (row,) = rows(db_conn)
    assert row[2] == 7 and row[-1] is not None
    loader.load(
        db_conn,
        bucket.put("d/2", csv_object([upsert(clickstream_item("/p/s", hits=8), 3)], mapping)),
        "mariadb",
    )
    (row,) = rows(db_conn)
    assert row[2] == 8 and row[-1] is None


def test_hard_delete_removes_and_an_older_upsert_cannot_resurrect(db_conn: Any) -> None:
    mapping = sample_mapping(delete_mode="hard")
    bucket = FakeBucket()
    item = clickstream_item("/p/h")
    loader = make_loader(mapping, bucket, db_conn)
    loader.load(db_conn, bucket.put("d/1", csv_object([upsert(item, 1)], mapping)), "mariadb")
    loader.load(
        db_conn,
        bucket.put("d/3", csv_object([delete("/p/h", item["activity_dt"], 3)], mapping)),
        "mariadb",
    )
    assert rows(db_conn) == []
    loader.load(
        db_conn,
        bucket.put("d/2", csv_object([upsert(clickstream_item("/p/h", hits=5), 2)], mapping)),
        "mariadb",
    )
    assert rows(db_conn) == []
    loader.load(
        db_conn,
        bucket.put("d/4", csv_object([upsert(clickstream_item("/p/h", hits=6), 4)], mapping)),
        "mariadb",
    )
    assert [(r[2], r[12]) for r in rows(db_conn)] == [(6, 4)]


def test_append_mode_keeps_one_row_per_change(db_conn: Any) -> None:
    mapping = sample_mapping(write_mode="append")
    bucket = FakeBucket()
    item = clickstream_item("/p/a")
    changes = [
        upsert(item, 1),
        upsert(clickstream_item("/p/a", hits=2), 2),
        delete("/p/a", item["activity_dt"], 3),
    ]
    obj = bucket.put("d/1", csv_object(changes, mapping))
    loader = make_loader(mapping, bucket, db_conn)
    loader.load(db_conn, obj, "mariadb")
    loader.load(db_conn, bucket.put("d/1-again", csv_object(changes, mapping)), "mariadb")
    history_rows = rows(db_conn, columns="hits, _op, _seq, _deleted_at IS NOT NULL")
    assert [tuple(r) for r in history_rows] == [
        (1, "upsert", 1, 0),
        (2, "upsert", 2, 0),
        (None, "delete", 3, 1),
    ] or sorted(history_rows, key=lambda r: r[2]) == [
        (1, "upsert", 1, 0),
        (2, "upsert", 2, 0),
        (None, "delete", 3, 1),
    ]


def test_connection_dropped_mid_load_leaves_nothing_and_a_retry_applies(
    mariadb: Any, db_conn: Any
) -> None:
    mapping = sample_mapping()
    bucket = FakeBucket()
    obj = bucket.put(
        "d/1", csv_object([upsert(clickstream_item(f"/p/{i}"), i + 1) for i in range(50)], mapping)
    )
    loader = make_loader(mapping, bucket, db_conn)
    victim = connect(mariadb.connection, autocommit=False, local_infile=True)
    with victim.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        (victim_id,) = cursor.fetchone()

    def kill_victim() -> None:
        with db_conn.cursor() as cursor:
            cursor.execute(f"KILL CONNECTION {int(victim_id)}")

    bucket.before_copy = kill_victim
    with pytest.raises(pymysql.err.OperationalError):
        loader.load(victim, obj, "mariadb")
    assert rows(db_conn) == []
    assert rows(db_conn, "_ddb2aurora_manifest", "object_id", "object_id") == []

    bucket.before_copy = None
    retry = connect(mariadb.connection, autocommit=False, local_infile=True)
    assert loader.load(retry, obj, "mariadb").rows == 50
    assert len(rows(db_conn)) == 50


def _session_ids(conn: Any) -> set[int]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT id FROM information_schema.PROCESSLIST")
        return {int(row[0]) for row in cursor.fetchall()}


def test_connection_dropped_between_staging_load_and_merge_leaves_nothing_and_a_retry_applies(
    mariadb: Any, db_conn: Any
) -> None:
    """Injected: KILL CONNECTION of the loader's session from another session, after the
    staging LOAD DATA (and its warnings check) finished and before the first merge
    statement is sent. The loader's claim, staging table and loaded rows are then all in
    a transaction and a temporary table of a session that no longer exists."""
    mapping = sample_mapping()
    bucket = FakeBucket()
    first = bucket.put(
        "d/0", csv_object([upsert(clickstream_item(f"/p/{i}"), i + 1) for i in range(10)], mapping)
    )
    second = bucket.put(
        "d/1",
        csv_object(
            [upsert(clickstream_item(f"/p/{i}", hits=2), 100 + i) for i in range(50)], mapping
        ),
    )
    loader = make_loader(mapping, bucket, db_conn)
    loader.load(db_conn, first, "mariadb")
    before = rows(db_conn, columns="*")
    manifest_before = rows(db_conn, "_ddb2aurora_manifest", "object_id", "object_id")

    victim = connect(mariadb.connection, autocommit=False, local_infile=True)
    with victim.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        (victim_id,) = cursor.fetchone()
    first_merge_statement = loader._merge.statements[0]
    staged_when_killed: list[int] = []

    class KillBeforeMerge(pymysql.cursors.Cursor):  # type: ignore[misc]
        """The loader's own cursor class on the victim connection: the kill happens in
        the statement path the loader uses, at the one moment under test."""

        def execute(self, query: str, args: Any = None) -> int:
            if query == first_merge_statement and not staged_when_killed:
                with victim.cursor(pymysql.cursors.Cursor) as own:
                    own.execute(f"SELECT COUNT(*) FROM `{STAGING_TABLE}`")
                    staged_when_killed.append(int(own.fetchone()[0]))
                with db_conn.cursor() as admin:
                    admin.execute(f"KILL CONNECTION {int(victim_id)}")
                for _ in range(100):  # KILL is asynchronous: the session must be gone first
                    if int(victim_id) not in _session_ids(db_conn):
                        break
                    time.sleep(0.05)
            return int(super().execute(query, args))

    victim.cursorclass = KillBeforeMerge
    with pytest.raises(pymysql.err.OperationalError):
        loader.load(victim, second, "mariadb")

    assert staged_when_killed == [50]  # the staging load had finished: the drop was in between
    # the staging table was a TEMPORARY table of that session, and the session is gone
    assert int(victim_id) not in _session_ids(db_conn)
    assert rows(db_conn, columns="*") == before
    assert rows(db_conn, "_ddb2aurora_manifest", "object_id", "object_id") == manifest_before
    victim.close()

    retry = connect(mariadb.connection, autocommit=False, local_infile=True)
    assert loader.load(retry, second, "mariadb").status == "loaded"
    assert loader.load(retry, second, "mariadb").status == "skipped"
    retry.close()
    after = rows(db_conn)
    assert [(r[0], r[2], r[12]) for r in after] == [
        (f"/p/{i}", 2, 100 + i) for i in sorted(range(50), key=lambda i: f"/p/{i}")
    ]
    manifest = rows(db_conn, "_ddb2aurora_manifest", "object_id", "object_id")
    assert sorted(manifest) == sorted([(first.object_id,), (second.object_id,)])


def test_an_object_that_does_not_load_cleanly_is_rolled_back(db_conn: Any) -> None:
    mapping = sample_mapping()
    bucket = FakeBucket()
    good = csv_object([upsert(clickstream_item("/p/ok"), 1)], mapping)
    # a hits value out of INT UNSIGNED range: LOAD DATA LOCAL turns it into a warning
    bad_line = good.replace(b'"1","Apple"', b'"99999999999","Apple"')
    assert bad_line != good
    obj = bucket.put("d/bad", good + bad_line.replace(b"/p/ok", b"/p/bad"))
    loader = make_loader(mapping, bucket, db_conn)
    with pytest.raises(LoadRejected, match="warnings"):
        loader.load(db_conn, obj, "mariadb")
    assert rows(db_conn) == []
    assert rows(db_conn, "_ddb2aurora_manifest", "object_id", "object_id") == []


def test_concurrent_loads_of_one_object_apply_it_once(mariadb: Any, db_conn: Any) -> None:
    mapping = sample_mapping(write_mode="append")
    bucket = FakeBucket()
    obj = bucket.put("d/c", csv_object([upsert(clickstream_item("/p/c"), 1)], mapping))
    loader = make_loader(mapping, bucket, db_conn)
    first = connect(mariadb.connection, autocommit=False, local_infile=True)
    second = connect(mariadb.connection, autocommit=False, local_infile=True)
    with second.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 2")
    # first claims and holds the manifest row lock, as a slow concurrent loader would
    first.begin()
    with first.cursor() as cursor:
        cursor.execute(
            "INSERT INTO _ddb2aurora_manifest VALUES"
            " (%s, 'bucket', 'd/c', %s, 'web_analytics', 0, UTC_TIMESTAMP(3))",
            (obj.object_id, obj.etag),
        )
    with pytest.raises(pymysql.err.OperationalError):  # lock wait timeout, rolled back
        loader.load(second, obj, "mariadb")
    first.rollback()
    assert loader.load(second, obj, "mariadb").status == "loaded"
    assert loader.load(first, obj, "mariadb").status == "skipped"
    assert len(rows(db_conn, columns="_seq")) == 1


def test_load_data_from_s3_statement_is_built_for_aurora() -> None:
    mapping = sample_mapping()
    loader = Loader(mapping, "s3")
    statement = loader._load_statement
    assert statement.startswith("LOAD DATA FROM S3 %s INTO TABLE `_ddb2aurora_staging`")
    assert "`_event_id`)" in statement
