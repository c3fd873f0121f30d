"""The action page is the proof, in headless Chromium on ``seed_demo`` data.

The CX manager opens a measured demo action and sees its effect, interval, money value and
ROI with their intervals and the KPI chart drawn; the line manager sees the effect column in
My actions. Screenshots go to test-artifacts/proof-*.png; any console error fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from actions.models import Action, ActionStatus
from analytics.models import ImpactEstimate
from demo.services import demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-battery"


class Tab:
    """A logged-in browser tab that collects console errors."""

    def __init__(self, browser: Any, base_url: str, username: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base_url}/accounts/login/?next=/actions/mine/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base_url}/actions/mine/")

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"proof-{name}.png"), full_page=True)

    def close(self) -> None:
        errors = list(self.errors)
        self.context.close()
        assert errors == [], errors


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
        .select_related("action")
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
    headline = proof.locator("[data-testid=effect-nps]").inner_text()
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
