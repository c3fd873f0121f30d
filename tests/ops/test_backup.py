"""The documented backup procedure: a dump restored into a fresh database holds everything."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from actions.models import Action
from analytics.models import ImpactEstimate
from feedback.models import Response
from tests.dashboards.factories import plant_action, plant_responses
from tests.feedback.factories import DepartmentFactory, TouchpointFactory

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "backup.sh"

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _url(name: str) -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgresql://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{name}"


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new, empty database beside the test database, dropped afterwards."""
    name = f"cxhub_restore_{os.getpid()}"
    with psycopg.connect(_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=300, check=False
    )


def _plant() -> dict[str, Any]:
    department = DepartmentFactory(slug="billing", name="Billing")
    touchpoint = TouchpointFactory(department=department)
    responses = plant_responses(
        touchpoint=touchpoint, nps_values=[10, 9, 3, 0, 7], comment="Slow refund"
    )
    action = plant_action(department=department, status="implemented")
    estimate = ImpactEstimate.objects.create(
        action=action,
        metric="nps",
        method="did",
        is_primary=True,
        status="ok",
        effect=4.0,
        ci_low=1.5,
        ci_high=6.5,
        p_value=0.01,
        higher_is_better=True,
        pre_start=dt.date(2026, 1, 5),
        pre_end=dt.date(2026, 3, 1),
        post_start=dt.date(2026, 3, 9),
        post_end=dt.date(2026, 5, 3),
    )
    return {"responses": responses, "action": action, "estimate": estimate}


def test_a_dump_restored_into_a_fresh_database_holds_every_response_action_and_estimate(
    tmp_path: Path, empty_database: str
) -> None:
    planted = _plant()
    backup = tmp_path / "cxhub.dump"

    dumped = _run("dump", _url(settings.DATABASES["default"]["NAME"]), str(backup))
    assert dumped.returncode == 0, dumped.stderr
    restored = _run("restore", _url(empty_database), str(backup))
    assert restored.returncode == 0, restored.stderr

    with psycopg.connect(_url(empty_database)) as connection:
        responses = connection.execute(
            f"SELECT external_id, nps, comment FROM {Response._meta.db_table} ORDER BY external_id"
        ).fetchall()
        actions = connection.execute(
            f"SELECT id, title, status FROM {Action._meta.db_table}"
        ).fetchall()
        estimates = connection.execute(
            f"SELECT action_id, metric, effect, ci_low, ci_high FROM {ImpactEstimate._meta.db_table}"
        ).fetchall()
        migrations = connection.execute("SELECT count(*) FROM django_migrations").fetchone()
    assert responses == sorted((r.external_id, r.nps, r.comment) for r in planted["responses"])
    action = planted["action"]
    assert actions == [(action.id, action.title, action.status)]
    assert estimates == [(action.id, "nps", 4.0, 1.5, 6.5)]
    assert migrations is not None and migrations[0] > 0  # the schema's history came along


def test_restore_refuses_a_database_that_is_not_empty(tmp_path: Path) -> None:
    """Restoring over live data would mix two states; the script says so and stops."""
    _plant()
    backup = tmp_path / "cxhub.dump"
    assert _run("dump", _url(settings.DATABASES["default"]["NAME"]), str(backup)).returncode == 0
    refused = _run("restore", _url(settings.DATABASES["default"]["NAME"]), str(backup))
    assert refused.returncode == 1
    assert "already has" in refused.stderr
