"""Impact pages: the list with its roll-up and one action's estimates, rendered for people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from analytics.impact.services import action_impact_estimate
from analytics.models import AnalysisRun
from tests.analytics.impact.test_services import _action, _plant_responses, _plant_revenue
from tests.feedback.factories import cx_manager, viewer

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_rollup_page_shows_the_total_and_who_delivered(
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    """The page names the delivering action, the annual EUR total and the independence caveat."""
    _plant_responses(per_week=40)
    _plant_revenue()
    action = _action(title="Faster <refunds>")
    action_impact_estimate(action=action, today=TODAY)
    for i in range(3):
        _action(
            title=f"Pending {i}",
            department=action.department,
            implemented_at=dt.date(2026, 6, 3),
            target_kpis=[],
        )
    client = _client(cx_manager())

    with django_assert_max_num_queries(12):
        page = client.get("/impact/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Faster &lt;refunds&gt;" in html and "<refunds>" not in html
    assert "EUR a year" in html
    assert "independent" in html
    assert "Pending 2" in html


def test_action_page_shows_each_method_and_lets_a_manager_re_estimate(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """DiD and before/after rows per metric; the button queues an impact run."""
    _plant_responses(per_week=40)
    action = _action(target_kpis=[])
    action_impact_estimate(action=action, today=TODAY)
    client = _client(cx_manager())

    page = client.get(f"/impact/{action.pk}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Difference-in-differences" in html and "Naive before/after" in html
    assert "Parallel-trend check" in html
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/impact/{action.pk}/estimate/")
    assert answer.status_code == 302
    assert AnalysisRun.objects.filter(kind="impact", status="succeeded").count() == 1


def test_a_viewer_cannot_re_estimate_or_see_other_departments() -> None:
    """A viewer outside the department gets 404 on the page (an action they cannot see does
    not exist for them) and 403 on the button, before any look-up: viewers change nothing,
    whichever id they try."""
    action = _action(target_kpis=[])
    outsider = _client(viewer())
    assert outsider.get(f"/impact/{action.pk}/").status_code == 404
    assert outsider.post(f"/impact/{action.pk}/estimate/").status_code == 403
    assert outsider.post("/impact/999999/estimate/").status_code == 403
    assert AnalysisRun.objects.count() == 0
