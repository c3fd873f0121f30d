"""The dashboards in a real browser: each role's main flow, no console errors, screenshots.

A CX manager opens the driver page, creates an action from the top driver and assigns it
to a line manager; the line manager accepts it and posts progress; the department's
dashboard then shows the action with its owner. A viewer leaves a suggestion and reads
verbatims, where markup typed by a customer is shown as text.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from analytics.models import AnalysisRun
from tests.dashboards.factories import plant_responses, plant_topic, tag
from tests.feedback.factories import DepartmentFactory, TouchpointFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain
# test set-up, not async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-battery"
MARKUP = "<b>bold</b><script>alert(1)</script> the bill was wrong"


class Session:
    """A logged-in browser tab that collects console errors and failed requests."""

    def __init__(self, browser: Any, base_url: str, username: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.goto(f"{base_url}/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base_url}/")

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"dashboards-{name}.png"), full_page=True)

    def close(self) -> None:
        # 4xx answers the flow provokes on purpose are not console errors of the page.
        real = [e for e in self.errors if "status of 400" not in e]
        self.context.close()
        assert real == [], real


@pytest.fixture
def world() -> dict[str, Any]:
    billing = DepartmentFactory(name="Billing", slug="billing")
    touchpoint = TouchpointFactory(name="Billing call", slug="billing-call", department=billing)
    plant_responses(
        touchpoint=touchpoint, nps_values=[10, 9, 9, 8, 7, 6, 3, 1, 0, 10] * 4, days_ago=20
    )
    plant_responses(touchpoint=touchpoint, nps_values=[10, 9, 8, 6, 2] * 8, days_ago=3)
    topic = plant_topic("billing-errors", "Billing errors")
    for response in plant_responses(
        touchpoint=touchpoint, nps_values=[0, 1, 2], comment=MARKUP, days_ago=2
    ):
        tag(response, topic, -0.8)
    users = {
        "cx": UserFactory(
            username="cx", first_name="Casey", last_name="Manager", roles=["cx_manager"]
        ),
        "lm": UserFactory(
            username="lm", first_name="Dana", last_name="Line", roles=["line_manager"]
        ),
        "viewer": UserFactory(
            username="viewer", first_name="Vic", last_name="Viewer", roles=["viewer"]
        ),
    }
    billing.members.add(users["lm"], users["viewer"])
    AnalysisRun.objects.create(
        kind=AnalysisRun.Kind.DRIVERS,
        status=AnalysisRun.Status.SUCCEEDED,
        parameters={"outcome": "nps", "filters": {}},
        finished_at=timezone.now(),
        result={
            "drivers": [
                {
                    "slug": "wait_time",
                    "label": "Wait time",
                    "share": 0.6,
                    "share_interval": [0.5, 0.7],
                    "performance": 35.0,
                    "quadrant": "fix_first",
                },
                {
                    "slug": "staff",
                    "label": "Staff",
                    "share": 0.4,
                    "share_interval": [0.3, 0.5],
                    "performance": 82.0,
                    "quadrant": "strength",
                },
            ],
            "priority": [
                {
                    "slug": "wait_time",
                    "label": "Wait time",
                    "gain": 1.4,
                    "gain_interval": [1.0, 1.8],
                    "cumulative_gain": 1.4,
                    "share": 0.6,
                    "performance": 35.0,
                }
            ],
        },
    )
    return {"billing": billing, "users": users}


def test_cx_manager_line_manager_and_viewer_walk_the_main_flow(
    live_server: Any, browser: Any, world: dict[str, Any]
) -> None:
    """Driver → action → accepted with progress → shown on the dashboard; escaped verbatims."""
    from feedback.models import Attribute

    Attribute.objects.get_or_create(slug="wait_time", defaults={"label": "Wait time"})
    base = live_server.url

    # CX manager: overview with charts, a filter change in place, the insights page.
    cx = Session(browser, base, "cx")
    cx.page.wait_for_selector("#chart-trend-nps .main-svg")
    assert cx.page.locator("#chart-trend-nps").get_attribute("role") == "img"
    cx.shot("overview-cx-manager")
    cx.page.select_option("#id_channel", "web")
    cx.page.wait_for_url(re.compile(r".*channel=web.*"))
    cx.page.wait_for_selector("#chart-trend-nps .main-svg")
    assert "channel web" in cx.page.inner_text("#window-note")
    cx.goto("/insights/")
    cx.page.wait_for_selector("#chart-driver-quadrant .main-svg")
    cx.shot("insights")
    cx.page.locator("button", has_text="Create action").first.click()
    cx.page.wait_for_url(re.compile(r".*/actions/new/\?evidence=\d+$"))
    cx.page.fill("#id_title", "Answer billing calls within 2 minutes")
    cx.page.select_option("#id_department", "billing")
    cx.page.select_option("#id_owner", label="Dana Line")
    cx.page.fill("#id_due_date", (timezone.localdate() + dt.timedelta(days=30)).isoformat())
    cx.page.click("button:has-text('Create and propose to owner')")
    cx.page.wait_for_url(re.compile(r".*/actions/\d+/$"))
    action_url = cx.page.url
    cx.shot("action-created")
    cx.close()

    # Line manager: accepts the action and posts progress.
    lm = Session(browser, base, "lm")
    lm.page.goto(action_url)
    lm.page.click("form button:has-text('Accept')")
    lm.page.wait_for_load_state("networkidle")
    lm.page.fill("#id_progress", "40")
    lm.page.fill("#id_text", "Two more agents on the billing line")
    lm.page.click("button:has-text('Post update')")
    lm.page.wait_for_load_state("networkidle")
    assert "Two more agents on the billing line" in lm.page.content()
    lm.goto("/departments/billing/")
    lm.page.wait_for_selector("#chart-trend-nps .main-svg")
    table = lm.page.inner_text("#action-table + p + .table-wrap")
    assert "Answer billing calls within 2 minutes" in table
    assert "Dana Line" in table and "40%" in table
    lm.shot("department-line-manager")
    lm.goto("/departments/billing/report/")
    lm.page.wait_for_selector(".report .chart .main-svg")
    lm.page.emulate_media(media="print")
    assert not lm.page.locator(".topbar").is_visible()
    lm.shot("report-print")
    lm.close()

    # A tablet in portrait: the dashboard still fits and the charts still draw.
    tablet = Session(browser, base, "viewer")
    tablet.page.set_viewport_size({"width": 768, "height": 1024})
    tablet.goto("/departments/billing/")
    tablet.page.wait_for_selector("#chart-trend-nps .main-svg")
    page_width = tablet.page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 768, page_width
    tablet.page.keyboard.press("Tab")
    assert tablet.page.evaluate("document.activeElement.className") == "skip-link"
    tablet.shot("department-tablet")
    tablet.close()

    # Viewer: a suggestion on the department dashboard, verbatims shown as text.
    viewer = Session(browser, base, "viewer")
    viewer.goto("/departments/billing/")
    viewer.page.check("input[name=kind][value=suggestion]")
    viewer.page.fill("#comment-body", "Text customers when the bill is ready <i>please</i>")
    viewer.page.click("#comments button:has-text('Post')")
    viewer.page.wait_for_selector("text=Text customers when the bill is ready <i>please</i>")
    viewer.goto("/verbatims/?topic=billing-errors")
    body = viewer.page.inner_text("#verbatim-results")
    assert MARKUP in body  # the markup is visible as characters, not interpreted
    assert viewer.page.locator("#verbatim-results b").count() == 0
    viewer.shot("verbatims-viewer")
    viewer.goto("/?date_from=nonsense")
    assert "Some filters could not be used" in viewer.page.inner_text("#filter-errors")
    # The same message arrives in place when htmx asks for the body with a bad filter.
    viewer.goto("/")
    viewer.page.evaluate("htmx.ajax('GET', '/?channel=pigeon', {target: '#dashboard-body'})")
    viewer.page.wait_for_selector("#dashboard-body #filter-errors")
    assert "channel" in viewer.page.inner_text("#dashboard-body #filter-errors").lower()
    viewer.close()
