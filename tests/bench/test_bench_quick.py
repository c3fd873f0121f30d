"""``make bench-quick``: a whole bench run at 10,000 responses produces every figure.

It checks that each figure is there and is a number (every main-menu page at both data sizes,
every CSV export, the API endpoints, the analyses, ingest and tagging), never how fast any of
them is: the figures are taken on an idle machine, not in CI.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.ops.test_backup import _url as _database_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.services]


def _redis_url() -> str:
    """The bench's own Redis database (it flushes it): ``BENCH_QUICK_REDIS_URL``, else db 15
    on the test run's Redis, the one ``make bench`` uses."""
    if os.environ.get("BENCH_QUICK_REDIS_URL"):
        return os.environ["BENCH_QUICK_REDIS_URL"]
    parsed = urlparse(os.environ["REDIS_URL"])
    return parsed._replace(path="/15").geturl()


def _database_exists(url: str) -> bool:
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [parsed.path.lstrip("/")]
        ).fetchone()
    return found is not None


def _drop_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One ``python -m bench --quick`` into a database of its own, dropped afterwards."""
    database_url = _database_url(f"cxhub_bench_quick_{os.getpid()}")
    results = tmp_path_factory.mktemp("bench") / "bench-quick.json"
    env = {key: value for key, value in os.environ.items() if key != "BENCH_DATABASE_URL"}
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench",
                "--quick",
                "--database-url",
                database_url,
                "--redis-url",
                _redis_url(),
                "--json",
                str(results),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        left_behind = _database_exists(database_url)
    finally:
        _drop_database(database_url)
    log = ROOT / "test-artifacts" / "bench-quick.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text(run.stdout + "\n--- stderr ---\n" + run.stderr)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {
        "stdout": run.stdout,
        "json": json.loads(results.read_text()),
        "left_behind": left_behind,
    }


def _figures(bench_run: dict[str, Any]) -> list[str]:
    return [row["figure"] for row in bench_run["json"]["rows"]]


def test_no_figure_failed_and_every_figure_is_printed(bench_run: dict[str, Any]) -> None:
    """No step of the run failed, and each figure of the JSON is also in the printed table."""
    failed = [figure for figure in _figures(bench_run) if "failed" in figure]
    assert failed == []
    for figure in _figures(bench_run):
        assert figure in bench_run["stdout"]


def test_every_row_carries_finite_numbers(bench_run: dict[str, Any]) -> None:
    """Each row's JSON holds the numbers behind its text, all finite, and a verdict or n/a."""
    for row in bench_run["json"]["rows"]:
        numbers = [v for v in row["values"].values() if isinstance(v, int | float)]
        assert numbers, row["figure"]
        assert all(math.isfinite(v) for v in numbers), row["figure"]
        assert row["ok"] in (True, False, None)
    assert bench_run["json"]["responses"] == 10_000
    assert bench_run["json"]["quick"] is True


def test_every_menu_page_is_measured_at_two_sizes(bench_run: dict[str, Any]) -> None:
    """Each main-menu entry, and the action, impact, department and report pages, has a row
    per data size and a query-count comparison between the sizes."""
    from cxhub.navigation import MAIN_MENU

    figures = _figures(bench_run)
    labels = [item.label for item in MAIN_MENU] + [
        "Action detail",
        "Impact detail",
        "Department",
        "Printable report",
    ]
    for label in labels:
        sizes = [f for f in figures if f.startswith(f"page {label} @ ")]
        assert len(sizes) == 2, (label, sizes)
        assert f"page {label}: SQL queries at two sizes" in figures
    rows = {row["figure"]: row for row in bench_run["json"]["rows"]}
    small, full = sorted(
        rows[f]["values"]["responses"] for f in figures if f.startswith("page Overview @")
    )
    assert small < full == 10_000
    overview = rows["page Overview @ 10,000"]["values"]
    assert {"cold_s", "p50_s", "p95_s", "queries_cold", "queries_warm"} <= set(overview)


def test_every_csv_export_and_the_report_are_measured(bench_run: dict[str, Any]) -> None:
    """Every dashboard table's CSV has rows/s and peak memory; the printable report too."""
    from dashboards.exports import TABLES

    rows = {row["figure"]: row for row in bench_run["json"]["rows"]}
    for table in TABLES:
        values = rows[f"export {table}.csv @ 10,000"]["values"]
        assert {"rows", "rows_per_s", "peak_mb", "streamed"} <= set(values)
    assert any(f.startswith("printable report @ ") for f in rows)


def test_api_analyses_ingest_and_tagging_are_measured(bench_run: dict[str, Any]) -> None:
    """The API list and detail endpoints, the five analysis runs, ingest with both COPY
    baselines, and tagging beside plain VADER all have their row."""
    figures = " | ".join(_figures(bench_run))
    for api in (
        "API feedback list",
        "API feedback detail",
        "API actions list",
        "API action detail",
        "API alerts list",
        "API analysis runs list",
        "API analysis run detail",
        "API KPI list",
        "API KPI observations",
    ):
        assert f"{api} @ 10,000, p95" in figures
    for kind in ("drivers", "topic_impact", "value", "theme_discovery", "impact"):
        assert f"analysis run {kind} @ 10,000" in figures
    for figure in (
        "raw COPY into feedback_response (baseline)",
        "raw COPY, no secondary index (physical limit)",
        "bulk ingest through HTTP, validation included",
        "plain VADER in memory (reference)",
        "text tagging from/to the database, one process",
        "driver analysis, 12 drivers, 1,000 bootstrap, from DB",
        "roll-up refresh @ 10,000",
    ):
        assert figure in figures


def test_the_json_tells_the_machine_the_load_and_the_command(bench_run: dict[str, Any]) -> None:
    """CPU, cores, RAM and PostgreSQL version; the load average before and after; the
    command to run it again. The quick run's own database is dropped when it ends."""
    meta = bench_run["json"]
    assert {"cpu_model", "cores", "ram_gb", "postgresql", "python"} <= set(meta["machine"])
    assert meta["machine"]["cores"] >= 1 and meta["machine"]["postgresql"]
    assert len(meta["load_average_before"]) == 3 and len(meta["load_average_after"]) == 3
    assert meta["command"].startswith("python -m bench --quick")
    assert "Load average before" in bench_run["stdout"]
    assert bench_run["left_behind"] is False
