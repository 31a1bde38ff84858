"""Builders for change records, Firehose batches and CSV objects used across tests."""

from __future__ import annotations

import base64
import json
import pathlib
from collections.abc import Iterable, Mapping
from typing import Any

from ddb2aurora.change_record import ChangeRecord
from ddb2aurora.codec import serialize_item
from ddb2aurora.firehose_transform import transform
from ddb2aurora.mapping import TableMapping, load_mapping

SAMPLE_MAPPING_PATH = pathlib.Path(__file__).resolve().parents[2] / "mappings/web_analytics.json"


def sample_mapping_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SAMPLE_MAPPING_PATH.read_text())
    return document


def sample_mapping(**overrides: Any) -> TableMapping:
    document = sample_mapping_document()
    document.update(overrides)
    return load_mapping(json.dumps(document))


def clickstream_item(
    page_id: str,
    activity_dt: str = "2026-11-30T01:02:03.456Z",
    *,
    hits: int = 1,
    make: str = "Apple",
    platform: str = "iOS",
    version: str = "17.1",
    latitude: str = "47.606209",
    longitude: str = "-122.332071",
    country: str = "US",
    session_id: str = "s-1",
    start: int = 1_764_464_523_456,
    stop: int = 1_764_464_529_999,
) -> dict[str, Any]:
    payload = {
        "Hits": hits,
        "device": {
            "make": make,
            "platform": {"name": platform, "version": version},
            "location": {"latitude": latitude, "longitude": longitude, "country": country},
        },
        "session": {"session_id": session_id, "start_timestamp": start, "stop_timestamp": stop},
    }
    # latitude/longitude as raw JSON numbers (exact), not strings
    text = json.dumps(payload, ensure_ascii=False)
    text = text.replace(f'"{latitude}"', latitude).replace(f'"{longitude}"', longitude)
    return {"page_id": page_id, "activity_dt": activity_dt, "payload": text}


def upsert(item: Mapping[str, Any], seq: int, source: str = "web_analytics") -> ChangeRecord:
    keys = {"page_id": item["page_id"], "activity_dt": item["activity_dt"]}
    return ChangeRecord(
        op="upsert",
        keys=serialize_item(keys),
        image=serialize_item(item),
        seq=str(seq),
        ts=1_764_464_523_000 + seq,
        event_id=f"e{seq}",
        source=source,
    )


def delete(
    page_id: str,
    activity_dt: str,
    seq: int,
    *,
    ttl: bool = False,
    source: str = "web_analytics",
    old_image: Mapping[str, Any] | None = None,
) -> ChangeRecord:
    return ChangeRecord(
        op="delete",
        keys=serialize_item({"page_id": page_id, "activity_dt": activity_dt}),
        image=serialize_item(old_image) if old_image is not None else None,
        seq=str(seq),
        ts=1_764_464_523_000 + seq,
        event_id=f"e{seq}",
        source=source,
        ttl_delete=ttl,
    )


def firehose_records(lines: Iterable[bytes]) -> list[dict[str, str]]:
    return [
        {"recordId": f"r{i:06d}", "data": base64.b64encode(line).decode()}
        for i, line in enumerate(lines)
    ]


def csv_object(records: Iterable[ChangeRecord], mapping: TableMapping) -> bytes:
    """The S3 object Firehose would write for these change records (Ok rows only)."""
    outcome = transform(firehose_records(r.to_json_line() for r in records), mapping)
    assert not outcome.failures, outcome.failures
    return b"".join(base64.b64decode(r["data"]) for r in outcome.records)
