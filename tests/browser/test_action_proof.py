"""The action page is the proof, in headless Chromium on ``seed_demo`` data.

The CX manager opens a measured demo action and sees its effect, interval, money value and
ROI with their intervals and the KPI chart drawn; the line manager sees the effect column in
My actions. Screenshots go to test-artifacts/proof-*.png; any console error fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from actions.models import Action, ActionStatus
from analytics.models import ImpactEstimate
from demo.services import demo_seed
from tests.browser.tab import ARTIFACTS, PASSWORD
from tests.browser.tab import Tab as BrowserTab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class Tab(BrowserTab):
    """The shared logged-in tab; its screenshots are named proof-*.png."""

    prefix = "proof"


@pytest.fixture
def demo() -> Iterator[None]:
    """The demo organisation with its analyses and measured actions; logins get a password."""
    cache.clear()
    demo_seed(responses=20_000)
    for user in get_user_model().objects.filter(username__in=["cx", "lm.service"]):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    yield
    cache.clear()


def _measured_with_value() -> Action:
    """A measured demo action whose causal estimate carries a money value and an ROI."""
    estimate = (
        ImpactEstimate.objects.filter(
            action__status=ActionStatus.MEASURED,
            is_current=True,
            is_primary=True,
            status="ok",
            roi__isnull=False,
            action__owner__username="lm.service",
        )
        .select_related("action__department")
        .order_by("action_id", "metric")
        .first()
    )
    assert estimate is not None, "seed_demo measures the callback action with a money value"
    return estimate.action


def test_cx_manager_sees_the_proof_on_a_measured_action(
    live_server: Any, browser: Any, demo: None
) -> None:
    """Effect with its interval, value a year and ROI with theirs, the method in words and the
    KPI chart with the implementation date, on the action's own page."""
    action = _measured_with_value()
    tab = Tab(browser, live_server.url, "cx")
    tab.goto(f"/actions/{action.pk}/")
    proof = tab.page.locator("#proof")
    text = proof.inner_text()

    assert "What it achieved" in text
    assert "Measured on" in text
    assert "95% interval" in text and "EUR a year" in text and "% of cost" in text
    assert "0.0×" not in text and "p = 0.000" not in text
    assert "Difference-in-differences" in text or "Interrupted time series" in text
    assert "Naive before/after" in text
    # The demo's measured actions carry money on NPS (callback) or on a currency KPI.
    headline = proof.locator("[data-testid^=effect-]", has_text="ROI").first.inner_text()
    assert "Effect" in headline and "95% interval" in headline and "ROI" in headline
    chart = proof.locator(".chart").first
    chart.locator(".main-svg").first.wait_for()
    assert "implemented" in chart.inner_text()
    tab.shot("cx-measured-action")
    proof.locator(".chart").first.scroll_into_view_if_needed()
    tab.page.screenshot(path=str(ARTIFACTS / "proof-cx-chart.png"))
    tab.close()


def test_line_manager_sees_the_effect_column_in_my_actions(
    live_server: Any, browser: Any, demo: None
) -> None:
    """Done lists the measured action with its effect and interval; the board has the column."""
    action = _measured_with_value()
    tab = Tab(browser, live_server.url, "lm.service")
    done = tab.page.locator("#done-title").locator("xpath=..")
    row = done.locator("tr", has_text=action.title)
    cell = row.locator("[data-effect-state]")

    assert cell.get_attribute("data-effect-state") == "measured"
    assert "95% interval" in cell.inner_text()
    tab.shot("lm-my-actions")
    tab.goto("/actions/")
    assert "Measured effect (95% interval)" in tab.page.locator("table").first.inner_text()
    tab.shot("lm-board")
    tab.close()


def test_the_measured_effect_is_told_in_the_departments_report(
    live_server: Any, browser: Any, demo: None
) -> None:
    """ "You said, we did": the department's report says what each measured action changed,
    with the interval, next to what the owner put in place."""
    action = _measured_with_value()
    tab = Tab(browser, live_server.url, "cx")
    tab.goto(f"/departments/{action.department.slug}/report/")
    story = tab.page.locator(".narrative").first.inner_text()

    assert f"put in place “{action.title}”" in story
    told = [line for line in story.splitlines() if line.startswith(f"After “{action.title}”")]
    assert told and all("95% interval" in line for line in told)
    tab.shot("report-narrative")
    tab.close()
