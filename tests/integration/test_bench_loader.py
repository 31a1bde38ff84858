"""The loader benchmark's setup on the real MariaDB: seeding the target with one plain
LOAD DATA gives the table the Loader itself would have built from the same object, so
the merge that is measured starts from what production would hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pytest
from ddb2aurora.aurora_loader import Loader, S3Object

from scripts.bench.common import sample_mapping
from scripts.bench.loader import seed, write_object

pytestmark = pytest.mark.mariadb
COMPARED = (
    "page_id, activity_dt, hits, device_make, platform_name, platform_version, latitude, "
    "longitude, country_code, session_id, session_start, session_end, _seq, _event_ts, "
    "_deleted_at, _loaded_at IS NOT NULL"
)


def _rows(conn: Any) -> list[tuple[Any, ...]]:
    conn.commit()
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT {COMPARED} FROM web_analytics ORDER BY page_id, activity_dt")
        return list(cursor.fetchall())


def test_seeding_equals_loading_through_the_loader(db_conn: Any, tmp_path: Path) -> None:
    mapping = sample_mapping()
    base = tmp_path / "base.csv"
    write_object(base, 0, 3_000, 0, 0)

    seed(db_conn, mapping, base)
    seeded = _rows(db_conn)
    with db_conn.cursor() as cursor:
        cursor.execute("DROP TABLE web_analytics")
    db_conn.commit()

    def copy(bucket: str, key: str, etag: str, sink: BinaryIO) -> tuple[int, int]:
        body = base.read_bytes()
        sink.write(body)
        return len(body), body.count(b"\n")

    loader = Loader(mapping, "local", copy_object=copy)
    loader.ensure_tables(db_conn, "mariadb")
    loader.load(db_conn, S3Object("bench", "base.csv", "etag", base.stat().st_size), "mariadb")

    assert len(seeded) == 3_000
    assert _rows(db_conn) == seeded
