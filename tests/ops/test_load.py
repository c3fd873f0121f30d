"""``ops/load.py``, the bounded load test: a short run stores every post it was told was stored
and reports its figures (the figures themselves are measured on an idle machine, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from feedback.models import Response, Source
from tests.feedback.factories import TouchpointFactory
from tests.ops.test_faults import _environment

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_short_load_run_reports_and_loses_nothing() -> None:
    TouchpointFactory()
    env = _environment("")
    env.pop("REDIS_URL")  # tasks inline: this checks the web path only
    env.pop("CXHUB_CACHE_URL")
    run = subprocess.run(
        [sys.executable, "ops/load.py", "--clients", "3", "--seconds", "3", "--workers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout[run.stdout.index("{") :])
    assert report["requests"] > 0 and report["errors"] == {}
    assert report["posts_201"] == report["posts_201_stored"]
    assert {"p50_ms", "p95_ms", "p99_ms", "requests_per_second", "load_average"} <= set(report)
    # It cleans up after itself.
    assert not Source.objects.filter(name__startswith="load-").exists()
    assert not Response.objects.filter(external_id__startswith="load-").exists()


def test_a_run_longer_than_two_minutes_is_refused() -> None:
    run = subprocess.run(
        [sys.executable, "ops/load.py", "--seconds", "600"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and "--seconds" in run.stderr
