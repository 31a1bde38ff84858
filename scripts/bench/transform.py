"""Transform benchmark: one full Firehose invocation (6 MB of sample change records).

- ours: ``firehose_transform.transform`` with the mapping's validator compiled once;
- blog: the same code, but a new JSON Schema validator built for every record
  (``jsonschema.validate(document, schema)``, as the AWS blog's transform does);
- ceiling: base64 decode + ``json.loads`` of each record and nothing else.

Run as a child (``--rss``) it reads the event from a file, transforms it and prints its
own peak RSS: what the function's memory size must hold.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jsonschema
from ddb2aurora.firehose_transform import transform
from ddb2aurora.mapping import TableMapping

from scripts.bench.common import (
    Row,
    Section,
    firehose_batch,
    interleaved_best,
    peak_rss_mb,
    private_tmp,
    run_child,
    sample_mapping,
)
from scripts.bench.profile import transform_profile

# The blog's approach is slow (~13 ms a record, all of it per record): its rate is
# measured on a prefix, long enough (over a second a round) to time reliably.
BLOG_RECORDS = 100
ROUNDS = 5  # ours, blog and ceiling: the fastest of 5 turns each
STAGE_ROUNDS = 3  # the cumulative stages only locate the time; 3 turns each
TARGET_VS_BLOG = 5.0
TARGET_VS_CEILING = 0.60


def blog_mapping(mapping: TableMapping) -> TableMapping:
    """Our mapping with the blog's validation: a validator built per record."""
    schema = mapping.record_schema

    def validate_per_record(document: Any) -> None:
        jsonschema.validate(document, schema)

    return dataclasses.replace(mapping, _validate_record=validate_per_record)


def ceiling(records: Sequence[dict[str, str]]) -> None:
    for record in records:
        json.loads(base64.b64decode(record["data"]))


def stages(mapping: TableMapping) -> dict[str, Callable[[Sequence[dict[str, str]]], None]]:
    """The transform cut after each step, cumulatively: the rate differences show where
    the time goes without a profiler's overhead."""
    from ddb2aurora.change_record import ChangeRecord
    from ddb2aurora.csv_dialect import encode_row

    def parsed(records: Sequence[dict[str, str]]) -> None:
        for record in records:
            ChangeRecord.from_json(base64.b64decode(record["data"], validate=True))

    def documents(records: Sequence[dict[str, str]]) -> None:
        for record in records:
            change = ChangeRecord.from_json(base64.b64decode(record["data"], validate=True))
            mapping.document(change.image or {})

    def validated(records: Sequence[dict[str, str]]) -> None:
        validate = mapping._validate_record
        for record in records:
            change = ChangeRecord.from_json(base64.b64decode(record["data"], validate=True))
            validate(mapping.document(change.image or {}))

    def converted(records: Sequence[dict[str, str]]) -> None:
        for record in records:
            change = ChangeRecord.from_json(base64.b64decode(record["data"], validate=True))
            mapping.row(change.image or {})

    def encoded(records: Sequence[dict[str, str]]) -> None:
        for record in records:
            change = ChangeRecord.from_json(base64.b64decode(record["data"], validate=True))
            values = mapping.row(change.image or {})
            values += [change.op, change.seq, str(change.ts), change.event_id]
            base64.b64encode(encode_row(values).encode())

    return {
        "base64 decode + json.loads (the ceiling)": ceiling,
        "+ change record checks (ChangeRecord.from_json)": parsed,
        "+ typed JSON to plain values, payload JSON parsed (mapping.document)": documents,
        "+ record_schema validation (fastjsonschema, compiled once)": validated,
        "+ column extraction and SQL type conversion (mapping.row)": converted,
        "+ CSV row and base64 encode": encoded,
        "the whole transform (result records, response size accounting)": lambda r: transform(
            r, mapping
        ),
    }


def peak_heap_mb(run: Callable[[], object]) -> float:
    """Peak Python heap allocated during ``run`` (tracemalloc), input excluded."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def run(rounds: int = ROUNDS, stage_rounds: int = STAGE_ROUNDS) -> Section:
    mapping = sample_mapping()
    blog = blog_mapping(mapping)
    records = firehose_batch()
    event_bytes = len(json.dumps({"records": records}))
    prefix = records[:BLOG_RECORDS]
    check = transform(records, mapping)
    if check.failures or check.ok != len(records):
        raise RuntimeError(f"sample batch did not transform cleanly: {check.failures[:3]}")
    if transform(prefix, blog).response() != transform(prefix, mapping).response():
        raise RuntimeError("the blog variant does not produce the same rows")

    seconds = interleaved_best(
        {
            "ours": lambda: transform(records, mapping),
            "ceiling": lambda: ceiling(records),
            "blog": lambda: transform(prefix, blog),
        },
        rounds,
    )
    counts = {"ours": len(records), "ceiling": len(records), "blog": len(prefix)}
    # CPU time: on a shared machine the wall clock mostly measures waiting for a core
    rate = {name: counts[name] / seconds[name].cpu for name in counts}
    wall_rate = {name: counts[name] / seconds[name].wall for name in counts}
    cpu_per_record = {name: seconds[name].cpu / counts[name] for name in counts}
    staged = interleaved_best(
        {name: (lambda step=step: step(records)) for name, step in stages(mapping).items()},
        stage_rounds,
    )
    heap = {
        "ours": peak_heap_mb(lambda: transform(records, mapping)),
        "ceiling": peak_heap_mb(lambda: ceiling(records)),
    }
    with private_tmp("transform-") as tmp:
        event_file = tmp / "event.json"
        event_file.write_text(json.dumps({"records": records}))
        child = run_child("scripts.bench.transform", "--rss", str(event_file))

    section = Section("transform")
    vs_blog = rate["ours"] / rate["blog"]
    vs_ceiling = rate["ours"] / rate["ceiling"]
    section.rows = [
        Row(
            "transform",
            "records/s vs blog (validator per record)",
            f"{rate['ours']:,.0f}",
            f"{rate['blog']:,.0f}",
            vs_blog,
            f">= {TARGET_VS_BLOG:.0f}x",
            vs_blog >= TARGET_VS_BLOG,
        ),
        Row(
            "transform",
            "records/s vs ceiling (base64 + json.loads)",
            f"{rate['ours']:,.0f}",
            f"{rate['ceiling']:,.0f}",
            vs_ceiling,
            f">= {TARGET_VS_CEILING:.0%}",
            vs_ceiling >= TARGET_VS_CEILING,
        ),
        Row(
            "transform",
            "peak RSS of a process transforming the 6 MB event (MB)",
            f"{child['peak_rss_mb']:.0f}",
            "",
            None,
            "fits the function's memory",
            None,
        ),
    ]
    section.measurements = {
        "records": len(records),
        "event_bytes": event_bytes,
        "input_bytes_per_record": sum(len(base64.b64decode(r["data"])) for r in records)
        / len(records),
        "blog_records_measured": len(prefix),
        "rounds": rounds,
        "stage_rounds": stage_rounds,
        "records_per_second": rate,
        "cpu_seconds_per_record": cpu_per_record,
        "peak_heap_mb": heap,
        "wall_records_per_second": wall_rate,
        "stage_records_per_second": {name: len(records) / t.cpu for name, t in staged.items()},
        "profile": transform_profile(records, mapping),
        "child_peak_rss_mb": child["peak_rss_mb"],
        "child_seconds": child["seconds"],
    }
    return section


def _rss_child(event_file: str) -> None:
    import time

    mapping = sample_mapping()
    event = json.loads(Path(event_file).read_text())
    started = time.perf_counter()
    outcome = transform(event["records"], mapping)
    body = json.dumps(outcome.response())  # Lambda serialises the response in the process
    elapsed = time.perf_counter() - started
    print(
        json.dumps({"peak_rss_mb": peak_rss_mb(), "seconds": elapsed, "response_bytes": len(body)})
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rss", metavar="EVENT_FILE", help="child mode: report peak RSS")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    if args.rss:
        _rss_child(args.rss)
    else:
        for row in run(args.rounds).rows:
            print(row)
