"""The impact pages in a real browser: from the roll-up to one action and a re-estimation."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from actions.models import ActionStatus
from analytics.impact.services import action_impact_estimate
from analytics.models import AnalysisRun, Kpi
from tests.analytics.impact.test_services import _action, _plant_responses, _plant_revenue
from tests.feedback.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
PASSWORD = "correct-horse-battery"


def test_a_cx_manager_follows_measured_value_to_an_action_and_re_estimates_it(
    browser: Any, live_server: Any
) -> None:
    """Roll-up → action page → 'Re-estimate now' → a succeeded run and a confirmation."""
    # Transactional tests may run after a flush that removed the migration's KPIs.
    Kpi.objects.get_or_create(
        slug="revenue",
        defaults={"name": "Revenue", "unit": "currency", "currency": "EUR", "aggregation": "sum"},
    )
    _plant_responses(per_week=30)
    _plant_revenue()
    action = _action(title="Call back every detractor within a day")
    action_impact_estimate(action=action, today=dt.date(2026, 6, 15))
    assert action.status in (ActionStatus.IMPLEMENTED, ActionStatus.MEASURED)
    UserFactory(username="cx", roles=["cx_manager"])

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "cx")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/impact/")
    assert page.locator("h1").inner_text() == "What our actions changed"
    assert "EUR a year" in page.locator("[data-testid=total-EUR]").inner_text()
    page.get_by_role("link", name="Call back every detractor within a day").first.click()
    page.wait_for_url(f"{live_server.url}/impact/{action.pk}/")
    assert page.locator("tr[data-method=did]").count() >= 4  # NPS, CSAT, CES, revenue
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "impact-action.png"), full_page=True)
    page.get_by_role("button", name="Re-estimate now").click()
    page.wait_for_load_state("networkidle")
    assert "Re-estimation queued" in page.locator(".messages").inner_text()
    assert AnalysisRun.objects.filter(kind="impact", status="succeeded").count() == 1
    context.close()
    assert errors == [], errors
