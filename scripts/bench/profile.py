"""Where the transform's time goes: cProfile of one batch, top functions by own time."""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Sequence

from ddb2aurora.firehose_transform import transform
from ddb2aurora.mapping import TableMapping

from scripts.bench.common import ROOT


def transform_profile(
    records: Sequence[dict[str, str]], mapping: TableMapping, limit: int = 16
) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    transform(records, mapping)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    text = "\n".join(line.rstrip() for line in lines[start:] if line.strip())
    return text.replace(str(ROOT) + "/", "").replace(str(ROOT / "functions") + "/", "")
