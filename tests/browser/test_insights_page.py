"""The insights page in headless Chromium: a CX manager starts a driver analysis and reads
shares with intervals, the quadrant and the priority list; a viewer sees no Run button.

Screenshots go to test-artifacts/insights-*.png; any console error fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analytics.models import AnalysisRun
from tests.analytics.insights.data import store_responses
from tests.feedback.factories import AttributeFactory, TouchpointFactory, cx_manager, viewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-battery"


def _login(browser: Any, base_url: str, username: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/accounts/login/?next=/insights/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/insights/")
    return context, page, errors


@pytest.fixture
def planted() -> None:
    """Staff friendliness drives NPS three times as much as wait time."""
    AttributeFactory(slug="staff", label="Staff friendliness")
    AttributeFactory(slug="wait_time", label="Wait time")
    desk = TouchpointFactory(name="Help desk call", slug="help-desk")
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(400):
        staff, wait = (int(v) for v in rng.integers(1, 6, size=2))
        nps = int(np.clip(round(1.5 * staff + 0.5 * wait + rng.normal()), 0, 10))
        rows.append(
            {
                "nps": nps,
                "csat": min(5, 1 + staff // 2 + wait // 3),
                "touchpoint": desk,
                "ratings": {"staff": staff, "wait_time": wait},
            }
        )
    store_responses(rows)
    cx_manager(username="cara")
    viewer(username="vera")


def test_cx_manager_runs_driver_analysis_and_reads_the_results(
    live_server: Any, browser: Any, planted: None
) -> None:
    context, page, errors = _login(browser, live_server.url, "cara")
    assert page.locator("h1").inner_text() == "Insights"
    assert (
        "Help desk call"
        in page.locator("#scores-heading + div + h3 + table, section").first.inner_text()
    )
    assert "No driver analysis for NPS yet" in page.content()
    page.select_option("#analysis", "drivers")
    page.click("button:has-text('Run analysis')")
    page.wait_for_load_state("networkidle")
    assert "Analysis queued" in page.locator(".messages").inner_text()
    drivers = page.locator("section[aria-labelledby=drivers-heading]")
    table = drivers.locator("table").first.inner_text()
    assert table.index("Staff friendliness") < table.index("Wait time")
    assert "Priorities: the most change in the fewest moves" in drivers.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "insights-manager.png"), full_page=True)
    assert AnalysisRun.objects.filter(kind="drivers", status="succeeded").count() == 1
    context.close()
    assert errors == [], errors


def test_viewer_reads_insights_without_the_run_button(
    live_server: Any, browser: Any, planted: None
) -> None:
    context, page, errors = _login(browser, live_server.url, "vera")
    assert page.locator("button:has-text('Run analysis')").count() == 0
    assert "NPS" in page.locator("section[aria-labelledby=scores-heading]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "insights-viewer.png"), full_page=True)
    context.close()
    assert errors == [], errors
