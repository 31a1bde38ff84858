from __future__ import annotations

import json
from typing import Any

import pytest
from ddb2aurora.codec import serialize_item
from ddb2aurora.mapping import MappingError, RecordRejected, load_mapping

from tests.support.records import clickstream_item, sample_mapping, sample_mapping_document


def test_the_sample_mapping_loads() -> None:
    mapping = sample_mapping()
    assert mapping.target_table == "web_analytics"
    assert mapping.keys == ("page_id", "activity_dt")
    assert [c.name for c in mapping.columns] == [
        "page_id",
        "activity_dt",
        "hits",
        "device_make",
        "platform_name",
        "platform_version",
        "latitude",
        "longitude",
        "country_code",
        "session_id",
        "session_start",
        "session_end",
    ]
    assert [c.name for c in mapping.csv_columns()][-4:] == ["_op", "_seq", "_ts", "_event_id"]


def mutated(change: Any) -> str:
    document = sample_mapping_document()
    change(document)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("keys"), "mapping must contain"),
        (lambda d: d.update(keys=[]), "mapping.keys must contain at least 1"),
        (lambda d: d.update(keys=["nope"]), r"mapping.keys\[0\]: 'nope' is not one of the columns"),
        (lambda d: d["columns"][2].update(type="MONEY"), r"mapping.columns\[2\].type"),
        (lambda d: d["columns"][3].update(name="x`; DROP TABLE t"), r"mapping.columns\[3\].name"),
        (lambda d: d["columns"][3].update(name="_seq"), r"mapping.columns\[3\].name"),
        (lambda d: d.update(target_table="web analytics"), "mapping.target_table"),
        (lambda d: d["columns"][4].update(name="device_make"), r"columns\[4\].name: duplicate"),
        (lambda d: d["columns"][2].update(format="epoch_millis"), r"columns\[2\].format"),
        (lambda d: d.update(write_mode="append", delete_mode="hard"), "mapping.delete_mode"),
        (lambda d: d["columns"][0].update(type="TEXT"), r"mapping.keys\[0\]: a TEXT column"),
        (lambda d: d["columns"][0].update(type="VARCHAR(800)"), "over InnoDB's 3072"),
        (lambda d: d["columns"][0].update(path=["payload", "x"]), "top-level attribute"),
        (lambda d: d.update(record_schema={"type": 12}), "mapping.record_schema"),
        (lambda d: d.update(extra=1), "must not contain"),
    ],
)
def test_bad_mappings_name_the_field(change: Any, field: str) -> None:
    with pytest.raises(MappingError, match=field):
        load_mapping(mutated(change))


def test_not_json_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="not valid JSON"):
        load_mapping("{")


def test_row_follows_paths_into_the_json_payload() -> None:
    row = sample_mapping().row(serialize_item(clickstream_item("/home", hits=3)))
    assert row == [
        "/home",
        "2026-11-30 01:02:03.456",
        "3",
        "Apple",
        "iOS",
        "17.1",
        "47.606209",
        "-122.332071",
        "US",
        "s-1",
        "2025-11-30 01:02:03.456",
        "2025-11-30 01:02:09.999",
    ]


def test_missing_optional_values_become_null_and_required_ones_are_rejected() -> None:
    item = clickstream_item("/home")
    payload = json.loads(item["payload"])
    del payload["device"]["location"]
    row = sample_mapping().row(serialize_item({**item, "payload": json.dumps(payload)}))
    assert row[6:9] == [None] * 3
    with pytest.raises(RecordRejected, match="record_schema: item.payload must contain"):
        sample_mapping().row(serialize_item({**item, "payload": "{}"}))


@pytest.mark.parametrize(
    ("item_change", "reason"),
    [
        ({"payload": "{not json"}, "attribute 'payload' is not valid JSON"),
        ({"payload": '{"Hits": NaN}'}, "not valid JSON"),
        ({"activity_dt": "2026-11-30"}, "record_schema: item.activity_dt must match"),
        ({"page_id": 5}, "record_schema: item.page_id must be string"),
    ],
)
def test_rejections_carry_their_reason(item_change: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordRejected, match=reason):
        sample_mapping().row(serialize_item({**clickstream_item("/x"), **item_change}))
