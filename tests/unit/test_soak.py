"""The soak's pure parts (no stack): which process is which, the memory verdict, the
growth slope, and the mix of changes per wave."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

from scripts.local.soak import (
    ProcessInfo,
    Progress,
    Sampler,
    assess,
    growth_per_100k,
    is_ours,
    label_processes,
    process_table,
    rss_kib,
    wave_sizes,
)
from scripts.local.stack import StatePaths


def test_every_descendant_is_named_by_its_root_and_workers_by_their_function():
    table = {
        1: ProcessInfo(1, 0, "init"),
        10: ProcessInfo(10, 1, "python"),  # moto
        20: ProcessInfo(20, 1, "python"),  # data plane
        21: ProcessInfo(21, 20, "python3.12", "stack-stream_processor"),
        22: ProcessInfo(22, 20, "python3.12", "stack-aurora_loader"),
        23: ProcessInfo(23, 22, "sh"),  # something a worker started
        30: ProcessInfo(30, 1, "mariadbd"),
        40: ProcessInfo(40, 1, "python"),  # the writer
        41: ProcessInfo(41, 40, "python"),  # its verify command
        99: ProcessInfo(99, 1, "bash"),  # not ours
    }
    roots = {"moto": 10, "data plane": 20, "mariadb": 30, "writer": 40, "gone": 77}
    assert label_processes(table, roots) == {
        10: "moto",
        20: "data plane",
        21: "worker:stack-stream_processor",
        22: "worker:stack-aurora_loader",
        23: "data plane child:sh",
        30: "mariadb",
        40: "writer",
        41: "writer child:python",
    }


def test_discovery_on_the_live_process_table_finds_a_child_and_its_function_name():
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        env={**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "probe"},
    )
    try:
        labels = label_processes(process_table(), {"writer": os.getpid()})
        assert labels[os.getpid()] == "writer"
        assert labels[child.pid] == "worker:probe"
        assert (rss_kib(child.pid) or 0) > 1024
    finally:
        child.kill()
        child.wait()


def test_only_the_data_plane_its_workers_and_the_writer_are_asserted():
    assert [is_ours(x) for x in ("data plane", "worker:f", "writer", "moto", "mariadb")] == [
        True, True, True, False, False,
    ]  # fmt: skip
    assert not is_ours("writer child:python")  # drain and verify run briefly


def flat(level: float, samples: int = 40) -> list[tuple[float, float]]:
    return [(float(t), level + (t % 3)) for t in range(samples)]


def test_a_flat_series_under_the_bound_passes():
    verdict = assess("data plane", flat(100.0), asserted=True, bound_mib=512)
    assert verdict.ok and verdict.peak_mib == 102.0
    assert verdict.first_quarter_peak_mib == verdict.last_quarter_peak_mib == 102.0


def test_steady_growth_fails_even_under_the_bound():
    growing = [(float(t), 100.0 + 5 * t) for t in range(40)]  # 100 → 295 MiB
    verdict = assess("data plane", growing, asserted=True, bound_mib=512, margin=0.2, slack_mib=16)
    assert not verdict.ok
    assert "grows" in verdict.problems[0]


def test_growth_within_the_margin_passes_and_the_bound_is_separate():
    mild = [(float(t), 100.0 + t * 0.5) for t in range(40)]  # +19.5 %: within 20 % + 16 MiB
    assert assess("writer", mild, asserted=True, bound_mib=512).ok
    over = assess("writer", flat(600.0), asserted=True, bound_mib=512)
    assert over.problems == ["peak RSS 602 MiB is above the bound 512 MiB"]


def test_moto_and_mariadb_are_reported_never_failed_and_short_series_skip_growth():
    growing = [(float(t), 100.0 + 50 * t) for t in range(40)]
    assert assess("moto", growing, asserted=False).ok
    short = assess("worker:f", [(0.0, 50.0), (1.0, 400.0)], asserted=True, bound_mib=512)
    assert short.ok and short.first_quarter_peak_mib is None


def test_growth_slope_per_100k_changes():
    points = [(0, 200.0), (50_000, 225.0), (100_000, 250.0), (200_000, 300.0)]
    assert growth_per_100k(points) == 50.0
    assert growth_per_100k([(0, 1.0)]) is None


def test_waves_add_up_and_never_touch_more_items_than_they_insert():
    for total in (1, 2, 3, 7, 5_000, 12_345, 1_000_000):
        sizes = list(wave_sizes(total))
        assert sum(i + u + d for i, u, d in sizes) == total
        assert all(u + d <= i for i, u, d in sizes)
    assert next(iter(wave_sizes(10_000))) == (3_500, 1_000, 500)


def test_a_halted_sampler_still_records_the_final_state_in_the_csv(tmp_path):
    """No stack here: only the writer (this process) is found, and no counters."""
    csv_path = tmp_path / "rss.csv"
    sampler = Sampler(StatePaths(tmp_path / "stack"), Progress(written=7), csv_path)
    sampler.halt.set()
    sampler.run()
    rows = list(csv.DictReader(csv_path.open()))
    assert [(row["label"], row["written"], row["pid"]) for row in rows] == [
        ("writer", "7", str(os.getpid()))
    ]
    assert int(rows[0]["rss_kib"]) > 1024 and sampler.rows[0]["label"] == "writer"


def test_verify_progress_is_relayed_a_complete_line_at_a_time(tmp_path, capsys):
    from scripts.local.soak import relay_lines

    log = tmp_path / "verify.err"
    log.write_text("verify: 10 of 40 (25%)\nverify: 2")
    offset = relay_lines(log, 0)
    assert capsys.readouterr().out == "  verify: 10 of 40 (25%)\n"
    with log.open("a") as more:
        more.write("0 of 40 (50%)\n")
    assert relay_lines(log, offset) == log.stat().st_size
    assert capsys.readouterr().out == "  verify: 20 of 40 (50%)\n"
