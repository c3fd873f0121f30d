"""The front end in headless Chromium: the filter bar after Back, the phone menu and tables,
the charts' mode bar and their titled PNG, and the report on one A4 page (demo data).

Screenshots go to test-artifacts/front-*.png; any console error or CSP violation fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from demo import generator
from demo.services import demo_seed
from feedback.models import Department
from tests.dashboards.factories import plant_action, plant_responses
from tests.feedback.factories import DepartmentFactory, TouchpointFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
# Collects what the browser refused, before any page script runs.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " " + (event.blockedURI || "inline") + " from " +
    event.sourceFile + ":" + event.lineNumber + " " + event.sample + " " +
    (event.target && event.target.outerHTML ? event.target.outerHTML.slice(0, 300) : "")
  );
});
"""


class Tab:
    """A logged-in tab that collects console errors and CSP violations."""

    def __init__(
        self,
        browser: Any,
        base_url: str,
        username: str,
        *,
        password: str = PASSWORD,
        viewport: dict[str, int] | None = None,
    ) -> None:
        self.context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 900}, accept_downloads=True
        )
        self.context.add_init_script(WATCH_VIOLATIONS)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base_url}/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base_url}/")

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str, *, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"front-{name}.png"), full_page=full_page)

    def problems(self) -> list[str]:
        return [*self.page.evaluate("window.__cspViolations || []"), *self.errors]

    def close(self) -> None:
        problems = self.problems()
        self.context.close()
        assert problems == [], "\n".join(problems)


@pytest.fixture
def world() -> dict[str, Any]:
    """Two touchpoints, web and phone answers with different scores, and a few actions."""
    billing = DepartmentFactory(name="Billing", slug="billing")
    call = TouchpointFactory(name="Billing call", slug="billing-call", department=billing)
    letter = TouchpointFactory(name="Bill letter", slug="bill-letter", department=billing)
    plant_responses(touchpoint=call, nps_values=[10, 9, 9, 3, 1] * 4, channel="phone")
    plant_responses(touchpoint=call, nps_values=[10, 10, 9, 8, 7] * 3, channel="web")
    plant_responses(touchpoint=letter, nps_values=[2, 3, 9, 0] * 3, channel="phone")
    plant_responses(touchpoint=letter, nps_values=[9, 9, 10, 6] * 3, channel="web")
    admin = UserFactory(username="admin", roles=["cx_manager"], is_staff=True, is_superuser=True)
    admin.set_password(PASSWORD)
    admin.save()
    billing.members.add(admin)
    for status in ("proposed", "accepted", "implemented"):
        plant_action(department=billing, owner=admin, status=status, title=f"A {status} action")
    return {"billing": billing}


def _headline(tab: Tab) -> str:
    """The window note and the NPS card as the page shows them."""
    page = tab.page
    note = page.inner_text("#window-note").split("· Link")[0]
    return note + " | " + page.inner_text('[data-figure="nps"] .kpi')


def _server_headline(tab: Tab, query: str) -> str:
    """The same, from a fresh load of the address (what the server renders for it)."""
    fresh = tab.context.new_page()
    fresh.goto(f"{tab.base_url}/{query}")
    note = fresh.inner_text("#window-note").split("· Link")[0]
    text = note + " | " + fresh.inner_text('[data-figure="nps"] .kpi')
    fresh.close()
    return text


def _filters(url: str) -> dict[str, str]:
    """The filters an address holds (htmx pushes the empty ones too)."""
    return {name: value for name, value in parse_qsl(urlsplit(url).query) if value}


def _wait_for_filters(tab: Tab, expected: dict[str, str]) -> None:
    tab.page.wait_for_url(lambda url: _filters(url) == expected)
    tab.page.wait_for_load_state("networkidle")


def _back(tab: Tab, expected: dict[str, str]) -> None:
    """The browser's Back button (htmx reloads the address it goes back to)."""
    tab.page.evaluate("history.back()")
    _wait_for_filters(tab, expected)
    tab.page.wait_for_selector("#chart-trend-nps .main-svg")


def _change(tab: Tab, selector: str, value: str, expected: dict[str, str]) -> None:
    tab.page.select_option(selector, value)
    _wait_for_filters(tab, expected)


def test_back_after_filter_changes_shows_the_filters_of_the_figures(
    live_server: Any, browser: Any, world: dict[str, Any]
) -> None:
    """Change the channel, then the touchpoint, then go Back: the filter bar shows the
    channel alone again, agreeing with the figures; the next change keeps the channel."""
    tab = Tab(browser, live_server.url, "admin")
    tab.goto("/")
    phone = {"channel": "phone"}
    _change(tab, "#id_channel", "phone", phone)
    _change(tab, "#id_touchpoint", "bill-letter", {**phone, "touchpoint": "bill-letter"})
    assert "bill-letter" in _headline(tab)

    _back(tab, phone)
    tab.shot("history-back")

    assert tab.page.input_value("#id_channel") == "phone"
    assert tab.page.input_value("#id_touchpoint") == ""
    assert _headline(tab) == _server_headline(tab, "?channel=phone")
    tab.page.wait_for_selector("#chart-trend-nps .main-svg")

    _change(tab, "#id_department", "billing", {**phone, "department": "billing"})
    assert tab.page.input_value("#id_channel") == "phone"
    assert _headline(tab) == _server_headline(tab, "?channel=phone&department=billing")

    _back(tab, phone)
    _back(tab, {})
    tab.shot("history-start")
    assert tab.page.input_value("#id_channel") == ""
    assert _headline(tab) == _server_headline(tab, "")
    tab.close()


def test_on_a_phone_the_menu_folds_and_tables_scroll_inside_the_page(
    live_server: Any, browser: Any, world: dict[str, Any]
) -> None:
    """At 390×844 the top bar is one line with a Menu button (aria-expanded) that opens the
    menu; no page is wider than the screen, wide tables scroll in their own box."""
    tab = Tab(browser, live_server.url, "admin", viewport=PHONE)
    for path in ("/", "/departments/billing/", "/actions/", "/impact/", "/insights/"):
        tab.goto(path)
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
    tab.goto("/")
    toggle = tab.page.locator(".nav-toggle")
    bar = tab.page.locator(".topbar").bounding_box()
    tab.shot("phone-closed", full_page=False)

    assert toggle.get_attribute("aria-expanded") == "false"
    assert not tab.page.locator("#main-nav").is_visible()
    assert bar is not None and bar["height"] < 0.1 * PHONE["height"]

    toggle.click()
    tab.shot("phone-open", full_page=False)
    assert toggle.get_attribute("aria-expanded") == "true"
    assert tab.page.locator("#main-nav a", has_text="Actions").first.is_visible()

    toggle.click()
    assert not tab.page.locator("#main-nav").is_visible()
    wrap = tab.page.locator(".table-wrap").first
    assert wrap.evaluate("element => getComputedStyle(element).overflowX") == "auto"
    tab.page.locator("#action-table").scroll_into_view_if_needed()
    tab.shot("phone-tables", full_page=False)
    tab.close()


def test_the_mode_bar_appears_on_hover_with_one_button_and_a_titled_png(
    live_server: Any, browser: Any, world: dict[str, Any]
) -> None:
    """Each chart's mode bar is invisible until the pointer is over the chart and holds one
    button; it downloads a PNG taller than the chart by the title and scope lines."""
    tab = Tab(browser, live_server.url, "admin")
    tab.goto("/departments/billing/")
    tab.page.wait_for_selector("#chart-action-status .main-svg")
    buttons = tab.page.locator("#chart-trend-nps .modebar-group").first

    assert buttons.evaluate("element => getComputedStyle(element).opacity") == "0"
    for chart in tab.page.locator(".chart").all():
        assert chart.locator(".modebar-btn").count() == 1

    tab.page.hover("#chart-trend-nps")
    for _ in range(
        30
    ):  # Plotly fades it in (wait_for_function would need eval, which the CSP refuses)
        if buttons.evaluate("element => getComputedStyle(element).opacity") == "1":
            break
        tab.page.wait_for_timeout(100)
    assert buttons.evaluate("element => getComputedStyle(element).opacity") == "1"
    tab.page.locator("#chart-trend-nps").screenshot(path=str(ARTIFACTS / "front-modebar-hover.png"))
    with tab.page.expect_download() as download:
        tab.page.click("#chart-trend-nps .modebar-btn")
    saved = ARTIFACTS / "front-chart-download.png"
    download.value.save_as(saved)
    png = saved.read_bytes()
    height = int.from_bytes(png[20:24], "big")
    chart_height = tab.page.locator("#chart-trend-nps").bounding_box()["height"]

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert download.value.suggested_filename == "chart-trend-nps.png"
    assert height >= 2 * (chart_height + 60)  # scale 2, with room for title and scope
    tab.page.hover("#chart-action-status")
    tab.shot("status-chart")
    tab.close()


@pytest.fixture
def demo_site() -> list[str]:
    cache.clear()
    demo_seed(responses=3_000)
    cx = next(user["username"] for user in generator.USERS if user["role"] == "cx_manager")
    user = get_user_model().objects.get(username=cx)
    user.set_password(PASSWORD)
    user.save()
    return [cx, *Department.objects.order_by("slug").values_list("slug", flat=True)]


def test_every_department_report_prints_on_one_a4_page(
    live_server: Any, browser: Any, demo_site: list[str]
) -> None:
    """On the demo data each department's printable report is one A4 page."""
    username, *slugs = demo_site
    tab = Tab(browser, live_server.url, username, viewport={"width": 794, "height": 1123})
    pages = {}
    for slug in slugs:
        tab.goto(f"/departments/{slug}/report/")
        tab.page.wait_for_selector(".report .chart .main-svg")
        tab.page.emulate_media(media="print")
        tab.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        pdf = tab.page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
        pages[slug] = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        if slug == slugs[0]:
            tab.shot("report-print")
        tab.page.emulate_media(media="screen")

    assert pages == dict.fromkeys(slugs, 1)
    tab.close()
