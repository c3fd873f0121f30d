"""Act from anywhere, in headless Chromium on the demo organisation (reduced, analyses run).

The CX manager starts an action from a topic, a verbatim, an alert, a driver and a chart
element; each form shows the evidence the server built (figure with its interval, the run,
quotes) and the created action keeps it. Screenshots go to test-artifacts/evidence-*.png;
any console error fails the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from actions.models import Action, Alert, AlertStatus
from analytics.models import AnalysisRun
from demo import generator
from demo.services import demo_seed
from tests.browser.tab import Tab as BrowserTab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

RESPONSES = 3_000


class Tab(BrowserTab):
    """The shared logged-in tab; screenshots evidence-*.png."""

    prefix = "evidence"


@pytest.fixture
def demo() -> Iterator[dict[str, str]]:
    cache.clear()
    demo_seed(responses=RESPONSES)
    assert any(user["username"] == "cx" for user in generator.USERS)
    yield {"username": "cx", "password": generator.DEMO_PASSWORD}
    cache.clear()


def _create_from_form(tab: Tab, title: str) -> Action:
    """Fill what the server could not know (title, department if empty, owner), submit."""
    page = tab.page
    page.fill("#id_title", title)
    if not page.locator("#id_department").input_value():
        page.select_option("#id_department", index=1)
    page.select_option("#id_owner", index=1)
    page.click("button:has-text('Create and propose to owner')")
    page.wait_for_url(re.compile(r".*/actions/\d+/$"))
    return Action.objects.get(title=title)


def _evidence_form(tab: Tab) -> str:
    tab.page.wait_for_url(re.compile(r".*/actions/new/\?evidence=\d+$"))
    return tab.page.locator(".evidence").inner_text()


def test_cx_manager_acts_on_a_topic_a_verbatim_an_alert_and_a_driver(
    live_server: Any, browser: Any, demo: dict[str, str]
) -> None:
    """From each insight the form shows the server's snapshot (interval, run, quotes), and
    the saved action holds exactly that snapshot."""
    tab = Tab(browser, live_server.url, demo["username"], demo["password"])
    page = tab.page

    # A topic that costs NPS, from the Topics page: impact with interval, negative quotes.
    run = AnalysisRun.objects.filter(kind="topic_impact", status="succeeded").latest("finished_at")
    costly = min(
        (t for t in run.result["topics"] if t["status"] == "ok"), key=lambda t: t["impact"]
    )
    assert costly["impact"] < 0
    tab.goto("/topics/")
    page.locator(
        f"tr:has(a[href='/topics/{costly['slug']}/']) button", has_text="Create action"
    ).click()
    evidence = _evidence_form(tab)
    assert f"{costly['name']} costs about" in evidence and "95% interval" in evidence
    assert f"Topic impact #{run.pk}" in evidence
    assert page.locator(".evidence-quote").count() >= 1
    tab.shot("topic")
    action = _create_from_form(tab, "Act on the costliest topic")
    assert action.insight_kind == "topic" and action.evidence_run_id == run.pk
    assert action.evidence["quotes"] and "95% interval" in action.evidence["claim"]
    tab.shot("topic-created")

    # A verbatim from the explorer: its words and tags; department and touchpoint preselected.
    tab.goto("/verbatims/?sentiment=negative")
    page.locator("button", has_text="Create action on this verbatim").first.click()
    evidence = _evidence_form(tab)
    assert page.locator(".evidence blockquote.verbatim").count() == 1
    assert page.locator("#id_department").input_value() != ""
    tab.shot("verbatim")
    action = _create_from_form(tab, "Fix what one customer ran into")
    assert action.insight_kind == "response" and action.source_response is not None
    assert action.evidence["verbatim"] == action.source_response.comment

    # An alert: "Turn into action" keeps the verbatim and closes the alert.
    tab.goto("/alerts/")
    page.locator("button", has_text="Turn into action").first.click()
    evidence = _evidence_form(tab)
    assert "Alert" in evidence
    tab.shot("alert")
    action = _create_from_form(tab, "Call the customer back and fix it")
    alert = Alert.objects.get(action=action)
    assert alert.status == AlertStatus.ACTIONED
    assert action.evidence["alert"]["id"] == alert.pk

    # A driver on the insights page: the share with its interval from the driver run.
    tab.goto("/insights/")
    page.locator("#drivers-heading ~ div table button", has_text="Create action").first.click()
    evidence = _evidence_form(tab)
    assert "of the explained NPS variance" in evidence and "%)" in evidence
    assert "Driver analysis #" in evidence
    tab.shot("driver")
    action = _create_from_form(tab, "Improve the top driver")
    assert action.insight_kind == "driver" and action.evidence_run_id is not None
    share = action.evidence["figures"][0]
    assert share["name"] == "share" and share["low"] < share["value"] < share["high"]

    # A chart element: the overview's topic impact bars, chosen under the charts.
    tab.goto("/")
    page.select_option("#act-chart-element", f"topic:{costly['slug']}")
    page.click(".act-from-chart button")
    evidence = _evidence_form(tab)
    assert f"{costly['name']} costs about" in evidence
    tab.shot("chart")
    tab.close()


def test_viewers_and_line_managers_get_no_create_action(
    live_server: Any, browser: Any, demo: dict[str, str]
) -> None:
    """The buttons are shown only to roles that may create actions."""
    for username in ("viewer", "lm.service"):
        tab = Tab(browser, live_server.url, username, demo["password"])
        for path in ("/topics/", "/verbatims/", "/", "/insights/"):
            tab.goto(path)
            assert tab.page.locator("button", has_text="Create action").count() == 0, path
        tab.shot(f"no-button-{username.replace('.', '-')}")
        tab.close()
