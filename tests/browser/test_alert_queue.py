"""The alert queue in headless Chromium: a CX manager works it, a line manager sees their
department's, a viewer is refused.

Screenshots go to test-artifacts/alerts-*.png; any console error fails the test.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.utils import timezone

from actions.models import Alert, AlertContact, AlertReason, AlertStatus, Notification
from tests.actions.factories import AlertFactory
from tests.browser.tab import PASSWORD
from tests.browser.tab import Tab as BrowserTab
from tests.feedback.factories import (
    CustomerFactory,
    DepartmentFactory,
    ResponseFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
    viewer,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class Tab(BrowserTab):
    """The shared logged-in tab, landing on notifications; screenshots alerts-*.png."""

    prefix = "alerts"
    landing = "/notifications/"


@pytest.fixture
def queue() -> dict[str, Any]:
    support = DepartmentFactory(name="Customer support", slug="support")
    billing = DepartmentFactory(name="Billing", slug="billing")
    desk = TouchpointFactory(name="Help desk call", slug="help-desk", department=support)
    bills = TouchpointFactory(name="Monthly bill", slug="monthly-bill", department=billing)
    cx = cx_manager(username="cara", first_name="Cara", last_name="Cole")
    lm = line_manager(username="liam", first_name="Liam", last_name="Lane")
    lm_billing = line_manager(username="bea", first_name="Bea", last_name="Bill")
    reader = viewer(username="vic", first_name="Vic", last_name="Viewer")
    support.members.add(lm, reader)
    billing.members.add(lm_billing)
    for user in (cx, lm, lm_billing, reader):
        user.set_password(PASSWORD)
        user.save()
    now = timezone.now()

    def alert(point: Any, nps: int, comment: str, customer: str, **kwargs: Any) -> Any:
        response = ResponseFactory(
            touchpoint=point,
            nps=nps,
            comment=comment,
            customer=CustomerFactory(external_id=customer),
            submitted_at=now - dt.timedelta(hours=kwargs.pop("hours_ago", 2)),
        )
        return AlertFactory(response=response, **kwargs)

    alerts = {
        "passive": alert(
            desk,
            8,
            "Friendly, but the app logged me out three times.",
            "C-PASSIVE",
            reason=AlertReason.NEGATIVE_SENTIMENT,
            deadline_at=now + dt.timedelta(hours=30),
        ),
        "mild": alert(desk, 5, "Took a while.", "C-MILD", deadline_at=now + dt.timedelta(hours=20)),
        "worst": alert(
            desk,
            1,
            "Hung up on me twice. Never again.",
            "C-WORST",
            reason=AlertReason.BOTH,
            deadline_at=now + dt.timedelta(hours=40),
        ),
        "late": alert(
            desk,
            2,
            "Still no refund after three weeks.",
            "C-LATE",
            hours_ago=60,
            deadline_at=now - dt.timedelta(hours=12),
        ),
        "billing": alert(bills, 3, "Charged twice this month.", "C-BILL"),
    }
    return {"cx": cx, "lm": lm, "lm_billing": lm_billing, "alerts": alerts}


def _order(page: Any) -> list[str]:
    return [str(node.get_attribute("id")) for node in page.locator("article.alert-item").all()]


def test_cx_manager_sorts_assigns_and_bulk_closes_with_a_contact_record(
    live_server: Any, browser: Any, queue: dict[str, Any]
) -> None:
    """Worst first with counts; assign one to Liam; tick two and close them with one call."""
    alerts = queue["alerts"]
    tab = Tab(browser, live_server.url, "cara")
    page = tab.page
    tab.goto("/alerts/")
    assert _order(page) == [
        f"alert-{alerts[name].pk}" for name in ("worst", "late", "billing", "mild", "passive")
    ]
    assert "5 alerts under these filters" in page.locator(".page-head").inner_text()
    assert page.locator('[data-count="overdue"]').inner_text() == "1"
    late = page.locator(f"#alert-{alerts['late'].pk}")
    assert "Overdue" in late.inner_text() and "overdue by 12" in late.inner_text()
    tab.shot("cx-queue")

    worst = page.locator(f"#alert-{alerts['worst'].pk}")
    worst.locator("summary:has-text('Assign')").click()
    worst.locator("select[name=assignee]").select_option(label="Liam Lane")
    worst.locator("button:has-text('Assign')").last.click()
    page.wait_for_load_state("networkidle")
    assert "Alert assigned to Liam Lane." in page.locator(".messages").inner_text()
    assert "Assigned to Liam Lane" in page.locator(f"#alert-{alerts['worst'].pk}").inner_text()
    assert Notification.objects.filter(recipient=queue["lm"], kind="alert_assigned").exists()

    page.locator(f"#select-{alerts['late'].pk}").check()
    page.locator(f"#select-{alerts['mild'].pk}").check()
    page.locator("#bulk summary:has-text('Close selected')").click()
    page.select_option("#bulk-all-channel", "phone")
    page.select_option("#bulk-all-outcome", "resolved")
    page.fill("#bulk-all-note", "Apologised and refunded the fee.")
    page.fill("#bulk-note", "Both called back this morning.")
    tab.shot("cx-bulk-close-form")
    page.locator("#bulk button:has-text('Close selected')").click()
    page.wait_for_load_state("networkidle")
    assert "2 alerts closed." in page.locator(".messages").inner_text()
    assert page.locator('[data-count="closed"]').inner_text() == "2"
    assert page.locator('[data-count="overdue"]').inner_text() == "0"
    tab.shot("cx-after-bulk-close")
    closed = Alert.objects.filter(status=AlertStatus.HANDLED)
    assert set(closed.values_list("pk", flat=True)) == {alerts["late"].pk, alerts["mild"].pk}
    assert AlertContact.objects.filter(alert__in=closed, outcome="resolved").count() == 2

    page.locator(".status-tabs a:has-text('Closed')").click()
    page.wait_for_load_state("networkidle")
    history = page.locator(f"#alert-{alerts['late'].pk} .contact-history").inner_text()
    assert "Phone" in history and "Apologised and refunded the fee." in history
    tab.shot("cx-closed-with-contacts")
    tab.close()


def test_line_manager_sees_only_their_departments_alerts_and_takes_one(
    live_server: Any, browser: Any, queue: dict[str, Any]
) -> None:
    """Bea (billing) sees the billing alert only, takes it and records a call."""
    alert = queue["alerts"]["billing"]
    tab = Tab(browser, live_server.url, "bea")
    page = tab.page
    assert page.locator("nav a:has-text('Alerts')").count() == 1
    tab.goto("/alerts/")
    assert _order(page) == [f"alert-{alert.pk}"]
    item = page.locator(f"#alert-{alert.pk}")
    item.locator("button:has-text('Take it')").click()
    page.wait_for_load_state("networkidle")
    assert "Alert assigned to you." in page.locator(".messages").inner_text()
    item = page.locator(f"#alert-{alert.pk}")
    item.locator("summary:has-text('Record a contact')").click()
    item.locator("select[name=channel]").first.select_option("phone")
    item.locator("select[name=outcome]").first.select_option("no_answer")
    item.locator("button:has-text('Record contact')").click()
    page.wait_for_load_state("networkidle")
    assert "No answer" in page.locator(f"#alert-{alert.pk} .contact-history").inner_text()
    tab.shot("line-manager-queue")
    alert.refresh_from_db()
    assert alert.assignee == queue["lm_billing"]
    tab.close()


def test_viewer_has_no_alerts_entry_and_is_refused_with_a_reason(
    live_server: Any, browser: Any, queue: dict[str, Any]
) -> None:
    """No menu entry; the address answers 403 saying viewers see no alerts."""
    tab = Tab(browser, live_server.url, "vic")
    page = tab.page
    assert page.locator("nav a:has-text('Alerts')").count() == 0
    answer = tab.goto("/alerts/")
    assert answer.status == 403
    assert "viewers see none" in page.locator("[role=alert]").inner_text()
    tab.shot("viewer-refused")
    tab.close(expected_errors=1)  # the browser logs the 403 of the page itself
