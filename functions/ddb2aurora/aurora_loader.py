"""Apply one delivered CSV object to the target table, exactly once in effect.

For each object: one transaction that claims the object in the manifest (bucket, key,
ETag), loads it into a per-connection staging table, merges it into the target with the
``_seq`` guard (sql.merge_plan), records the row count and commits. A repeated S3 event
finds the manifest row and does nothing; a concurrent duplicate waits on the manifest
row lock and then skips. Any failure rolls the whole object back and raises, so Lambda's
asynchronous retries and the dead-letter queue take over; nothing is half applied.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal
from urllib.parse import unquote_plus

from ddb2aurora import sql
from ddb2aurora.csv_dialect import load_data_statement
from ddb2aurora.mapping import TableMapping
from ddb2aurora.sql_types import Dialect

LoadMethod = Literal["s3", "local"]
ObjectCopier = Callable[[str, str, str, BinaryIO], tuple[int, int]]
Connection = Any  # a PyMySQL connection (DB-API 2.0)
_DUPLICATE_KEY = 1062


class LoadRejected(Exception):
    """The object does not load cleanly (warnings, a row count that does not match)."""


@dataclass(frozen=True, slots=True)
class S3Object:
    bucket: str
    key: str
    etag: str
    size: int

    @property
    def object_id(self) -> str:
        """Manifest identity: the same bytes under the same key are one object."""
        return hashlib.sha256(f"{self.bucket}\0{self.key}\0{self.etag}".encode()).hexdigest()

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True, slots=True)
class LoadResult:
    object: S3Object
    status: Literal["loaded", "skipped"]
    rows: int


def objects_from_event(event: Mapping[str, Any]) -> list[S3Object]:
    """The objects of an S3 ObjectCreated event (keys arrive URL-encoded, ``+`` for space)."""
    objects = []
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        objects.append(
            S3Object(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                etag=str(s3["object"].get("eTag", "")).strip('"'),
                size=int(s3["object"].get("size", 0)),
            )
        )
    return objects


class Loader:
    """Loads objects for one mapping over a connection the caller owns."""

    def __init__(
        self,
        mapping: TableMapping,
        method: LoadMethod,
        copy_object: ObjectCopier | None = None,
        tmp_dir: str | None = None,
    ) -> None:
        if method == "local" and copy_object is None:
            raise ValueError("the local load method needs an object copier")
        self.mapping = mapping
        self.method = method
        self._copy_object = copy_object
        self._tmp_dir = tmp_dir
        self._load_statement = load_data_statement(
            source=method, table=sql.STAGING_TABLE, columns=mapping.csv_columns()
        )
        self._merge = sql.merge_plan(mapping)

    def ensure_tables(self, connection: Connection, dialect: Dialect) -> None:
        """Create the target, tombstone and manifest tables when missing (idempotent)."""
        with connection.cursor() as cursor:
            for statement in sql.create_tables(self.mapping, dialect):
                cursor.execute(statement)
        connection.commit()

    def load(self, connection: Connection, obj: S3Object, dialect: Dialect) -> LoadResult:
        """Apply one object in one transaction; raise (after rollback) on any failure."""
        try:
            with connection.cursor() as cursor:
                connection.begin()
                if not self._claim(cursor, obj):
                    connection.rollback()
                    return LoadResult(obj, "skipped", 0)
                for statement in sql.create_staging_tables(self.mapping, dialect):
                    cursor.execute(statement)
                rows = self._load_into_staging(cursor, obj)
                for statement in self._merge.statements:
                    cursor.execute(statement)
                cursor.execute(sql.record_row_count(), (rows, obj.object_id))
            connection.commit()
        except BaseException:
            _rollback_quietly(connection)
            raise
        return LoadResult(obj, "loaded", rows)

    def _claim(self, cursor: Any, obj: S3Object) -> bool:
        try:
            cursor.execute(
                sql.claim_object(),
                (obj.object_id, obj.bucket, obj.key, obj.etag, self.mapping.target_table),
            )
        except Exception as exc:
            if getattr(exc, "args", (None,))[0] == _DUPLICATE_KEY:
                return False
            raise
        return True

    def _load_into_staging(self, cursor: Any, obj: S3Object) -> int:
        if self.method == "s3":
            cursor.execute(self._load_statement, (obj.uri,))
            loaded = int(cursor.rowcount)
            expected = None
        else:
            with self._local_copy(obj) as (path, expected_rows):
                cursor.execute(self._load_statement, (path,))
                loaded = int(cursor.rowcount)
                expected = expected_rows
        cursor.execute("SHOW WARNINGS LIMIT 5")
        warnings = cursor.fetchall()
        if warnings:
            detail = "; ".join(f"{w[1]}: {w[2]}" for w in warnings)
            raise LoadRejected(f"{obj.uri}: LOAD DATA reported warnings: {detail}")
        if expected is not None and loaded != expected:
            raise LoadRejected(f"{obj.uri}: loaded {loaded} rows, the object has {expected}")
        return loaded

    @contextmanager
    def _local_copy(self, obj: S3Object) -> Iterator[tuple[str, int]]:
        assert self._copy_object is not None  # noqa: S101 - checked in __init__
        handle, path = tempfile.mkstemp(prefix="ddb2aurora-", suffix=".csv", dir=self._tmp_dir)
        try:
            with os.fdopen(handle, "wb") as sink:
                _size, lines = self._copy_object(obj.bucket, obj.key, obj.etag, sink)
            yield path, lines
        finally:
            os.unlink(path)


def _rollback_quietly(connection: Connection) -> None:
    with contextlib.suppress(Exception):  # the connection may be gone; the caller re-raises
        connection.rollback()
