from __future__ import annotations

import base64
import json
from typing import Any

from ddb2aurora.codec import serialize_item
from ddb2aurora.csv_dialect import decode_row
from ddb2aurora.firehose_transform import RESPONSE_LIMIT_BYTES, transform
from ddb2aurora.mapping import load_mapping

from tests.support.records import clickstream_item, delete, firehose_records, sample_mapping, upsert


def decoded(result: dict[str, str]) -> list[str | None]:
    return decode_row(base64.b64decode(result["data"]).decode())


def test_upsert_becomes_a_csv_row_with_metadata() -> None:
    (result,) = transform(
        firehose_records([upsert(clickstream_item("/a"), 42).to_json_line()]), sample_mapping()
    ).records
    assert result["recordId"] == "r000000" and result["result"] == "Ok"
    row = decoded(result)
    assert row[0] == "/a" and row[-4:] == ["upsert", "42", str(1_764_464_523_042), "e42"]


def test_delete_keeps_the_old_image_or_falls_back_to_keys() -> None:
    item = clickstream_item("/d", hits=5)
    with_image = delete("/d", item["activity_dt"], 7, old_image=item)
    keys_only = delete("/d", item["activity_dt"], 8)
    unmappable = delete("/d", item["activity_dt"], 9, old_image={**item, "payload": "{bad"})
    results = transform(
        firehose_records(r.to_json_line() for r in (with_image, keys_only, unmappable)),
        sample_mapping(),
    ).records
    assert [r["result"] for r in results] == ["Ok", "Ok", "Ok"]
    assert decoded(results[0])[2] == "5"
    assert decoded(results[1])[1:12] == ["2026-11-30 01:02:03.456"] + [None] * 10
    assert decoded(results[2])[2] is None


def test_ttl_deletes_are_dropped_only_when_the_mapping_says_so() -> None:
    ttl = delete("/t", "2026-11-30T01:02:03.456Z", 3, ttl=True).to_json_line()
    assert transform(firehose_records([ttl]), sample_mapping()).records[0]["result"] == "Ok"
    dropped = transform(firehose_records([ttl]), sample_mapping(ignore_ttl_deletes=True))
    assert dropped.records[0]["result"] == "Dropped" and dropped.dropped == 1


def test_each_bad_record_fails_alone_with_its_reason() -> None:
    good = upsert(clickstream_item("/ok"), 1).to_json_line()
    records = firehose_records([good, b"{", good])
    records.append({"recordId": "not-base64", "data": "%%%"})
    outcome = transform(records, sample_mapping())
    assert [r["result"] for r in outcome.records] == [
        "Ok",
        "ProcessingFailed",
        "Ok",
        "ProcessingFailed",
    ]
    assert outcome.records[1]["data"] == records[1]["data"]  # original kept for the error prefix
    assert [f.record_id for f in outcome.failures] == ["r000001", "not-base64"]
    assert "not a change record" in outcome.failures[0].reason


def test_records_from_another_table_are_rejected() -> None:
    line = upsert(clickstream_item("/x"), 1, source="other").to_json_line()
    outcome = transform(firehose_records([line]), sample_mapping())
    assert "mapping is for 'web_analytics'" in outcome.failures[0].reason


def test_response_stays_under_firehose_limit() -> None:
    """Binary columns grow (base64 in, hex out): a legal ~5.9 MB event must still get a
    response under 6 MB, the overflow failing with its original data."""
    mapping = load_mapping(
        json.dumps(
            {
                "target_table": "blobs",
                "keys": ["id"],
                "columns": [
                    {"name": "id", "type": "BIGINT", "path": ["id"]},
                    {"name": "body", "type": "MEDIUMBLOB", "path": ["body"]},
                ],
            }
        )
    )
    lines = []
    for n in range(30):
        image = serialize_item({"id": n, "body": bytes(range(256)) * 400})
        lines.append(
            json.dumps(
                {
                    "op": "upsert",
                    "keys": {"id": {"N": str(n)}},
                    "image": image,
                    "seq": str(n + 1),
                    "ts": 1,
                    "event_id": f"e{n}",
                    "source": "blobs",
                }
            ).encode()
        )
    records = firehose_records(lines)
    assert sum(len(r["data"]) for r in records) < RESPONSE_LIMIT_BYTES
    outcome = transform(records, mapping)
    assert len(json.dumps(outcome.response())) < RESPONSE_LIMIT_BYTES
    assert len(outcome.records) == 30
    overflow = [f for f in outcome.failures if "6 MB" in f.reason]
    assert overflow and outcome.ok + len(overflow) == 30


def test_unexpected_errors_fail_one_record_not_the_batch(monkeypatch: Any) -> None:
    mapping = sample_mapping()
    calls = {"n": 0}
    original = type(mapping).row

    def flaky(self: Any, image: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return original(self, image)

    monkeypatch.setattr(type(mapping), "row", flaky)
    lines = [upsert(clickstream_item(f"/{n}"), n + 1).to_json_line() for n in range(3)]
    outcome = transform(firehose_records(lines), mapping)
    assert [r["result"] for r in outcome.records] == ["ProcessingFailed", "Ok", "Ok"]
    assert "RuntimeError: boom" in outcome.failures[0].reason


def test_a_full_request_of_small_records_is_answered_ok() -> None:
    """A request as large as Lambda accepts, of small records (keys-only deletes): the
    reservation for possible failures must not fail the batch (it once failed all of
    them, with a per-record estimate of 200 B)."""
    line = delete("/s", "2026-11-30T01:02:03.456Z", 1).to_json_line()
    data = base64.b64encode(line).decode()
    record_id = "49546986683135544286507457936321625675700192471156785154"
    one = {
        "recordId": f"{record_id}000000",
        "approximateArrivalTimestamp": 1764464523456,
        "data": data,
    }
    count = (RESPONSE_LIMIT_BYTES - 200) // (len(json.dumps(one)) + 2)
    records = [{**one, "recordId": f"{record_id}{n:06d}"} for n in range(count)]
    event = {
        "invocationId": "i",
        "deliveryStreamArn": "arn",
        "region": "us-east-1",
        "records": records,
    }
    assert len(json.dumps(event)) <= RESPONSE_LIMIT_BYTES
    outcome = transform(records, sample_mapping())
    assert outcome.ok == count > 15_000 and not outcome.failures
    assert len(json.dumps(outcome.response())) <= RESPONSE_LIMIT_BYTES
