"""End to end on the local stack: changes/s sustained and lag p50/p95 for 100,000 changes
(times ``BENCH_SCALE``) through moto's DynamoDB, the local data plane running the real zips,
and MariaDB; the data plane's /stats gives the lag samples.

A stack of its own in a temporary state directory (``stack up``), thrown away afterwards
with ``stack down --no-destroy``: its resources live only in the moto process stopped
there, so ``terraform destroy`` (minutes against moto) would buy nothing. Needs dist/
(``make build``) and the Terraform provider (``TF_PLUGIN_DIR``, as the Makefile finds it).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from scripts.bench.common import ROOT, Row, Section, private_tmp, scale
from scripts.local.compare import compare_table, sample_mapping
from scripts.local.demo import batch_write, dataplane_stats, deletes, drain, load_stack, puts
from scripts.local.mariadb import connect_view
from scripts.local.sample_data import ClickstreamGenerator
from scripts.local.stack import boto_client

FULL_CHANGES = 100_000
UPDATE_SHARE, DELETE_SHARE = 0.15, 0.05
UP_TIMEOUT_S, DRAIN_TIMEOUT_S, DOWN_TIMEOUT_S = 900, 900, 120


def _stack(*args: str, state_dir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.local.stack", *args, "--state-dir", str(state_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False,
    )  # fmt: skip


def _discard(state_dir: Path) -> float:
    """Stop the private stack and remove its state, without terraform destroy; seconds."""
    started = time.monotonic()
    _stack("down", "--no-destroy", state_dir=state_dir, timeout=DOWN_TIMEOUT_S)
    return time.monotonic() - started


def _not_done(reason: str) -> Section:
    section = Section("e2e")
    section.rows = [Row("end to end", "changes/s and lag p50/p95", "not measured", "", None,
                        "-", None, reason[:200])]  # fmt: skip
    section.measurements = {"done": False, "reason": reason}
    return section


def run() -> Section:
    changes = max(1_000, int(FULL_CHANGES * scale()))
    with private_tmp("e2e-") as work:
        state_dir = work / "stack"
        started = time.monotonic()
        try:
            up = _stack("up", state_dir=state_dir, timeout=UP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _discard(state_dir)
            return _not_done(f"`stack up` did not finish within {UP_TIMEOUT_S} s")
        up_seconds = time.monotonic() - started
        try:
            if up.returncode != 0:
                return _not_done(f"`stack up` failed: {(up.stderr or up.stdout)[-1500:]}")
            section = _measure(state_dir, changes)
        finally:
            down_seconds = _discard(state_dir)
    section.measurements["stack_up_seconds"] = up_seconds
    section.measurements["stack_down_seconds"] = down_seconds
    return section


def _measure(state_dir: Path, changes: int) -> Section:
    stack = load_stack(state_dir)
    table = stack["table_name"]
    dynamodb = boto_client("dynamodb", stack["aws_endpoint_url"])
    generator = ClickstreamGenerator(seed=11)
    inserts = int(changes / (1 + UPDATE_SHARE + DELETE_SHARE))
    items = list(generator.items(inserts))
    picker = random.Random(12)
    changed = picker.sample(items, changes - inserts)
    to_update = changed[: int(inserts * UPDATE_SHARE)]
    to_delete = changed[len(to_update) :]
    started = time.monotonic()
    for requests in (
        puts(items),
        puts(generator.updated(item) for item in to_update),
        deletes(to_delete),
    ):
        batch_write(dynamodb, table, requests, lambda n: None)
    written = time.monotonic() - started
    drained, stats, message = drain(state_dir, timeout=DRAIN_TIMEOUT_S)
    applied = time.monotonic() - started
    stats = dataplane_stats(state_dir) or stats
    connection = connect_view(stack["mysql"])
    try:
        comparison = compare_table(dynamodb, table, connection, sample_mapping())
    finally:
        connection.close()
    compare_seconds = time.monotonic() - started - applied
    if not drained:
        return _not_done(f"drain failed: {message}")
    lag = stats.get("lag_ms", {})
    section = Section("e2e")
    measurements: dict[str, Any] = {
        "done": True,
        "changes": changes,
        "changes_streamed": stats.get("changes_streamed"),
        "write_seconds": written,
        "write_rate": changes / written,
        "applied_seconds": applied,
        "sustained_rate": changes / applied,
        "lag_p50_ms": lag.get("p50"),
        "lag_p95_ms": lag.get("p95"),
        "lag_max_ms": lag.get("max"),
        "lag_samples": lag.get("samples"),
        "objects_loaded": stats.get("objects_loaded"),
        "compare": "yes" if comparison.agrees else f"NO: {comparison.describe()[:300]}",
        "compare_seconds": compare_seconds,
        "invocations": stats.get("invocations"),
    }
    section.measurements = measurements
    section.rows = [
        Row("end to end", f"{changes:,} changes: sustained changes/s (write to applied)",
            f"{changes / applied:,.0f}", f"written at {changes / written:,.0f}/s", None,
            "measure", None),
        Row("end to end", "lag p50 / p95 (s)",
            f"{lag.get('p50', 0) / 1000:.1f} / {lag.get('p95', 0) / 1000:.1f}", "", None,
            "measure", None),
        Row("end to end", "database equals DynamoDB after drain", measurements["compare"][:40],
            "", None, "yes", comparison.agrees),
    ]  # fmt: skip
    return section
