"""Sample clickstream items for the web_analytics table (the blog's test harness, in Python).

Each item is one page view: ``page_id`` (S), ``activity_dt`` (S, ISO-8601 UTC with
milliseconds) and ``payload`` (S holding JSON with Hits, device, location and session).
Values are realistic and consistent: the session starts before the page view and stops at
or after it, coordinates lie near a real city of the stated country. The same seed gives
the same items, so a demo or a test can be replayed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# (country, city latitude, city longitude): the location is jittered around the city.
CITIES = (
    ("US", 47.6062, -122.3321),
    ("US", 40.7128, -74.0060),
    ("CA", 43.6532, -79.3832),
    ("BR", -23.5505, -46.6333),
    ("GB", 51.5072, -0.1276),
    ("DE", 52.5200, 13.4050),
    ("FR", 48.8566, 2.3522),
    ("ES", 40.4168, -3.7038),
    ("IN", 19.0760, 72.8777),
    ("JP", 35.6762, 139.6503),
    ("AU", -33.8688, 151.2093),
    ("ZA", -33.9249, 18.4241),
    ("NZ", -36.8485, 174.7633),
    ("SG", 1.3521, 103.8198),
)
DEVICES = (
    ("Apple", "iOS", ("17.6", "18.1", "18.2")),
    ("Apple", "macOS", ("14.7", "15.1")),
    ("Samsung", "Android", ("13", "14", "15")),
    ("Google", "Android", ("14", "15")),
    ("Xiaomi", "Android", ("13", "14")),
    ("Dell", "Windows", ("10", "11")),
    ("Lenovo", "Windows", ("11",)),
    ("Framework", "Linux", ("6.8", "6.11")),
)
SECTIONS = ("products", "blog", "docs", "support", "pricing", "careers")
WORDS = ("aurora", "stream", "table", "replica", "cloud", "widget", "gadget", "guide", "faq")
DEFAULT_START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def iso_millis(moment: dt.datetime) -> str:
    """The one spelling of activity_dt: ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def epoch_millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class ClickstreamGenerator:
    """Deterministic page views; ``items(n)`` yields plain ``{name: str}`` items."""

    seed: int = 42
    start: dt.datetime = DEFAULT_START
    pages: int = 250

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._clock = self.start
        self._page_ids = [self._page_id(i) for i in range(self.pages)]

    def _page_id(self, index: int) -> str:
        section = self._rng.choice(SECTIONS)
        slug = "-".join(self._rng.sample(WORDS, 2))
        return f"/{section}/{slug}-{index}"

    def _payload(self, viewed_at: dt.datetime, hits: int | None = None) -> dict[str, Any]:
        rng = self._rng
        make, platform, versions = rng.choice(DEVICES)
        country, latitude, longitude = rng.choice(CITIES)
        started = viewed_at - dt.timedelta(milliseconds=rng.randint(0, 30 * 60 * 1000))
        stopped = viewed_at + dt.timedelta(milliseconds=rng.randint(0, 10 * 60 * 1000))
        return {
            "Hits": hits if hits is not None else rng.randint(1, 40),
            "device": {
                "make": make,
                "platform": {"name": platform, "version": rng.choice(versions)},
                "location": {
                    "latitude": round(latitude + rng.uniform(-0.2, 0.2), 6),
                    "longitude": round(longitude + rng.uniform(-0.2, 0.2), 6),
                    "country": country,
                },
            },
            "session": {
                "session_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "start_timestamp": epoch_millis(started),
                "stop_timestamp": epoch_millis(stopped),
            },
        }

    def item(self) -> dict[str, str]:
        """The next page view; activity_dt strictly increases, so keys never repeat."""
        self._clock += dt.timedelta(milliseconds=self._rng.randint(1, 900))
        return {
            "page_id": self._rng.choice(self._page_ids),
            "activity_dt": iso_millis(self._clock),
            "payload": json.dumps(self._payload(self._clock), separators=(",", ":")),
        }

    def items(self, count: int) -> Iterator[dict[str, str]]:
        for _ in range(count):
            yield self.item()

    def updated(self, item: dict[str, str]) -> dict[str, str]:
        """The same page view seen again: more hits, the session runs longer."""
        payload = json.loads(item["payload"])
        payload["Hits"] += self._rng.randint(1, 10)
        session = payload["session"]
        session["stop_timestamp"] += self._rng.randint(1_000, 600_000)
        return {**item, "payload": json.dumps(payload, separators=(",", ":"))}


def to_dynamodb(item: dict[str, str]) -> dict[str, dict[str, str]]:
    """Plain string attributes in DynamoDB's typed JSON (the low-level client's shape)."""
    return {name: {"S": value} for name, value in item.items()}


def key_of(item: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"page_id": {"S": item["page_id"]}, "activity_dt": {"S": item["activity_dt"]}}


if __name__ == "__main__":
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for sample in ClickstreamGenerator().items(count):
        print(json.dumps(sample))
