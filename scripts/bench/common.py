"""Shared pieces of the benchmarks: sample records, timing, the results row, scale."""

from __future__ import annotations

import base64
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddb2aurora.change_record import ChangeRecord
from ddb2aurora.codec import serialize_item
from ddb2aurora.firehose_transform import RESPONSE_LIMIT_BYTES
from ddb2aurora.mapping import TableMapping, load_mapping

from scripts.local.sample_data import ClickstreamGenerator

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_MAPPING = ROOT / "mappings" / "web_analytics.json"
SOURCE_TABLE = "web_analytics"
FIRST_TS_MS = 1_764_547_200_000


WORK_DIR = ROOT / "build" / "bench" / "work"


@contextmanager
def private_tmp(prefix: str) -> Iterator[Path]:
    """A scratch directory under build/ (not /tmp, which other jobs on a shared machine
    clean), also set as TMPDIR so servers started inside it (mariadbd takes its tmpdir
    from TMPDIR) keep their temporary files there."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("TMPDIR")
    with tempfile.TemporaryDirectory(prefix=prefix, dir=WORK_DIR) as name:
        scratch = Path(name) / "tmp"
        scratch.mkdir()
        os.environ["TMPDIR"] = str(scratch)
        try:
            yield Path(name)
        finally:
            if previous is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = previous


def scale() -> float:
    """``BENCH_SCALE`` (default 1): a fraction that shrinks the big workloads for quick runs."""
    value = float(os.environ.get("BENCH_SCALE", "1"))
    if not 0 < value <= 1:
        raise SystemExit(f"BENCH_SCALE must be in (0, 1], got {value}")
    return value


def sample_mapping() -> TableMapping:
    return load_mapping(SAMPLE_MAPPING.read_text())


def sample_items(count: int, seed: int = 42) -> Iterator[dict[str, str]]:
    return ClickstreamGenerator(seed=seed).items(count)


def upsert_record(item: dict[str, str], seq: int) -> ChangeRecord:
    keys = {"page_id": item["page_id"], "activity_dt": item["activity_dt"]}
    return ChangeRecord(
        op="upsert",
        keys=serialize_item(keys),
        image=serialize_item(item),
        seq=str(seq),
        ts=FIRST_TS_MS + seq,
        event_id=f"e-{seq}",
        source=SOURCE_TABLE,
    )


def firehose_batch() -> list[dict[str, str]]:
    """Sample change records as a Firehose transformation event's ``records``: as many
    as fit in one invocation, whose request (like its response) is limited to 6 MiB."""
    records: list[dict[str, str]] = []
    event_bytes = len(json.dumps({"invocationId": "", "records": []}))
    for seq, item in enumerate(sample_items(100_000), start=1):
        record = {
            "recordId": f"{seq:056d}",
            "approximateArrivalTimestamp": str(FIRST_TS_MS + seq),
            "data": base64.b64encode(upsert_record(item, seq).to_json_line()).decode(),
        }
        record_bytes = len(json.dumps(record)) + 2  # and its separator
        if event_bytes + record_bytes > RESPONSE_LIMIT_BYTES:
            break
        records.append(record)
        event_bytes += record_bytes
    return records


@dataclass(frozen=True)
class Timing:
    """Best wall-clock and best CPU seconds of a run. Ratios use wall time measured in
    turns; the cost model uses CPU time, which other work on the machine inflates less."""

    wall: float
    cpu: float


def interleaved_best(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, Timing]:
    """The fastest of ``rounds`` runs each; the runs take turns within each round so that
    other work on the machine slows all of them alike."""
    wall = dict.fromkeys(runs, float("inf"))
    cpu = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            run()
            cpu[name] = min(cpu[name], time.process_time() - started_cpu)
            wall[name] = min(wall[name], time.perf_counter() - started)
    return {name: Timing(wall[name], cpu[name]) for name in runs}


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m module args`` (a fresh process, so its peak RSS is its own) and
    return the JSON object it prints last."""
    command = [sys.executable, "-m", module, *args]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=ROOT, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


@dataclass
class Row:
    """One line of the results table: a measured ratio (or value) next to its target."""

    area: str
    metric: str
    ours: str
    reference: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


@dataclass
class Section:
    """A benchmark's rows plus the measurements (for docs and the cost model)."""

    name: str
    rows: list[Row] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }
