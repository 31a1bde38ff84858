"""Parallel segmented Scan within a read-capacity budget.

The budget is a share of the table's provisioned read capacity (``--read-share``), or for
on-demand tables an explicit ``--max-rcu``; every segment draws from one token bucket
with the capacity each page actually consumed (ReturnConsumedCapacity), so the whole
scan stays under the budget however many segments run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ddb2aurora.ops.aws import Client
from ddb2aurora.ops.errors import OpsError

EVENTUAL_READ_BYTES = 8192  # an eventually consistent read unit covers 2 x 4 KB


class RateLimiter:
    """A token bucket in read capacity units per second, shared by threads. A page is paid
    for after it was read (its cost is known only then); the next read waits off the debt."""

    def __init__(self, units_per_second: float) -> None:
        if units_per_second <= 0:
            raise ValueError("the read budget must be positive")
        self.rate = units_per_second
        self._balance = units_per_second  # one second of burst
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._balance = min(self.rate, self._balance + (now - self._last) * self.rate)
        self._last = now

    def wait(self, stop: threading.Event) -> None:
        """Block until the bucket is out of debt (or ``stop`` is set)."""
        while not stop.is_set():
            with self._lock:
                self._refill()
                debt = -self._balance
            if debt <= 0:
                return
            stop.wait(min(debt / self.rate, 1.0))

    def spend(self, units: float) -> None:
        with self._lock:
            self._refill()
            self._balance -= units


@dataclass(frozen=True)
class TableInfo:
    name: str
    key_names: tuple[str, ...]
    item_count: int
    read_capacity: int  # 0 for on-demand tables
    stream_arn: str | None


def describe_table(dynamodb: Client, name: str) -> TableInfo:
    table = dynamodb.describe_table(TableName=name)["Table"]
    schema = sorted(table["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    capacity = int((table.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits") or 0)
    return TableInfo(
        name=name,
        key_names=tuple(k["AttributeName"] for k in schema),
        item_count=int(table.get("ItemCount") or 0),
        read_capacity=0 if billing == "PAY_PER_REQUEST" else capacity,
        stream_arn=table.get("LatestStreamArn"),
    )


def read_budget(table: TableInfo, read_share: float, max_rcu: float | None) -> float:
    """Read capacity units per second the scan may use."""
    if not 0 < read_share <= 1:
        raise OpsError("--read-share must be above 0 and at most 1")
    if table.read_capacity:
        budget = table.read_capacity * read_share
        return min(budget, max_rcu) if max_rcu else budget
    if not max_rcu:
        raise OpsError(
            f"table {table.name} is on-demand (no provisioned read capacity to take a share "
            "of): pass --max-rcu N, the read capacity units per second the scan may use"
        )
    return max_rcu


def page_cost(response: dict[str, Any]) -> float:
    """The capacity a Scan page consumed; estimated from the items' size when the
    service does not report it."""
    consumed = (response.get("ConsumedCapacity") or {}).get("CapacityUnits")
    if consumed is not None:
        return float(consumed)
    size = sum(len(json.dumps(item, default=str)) for item in response.get("Items", []))
    return max(0.5, size / EVENTUAL_READ_BYTES)


def scan_segment(
    dynamodb: Client,
    *,
    table: str,
    segment: int,
    total_segments: int,
    start_key: dict[str, Any] | None,
    limiter: RateLimiter | None,
    stop: threading.Event,
    page_size: int,
    consistent: bool = False,
) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any] | None]]:
    """(items, LastEvaluatedKey) per page of one segment, from ``start_key`` on; the last
    page has None. Stops early (without a final None) when ``stop`` is set."""
    params: dict[str, Any] = {
        "TableName": table,
        "Segment": segment,
        "TotalSegments": total_segments,
        "Limit": page_size,
        "ReturnConsumedCapacity": "TOTAL",
        "ConsistentRead": consistent,
    }
    if start_key:
        params["ExclusiveStartKey"] = start_key
    while not stop.is_set():
        if limiter is not None:
            limiter.wait(stop)
            if stop.is_set():
                return
        response = dynamodb.scan(**params)
        if limiter is not None:
            limiter.spend(page_cost(response))
        last_key = response.get("LastEvaluatedKey")
        yield response.get("Items", []), last_key
        if not last_key:
            return
        params["ExclusiveStartKey"] = last_key
