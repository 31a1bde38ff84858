"""The backfill checkpoint: per unit of work (a Scan segment, an export data file) where
it got to. Written atomically after every page that Firehose fully accepted, so a run
stopped at any moment (Ctrl-C, a crash, a lost laptop) resumes after the last delivered
page; the page in flight is sent again, which the loader's ``_seq`` guard absorbs."""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ddb2aurora.ops.errors import OpsError

VERSION = 1


@dataclass
class UnitState:
    last_key: dict[str, Any] | None = None
    done: bool = False
    items: int = 0


@dataclass
class Checkpoint:
    path: Path
    source: str
    units: dict[str, UnitState]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    resumed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: Path, source: str, units: list[str], *, restart: bool) -> Checkpoint:
        """The checkpoint at ``path`` when it is for the same work, else a new one.
        A checkpoint for different work is an error unless ``restart`` is set, so a typo
        in a table name cannot silently throw away a half-done backfill."""
        if path.exists() and not restart:
            try:
                body = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as error:
                raise OpsError(
                    f"checkpoint {path} is unreadable ({error}); use --restart"
                ) from None
            if body.get("version") != VERSION or body.get("source") != source:
                raise OpsError(
                    f"checkpoint {path} belongs to {body.get('source')!r}, not {source!r}: "
                    "pass another --checkpoint, or --restart to start over"
                )
            if sorted(body.get("units", {})) != sorted(units):
                raise OpsError(
                    f"checkpoint {path} was made with other segments/files "
                    f"({len(body.get('units', {}))} units, now {len(units)}): rerun with the "
                    "same --segments, or --restart"
                )
            return cls(
                path=path,
                source=source,
                units={name: UnitState(**state) for name, state in body["units"].items()},
                run_id=body["run_id"],
                started_at=body["started_at"],
                resumed=True,
            )
        checkpoint = cls(path=path, source=source, units={name: UnitState() for name in units})
        checkpoint.save()
        return checkpoint

    @property
    def complete(self) -> bool:
        return all(state.done for state in self.units.values())

    @property
    def items(self) -> int:
        return sum(state.items for state in self.units.values())

    def record(self, unit: str, last_key: dict[str, Any] | None, items: int) -> None:
        """A page of ``unit`` is delivered: remember where to go on (None: unit finished)."""
        with self._lock:
            state = self.units[unit]
            state.items += items
            state.last_key = last_key
            state.done = last_key is None
            self.save()

    def save(self) -> None:
        body = {
            "version": VERSION,
            "source": self.source,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "units": {name: asdict(state) for name, state in self.units.items()},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(body, handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.path)
