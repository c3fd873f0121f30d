"""Impact API: an action's estimates and history, on-demand re-estimation, and the roll-up."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from actions.models import ActionStatus
from analytics.impact.services import action_impact_estimate
from analytics.models import AnalysisRun, ImpactEstimate
from tests.analytics.impact.test_services import _action, _plant_responses, _plant_revenue
from tests.feedback.factories import DepartmentFactory, cx_manager, viewer

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_impact_shows_causal_and_plain_estimates_per_metric_and_the_history() -> None:
    """GET lists NPS/CSAT/CES and target KPIs, each with DiD and before/after; older rows in history."""
    _plant_responses()
    _plant_revenue()
    action = _action()
    action_impact_estimate(action=action, today=TODAY - dt.timedelta(weeks=2))
    action_impact_estimate(action=action, today=TODAY)

    answer = _client(cx_manager()).get(f"/api/v1/actions/{action.pk}/impact/")

    assert answer.status_code == 200
    body = answer.json()
    assert body["action"]["status"] == "measured"
    assert [m["metric"] for m in body["metrics"]] == ["nps", "csat", "ces", "revenue"]
    nps = body["metrics"][0]
    assert nps["primary"]["method"] == "did" and nps["before_after"]["method"] == "before_after"
    assert nps["primary"]["ci_low"] <= 20 <= nps["primary"]["ci_high"]
    assert nps["primary"]["post_window"] == ["2026-03-09", "2026-05-31"]
    revenue = body["metrics"][3]["primary"]
    assert revenue["currency"] == "EUR" and revenue["roi"] is not None
    assert len(body["history"]) == 8
    assert all(not row["is_current"] and row["superseded_by"] for row in body["history"])


def test_re_estimation_is_queued_as_an_impact_run(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """POST answers 202 with a run id; the run (eager here) stores the estimates."""
    _plant_responses(per_week=20)
    action = _action(target_kpis=[])
    with django_capture_on_commit_callbacks(execute=True):
        answer = _client(cx_manager()).post(f"/api/v1/actions/{action.pk}/impact/")
    assert answer.status_code == 202
    run = AnalysisRun.objects.get(pk=answer.json()["run_id"])
    assert run.kind == "impact"
    assert run.status == "succeeded", run.error
    assert ImpactEstimate.objects.filter(action=action, run=run, is_current=True).count() == 6


def test_only_managers_and_owners_re_estimate_and_only_implemented_actions() -> None:
    """A viewer gets 403; a proposed action a 400; an invisible action a 404."""
    action = _action(target_kpis=[])
    department = action.department
    reader = viewer()
    department.members.add(reader)
    assert _client(reader).post(f"/api/v1/actions/{action.pk}/impact/").status_code == 403
    assert _client(reader).get(f"/api/v1/actions/{action.pk}/impact/").status_code == 200
    outsider = viewer()
    assert _client(outsider).get(f"/api/v1/actions/{action.pk}/impact/").status_code == 404
    proposed = _action(status=ActionStatus.PROPOSED, implemented_at=None)
    answer = _client(cx_manager()).post(f"/api/v1/actions/{proposed.pk}/impact/")
    assert answer.status_code == 400
    assert "implemented" in answer.json()["errors"]["status"][0]
    owner_answer = _client(action.owner).post(f"/api/v1/actions/{action.pk}/impact/")
    assert owner_answer.status_code == 202


def test_rollup_sums_measured_value_and_splits_delivered_from_not(
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    """The total is the sum of the actions' values; its variance the sum of their variances."""
    _plant_responses()
    _plant_revenue()
    winner = _action(title="Faster refunds")
    flat = _action(
        title="New hold music",
        department=winner.department,
        scope_attributes={"region": ["south"]},
        control_attributes={"region": ["north"]},
        implemented_at=dt.date(2025, 12, 3),
        target_kpis=[],
    )
    early = _action(
        title="Just done",
        department=winner.department,
        implemented_at=dt.date(2026, 6, 3),
        target_kpis=[],
    )
    for action in (winner, flat, early):
        action_impact_estimate(action=action, today=TODAY)

    client = _client(cx_manager())
    with django_assert_max_num_queries(8):  # does not grow with the number of actions
        answer = client.get(f"/api/v1/analytics/impact/rollup/?department={winner.department.slug}")

    assert answer.status_code == 200
    body = answer.json()
    assert body["actions"] == 3
    assert [a["title"] for a in body["delivered"]] == ["Faster refunds"]
    assert [a["title"] for a in body["not_yet_measurable"]] == ["Just done"]
    assert "needs 8 weeks" in " ".join(body["not_yet_measurable"][0]["reasons"])
    assert [a["title"] for a in body["not_delivered"]] == ["New hold music"]
    valued = ImpactEstimate.objects.filter(
        is_current=True, is_primary=True, annual_value__isnull=False
    )
    (total,) = body["measured_value"]
    assert total["currency"] == "EUR"
    assert total["total"] == pytest.approx(sum(r.annual_value for r in valued))
    assert total["std_error"] == pytest.approx(
        math.sqrt(sum(r.annual_value_std_error**2 for r in valued))
    )
    assert "independent" in body["assumption"]


def test_rollup_of_an_unknown_department_lists_the_valid_ones() -> None:
    """?department=nowhere is a 400 naming the departments that exist."""
    DepartmentFactory(slug="care")
    answer = _client(cx_manager()).get("/api/v1/analytics/impact/rollup/?department=nowhere")
    assert answer.status_code == 400
    assert "care" in answer.json()["errors"]["department"][0]


@pytest.mark.services
def test_a_real_worker_measures_the_planted_effect(celery_worker: Any) -> None:
    """On PostgreSQL with a real worker, POST impact/ ends in a run that recovers +20 NPS."""
    _plant_responses()
    action = _action(target_kpis=[], implemented_at=dt.date(2026, 3, 4))
    answer = _client(cx_manager()).post(f"/api/v1/actions/{action.pk}/impact/")
    assert answer.status_code == 202
    run_id = answer.json()["run_id"]
    deadline = time.monotonic() + 60
    run = AnalysisRun.objects.get(pk=run_id)
    while run.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        run.refresh_from_db()
    assert run.status == "succeeded", run.error
    nps = ImpactEstimate.objects.get(action=action, metric="nps", method="did", is_current=True)
    assert nps.ci_low <= 20 <= nps.ci_high
