"""The data plane's lag histogram gives the exact-list percentiles to its resolution."""

from __future__ import annotations

import random

from scripts.local.dataplane.core import LagHistogram


def test_percentiles_match_the_sorted_samples_to_the_resolution() -> None:
    rng = random.Random(7)
    samples = [rng.randint(0, 300_000) for _ in range(20_000)]
    histogram = LagHistogram()
    for sample in samples:
        histogram.add(sample)
    ordered = sorted(samples)
    for fraction in (0.0, 0.5, 0.95, 0.999):
        exact = ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
        reported = histogram.percentile(fraction)
        assert reported is not None
        assert exact - histogram.resolution_ms < reported <= exact, (fraction, exact, reported)
    summary = histogram.summary()
    assert summary["samples"] == len(samples)
    assert summary["max"] == ordered[-1]
    assert summary["mean"] == round(sum(samples) / len(samples))


def test_memory_is_bounded_by_distinct_buckets_not_samples() -> None:
    histogram = LagHistogram()
    for _ in range(100_000):
        histogram.add(1_234)
    assert len(histogram.buckets) == 1
    assert histogram.summary()["p95"] == 1_230


def test_empty_histogram_reports_no_values() -> None:
    assert LagHistogram().summary() == {
        "samples": 0, "p50": None, "p95": None, "max": None, "mean": None,
    }  # fmt: skip
