"""The demo on the local stack: write sample page views, update and delete some, drain the
pipeline, and show whether the database agrees with DynamoDB.

Run by ``make demo`` after ``make up``; the stack stays up afterwards for exploring.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scripts.local.compare import compare_table, sample_mapping
from scripts.local.mariadb import connect_view
from scripts.local.sample_data import ClickstreamGenerator, key_of, to_dynamodb
from scripts.local.stack import REPO_ROOT, StackError, boto_client

BATCH_SIZE = 25  # BatchWriteItem's limit
COUNTERS = ("changes_streamed", "records_transformed", "records_failed", "objects_loaded")
console = Console()


def load_stack(state_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((state_dir / "stack.json").read_text()))
    except FileNotFoundError as error:
        raise StackError(f"{state_dir / 'stack.json'} not found: run `make up` first") from error


def batch_write(
    dynamodb: Any, table: str, requests: Sequence[dict[str, Any]], advance: Callable[[int], None]
) -> None:
    """BatchWriteItem in chunks of 25, resubmitting unprocessed items with a short backoff."""
    for start in range(0, len(requests), BATCH_SIZE):
        pending = list(requests[start : start + BATCH_SIZE])
        attempt = 0
        while pending:
            reply = dynamodb.batch_write_item(RequestItems={table: pending})
            unprocessed = reply.get("UnprocessedItems", {}).get(table, [])
            advance(len(pending) - len(unprocessed))
            pending = unprocessed
            if pending:
                attempt += 1
                time.sleep(min(0.05 * 2**attempt, 2.0))


def puts(items: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"PutRequest": {"Item": to_dynamodb(item)}} for item in items]


def deletes(items: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"DeleteRequest": {"Key": key_of(item)}} for item in items]


def drain(state_dir: Path, timeout: float) -> tuple[bool, dict[str, Any], str]:
    """Run the data plane's drain; (succeeded, stats, message)."""
    result = subprocess.run(
        [
            sys.executable, "-m", "scripts.local.dataplane", "--state-dir", str(state_dir),
            "drain", "--timeout", str(int(timeout)),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )  # fmt: skip
    stats: dict[str, Any] = {}
    with contextlib.suppress(ValueError, TypeError):
        report = dict(json.loads(result.stdout))
        stats = dict(report.get("stats", report))
    message = (result.stderr or result.stdout).strip()[-2000:]
    return result.returncode == 0, stats, message


def dataplane_stats(state_dir: Path) -> dict[str, Any]:
    """The data plane's counters from its control endpoint (empty when unreachable)."""
    try:
        control = json.loads((state_dir / "dataplane.json").read_text())["control_url"]
        with urllib.request.urlopen(control + "/stats", timeout=5) as reply:  # noqa: S310 (loopback)
            return dict(json.loads(reply.read()))
    except (OSError, ValueError, KeyError):
        return {}


def _percentile(samples: Sequence[float], fraction: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def lag_percentiles(stats: dict[str, Any]) -> tuple[float | None, float | None]:
    """End-to-end lag p50/p95 in ms, from whichever form the stats carry."""
    for key in ("lag_ms", "lag"):
        summary = stats.get(key)
        if isinstance(summary, dict) and "p50" in summary:
            return summary.get("p50"), summary.get("p95")
    for key in ("lag_samples_ms", "lag_samples"):
        samples = stats.get(key)
        if isinstance(samples, list):
            values = [float(s) for s in samples]
            return _percentile(values, 0.50), _percentile(values, 0.95)
    return stats.get("lag_p50_ms"), stats.get("lag_p95_ms")


def _fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1000:.1f} s"


def run(state_dir: Path, count: int, update_share: float, delete_share: float, seed: int) -> int:
    stack = load_stack(state_dir)
    table = stack["table_name"]
    dynamodb = boto_client("dynamodb", stack["aws_endpoint_url"])
    generator = ClickstreamGenerator(seed=seed)
    picker = random.Random(seed + 1)
    items = list(generator.items(count))
    changed = picker.sample(items, int(count * (update_share + delete_share)))
    to_update = changed[: int(count * update_share)]
    to_delete = changed[len(to_update) :]
    before = dataplane_stats(state_dir)
    started = time.monotonic()
    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        for label, requests in (
            ("writing items", puts(items)),
            ("updating items", puts(generator.updated(item) for item in to_update)),
            ("deleting items", deletes(to_delete)),
        ):
            task = progress.add_task(label, total=len(requests))
            batch_write(dynamodb, table, requests, lambda n, t=task: progress.advance(t, n))
    written_in = time.monotonic() - started
    with console.status("draining the pipeline (stream → Firehose → S3 → loader)…"):
        drained, stats, message = drain(state_dir, timeout=max(60.0, 540 - written_in))
    stats = stats or dataplane_stats(state_dir)
    # The data plane counts since it started; show what this run added.
    counted = {
        name: stats[name] - before.get(name, 0)
        for name in COUNTERS
        if isinstance(stats.get(name), int)
    }
    mysql = stack["mysql"]
    connection = connect_view(mysql)
    try:
        comparison = compare_table(dynamodb, table, connection, sample_mapping())
    finally:
        connection.close()
    elapsed = time.monotonic() - started
    p50, p95 = lag_percentiles(stats)

    summary = Table(title="ddb2aurora local demo", show_header=False)
    summary.add_column("what")
    summary.add_column("value", justify="right")
    rows = [
        ("items written", f"{len(items):,}"),
        ("items updated / deleted", f"{len(to_update):,} / {len(to_delete):,}"),
        ("changes streamed", f"{counted.get('changes_streamed', 'n/a')}"),
        ("records transformed", f"{counted.get('records_transformed', 'n/a')}"),
        ("records failed", f"{counted.get('records_failed', 'n/a')}"),
        ("objects loaded", f"{counted.get('objects_loaded', 'n/a')}"),
        (
            "rows in the database",
            f"{comparison.live_rows:,} live, {comparison.deleted_rows:,} deleted",
        ),
        ("database agrees with DynamoDB", "yes" if comparison.agrees else "NO"),
        ("end-to-end lag p50 / p95", f"{_fmt_ms(p50)} / {_fmt_ms(p95)} (since data plane start)"),
        ("write time / total time", f"{written_in:.0f} s / {elapsed:.0f} s"),
    ]
    for what, value in rows:
        summary.add_row(what, value)
    console.print(summary)
    if not drained:
        console.print(f"[red]drain failed:[/red] {message}")
    if not comparison.agrees:
        console.print(f"[red]{comparison.describe()}[/red]")
    console.print(
        "\nThe stack stays up. AWS endpoint "
        f"[cyan]{stack['aws_endpoint_url']}[/cyan] (region {stack['region']}, keys test/test); "
        f"MariaDB [cyan]{mysql['host']}:{mysql['port']}[/cyan] database {mysql['database']} "
        f"user {mysql['user']} (password in {state_dir / 'stack.json'}). "
        "`make drain` after more writes; `make down` when done."
    )
    return 0 if drained and comparison.agrees else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.local.demo", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--update-share", type=float, default=0.10)
    parser.add_argument("--delete-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        return run(args.state_dir, args.items, args.update_share, args.delete_share, args.seed)
    except StackError as error:
        console.print(f"[red]error:[/red] {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
