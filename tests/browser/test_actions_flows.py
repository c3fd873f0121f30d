"""The actions pages in headless Chromium: the line manager's and the CX manager's flows.

Screenshots go to test-artifacts/actions-*.png; any console error fails the test.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import pytest
from django.utils import timezone

from actions.models import Action, ActionStatus, Notification
from analytics.models import Kpi
from tests.actions.factories import ActionFactory
from tests.browser.tab import Tab
from tests.feedback.factories import (
    DepartmentFactory,
    ResponseFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def team() -> dict[str, Any]:
    support = DepartmentFactory(name="Customer support", slug="support")
    desk = TouchpointFactory(name="Help desk call", slug="help-desk", department=support)
    cx = cx_manager(username="cara", first_name="Cara", last_name="Cole")
    lm = line_manager(username="liam", first_name="Liam", last_name="Lane")
    other = line_manager(username="lena", first_name="Lena", last_name="Lund")
    support.members.add(lm, other)
    now = timezone.now()
    for nps, comment in ((2, "Waited 40 minutes."), (9, "Quick and kind."), (4, "Cut off twice.")):
        ResponseFactory(
            touchpoint=desk, nps=nps, comment=comment, submitted_at=now - dt.timedelta(days=3)
        )
    proposed = ActionFactory(
        title="Call back within one working day",
        department=support,
        owner=lm,
        created_by=cx,
        due_date=timezone.localdate() + dt.timedelta(days=20),
        evidence={
            "kind": "topic",
            "reference": "callbacks",
            "label": "Call-backs",
            "figures": [],
            "summary": "call-backs: 410 mentions, sentiment −0.5",
        },
    )
    return {"support": support, "cx": cx, "lm": lm, "other": other, "proposed": proposed}


def test_line_manager_accepts_and_posts_progress_from_my_actions(
    live_server: Any, browser: Any, team: dict[str, Any]
) -> None:
    """Log in, open My actions, accept, post progress: the action is in progress at 35%."""
    tab = Tab(browser, live_server.url, "liam")
    page = tab.page
    assert page.locator("h1").inner_text() == "My actions"
    item = page.locator(f"#action-{team['proposed'].pk}")
    assert "call-backs: 410 mentions" in item.inner_text()
    tab.shot("my-actions-proposed")
    item.locator("button:has-text('Accept')").click()
    page.wait_for_load_state("networkidle")
    assert "is now accepted" in page.locator(".messages").inner_text()
    item = page.locator(f"#action-{team['proposed'].pk}")
    item.locator("input[name=progress]").fill("35")
    item.locator("input[name=text]").fill("Call-back rota agreed with the team")
    item.locator("button:has-text('Post update')").click()
    page.wait_for_load_state("networkidle")
    assert "35% done" in page.locator(".messages").inner_text()
    tab.shot("my-actions-in-progress")
    action = Action.objects.get(pk=team["proposed"].pk)
    assert (action.status, action.progress) == (ActionStatus.IN_PROGRESS, 35)
    page.locator(f"#action-{action.pk} h3 a").click()
    page.wait_for_load_state("networkidle")
    assert "Call-back rota agreed with the team" in page.locator(".timeline").inner_text()
    assert "status: accepted → in_progress" in page.locator("#history-title + table").inner_text()
    tab.shot("detail-line-manager")
    tab.close()


def test_cx_manager_creates_an_action_from_a_touchpoint_and_assigns_it(
    live_server: Any, browser: Any, team: dict[str, Any]
) -> None:
    """From a touchpoint link the form is prefilled; the new action is proposed to its owner."""
    Kpi.objects.get_or_create(slug="churn-rate", defaults={"name": "Churn rate", "unit": "percent"})
    tab = Tab(browser, live_server.url, "cara")
    page = tab.page
    tab.goto("/actions/")
    tab.shot("board")
    tab.goto("/actions/new/?from=touchpoint&slug=help-desk")
    evidence = page.locator(".evidence").inner_text()
    assert "Help desk call" in evidence and "3 responses (" in evidence
    assert page.locator("#id_department").input_value() == "support"
    page.fill("#id_title", "Staff the help desk at lunchtime")
    page.fill("#id_description", "Two more agents 12:00–14:00.")
    page.select_option("#id_owner", label="Lena Lund")
    page.fill("#id_due_date", (timezone.localdate() + dt.timedelta(days=45)).isoformat())
    page.fill("#id_cost_estimate", "18000")
    page.select_option("#id_kpi_0", "churn-rate")
    page.fill("#id_kpi_change_0", "-0.4")
    page.fill("#id_scope_attributes", "region=north")
    tab.shot("create-form")
    page.click("button:has-text('Create and propose to owner')")
    page.wait_for_url(re.compile(r".*/actions/\d+/$"))
    assert page.locator("#action-status").inner_text() == "Proposed"
    assert "Lena Lund" in page.locator("dl.facts").inner_text()
    assert "churn-rate" in page.inner_text("#kpi-title + table")
    tab.shot("detail-cx-manager")
    action = Action.objects.get(title="Staff the help desk at lunchtime")
    assert action.owner == team["other"] and action.evidence["kind"] == "touchpoint"
    assert Notification.objects.filter(
        recipient=team["other"], kind="assigned", action=action
    ).exists()
    # Reassign it to Liam from the detail page.
    page.click("summary:has-text('Reassign')")
    page.select_option("form[action$='/reassign/'] select[name=owner]", label="Liam Lane")
    page.click("form[action$='/reassign/'] button:has-text('Reassign')")
    page.wait_for_load_state("networkidle")
    action.refresh_from_db()
    assert action.owner == team["lm"] and action.status == ActionStatus.PROPOSED
    tab.close()


def test_line_manager_handles_an_alert_and_reads_notifications(
    live_server: Any, browser: Any, team: dict[str, Any]
) -> None:
    """A detractor at the team's touchpoint shows on Alerts and in Notifications; handling it records the note."""
    from actions.services import alerts_raise_for_responses
    from tests.feedback.factories import CustomerFactory

    desk = team["support"].touchpoints.get()
    angry = ResponseFactory(
        touchpoint=desk,
        nps=1,
        customer=CustomerFactory(external_id="C-1001"),
        comment="<i>Nobody</i> called me back, third time.",
        submitted_at=timezone.now(),
    )
    assert alerts_raise_for_responses(response_sentiments={angry.pk: -0.7}) == 1
    tab = Tab(browser, live_server.url, "liam")
    page = tab.page
    tab.goto("/notifications/")
    assert "Unhappy customer at Help desk call: C-1001 (NPS 1)" in page.inner_text(
        ".notification-list"
    )
    tab.shot("notifications")
    tab.goto("/alerts/")
    card = page.locator(".alert-item").first
    assert "<i>Nobody</i> called me back" in card.inner_text()
    tab.shot("alerts")
    # Closing the loop records the contact with the customer (how, outcome) and a note.
    card.locator("summary:has-text('Close…')").click()
    closing = card.locator("form[action$='/handle/']")
    closing.locator("select[name=channel]").select_option("phone")
    closing.locator("select[name=outcome]").select_option("resolved")
    closing.locator("textarea[name=note]").fill("Called, apologised, booked a technician.")
    closing.locator("button:has-text('Close alert')").click()
    page.wait_for_load_state("networkidle")
    assert "Alert closed." in page.locator(".messages").inner_text()
    tab.goto("/alerts/?status=handled")
    closed = page.locator(".alert-item").first.inner_text()
    assert "booked a technician" in closed and "Resolved" in closed
    tab.close()
