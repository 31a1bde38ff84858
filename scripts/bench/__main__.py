"""``make bench``: run the benchmarks, print each ratio next to its target, and write
docs/performance.md and docs/cost.md from the measurements.

    python -m scripts.bench [--only transform,loader,stream,e2e] [--no-docs]

The default runs every section (``make bench``, under 15 minutes on a quiet 2-core
machine): transform, loader, stream and the end to end run on a private local stack;
``--only`` (``make bench BENCH_ONLY=e2e``) runs some of them. Each section's results are
kept in build/bench/<section>.json; the docs are written from the sections just run plus
the latest saved run of the others, each dated.

``BENCH_SCALE`` (0 < s <= 1, default 1) shrinks the loader, stream and end to end
workloads for a quick run; docs written from a scaled run say so.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import time
from typing import Any

from scripts.bench import cost, report
from scripts.bench.common import ROOT, Row, Section, scale

SECTIONS = {"transform": "transform", "loader": "loader", "stream": "stream processor",
            "e2e": "e2e"}  # fmt: skip
DEFAULT = tuple(SECTIONS)
SCALED = ("loader", "stream", "e2e")  # the transform's workload is one full batch at any scale
RESULTS_DIR = ROOT / "build" / "bench"


def _run_section(name: str) -> Section:
    if name == "transform":
        from scripts.bench import transform

        return transform.run()
    if name == "loader":
        from scripts.bench import loader

        return loader.run()
    if name == "stream":
        from scripts.bench import stream

        return stream.run()
    from scripts.bench import e2e

    return e2e.run()


def _save(section: Section, command: str) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    section.measurements["measured_at"] = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    section.measurements["command"] = command
    body = {"name": section.name, "rows": [dataclasses.asdict(r) for r in section.rows],
            "measurements": section.measurements}  # fmt: skip
    path = RESULTS_DIR / f"{section.name.replace(' ', '_')}.json"
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")


def _load(name: str) -> Section | None:
    path = RESULTS_DIR / f"{name.replace(' ', '_')}.json"
    if not path.exists():
        return None
    body: dict[str, Any] = json.loads(path.read_text())
    rows = [Row(**row) for row in body["rows"]]
    return Section(body["name"], rows, body["measurements"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=",".join(DEFAULT), help="comma-separated sections")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument(
        "--render", action="store_true", help="run nothing; rewrite the docs from saved results"
    )
    args = parser.parse_args(argv)
    chosen = [] if args.render else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    command = "make bench"
    if chosen != list(DEFAULT):
        command += f" BENCH_ONLY={','.join(chosen)}"
    if args.render:
        command = "python -m scripts.bench --render"
    if scale() != 1:
        command += f" BENCH_SCALE={scale():g}"
    started = time.monotonic()
    load_before = os.getloadavg()
    fresh = {}
    for name in chosen:
        print(f"== {name} …", file=sys.stderr, flush=True)
        section_started, section_load = time.monotonic(), os.getloadavg()
        section = _run_section(name)
        section.measurements["wall_seconds"] = time.monotonic() - section_started
        section.measurements["load_average"] = [section_load, os.getloadavg()]
        section.measurements["scale"] = scale() if name in SCALED else 1
        _save(section, command)
        fresh[SECTIONS[name]] = section
    elapsed = time.monotonic() - started
    if fresh:
        print(report.table(list(fresh.values())))
        print(f"\n{elapsed:.0f} s in all", file=sys.stderr)

    if args.no_docs:
        return 0
    sections = []
    for title in SECTIONS.values():
        section = fresh.get(title) or _load(title)
        if section is not None:
            sections.append(section)
    missing = {"transform", "loader", "stream processor"} - {s.name for s in sections}
    if missing:
        print(f"docs not written: no results yet for {', '.join(sorted(missing))}",
              file=sys.stderr)  # fmt: skip
        return 0
    run = report.RunInfo(
        command=command,
        scale=scale(),
        elapsed_seconds=elapsed,
        load_before=load_before,
        load_after=os.getloadavg(),
    )
    report.write(ROOT / "docs" / "performance.md", sections, run)
    cost.write(ROOT / "docs" / "cost.md", sections, run)
    print("wrote docs/performance.md and docs/cost.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
