"""``make bench``: run the benchmarks, print each ratio next to its target, and write
docs/performance.md and docs/cost.md from the measurements.

    python -m scripts.bench [--only transform,loader,stream,e2e] [--no-docs]

``BENCH_SCALE`` (0 < s <= 1, default 1) shrinks the loader and stream workloads for a
quick run; docs written from a scaled run say so.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from scripts.bench import cost, report
from scripts.bench.common import ROOT, Section, scale

SECTIONS = ("transform", "loader", "stream", "e2e")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    started = time.monotonic()
    load_before = os.getloadavg()
    sections = []
    for name in chosen:
        print(f"== {name} …", file=sys.stderr, flush=True)
        section_started = time.monotonic()
        section = _run_section(name)
        section.measurements["wall_seconds"] = time.monotonic() - section_started
        sections.append(section)
    elapsed = time.monotonic() - started
    run = report.RunInfo(
        command="make bench" + (f" BENCH_SCALE={scale():g}" if scale() != 1 else ""),
        scale=scale(),
        elapsed_seconds=elapsed,
        load_before=load_before,
        load_after=os.getloadavg(),
    )
    print(report.table(sections))
    print(f"\n{elapsed:.0f} s in all", file=sys.stderr)

    results_dir = ROOT / "build" / "bench"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").write_text(
        json.dumps({s.name: s.measurements for s in sections}, indent=2, default=str) + "\n"
    )
    if not args.no_docs:
        if len(chosen) != len(SECTIONS):
            print("docs not written: they need every section (drop --only)", file=sys.stderr)
        else:
            report.write(ROOT / "docs" / "performance.md", sections, run)
            cost.write(ROOT / "docs" / "cost.md", sections, run)
            print("wrote docs/performance.md and docs/cost.md", file=sys.stderr)
    failed = [row for s in sections for row in s.rows if row.met is False]
    return 1 if failed and os.environ.get("BENCH_STRICT") else 0


if __name__ == "__main__":
    sys.exit(main())
