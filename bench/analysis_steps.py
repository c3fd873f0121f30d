"""Benchmark steps after ingest: tagging, driver analysis, Shapley vs pingouin, pages, API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.steps import Row, _p95, _time_calls

TAGGING_SAMPLE = 60_000


def tagging() -> list[Row]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from analytics.text.services import responses_tag
    from feedback.models import Response

    ids = list(
        Response.objects.exclude(comment="")
        .order_by("id")
        .values_list("id", flat=True)[:TAGGING_SAMPLE]
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
        Row("plain VADER in memory (reference)", f"{vader_rate:,.0f} comments/s", "-", None, None),
        Row(
            "text tagging from/to the database, one process",
            f"{rate:,.0f} comments/s",
            "≥ 3,000 comments/s",
            rate / 3000,
            rate >= 3000,
            f"{len(ids):,} comments; {rate / vader_rate:.2f} × plain VADER",
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
        ),
    ]


def shapley_against_pingouin() -> list[Row]:
    import pandas as pd
    import pingouin

    from analytics.stats.drivers.shapley import shapley_from_data

    rng = np.random.default_rng(11)
    rows, p = 100_000, 12
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
        ),
    ]


def _logged_in_client() -> Any:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="bench-cx"))
    return client


def _server_p95(client: Any, url: str, repeat: int) -> tuple[float, float, int]:
    from django.db import connection

    first = _time_calls(lambda: _ok(client.get(url), url), 1)[0]
    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        _ok(client.get(url), url)
    samples = _time_calls(lambda: _ok(client.get(url), url), repeat)
    return first, _p95(samples), len(statements)


def _ok(response: Any, url: str) -> Any:
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


def overview_dashboard() -> list[Row]:
    client = _logged_in_client()
    first, p95, queries = _server_p95(client, "/", 30)
    return [
        Row(
            "overview dashboard, server time p95",
            f"{p95 * 1000:.0f} ms",
            "≤ 150 ms",
            0.150 / p95,
            p95 <= 0.150,
            f"first (cold cache) {first * 1000:.0f} ms; {queries} SQL queries per request",
        ),
    ]


def feedback_list_api() -> list[Row]:
    client = _logged_in_client()
    first, p95, queries = _server_p95(client, "/api/v1/feedback/?channel=phone", 50)
    return [
        Row(
            "API feedback list page, p95",
            f"{p95 * 1000:.1f} ms",
            "≤ 50 ms",
            0.050 / p95,
            p95 <= 0.050,
            f"first {first * 1000:.0f} ms; {queries} SQL queries per page",
        ),
    ]


STEPS: list[tuple[str, Callable[[], list[Row]]]] = [
    ("tagging", tagging),
    ("drivers", drivers_from_database),
    ("shapley", shapley_against_pingouin),
    ("overview", overview_dashboard),
    ("feedback list", feedback_list_api),
]
