"""compare.py is the judge of the demo and the e2e tests, so it must notice every kind of
difference: a missing row, an extra row, a changed value, a merged key, a deleted row."""

from __future__ import annotations

import datetime as dt

import pytest
from ddb2aurora.sql import create_tables

from scripts.local.compare import compare, database_state, expected_state, sample_mapping
from scripts.local.sample_data import ClickstreamGenerator, to_dynamodb

pytestmark = pytest.mark.mariadb
MAPPING = sample_mapping()


def _load(db_conn, typed_items, deleted=()):
    with db_conn.cursor() as cursor:
        for statement in create_tables(MAPPING, "mariadb"):
            cursor.execute(statement)
        names = [column.name for column in MAPPING.columns]
        columns = ", ".join(f"`{name}`" for name in names)
        marks = ", ".join(["%s"] * (len(names) + 4))
        for item in typed_items:
            deleted_at = dt.datetime(2026, 11, 30) if item in deleted else None
            cursor.execute(
                f"INSERT INTO web_analytics ({columns}, _seq, _event_ts, _deleted_at, _loaded_at)"
                f" VALUES ({marks})",
                (*MAPPING.row(item), 1, "2026-11-30", deleted_at, "2026-11-30"),
            )
    db_conn.commit()


def _items(count=5):
    return [to_dynamodb(item) for item in ClickstreamGenerator(seed=9).items(count)]


def _compare(db_conn, items):
    return compare(MAPPING, expected_state(MAPPING, items), database_state(db_conn, MAPPING))


def test_equal_states_agree(db_conn):
    items = _items()
    _load(db_conn, items)
    result = _compare(db_conn, items)
    assert result.agrees, result.describe()
    assert result.expected_rows == result.live_rows == 5


def test_a_missing_row_an_extra_row_and_a_changed_value_are_found(db_conn):
    items = _items(6)
    _load(db_conn, items[:5])
    changed = dict(items[1], payload={"S": items[1]["payload"]["S"].replace('"Hits":', '"Hits":1')})
    result = _compare(db_conn, [items[0], changed, *items[2:4], items[5]])
    assert not result.agrees
    assert len(result.missing) == 1 and len(result.unexpected) == 1
    assert [difference[1] for difference in result.different] == ["hits"]


def test_soft_deleted_rows_do_not_count_as_live(db_conn):
    items = _items(3)
    _load(db_conn, items, deleted=[items[2]])
    assert _compare(db_conn, items[:2]).agrees
    result = _compare(db_conn, items)
    assert result.deleted_rows == 1 and len(result.missing) == 1


def test_keys_that_differ_only_in_case_are_two_rows(db_conn):
    lower = to_dynamodb({**ClickstreamGenerator(seed=9).item(), "page_id": "/case"})
    upper = dict(lower, page_id={"S": "/CASE"})
    _load(db_conn, [lower])
    result = _compare(db_conn, [lower, upper])
    assert not result.agrees and len(result.missing) == 1


def test_rejected_items_are_counted_not_expected(db_conn):
    items = _items(2)
    broken = dict(items[1], payload={"S": "{not json"})
    _load(db_conn, items[:1])
    result = _compare(db_conn, [items[0], broken])
    assert result.agrees and result.rejected_items == 1
