"""The benchmarks' pure parts, so ``make test`` catches a broken ``make bench`` (an import
that no longer resolves, a batch that no longer fits, a page that no longer renders)
without running the benchmarks themselves."""

from __future__ import annotations

import base64
import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from ddb2aurora.csv_dialect import decode_row, encode_row
from ddb2aurora.firehose_transform import RESPONSE_LIMIT_BYTES, transform

import scripts.bench
from scripts.bench import cost, narrative, report
from scripts.bench.common import Row, Section, firehose_batch, sample_mapping
from scripts.bench.loader import object_rows, seed_statement

BENCH_MODULES = sorted(m.name for m in pkgutil.iter_modules(scripts.bench.__path__))


@pytest.mark.parametrize("name", BENCH_MODULES)
def test_every_bench_module_imports(name: str) -> None:
    importlib.import_module(f"scripts.bench.{name}")


def test_the_firehose_batch_is_a_full_event_within_lambdas_limit() -> None:
    records = firehose_batch()
    event = json.dumps({"invocationId": "", "records": records})
    assert len(event) <= RESPONSE_LIMIT_BYTES
    assert len(event) > RESPONSE_LIMIT_BYTES - 2_000  # full: one more record would not fit
    outcome = transform(records, sample_mapping())
    assert (outcome.ok, outcome.failures) == (len(records), [])


def test_object_rows_are_the_dialects_rows_with_overlapping_keys() -> None:
    base = list(object_rows(0, 50, 0, 0))
    changes = list(object_rows(25, 50, 100, 1))
    for line in base + changes:
        values = decode_row(line)
        assert encode_row(values) == line
        assert len(values) == len(sample_mapping().csv_columns())
    keys = {tuple(decode_row(line)[:2]) for line in base}
    overlap = [decode_row(line) for line in changes if tuple(decode_row(line)[:2]) in keys]
    assert len(overlap) == 25
    assert all(int(values[-3]) > 50 for values in overlap)  # newer _seq than the base's


def test_seed_statement_sets_what_the_merge_sets_for_a_new_key() -> None:
    statement = seed_statement(sample_mapping())
    assert "@_op" in statement and "@_ts" in statement and "@_event_id" in statement
    assert statement.endswith("`_loaded_at` = UTC_TIMESTAMP(3)")
    assert statement.count(") SET ") == 1  # one SET clause after the column list


def _fake_sections(e2e_done: bool = True) -> list[Section]:
    """Sections shaped as the benchmarks save them (build/bench/*.json)."""
    row = Row("area", "metric", "1", "2", 0.5, ">= 40%", False)
    per_batch = {
        "records": 1_000,
        "records_per_second": 20_000.0,
        "cpu_seconds_per_record": 5e-5,
        "calls": 2,
        "calls_per_1000": 2.0,
        "bytes_per_record": 700.0,
        "max_call_bytes": 350_000,
    }
    transform_m: dict[str, Any] = {
        "records": 5_600,
        "event_bytes": 6_000_000,
        "input_bytes_per_record": 650.0,
        "blog_records_measured": 100,
        "rounds": 5,
        "stage_rounds": 3,
        "records_per_second": {"ours": 8_000.0, "ceiling": 90_000.0, "blog": 80.0},
        "cpu_seconds_per_record": {"ours": 1.25e-4, "ceiling": 1.1e-5, "blog": 1.25e-2},
        "peak_heap_mb": {"ours": 3.2, "ceiling": 0.01},
        "stage_records_per_second": {
            "base64 decode + json.loads (the ceiling)": 80_000.0,
            "+ change record checks": 50_000.0,
            "+ column extraction and SQL type conversion": 11_000.0,
            "the whole transform": 10_000.0,
        },
        "profile": "ncalls  tottime",
        "child_peak_rss_mb": 53.0,
        "child_seconds": 1.0,
    }
    loader_m: dict[str, Any] = {
        "rows": 200_000,
        "object_bytes": 49_000_000,
        "server_version": "10.11",
        "server_settings": {"innodb_buffer_pool_size": 2**30},
        "merge_seconds": 9.0,
        "merge_rows_per_second": 22_000.0,
        "seed_seconds": 3.0,
        "ceiling_seconds": [2.7, 3.6],
        "ceiling_rows_per_second": 75_000.0,
        "merge_steps": [
            ["LOAD DATA LOCAL INFILE %s INTO TABLE `_ddb2aurora_staging`", 3.6],
            ["INSERT INTO `web_analytics` (`page_id`, `activity_dt`", 5.2],
            ["COMMIT", 0.02],
        ],
        "peak_rss_mb": {"merge": 44.0, "ceiling": 44.0},
        "server_counters": {
            "merge": {"Innodb_buffer_pool_read_requests": 500_000, "Innodb_buffer_pool_reads": 0},
            "ceiling": {"Innodb_buffer_pool_read_requests": 150_000, "Innodb_buffer_pool_reads": 0},
        },
    }
    stream_m = {
        "by_batch_size": {"100": per_batch, "1000": per_batch, "10000": per_batch},
        "large_records": {**per_batch, "bytes_per_record": 20_000.0},
    }
    e2e_m: dict[str, Any] = {"done": False, "reason": "stack up failed"}
    if e2e_done:
        e2e_m = {
            "done": True,
            "changes": 20_000,
            "write_seconds": 24.0,
            "write_rate": 833.0,
            "applied_seconds": 46.0,
            "sustained_rate": 435.0,
            "lag_p50_ms": 34_000,
            "lag_p95_ms": 45_000,
            "lag_max_ms": 46_000,
            "objects_loaded": 1,
            "compare": "yes",
            "compare_seconds": 5.0,
            "stack_up_seconds": 110.0,
            "stack_down_seconds": 3.0,
            "invocations": {"ddb2aurora-aurora-loader": {"invocations": 1, "mean_ms": 1000.0}},
        }
    return [
        Section(name, [row], {**m, "scale": 0.2, "wall_seconds": 60.0, "command": "make bench"})
        for name, m in (
            ("transform", transform_m),
            ("loader", loader_m),
            ("stream processor", stream_m),
            ("e2e", e2e_m),
        )
    ]


@pytest.mark.parametrize("e2e_done", [True, False])
def test_the_pages_render_from_saved_sections(tmp_path: Path, e2e_done: bool) -> None:
    sections = _fake_sections(e2e_done)
    run = report.RunInfo("make bench", 0.2, 600.0, (1.0, 1.0, 1.0), (1.5, 1.2, 1.0))
    assert "MISSED" in report.table(sections)
    report.write(tmp_path / "performance.md", sections, run)
    cost.write(tmp_path / "cost.md", sections, run)
    page = (tmp_path / "performance.md").read_text()
    assert "## Loader" in page and "## End to end on the local stack" in page
    assert "the gap is the server's work on pages in memory" in page
    assert ("Not measured" in page) != e2e_done
    assert "per million changes" in (tmp_path / "cost.md").read_text()


def test_the_narrative_has_a_section_for_every_benchmark() -> None:
    measured = {s.name: s.measurements for s in _fake_sections()}
    text = narrative.sections(measured)
    for heading in ("## Transform", "## Loader", "## Stream processor", "## End to end"):
        assert heading in text


def test_the_sample_change_records_decode() -> None:
    record = firehose_batch()[0]
    assert json.loads(base64.b64decode(record["data"]))["source"] == "web_analytics"
