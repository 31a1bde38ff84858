"""Stream processor benchmark: DynamoDB Streams events → ``process_event`` →
PutRecordBatch on a fake Firehose that accepts everything and checks the API limits.

Events carry the sample page views in AWS's documented shape (INSERT with NewImage,
MODIFY with both images, REMOVE with OldImage) at several batch sizes. It reports
change records per second and PutRecordBatch calls per 1,000 records, and asserts the
call count: ceil(n/500) per event unless the 4 MiB limit binds, and then no more than
that plus one call per (4 MiB minus the largest record) of data.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from ddb2aurora.settings import StreamProcessorSettings
from ddb2aurora.stream_processor import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    Ports,
    process_event,
)

from scripts.bench.common import Row, Section, sample_items, scale
from scripts.local.sample_data import key_of, to_dynamodb

STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/web_analytics/stream/2026-11-30T00:00:00.000"
)
SETTINGS = StreamProcessorSettings(
    delivery_stream_name="bench",
    dead_letter_queue_url=None,
    put_max_attempts=5,
    put_backoff_base_ms=100,
    put_backoff_max_ms=3000,
)
BATCH_SIZES = (100, 1_000, 10_000)
FULL_RECORDS = 20_000
LARGE_PAYLOAD_BYTES = 20_000


@dataclass
class CountingFirehose:
    calls: list[tuple[int, int]] = field(default_factory=list)  # (records, bytes) per call

    def put_record_batch(self, records: Sequence[bytes]) -> list[str | None]:
        size = sum(map(len, records))
        if not 0 < len(records) <= MAX_BATCH_RECORDS or size > MAX_BATCH_BYTES:
            raise AssertionError(
                f"PutRecordBatch over the limits: {len(records)} records, {size} B"
            )
        self.calls.append((len(records), size))
        return [None] * len(records)


def stream_events(count: int, batch_size: int, padding: int = 0) -> list[dict[str, Any]]:
    """``count`` stream records in events of ``batch_size``: 50% INSERT, 40% MODIFY,
    10% REMOVE, in the shape Lambda delivers them."""
    records = []
    for number, sample in enumerate(sample_items(count, seed=7)):
        item = {**sample, "padding": "x" * padding} if padding else sample
        image = to_dynamodb(item)
        change: dict[str, Any] = {
            "ApproximateCreationDateTime": 1_764_547_200 + number // 100,
            "Keys": key_of(item),
            "SequenceNumber": f"{10**20 + number}",
            "SizeBytes": sum(len(v["S"]) for v in image.values()),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        kind = number % 10
        if kind < 5:
            event_name, change["NewImage"] = "INSERT", image
        elif kind < 9:
            event_name, change["NewImage"], change["OldImage"] = "MODIFY", image, image
        else:
            event_name, change["OldImage"] = "REMOVE", image
        records.append(
            {
                "eventID": f"{number:032x}",
                "eventName": event_name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": change,
                "eventSourceARN": STREAM_ARN,
            }
        )
    return [{"Records": records[i : i + batch_size]} for i in range(0, count, batch_size)]


def _ports(firehose: CountingFirehose) -> Ports:
    def no_fetch(table: str, keys: Any) -> None:
        raise AssertionError("NEW_AND_OLD_IMAGES needs no GetItem")

    return Ports(
        put_record_batch=firehose.put_record_batch,
        fetch_item=no_fetch,
        remaining_ms=lambda: 60_000,
        sleep=lambda seconds: None,
    )


def measure(events: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    logger = Logger(service="bench", stream=io.StringIO(), level="ERROR")
    best = best_cpu = float("inf")
    firehose = CountingFirehose()
    for _ in range(rounds):
        firehose = CountingFirehose()
        started, started_cpu = time.perf_counter(), time.process_time()
        calls_per_event = []
        for event in events:
            before = len(firehose.calls)
            result = process_event(event, SETTINGS, _ports(firehose), logger)
            if result.first_failed_sequence_number is not None:
                raise RuntimeError("fake Firehose accepted everything, yet a record failed")
            calls_per_event.append(len(firehose.calls) - before)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
        best = min(best, time.perf_counter() - started)
    records = sum(len(e["Records"]) for e in events)
    _assert_call_counts(events, calls_per_event, firehose)
    return {
        "records": records,
        "seconds": best,
        "records_per_second": records / best_cpu,
        "wall_records_per_second": records / best,
        "cpu_seconds_per_record": best_cpu / records,
        "calls": len(firehose.calls),
        "calls_per_1000": 1000 * len(firehose.calls) / records,
        "bytes_per_record": sum(size for _, size in firehose.calls) / records,
        "max_call_bytes": max(size for _, size in firehose.calls),
    }


def _assert_call_counts(
    events: list[dict[str, Any]], calls_per_event: list[int], firehose: CountingFirehose
) -> None:
    sent = iter(firehose.calls)
    for event, calls in zip(events, calls_per_event, strict=True):
        n = len(event["Records"])
        chunks = [next(sent) for _ in range(calls)]
        total = sum(size for _, size in chunks)
        by_count = math.ceil(n / MAX_BATCH_RECORDS)
        if total <= MAX_BATCH_BYTES * by_count and calls == by_count:
            continue
        largest_record = max(size / count for count, size in chunks)  # a lower bound is enough
        bound = by_count + math.ceil(total / (MAX_BATCH_BYTES - largest_record))
        bytes_bind = any(size + 1_000 * 1024 > MAX_BATCH_BYTES for _, size in chunks)
        if not bytes_bind or calls > bound:
            raise AssertionError(
                f"{calls} PutRecordBatch calls for {n} records ({total} B): expected "
                f"{by_count}" + (f" (4 MiB binds: at most {bound})" if bytes_bind else "")
            )


def run(rounds: int = 3) -> Section:
    count = max(1_000, int(FULL_RECORDS * scale()))
    section = Section("stream processor")
    results: dict[str, dict[str, Any]] = {}
    for batch_size in BATCH_SIZES:
        results[str(batch_size)] = measure(stream_events(count, batch_size), rounds)
    large = measure(stream_events(2_000, 1_000, padding=LARGE_PAYLOAD_BYTES), 1)
    for batch_size, result in results.items():
        expected = 1000 * math.ceil(int(batch_size) / MAX_BATCH_RECORDS) / int(batch_size)
        section.rows.append(
            Row(
                "stream processor",
                f"batch size {int(batch_size):,}: records/s; PutRecordBatch calls per 1,000",
                f"{result['records_per_second']:,.0f} rec/s; {result['calls_per_1000']:g} calls",
                f"ceil(n/500) = {expected:g} calls",
                None,
                "calls <= ceil(n/500)",
                result["calls_per_1000"] <= expected,
            )
        )
    section.rows.append(
        Row(
            "stream processor",
            f"~{large['bytes_per_record'] / 1000:.0f} KB records, batch 1,000: calls per 1,000",
            f"{large['calls_per_1000']:g} calls (largest call "
            f"{large['max_call_bytes'] / 2**20:.2f} MiB)",
            "ceil(n/500) = 2 calls",
            None,
            "4 MiB binds: bounded",
            True,
        )
    )
    section.measurements = {"by_batch_size": results, "large_records": large}
    return section


if __name__ == "__main__":
    for row in run().rows:
        print(row)
