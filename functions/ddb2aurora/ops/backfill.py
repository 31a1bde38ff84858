"""backfill: the items that existed before the stream, through the real transform and
load path, as upserts with ``seq`` "0", so any streamed change (a real SequenceNumber)
wins and running it while the stream flows is safe. Run it after the stream is enabled:
whatever changes after an item was read is then on the stream.

Two sources: a parallel segmented Scan within a read budget, and a DynamoDB export to S3
(full export, DYNAMODB_JSON). Both checkpoint after every delivered page or file and
resume from there (see checkpoint.py).
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ddb2aurora.ops.checkpoint import Checkpoint
from ddb2aurora.ops.errors import OpsError
from ddb2aurora.ops.records import Sender, backfill_record, firehose_put, keys_text, too_large, wire
from ddb2aurora.ops.scan import RateLimiter, TableInfo, describe_table, read_budget, scan_segment
from ddb2aurora.ops.target import Target

Progress = Callable[[int], None]


@dataclass
class BackfillOptions:
    checkpoint: Path
    segments: int = 4
    read_share: float = 0.5
    max_rcu: float | None = None
    page_size: int = 500
    restart: bool = False


@dataclass
class BackfillReport:
    source: str
    checkpoint: str
    resumed: bool
    complete: bool
    items_sent: int
    items_total: int
    too_large: list[str] = field(default_factory=list)
    interrupted: bool = False
    read_budget_rcu: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def unwire_key(key: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored LastEvaluatedKey back in boto3's form (binary as bytes)."""
    if key is None:
        return None
    result = {}
    for name, typed in key.items():
        if "B" in typed:
            result[name] = {"B": base64.b64decode(typed["B"])}
        else:
            result[name] = typed
    return result


class _Work:
    """What every worker shares: the sender, the checkpoint, the stop flag, the report."""

    def __init__(
        self, target: Target, table: TableInfo, checkpoint: Checkpoint, progress: Progress
    ) -> None:
        self.table = table
        self.source = table.name
        self.checkpoint = checkpoint
        self.progress = progress
        self.stop = threading.Event()
        self.sender = Sender(
            firehose_put(target.aws.client("firehose"), target.require("delivery_stream"))
        )
        self.too_large: list[str] = []
        self.lock = threading.Lock()
        self.ts_ms = int(time.time() * 1000)

    def deliver(self, unit: str, items: list[dict[str, Any]]) -> None:
        """Send the items as backfill change records (too large ones are reported)."""
        lines = []
        for index, item in enumerate(items):
            event_id = f"backfill-{self.checkpoint.run_id}-{unit[-32:]}-{index}"
            record = backfill_record(item, self.table.key_names, self.source, self.ts_ms, event_id)
            line = record.to_json_line()
            if too_large(line):
                with self.lock:
                    self.too_large.append(keys_text(record.keys))
                continue
            lines.append(line)
        if lines:
            self.sender.send(lines)
        self.progress(len(items))


def _run_units(
    work: _Work, units: list[str], run_unit: Callable[[str], None], threads: int
) -> bool:
    """Run the unfinished units in parallel; True when interrupted (Ctrl-C)."""
    pending = [unit for unit in units if not work.checkpoint.units[unit].done]
    if not pending:
        return False
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = [pool.submit(run_unit, unit) for unit in pending]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    work.stop.set()
                    wait(futures)
                    raise future.exception()  # type: ignore[misc]
        except KeyboardInterrupt:
            work.stop.set()
            wait(futures)
            return True
    return False


def backfill_from_scan(
    target: Target, options: BackfillOptions, progress: Progress, on_total: Progress
) -> BackfillReport:
    dynamodb = target.aws.client("dynamodb")
    table = describe_table(dynamodb, target.require("table"))
    budget = read_budget(table, options.read_share, options.max_rcu)
    units = [str(segment) for segment in range(options.segments)]
    checkpoint = Checkpoint.open(
        options.checkpoint, f"scan:{table.name}", units, restart=options.restart
    )
    on_total(max(table.item_count, checkpoint.items))
    progress(checkpoint.items)
    work = _Work(target, table, checkpoint, progress)
    limiter = RateLimiter(budget)

    def run_segment(unit: str) -> None:
        state = checkpoint.units[unit]
        pages = scan_segment(
            dynamodb,
            table=table.name,
            segment=int(unit),
            total_segments=options.segments,
            start_key=unwire_key(state.last_key),
            limiter=limiter,
            stop=work.stop,
            page_size=options.page_size,
        )
        for items, last_key in pages:
            work.deliver(unit, items)
            checkpoint.record(unit, wire(last_key) if last_key else None, len(items))

    interrupted = _run_units(work, units, run_segment, options.segments)
    return BackfillReport(
        source=f"scan:{table.name}",
        checkpoint=str(options.checkpoint),
        resumed=checkpoint.resumed,
        complete=checkpoint.complete,
        items_sent=checkpoint.items,
        items_total=table.item_count,
        too_large=work.too_large,
        interrupted=interrupted,
        read_budget_rcu=budget,
    )


# ---- DynamoDB export to S3 (full export, DYNAMODB_JSON) ---------------------------------


def _split_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise OpsError(f"--export must be an s3:// URI of an export, got {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def export_data_files(target: Target, export_uri: str) -> tuple[str, list[str]]:
    """The export's bucket and data file keys, from manifest-summary.json or
    manifest-files.json (``--export s3://bucket/prefix/AWSDynamoDB/<export id>/``)."""
    s3 = target.aws.client("s3")
    bucket, key = _split_s3_uri(export_uri)
    if key.endswith(".json"):
        key = key.rsplit("/", 1)[0] + "/"
    if not key.endswith("/"):
        key += "/"
    summary = json.loads(
        s3.get_object(Bucket=bucket, Key=key + "manifest-summary.json")["Body"].read()
    )
    if summary.get("exportType", "FULL_EXPORT") != "FULL_EXPORT":
        raise OpsError(f"{export_uri} is an {summary['exportType']}; backfill needs a FULL_EXPORT")
    if summary.get("outputFormat", "DYNAMODB_JSON") != "DYNAMODB_JSON":
        raise OpsError(f"{export_uri} is {summary['outputFormat']}; backfill reads DYNAMODB_JSON")
    manifest_key = summary.get("manifestFilesS3Key") or key + "manifest-files.json"
    body = s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read().decode()
    files = [json.loads(line)["dataFileS3Key"] for line in body.splitlines() if line.strip()]
    return bucket, files


def export_items(target: Target, bucket: str, key: str) -> Iterator[dict[str, Any]]:
    raw = target.aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    for line in text.decode().splitlines():
        if line.strip():
            yield json.loads(line)["Item"]


def backfill_from_export(
    target: Target,
    export_uri: str,
    options: BackfillOptions,
    progress: Progress,
    on_total: Progress,
) -> BackfillReport:
    table = describe_table(target.aws.client("dynamodb"), target.require("table"))
    bucket, files = export_data_files(target, export_uri)
    checkpoint = Checkpoint.open(
        options.checkpoint, f"export:{export_uri}", files, restart=options.restart
    )
    on_total(max(table.item_count, checkpoint.items))
    progress(checkpoint.items)
    work = _Work(target, table, checkpoint, progress)

    def run_file(unit: str) -> None:
        # a file is marked done once all of it is delivered; a resumed run sends a
        # half-sent file again (harmless: seq 0 never overwrites a row)
        batch: list[dict[str, Any]] = []
        count = 0
        for item in export_items(target, bucket, unit):
            if work.stop.is_set():
                return
            batch.append(item)
            if len(batch) == options.page_size:
                work.deliver(unit, batch)
                count += len(batch)
                batch = []
        if batch:
            work.deliver(unit, batch)
            count += len(batch)
        checkpoint.record(unit, None, count)

    interrupted = _run_units(work, files, run_file, options.segments)
    return BackfillReport(
        source=f"export:{export_uri}",
        checkpoint=str(options.checkpoint),
        resumed=checkpoint.resumed,
        complete=checkpoint.complete,
        items_sent=checkpoint.items,
        items_total=table.item_count,
        too_large=work.too_large,
        interrupted=interrupted,
    )
