"""Hostile items (every attribute type, any Unicode, deep nesting, 38-digit numbers,
binary, long strings): each either lands exactly or is reported with its reason; no
batch ever crashes, and nothing the transform accepts is refused by the database."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any, BinaryIO

import pytest
from ddb2aurora.aurora_loader import Loader, S3Object
from ddb2aurora.change_record import ChangeRecord
from ddb2aurora.codec import serialize_item
from ddb2aurora.firehose_transform import transform
from ddb2aurora.mapping import load_mapping
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.mariadb

MAPPING = load_mapping(
    json.dumps(
        {
            "target_table": "hostile",
            "keys": ["id"],
            "columns": [
                {"name": "id", "type": "VARCHAR(200)", "path": ["id"]},
                {"name": "s", "type": "MEDIUMTEXT", "path": ["s"]},
                {"name": "n", "type": "DECIMAL(38,0)", "path": ["n"]},
                {"name": "f", "type": "DECIMAL(38,10)", "path": ["f"]},
                {"name": "b", "type": "MEDIUMBLOB", "path": ["b"]},
                {"name": "flag", "type": "BOOLEAN", "path": ["flag"]},
                {"name": "doc", "type": "JSON", "path": ["doc"]},
            ],
        }
    )
)


def _nest(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"k": value}
    return value


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
number = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
decimal = st.decimals(
    min_value=-(10**20), max_value=10**20, places=12, allow_nan=False, allow_infinity=False
)
leaf = st.one_of(st.none(), st.booleans(), text, number, decimal, st.binary(max_size=20))
nested = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=15,
)
deep = st.sampled_from([1, 30, 31, 32, 40]).map(_nest)
item_strategy = st.fixed_dictionaries(
    {"id": text.filter(bool)},
    optional={
        "s": st.one_of(text, st.just("x" * 390_000), st.just("é" * 200_000)),
        "n": st.one_of(number, decimal),
        "f": decimal,
        "b": st.binary(max_size=64),
        "flag": st.one_of(st.booleans(), number),
        "doc": st.one_of(nested, deep),
        "other": nested,
    },
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(items=st.lists(item_strategy, min_size=1, max_size=8, unique_by=lambda i: i["id"]))
def test_hostile_items_land_exactly_or_fail_with_a_reason(
    db_conn: Any, items: list[dict[str, Any]]
) -> None:
    lines = [
        ChangeRecord(
            op="upsert",
            keys=serialize_item({"id": item["id"]}),
            image=serialize_item(item),
            seq=str(n + 1),
            ts=1,
            event_id=f"e{n}",
            source="hostile",
        ).to_json_line()
        for n, item in enumerate(items)
    ]
    records = [
        {"recordId": str(n), "data": base64.b64encode(line).decode()}
        for n, line in enumerate(lines)
    ]
    outcome = transform(records, MAPPING)
    assert len(outcome.records) == len(items)
    for failure in outcome.failures:
        assert failure.reason
    body = b"".join(base64.b64decode(r["data"]) for r in outcome.records if r["result"] == "Ok")
    accepted = [item for item, r in zip(items, outcome.records, strict=True) if r["result"] == "Ok"]

    def copy(bucket: str, key: str, etag: str, sink: BinaryIO) -> tuple[int, int]:
        sink.write(body)
        return len(body), body.count(b"\n")

    with db_conn.cursor() as cursor:
        for table in ("hostile", "_ddb2aurora_manifest"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    loader = Loader(MAPPING, "local", copy_object=copy)
    loader.ensure_tables(db_conn, "mariadb")
    result = loader.load(db_conn, S3Object("b", "k", "e", len(body)), "mariadb")
    assert result.rows == len(accepted)
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT id, s, n, f, b, flag, doc FROM hostile")
        loaded = {row[0]: row for row in cursor.fetchall()}
    assert set(loaded) == {item["id"] for item in accepted}
    for item in accepted:
        _id, s, n, f, b, flag, doc = loaded[item["id"]]
        assert s == item.get("s")
        assert n == (None if item.get("n") is None else Decimal(item["n"]))
        assert f == (None if item.get("f") is None else Decimal(item["f"]))
        assert b == item.get("b")
        assert flag == (None if item.get("flag") is None else int(item["flag"]))
        if item.get("doc") is None:
            assert doc is None
        else:
            assert json.loads(doc, parse_float=Decimal) == _jsonable(item["doc"])


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
