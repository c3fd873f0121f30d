"""The Content-Security-Policy in a real browser: the main pages, the admin and the API docs
load with no CSP violation and no console error, and the Plotly charts still draw."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.utils import timezone

from actions.models import Action, ActionStatus
from tests.dashboards.factories import plant_responses, plant_topic, tag
from tests.feedback.factories import DepartmentFactory, TouchpointFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery"
# Collects what the browser refused, before any page script runs (Playwright's init scripts
# are not subject to the page's policy).
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# (path, a selector that shows the page worked: a drawn chart where the page has charts)
PAGES = [
    ("/", "#chart-trend-nps .main-svg"),
    ("/departments/billing/", "#chart-trend-nps .main-svg"),
    ("/departments/billing/report/", ".report .chart .main-svg"),
    ("/verbatims/", "#verbatim-results"),
    ("/insights/", "h1"),
    ("/impact/", "h1"),
    ("/actions/", "h1"),
    ("/actions/mine/", "h1"),
    ("/topics/", "h1"),
    ("/comments/", "h1"),
    ("/admin/", "#content"),
    ("/admin/feedback/sourceapikey/", "#changelist"),
    ("/admin/axes/accesslog/", "#changelist"),
    ("/api/docs/", ".swagger-ui .info"),
    ("/api/redoc/", "redoc, #redoc-container, .api-content"),
]


@pytest.fixture
def world() -> None:
    billing = DepartmentFactory(name="Billing", slug="billing")
    touchpoint = TouchpointFactory(name="Billing call", slug="billing-call", department=billing)
    plant_responses(touchpoint=touchpoint, nps_values=[10, 9, 8, 7, 6, 3, 1, 0] * 6, days_ago=20)
    plant_responses(touchpoint=touchpoint, nps_values=[10, 9, 8, 6, 2] * 8, days_ago=3)
    topic = plant_topic("billing-errors", "Billing errors")
    for response in plant_responses(
        touchpoint=touchpoint, nps_values=[0, 1], comment="The bill was wrong", days_ago=2
    ):
        tag(response, topic, -0.8)
    admin = UserFactory(username="admin", roles=["cx_manager"], is_staff=True, is_superuser=True)
    billing.members.add(admin)
    Action.objects.create(
        title="Answer billing calls within 2 minutes",
        department=billing,
        owner=admin,
        created_by=admin,
        status=ActionStatus.IN_PROGRESS,
        progress=40,
        due_date=timezone.localdate() + dt.timedelta(days=30),
    )


def test_main_pages_load_under_the_policy(live_server: Any, browser: Any, world: None) -> None:
    """Every page: the CSP header is sent, nothing is refused, no console error, charts draw."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []
    # A failed load is reported by its response below, where its address is known.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    # The admin links no icon, so the browser asks for /favicon.ico, which CXHub does not serve.
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    problems = {}
    for path, ready in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_selector(ready, timeout=20_000)
        page.wait_for_load_state("networkidle")
        refused = [*page.evaluate("window.__cspViolations"), *errors]
        # Redoc's "powered by" logo comes from its CDN; refusing it is the policy working.
        refused = [message for message in refused if REDOC_LOGO not in message]
        if refused:
            problems[path] = refused
        errors.clear()
    context.close()

    assert problems == {}
