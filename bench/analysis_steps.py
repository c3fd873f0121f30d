"""Benchmark steps after ingest: tagging, driver analysis, Shapley vs pingouin, pages, API."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.steps import Row, _time_calls

TAGGING_SAMPLE = 60_000


def tagging(*, sample: int = TAGGING_SAMPLE) -> list[Row]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from analytics.text.services import responses_tag
    from feedback.models import Response

    # The comments of the second ingest, not processed yet: what a worker meets after ingest.
    ids = list(
        Response.objects.exclude(comment="")
        .filter(processed_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:sample]
    )
    comments = list(Response.objects.filter(id__in=ids[:20_000]).values_list("comment", flat=True))
    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    for comment in comments:
        analyzer.polarity_scores(comment)
    vader_rate = len(comments) / (time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, len(ids), 5_000):
        responses_tag(response_ids=ids[start : start + 5_000])
    rate = len(ids) / (time.perf_counter() - started)
    return [
        Row(
            "plain VADER in memory (reference)",
            f"{vader_rate:,.0f} comments/s",
            "-",
            None,
            None,
            section="tagging",
            values={"comments_per_s": vader_rate, "comments": len(comments)},
        ),
        Row(
            "text tagging from/to the database, one process",
            f"{rate:,.0f} comments/s",
            "≥ 3,000 comments/s",
            rate / 3000,
            rate >= 3000,
            f"{len(ids):,} comments; {rate / vader_rate:.2f} × plain VADER",
            section="tagging",
            values={
                "comments_per_s": rate,
                "comments": len(ids),
                "ratio_to_vader": rate / vader_rate,
            },
        ),
    ]


def drivers_from_database() -> list[Row]:
    from analytics.insights.services import driver_analysis_from_database, drivers_parameters_clean
    from feedback.models import Response

    parameters = drivers_parameters_clean({"outcome": "nps", "replicates": 1000})
    started = time.perf_counter()
    result = driver_analysis_from_database(parameters=parameters)
    seconds = time.perf_counter() - started
    top = ", ".join(d["slug"] for d in sorted(result["drivers"], key=lambda d: d["rank"])[:3])
    return [
        Row(
            f"driver analysis, {len(parameters['drivers'])} drivers, 1,000 bootstrap, from DB",
            f"{seconds:.2f} s",
            "≤ 10 s",
            10 / seconds,
            seconds <= 10,
            f"{result['n']:,} of {Response.objects.count():,} rows used (listwise); top: {top}",
            section="analyses",
            values={"seconds": seconds, "rows_used": result["n"]},
        ),
    ]


def shapley_against_pingouin(*, rows: int = 100_000, p: int = 12) -> list[Row]:
    """Exact Shapley on ``p`` drivers against pingouin's, which fits all 2^p subsets in pandas:
    its time hardly depends on the rows (40 s at 12 drivers on a busy machine)."""
    import pandas as pd
    import pingouin

    from analytics.stats.drivers.shapley import shapley_from_data

    rng = np.random.default_rng(11)
    base = rng.normal(size=(rows, 1))
    x = base * 0.6 + rng.normal(size=(rows, p))
    y = x @ np.linspace(1.0, 0.1, p) + rng.normal(scale=2.0, size=rows)
    frame = pd.DataFrame(x, columns=[f"d{i}" for i in range(p)])
    ours = _time_calls(lambda: shapley_from_data(x, y), 3)
    started = time.perf_counter()
    reference = pingouin.linear_regression(frame, y, relimp=True)
    pingouin_seconds = time.perf_counter() - started
    expected = reference["relimp"].to_numpy()[1:]
    difference = float(np.max(np.abs(shapley_from_data(x, y) - expected)))
    speedup = pingouin_seconds / min(ours)
    return [
        Row(
            f"exact Shapley alone, {p} drivers, {rows:,} rows in memory",
            f"{min(ours) * 1000:.1f} ms",
            "≥ 10 × pingouin",
            speedup / 10,
            speedup >= 10 and difference <= 1e-9,
            f"pingouin {pingouin_seconds:.2f} s; {speedup:,.0f}× faster; max |difference| {difference:.1e}",
            section="analyses",
            values={
                "seconds": min(ours),
                "pingouin_seconds": pingouin_seconds,
                "speedup": speedup,
                "max_difference": difference,
            },
        ),
    ]


# The analyses users start from the pages, each from the database as a run executes it.
ANALYSIS_KINDS = ("drivers", "topic_impact", "value", "theme_discovery", "impact")
ANALYSIS_TARGET_SECONDS = 10.0


def _run_measured(kind: str, parameters: dict[str, Any]) -> tuple[float, float, str, Any]:
    """Wall time and peak memory growth of one run, executed in this process."""
    from analytics.runs.services import run_execute_now
    from bench.memory import PeakMemory

    with PeakMemory() as peak:
        started = time.perf_counter()
        run = run_execute_now(kind=kind, parameters=parameters)
        seconds = time.perf_counter() - started
    if run.status != "succeeded":
        raise RuntimeError(f"{kind} run {run.pk} {run.status}: {run.error[:200]}")
    return seconds, peak.megabytes, peak.method, run


def analyses(*, impact_actions: int) -> list[Row]:
    """Each analysis run at full size: wall time and peak memory; impact for up to
    ``impact_actions`` actions, the slowest reported (the pages show every one)."""
    from analytics.runs.kinds import run_kinds_available
    from bench.programme import measurable_action_ids
    from feedback.models import Response

    available = set(run_kinds_available())
    rows: list[Row] = []
    size = Response.objects.count()
    for kind in ANALYSIS_KINDS:
        if kind not in available:
            rows.append(
                Row(
                    f"analysis {kind}: failed",
                    "not registered",
                    "-",
                    None,
                    False,
                    section="analyses",
                )
            )
            continue
        parameter_sets: list[dict[str, Any]] = (
            [{"action_id": pk} for pk in measurable_action_ids(limit=impact_actions)]
            if kind == "impact"
            else [{}]
        )
        measured = []
        try:
            for parameters in parameter_sets:
                measured.append(_run_measured(kind, parameters))
        except Exception as error:
            rows.append(
                Row(
                    f"analysis {kind}: failed",
                    type(error).__name__,
                    "-",
                    None,
                    False,
                    str(error)[:300],
                    section="analyses",
                )
            )
            continue
        if not measured:
            rows.append(
                Row(
                    f"analysis {kind}: failed",
                    "nothing to run",
                    "-",
                    None,
                    False,
                    section="analyses",
                )
            )
            continue
        seconds, peak, method, run = max(measured, key=lambda item: item[0])
        counts = {k: v for k, v in (run.counts or {}).items() if isinstance(v, int | float)}
        rows.append(
            Row(
                f"analysis run {kind} @ {size:,}",
                f"{seconds:.2f} s, {peak:.0f} MB",
                "≤ 10 s",
                ANALYSIS_TARGET_SECONDS / seconds,
                seconds <= ANALYSIS_TARGET_SECONDS,
                (f"slowest of {len(measured)} actions; " if kind == "impact" else "")
                + f"peak memory {peak:.1f} MB ({method}); run {run.pk}",
                section="analyses",
                values={"seconds": seconds, "peak_mb": peak, "runs": len(measured), **counts},
            )
        )
    return rows
