"""docs/cost.md: AWS cost per million changes, from the measured CPU time per record
(transform, stream processor), the measured merge rate (loader) and the module defaults,
against the AWS blog's settings. Prices are list prices typed in below, each with where it
was checked (or that it was not)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.bench.common import Section

CHANGES = 1_000_000


@dataclass(frozen=True)
class Price:
    """A us-east-1 list price, where it was checked, and how far that check goes."""

    usd: float
    source: str


# Typed from memory in 2025-06, then looked up on 2026-11-30 in stored copies of public
# pages (no live AWS pricing page or API from this machine; the pages carry no date).
# Where only a third party states a number, the price is marked unverified.
PRICES_CHECKED_ON = "2026-11-30"
_LAMBDA_WHITEPAPER = (
    "https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html"
)
LAMBDA_GB_SECOND = {
    "arm64": Price(
        0.0000133334,
        "unverified on an AWS page: third parties (cloudchipr.com/blog/aws-lambda-pricing, "
        "2024, 'US East (N. Virginia)', first 7.5 billion GB-s/month) state it",
    ),
    "x86_64": Price(
        0.0000166667,
        f"AWS: {_LAMBDA_WHITEPAPER} ($0.00001667, rounded)",
    ),
}
LAMBDA_REQUEST = Price(0.20 / 1_000_000, f"AWS: {_LAMBDA_WHITEPAPER} ($0.20 per 1M)")
FIREHOSE_PER_GB = Price(
    0.029,
    "unverified: the number is from memory (Direct PUT, first 500 TB/month); AWS's pricing "
    "page (https://aws.amazon.com/de/kinesis/data-firehose/pricing/) confirms the 5 KB rounding",
)
S3_PUT = Price(
    0.005 / 1_000,
    "unverified on an AWS page: third parties (c3x.dev/blog/s3-request-fees-explained, "
    "awsi.click) state $0.005 per 1,000 PUT, COPY, POST, LIST for S3 Standard in us-east-1",
)
S3_GET = Price(0.0004 / 1_000, "unverified on an AWS page: the same third parties")
FIREHOSE_RECORD_ROUNDING = 5 * 1024  # each record is billed in 5 KB increments
# Lambda gives a function one full vCPU at 1,769 MB and a proportional share below it;
# the measured CPU seconds on one local core are scaled by that share (assumption: one
# local core ~ one Lambda vCPU, for arm64 and x86_64 alike).
FULL_VCPU_MB = 1_769
PUT_RECORD_BATCH_LATENCY_S = 0.030  # assumption: one in-region PutRecordBatch round trip
THROUGHPUT_CHANGES_PER_S = 1_000  # assumption: sets how many objects Firehose writes


@dataclass(frozen=True)
class Settings:
    name: str
    architecture: str
    stream_memory_mb: int
    batch_size: int
    transform_memory_mb: int
    transform_buffer_mb: float
    transform_cpu_key: str  # which measured transform: ours or the blog's
    loader_memory_mb: int
    firehose_buffer_mib: int
    firehose_interval_s: int


# Module defaults (terraform/modules/*/variables.tf and the root stack's variables.tf).
OURS = Settings("ddb2aurora defaults", "arm64", 256, 100, 512, 1, "ours", 512, 64, 60)
# The blog: 1,024 MB transform with a validator built per record, batch size 100; the
# rest as ours (same loader and buffering) but on x86_64, the architecture of its time.
BLOG = Settings("AWS blog's settings", "x86_64", 256, 100, 1_024, 1, "blog", 512, 64, 60)


def _cpu_share(memory_mb: int) -> float:
    return min(1.0, memory_mb / FULL_VCPU_MB)


def _billed(seconds: float) -> float:
    return math.ceil(seconds * 1000) / 1000  # Lambda bills per millisecond


@dataclass(frozen=True)
class Line:
    item: str
    quantity: str
    usd: float


def estimate(settings: Settings, measured: dict[str, dict[str, Any]]) -> list[Line]:
    transform = measured["transform"]
    stream = measured["stream processor"]["by_batch_size"]
    loader = measured["loader"]
    gb_s = LAMBDA_GB_SECOND[settings.architecture].usd
    lines = []

    # stream_processor: one invocation per batch of stream records
    batch = stream.get(str(settings.batch_size)) or stream["100"]
    invocations = math.ceil(CHANGES / settings.batch_size)
    calls = math.ceil(settings.batch_size / 500)
    seconds = _billed(
        settings.batch_size
        * batch["cpu_seconds_per_record"]
        / _cpu_share(settings.stream_memory_mb)
        + calls * PUT_RECORD_BATCH_LATENCY_S
    )
    lines += _lambda_lines(
        "stream_processor", invocations, seconds, settings.stream_memory_mb, gb_s
    )

    # firehose_transform: Firehose invokes it per processor buffer of input data
    record_bytes = transform["input_bytes_per_record"]
    per_invocation = max(1, int(settings.transform_buffer_mb * 1024 * 1024 // record_bytes))
    invocations = math.ceil(CHANGES / per_invocation)
    cpu = transform["cpu_seconds_per_record"][settings.transform_cpu_key]
    seconds = _billed(per_invocation * cpu / _cpu_share(settings.transform_memory_mb))
    lines += _lambda_lines(
        "firehose_transform", invocations, seconds, settings.transform_memory_mb, gb_s
    )

    # aurora_loader: one invocation per delivered object; it waits for the load and merge
    csv_bytes = CHANGES * loader["object_bytes"] / loader["rows"]
    by_size = math.ceil(csv_bytes / (settings.firehose_buffer_mib * 2**20))
    by_time = math.ceil(CHANGES / THROUGHPUT_CHANGES_PER_S / settings.firehose_interval_s)
    objects = max(by_size, by_time)
    seconds = _billed(CHANGES / objects / loader["merge_rows_per_second"])
    lines += _lambda_lines("aurora_loader", objects, seconds, settings.loader_memory_mb, gb_s)

    # Firehose ingestion: each change record rounded up to 5 KB
    line_bytes = stream["100"]["bytes_per_record"]
    billed_bytes = (
        CHANGES * math.ceil(line_bytes / FIREHOSE_RECORD_ROUNDING) * FIREHOSE_RECORD_ROUNDING
    )
    lines.append(
        Line(
            "Firehose ingestion",
            f"{CHANGES:,} records of ~{line_bytes:,.0f} B billed as 5 KB = "
            f"{billed_bytes / 2**30:.2f} GB",
            billed_bytes / 2**30 * FIREHOSE_PER_GB.usd,
        )
    )
    lines.append(
        Line("S3 PUT (Firehose delivers objects)", f"{objects} objects", objects * S3_PUT.usd)
    )
    lines.append(
        Line("S3 GET (the loader reads each object)", f"{objects} objects", objects * S3_GET.usd)
    )
    return lines


def _lambda_lines(
    name: str, invocations: int, seconds: float, memory_mb: int, gb_s: float
) -> list[Line]:
    gb_seconds = invocations * seconds * memory_mb / 1024
    return [
        Line(
            f"{name} compute",
            f"{invocations:,} x {seconds * 1000:,.0f} ms x {memory_mb} MB = {gb_seconds:,.1f} GB-s",
            gb_seconds * gb_s,
        ),
        Line(f"{name} requests", f"{invocations:,}", invocations * LAMBDA_REQUEST.usd),
    ]


def _table(lines: Sequence[Line]) -> str:
    rows = ["| item | quantity | USD |", "|---|---|---:|"]
    rows += [f"| {line.item} | {line.quantity} | {line.usd:.4f} |" for line in lines]
    rows.append(f"| **total** | | **{sum(line.usd for line in lines):.4f}** |")
    return "\n".join(rows)


def _price_rows() -> str:
    prices = [
        ("Lambda arm64, per GB-second", LAMBDA_GB_SECOND["arm64"], 1, ".10f"),
        ("Lambda x86_64, per GB-second", LAMBDA_GB_SECOND["x86_64"], 1, ".10f"),
        ("Lambda, per million requests", LAMBDA_REQUEST, 1e6, ".2f"),
        ("Firehose Direct PUT, per GB ingested (5 KB rounding)", FIREHOSE_PER_GB, 1, ".3f"),
        ("S3 Standard PUT, per 1,000 requests", S3_PUT, 1000, ".4f"),
        ("S3 Standard GET, per 1,000 requests", S3_GET, 1000, ".4f"),
    ]
    return "\n".join(
        f"| {name} | {price.usd * unit:{spec}} | {price.source} |"
        for name, price, unit, spec in prices
    )


def write(path: Path, sections: Sequence[Section], run: Any) -> None:
    measured = {s.name: s.measurements for s in sections}
    ours = estimate(OURS, measured)
    blog = estimate(BLOG, measured)
    transform = measured["transform"]
    ours_total, blog_total = sum(x.usd for x in ours), sum(x.usd for x in blog)
    packed = math.floor(
        FIREHOSE_RECORD_ROUNDING
        / measured["stream processor"]["by_batch_size"]["100"]["bytes_per_record"]
    )
    text = f"""# Cost per million changes

Generated by `{run.command}` (scripts/bench/cost.py) from the measurements in
[performance.md](performance.md); do not edit by hand.

**Prices**: AWS list prices for us-east-1, typed into scripts/bench/cost.py (not fetched
when this page is written) and checked on {PRICES_CHECKED_ON} against the pages named
below; a price whose source says "unverified" was not found on an AWS page. **Check them**
on the AWS Lambda, Amazon Data Firehose and Amazon S3 pricing pages before relying on
these figures. The stack uses no Firehose data format conversion or dynamic partitioning,
which are priced separately.

| price | USD | source |
|---|---:|---|
{_price_rows()}

## Model and assumptions

- **Durations come from this machine.** The benchmark measures CPU seconds per record on
  one local core (transform: {transform["cpu_seconds_per_record"]["ours"] * 1e6:,.0f} µs ours,
  {transform["cpu_seconds_per_record"]["blog"] * 1e6:,.0f} µs with the blog's per-record
  validator; stream processor at batch size 100:
  {measured["stream processor"]["by_batch_size"]["100"]["cpu_seconds_per_record"] * 1e6:,.0f} µs).
  Lambda gives a function memory/{FULL_VCPU_MB:,} of a vCPU below {FULL_VCPU_MB:,} MB, so
  a function's duration is CPU time / that share. One local core is taken to equal one
  Lambda vCPU on either architecture; that is an assumption, not a measurement.
- stream_processor: one invocation per {OURS.batch_size} stream records (full batches), plus
  {PUT_RECORD_BATCH_LATENCY_S * 1000:.0f} ms per PutRecordBatch round trip (assumed).
- firehose_transform: Firehose invokes it per {OURS.transform_buffer_mb:g} MB processor
  buffer, i.e. per {int(OURS.transform_buffer_mb * 2**20 // transform["input_bytes_per_record"]):,}
  change records of ~{transform["input_bytes_per_record"]:,.0f} B. Its peak RSS on a full
  6 MB event was {transform["child_peak_rss_mb"]:.0f} MB, well inside the default 512 MB.
- aurora_loader: one invocation per object; it waits while the database loads and merges
  (the `s3` method in AWS), at the merge rate measured on MariaDB
  ({measured["loader"]["merge_rows_per_second"]:,.0f} rows/s) as a stand-in for Aurora.
  Objects: Firehose's 64 MiB / 60 s buffer at an assumed {THROUGHPUT_CHANGES_PER_S:,}
  changes/s.
- Not included: Aurora itself (instance or ACU hours, storage, I/O), CloudWatch, KMS, VPC
  endpoints, DynamoDB Streams reads by Lambda (free). These do not depend on the settings
  compared here.
- The blog's column: its transform at 1,024 MB building a JSON Schema validator per record
  (measured), batch size 100; its other functions as ours (memory, buffering) but on
  x86_64 (assumption: the architecture of its time).

## Ours: {OURS.name} (arm64; stream 256 MB, batch 100; transform 512 MB; loader 512 MB)

{_table(ours)}

## The blog's settings (x86_64; transform 1,024 MB, validator per record; batch 100)

{_table(blog)}

## Reading it

- Per million changes: **${ours_total:.3f} ours vs ${blog_total:.3f} the blog's**
  ({blog_total / ours_total:.1f}x).
- The transform is where the settings differ: building a validator per record costs
  {transform["cpu_seconds_per_record"]["blog"] / transform["cpu_seconds_per_record"]["ours"]:.0f}x
  the CPU per record, and 1,024 MB doubles the price of each second while (below
  {FULL_VCPU_MB:,} MB) halving the seconds; CPU-bound work costs the same GB-seconds at any
  memory size below one vCPU, so the memory setting matters little and the per-record
  validator matters a lot.
- Firehose ingestion dominates ours: every change record is billed as 5 KB although it is
  ~{measured["stream processor"]["by_batch_size"]["100"]["bytes_per_record"]:,.0f} B.
  Packing several change records (newline-separated) into one Firehose record, up to
  5 KB, would cut that line about {packed}x; the transform would then answer one record
  with several CSV rows, which its contract allows (one result per record, any number of
  lines in its data). Not done: it changes the stream_processor and transform contract.
"""
    path.write_text(text)
