"""The soak (``make soak``, long, not in CI): SOAK_CHANGES changes (default 1,000,000; a mix
of inserts, updates and deletes) through a private local stack, then drain, then the real
operator CLI ``ddb2aurora verify`` must exit 0, and memory must stay bounded.

A sampler records the resident memory (RSS) of every process of the stack every few seconds
(moto server, the data plane and its function workers, MariaDB, this writer) into
``build/soak/<run>-rss.csv``; the summary goes to ``build/soak/<run>-summary.json``.

Our processes (data plane, function workers, writer) must stay under ``PEAK_BOUND_MIB`` and
must not grow steadily: the peak of the last quarter of the run may exceed the peak of the
first quarter by at most ``GROWTH_MARGIN`` (+ ``GROWTH_SLACK_MIB`` for small processes).
moto and MariaDB hold the data itself (moto also keeps every stream record), so their
memory grows with it: the soak reports their growth per 100,000 changes, not a bound.

The writer keeps only a bounded pool of recent items to update and delete, and pauses
while more than ``MAX_BACKLOG`` changes are written but not yet applied, so the run
measures the pipeline at its sustained rate rather than an ever-growing queue.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scripts.local.demo import batch_write, dataplane_stats, deletes, drain, load_stack, puts
from scripts.local.mariadb import MariaDBServer
from scripts.local.sample_data import ClickstreamGenerator
from scripts.local.stack import (
    REPO_ROOT,
    StatePaths,
    boto_client,
    stop_dataplane,
    stop_moto,
)

FULL_CHANGES = 1_000_000
WAVE_CHANGES = 5_000
INSERT_SHARE, UPDATE_SHARE = 0.70, 0.20  # the rest are deletes
LIVE_POOL = 20_000  # recent live items the writer may update or delete
MAX_BACKLOG = 50_000  # changes written but not yet applied before the writer pauses
SAMPLE_EVERY_S, PROGRESS_EVERY_S = 5.0, 10.0
PEAK_BOUND_MIB = 256  # any one of our processes (100,000 changes: 92 MiB at most)
GROWTH_MARGIN, GROWTH_SLACK_MIB = 0.20, 16.0
STALL_TIMEOUT_S = 600
UP_TIMEOUT_S, DRAIN_TIMEOUT_S, VERIFY_TIMEOUT_S = 1800, 3600, 7200
SOAK_DIR = REPO_ROOT / "build" / "soak"


class SoakError(RuntimeError):
    """The soak cannot go on; the message says why."""


# ---- process discovery (pure) ------------------------------------------------------------


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    name: str  # the command, as /proc/<pid>/comm
    function: str | None = None  # AWS_LAMBDA_FUNCTION_NAME of a function worker


def label_processes(table: Mapping[int, ProcessInfo], roots: Mapping[str, int]) -> dict[int, str]:
    """Name every process of the stack: each root (``{"moto": pid, …}``) by its role, and
    its descendants as ``worker:<function>`` (function workers) or ``<role> child:<name>``."""
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    labels: dict[int, str] = {}
    for role, root in roots.items():
        if root not in table:
            continue
        labels[root] = role
        stack = list(children.get(root, []))
        while stack:
            pid = stack.pop()
            if pid in labels:
                continue
            info = table[pid]
            kind = f"worker:{info.function}" if info.function else f"{role} child:{info.name}"
            labels[pid] = kind
            stack.extend(children.get(pid, []))
    return labels


def _read_process(pid: int) -> ProcessInfo | None:
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        function = None
        with contextlib.suppress(OSError):
            for entry in (proc / "environ").read_bytes().split(b"\0"):
                if entry.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
                    function = entry.split(b"=", 1)[1].decode()
        return ProcessInfo(pid, ppid, name, function)
    except (OSError, ValueError, IndexError):
        return None  # gone while we looked


def process_table() -> dict[int, ProcessInfo]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := _read_process(int(entry.name))) is not None:
            table[info.pid] = info
    return table


def rss_kib(pid: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


# ---- the memory verdict (pure) -----------------------------------------------------------


@dataclass
class Verdict:
    label: str
    samples: int
    peak_mib: float
    first_quarter_peak_mib: float | None
    last_quarter_peak_mib: float | None
    asserted: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def assess(
    label: str,
    series: Sequence[tuple[float, float]],
    *,
    asserted: bool,
    bound_mib: float = PEAK_BOUND_MIB,
    margin: float = GROWTH_MARGIN,
    slack_mib: float = GROWTH_SLACK_MIB,
) -> Verdict:
    """``series`` is (seconds since start, RSS MiB). Quarters are by time over the series'
    own span; fewer than 8 samples is too short to judge growth (only the bound applies)."""
    points = sorted(series)
    peak = max((mib for _, mib in points), default=0.0)
    verdict = Verdict(label, len(points), peak, None, None, asserted)
    if len(points) >= 8:
        start, end = points[0][0], points[-1][0]
        quarter = (end - start) / 4
        first = [mib for t, mib in points if t <= start + quarter]
        last = [mib for t, mib in points if t >= end - quarter]
        if first and last:
            verdict.first_quarter_peak_mib = max(first)
            verdict.last_quarter_peak_mib = max(last)
    if not asserted:
        return verdict
    if peak > bound_mib:
        verdict.problems.append(f"peak RSS {peak:.0f} MiB is above the bound {bound_mib} MiB")
    first_peak, last_peak = verdict.first_quarter_peak_mib, verdict.last_quarter_peak_mib
    if first_peak is not None and last_peak is not None:
        allowed = first_peak * (1 + margin) + slack_mib
        if last_peak > allowed:
            verdict.problems.append(
                f"grows: last quarter's peak {last_peak:.0f} MiB is above the first "
                f"quarter's {first_peak:.0f} MiB + {margin:.0%} + {slack_mib:.0f} MiB"
            )
    return verdict


def growth_per_100k(points: Sequence[tuple[int, float]]) -> float | None:
    """Least-squares slope of RSS MiB against changes applied, per 100,000 changes."""
    if len(points) < 2:
        return None
    xs = [float(x) for x, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return slope * 100_000


def is_ours(label: str) -> bool:
    """The processes this project runs long: asserted. (moto, MariaDB and the short-lived
    drain and verify commands are reported only.)"""
    return label in ("data plane", "writer") or label.startswith("worker:")


# ---- the sampler -------------------------------------------------------------------------


@dataclass
class Progress:
    written: int = 0
    applied: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


class Sampler(threading.Thread):
    """Every SAMPLE_EVERY_S: the data plane's counters and the RSS of every stack process,
    appended to the CSV; a progress line every PROGRESS_EVERY_S."""

    def __init__(self, paths: StatePaths, progress: Progress, csv_path: Path) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self.paths, self.progress, self.csv_path = paths, progress, csv_path
        self.started = time.monotonic()
        self.rows: list[dict[str, Any]] = []
        self.halt = threading.Event()
        self._applied_before = 0

    def roots(self) -> dict[str, int]:
        roots = {"writer": os.getpid()}
        with contextlib.suppress(OSError, ValueError, KeyError):
            roots["moto"] = int(json.loads(self.paths.moto_json.read_text())["pid"])
        with contextlib.suppress(OSError, ValueError):
            roots["data plane"] = int(self.paths.dataplane_pid.read_text().strip())
        with contextlib.suppress(OSError, ValueError):
            pid_file = MariaDBServer(self.paths.mariadb_dir).pid_file
            roots["mariadb"] = int(pid_file.read_text().strip())
        return roots

    def baseline(self) -> None:
        """Changes the data plane counted before the soak (none on a fresh stack)."""
        self._applied_before = int(
            dataplane_stats(self.paths.root).get("lag_ms", {}).get("samples") or 0
        )

    def sample(self) -> list[dict[str, Any]]:
        stats = dataplane_stats(self.paths.root)
        if stats:
            self.progress.stats = stats
            # one lag sample per change in a loaded object: the changes applied so far
            applied = int(stats.get("lag_ms", {}).get("samples") or 0)
            self.progress.applied = applied - self._applied_before
        elapsed = round(time.monotonic() - self.started, 1)
        taken = []
        for pid, label in sorted(label_processes(process_table(), self.roots()).items()):
            rss = rss_kib(pid)
            if rss is not None:
                taken.append({
                    "elapsed_s": elapsed, "written": self.progress.written,
                    "applied": self.progress.applied, "label": label, "pid": pid,
                    "rss_kib": rss,
                })  # fmt: skip
        return taken

    def run(self) -> None:
        last_print = 0.0
        with self.csv_path.open("w", newline="") as out:
            writer = csv.DictWriter(
                out, ["elapsed_s", "written", "applied", "label", "pid", "rss_kib"]
            )
            writer.writeheader()
            while True:
                halting = self.halt.is_set()  # then one last sample: the drained state
                taken = self.sample()
                self.rows.extend(taken)
                writer.writerows(taken)
                out.flush()
                if halting or time.monotonic() - last_print >= PROGRESS_EVERY_S:
                    last_print = time.monotonic()
                    print(self.describe(taken), flush=True)
                if halting:
                    return
                self.halt.wait(SAMPLE_EVERY_S)

    def describe(self, taken: Sequence[dict[str, Any]]) -> str:
        p = self.progress
        lag = p.stats.get("lag_ms", {})
        by_label: dict[str, int] = {}
        for row in taken:
            by_label[row["label"]] = max(by_label.get(row["label"], 0), row["rss_kib"])
        memory = ", ".join(f"{label} {kib / 1024:.0f}" for label, kib in sorted(by_label.items()))
        p95 = lag.get("p95")
        return (
            f"[{time.monotonic() - self.started:6.0f} s] written {p.written:,}  "
            f"applied {p.applied:,}  backlog {p.written - p.applied:,}  "
            f"lag p95 {'n/a' if p95 is None else f'{p95 / 1000:.1f} s'}  "
            f"RSS MiB: {memory}"
        )


# ---- the writer --------------------------------------------------------------------------


def wave_sizes(total: int, wave: int = WAVE_CHANGES) -> Iterator[tuple[int, int, int]]:
    """(inserts, updates, deletes) per wave, summing to ``total`` changes."""
    left = total
    while left > 0:
        size = min(wave, left)
        inserts = round(size * INSERT_SHARE) or size
        updates = min(round(size * UPDATE_SHARE), size - inserts)
        yield inserts, updates, size - inserts - updates
        left -= size


def write_changes(stack: Mapping[str, Any], total: int, progress: Progress, seed: int) -> None:
    table = stack["table_name"]
    dynamodb = boto_client("dynamodb", stack["aws_endpoint_url"])
    generator = ClickstreamGenerator(seed=seed)
    picker = random.Random(seed + 1)
    pool: list[dict[str, str]] = []

    def advance(count: int) -> None:
        progress.written += count

    for inserts, updates, removals in wave_sizes(total):
        waiting_since, applied_then = time.monotonic(), progress.applied
        while progress.written - progress.applied > MAX_BACKLOG:
            if progress.applied != applied_then:
                waiting_since, applied_then = time.monotonic(), progress.applied
            if time.monotonic() - waiting_since > STALL_TIMEOUT_S:
                pending = progress.written - progress.applied
                raise SoakError(
                    f"nothing applied for {STALL_TIMEOUT_S} s with {pending:,} changes "
                    "pending; see the stack's logs/"
                )
            time.sleep(1.0)
        fresh = list(generator.items(inserts))
        batch_write(dynamodb, table, puts(fresh), advance)
        pool.extend(fresh)
        chosen = picker.sample(range(len(pool)), updates + removals)
        for index in chosen[:updates]:
            pool[index] = generator.updated(pool[index])
        batch_write(dynamodb, table, puts(pool[i] for i in chosen[:updates]), advance)
        gone = sorted(chosen[updates:], reverse=True)
        batch_write(dynamodb, table, deletes(pool[i] for i in gone), advance)
        for index in gone:
            pool.pop(index)
        del pool[: max(0, len(pool) - LIVE_POOL)]  # the oldest stay live, untouched


# ---- the run -----------------------------------------------------------------------------


def _stack(command: str, state_dir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.local.stack", command, "--state-dir", str(state_dir)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout, check=False,
    )  # fmt: skip


def teardown(state_dir: Path) -> None:
    """A throwaway stack: stop its processes and delete its directory. No terraform destroy
    (it takes minutes, and everything it would delete lives in the moto being stopped)."""
    paths = StatePaths(state_dir.resolve())
    stop_dataplane(paths)
    stop_moto(paths)
    MariaDBServer(paths.mariadb_dir).remove()
    shutil.rmtree(paths.root, ignore_errors=True)


def run_verify(state_dir: Path, out_dir: Path) -> tuple[int, dict[str, Any], str, float]:
    """``ddb2aurora verify --local --json`` as an operator runs it; (exit code, report,
    stderr tail, the CLI's own peak RSS in MiB). Its progress lines (stderr) are relayed."""
    stdout_path, stderr_path = out_dir / "verify.json", out_dir / "verify.err"
    relayed = 0
    command = [sys.executable, "-m", "ddb2aurora.ops.cli", "verify", "--json",
               "--local", "--state-dir", str(state_dir)]  # fmt: skip
    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=REPO_ROOT)
        deadline = time.monotonic() + VERIFY_TIMEOUT_S
        while True:
            relayed = relay_lines(stderr_path, relayed)
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.5)
        process.returncode = os.waitstatus_to_exitcode(status)  # wait4 reaped it
    relay_lines(stderr_path, relayed)
    report: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        report = dict(json.loads(stdout_path.read_text()))
    return process.returncode, report, stderr_path.read_text()[-2000:], usage.ru_maxrss / 1024


def relay_lines(path: Path, offset: int) -> int:
    """Print the complete lines written to path after offset; returns the new offset."""
    with path.open("rb") as source:
        source.seek(offset)
        chunk = source.read()
    complete = chunk[: chunk.rfind(b"\n") + 1]
    for line in complete.decode(errors="replace").splitlines():
        print(f"  {line}", flush=True)
    return offset + len(complete)


def summarize(rows: Iterable[Mapping[str, Any]]) -> tuple[list[Verdict], dict[str, Any]]:
    """Per label: the RSS series (the max over its processes at each sample) judged by
    ``assess``. For moto (which stores what is written) and MariaDB (what is applied): the
    growth per 100,000 changes and, from it, the RSS projected at a million changes."""
    at: dict[str, dict[float, float]] = {}
    along: dict[str, dict[int, float]] = {}
    axis = {"moto": "written", "mariadb": "applied"}
    for row in rows:
        mib = row["rss_kib"] / 1024
        series = at.setdefault(row["label"], {})
        series[row["elapsed_s"]] = max(series.get(row["elapsed_s"], 0.0), mib)
        if row["label"] in axis:
            points = along.setdefault(row["label"], {})
            points[row[axis[row["label"]]]] = mib
    verdicts = [
        assess(label, sorted(series.items()), asserted=is_ours(label))
        for label, series in sorted(at.items())
    ]
    growth: dict[str, Any] = {}
    for label, points in sorted(along.items()):
        per_100k = growth_per_100k(sorted(points.items()))
        last_x, last_mib = max(points.items())
        growth[label] = {
            "per": axis[label],
            "mib_per_100k_changes": None if per_100k is None else round(per_100k, 1),
            "rss_at_end_mib": round(last_mib),
            "projected_at_1m_mib": None
            if per_100k is None
            else round(last_mib + per_100k * (FULL_CHANGES - last_x) / 100_000),
        }
    return verdicts, growth


@dataclass
class SoakRun:
    changes: int
    seed: int
    work: Path
    run_id: str
    summary: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.work / "stack"

    @property
    def csv_path(self) -> Path:
        return SOAK_DIR / f"{self.run_id}-rss.csv"

    @property
    def summary_path(self) -> Path:
        return SOAK_DIR / f"{self.run_id}-summary.json"


def bring_up(run: SoakRun) -> None:
    started = time.monotonic()
    try:
        up = _stack("up", run.state_dir, UP_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise SoakError(f"`stack up` did not finish within {UP_TIMEOUT_S} s") from error
    if up.returncode != 0:
        raise SoakError(f"`stack up` failed:\n{(up.stderr or up.stdout)[-3000:]}")
    run.summary["stack_up_s"] = round(time.monotonic() - started)
    print(f"stack up in {run.summary['stack_up_s']} s; writing", flush=True)


def write_and_drain(run: SoakRun) -> list[dict[str, Any]]:
    """Write every change while the sampler runs, drain; the RSS samples."""
    stack = load_stack(run.state_dir)
    progress = Progress()
    sampler = Sampler(StatePaths(run.state_dir.resolve()), progress, run.csv_path)
    sampler.baseline()
    sampler.start()
    writing = time.monotonic()
    try:
        write_changes(stack, run.changes, progress, run.seed)
        run.summary["write_s"] = round(time.monotonic() - writing)
        print(f"all {progress.written:,} changes written in {run.summary['write_s']} s; "
              "draining", flush=True)  # fmt: skip
        drained, _stats, message = drain(run.state_dir, DRAIN_TIMEOUT_S)
        run.summary["write_to_drained_s"] = round(time.monotonic() - writing)
        if not drained:
            run.failures.append(f"drain failed: {message}")
    finally:
        sampler.halt.set()
        sampler.join()
    run.summary["written"], run.summary["applied"] = progress.written, progress.applied
    run.summary["dataplane_stats"] = {
        k: v for k, v in progress.stats.items() if k not in ("invocations", "streams")
    }
    return sampler.rows


def verify(run: SoakRun) -> None:
    print("drained; running `ddb2aurora verify`", flush=True)
    code, report, errors, verify_mib = run_verify(run.state_dir, run.work)
    run.summary["verify"] = {
        "exit_code": code, "peak_rss_mib": round(verify_mib),
        **{k: report.get(k) for k in ("ok", "source_rows", "database_rows", "deleted_rows",
                                      "counts")},
    }  # fmt: skip
    print(f"verify exit {code}: {json.dumps(run.summary['verify'])}", flush=True)
    if code != 0:
        run.failures.append(f"`ddb2aurora verify` exited {code}: {errors or report}")


def judge_memory(run: SoakRun, rows: Sequence[Mapping[str, Any]]) -> None:
    verdicts, growth = summarize(rows)
    run.summary["memory"] = [asdict(v) for v in verdicts]
    run.summary["growth"] = growth
    print("\npeak RSS per process (MiB; first / last quarter's peak):")
    for v in verdicts:
        first, last = v.first_quarter_peak_mib, v.last_quarter_peak_mib
        state = "reported only"
        if v.asserted and not v.ok:
            state = "NOT BOUNDED"
        elif v.asserted:
            growth_note = "too short to judge growth" if first is None else "no steady growth"
            state = f"bounded (< {PEAK_BOUND_MIB} MiB, {growth_note})"
        quarters = "n/a" if first is None or last is None else f"{first:.0f} / {last:.0f}"
        print(f"  {v.label:<34} peak {v.peak_mib:6.0f}  quarters {quarters:>11}  {state}")
        run.failures.extend(f"{v.label}: {problem}" for problem in v.problems)
    for label, g in growth.items():
        if g["mib_per_100k_changes"] is not None:
            print(f"  {label}: +{g['mib_per_100k_changes']:.0f} MiB per 100,000 changes "
                  f"{g['per']}, {g['rss_at_end_mib']} MiB at the end, ~"
                  f"{g['projected_at_1m_mib']} MiB projected at 1,000,000")  # fmt: skip


def soak(changes: int, seed: int, keep: bool) -> int:
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    SOAK_DIR.mkdir(parents=True, exist_ok=True)
    run = SoakRun(changes, seed, Path(tempfile.mkdtemp(prefix=f"{run_id}-", dir=SOAK_DIR)), run_id)
    (run.work / "tmp").mkdir()
    os.environ["TMPDIR"] = str(run.work / "tmp")  # mariadbd's temporary files stay with it
    run.summary.update({"changes": changes, "seed": seed, "rss_csv": str(run.csv_path)})
    print(f"soak: {changes:,} changes; a private stack in {run.state_dir}", flush=True)
    started = time.monotonic()
    try:
        bring_up(run)
        rows = write_and_drain(run)
        verify(run)
        judge_memory(run, rows)
    except SoakError as error:
        run.failures.append(str(error))
    finally:
        run.summary["failures"] = run.failures
        run.summary["total_s"] = round(time.monotonic() - started)
        run.summary_path.write_text(json.dumps(run.summary, indent=2, default=str) + "\n")
        if keep:
            print(f"stack kept: python -m scripts.local.stack down --state-dir {run.state_dir}")
        else:
            teardown(run.state_dir)
            shutil.rmtree(run.work, ignore_errors=True)
    print(f"\nsamples: {run.csv_path}\nsummary: {run.summary_path}")
    if run.failures:
        print("soak FAILED:\n  " + "\n  ".join(run.failures))
        return 1
    print(f"soak passed: {changes:,} changes, verify exit 0, our processes bounded")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.local.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--changes",
        type=int,
        default=int(os.environ.get("SOAK_CHANGES") or FULL_CHANGES),
        help="changes to write (SOAK_CHANGES; default 1,000,000)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the stack up afterwards")
    args = parser.parse_args(argv)  # fmt: skip
    return soak(args.changes, args.seed, args.keep)


if __name__ == "__main__":
    sys.exit(main())
