"""Text insights in headless Chromium on the demo organisation: the Topics list with its
filters as choices and trends, a topic's page with its charts and intervals, and the
department report whose quotes agree with the claim they illustrate.

Screenshots go to test-artifacts/text-*.png; any console error fails the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from analytics.text import services as text_services
from analytics.text.engine.sentiment import SentimentScorer
from dashboards.selectors import figures_forget
from demo import generator
from demo.services import demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
RESPONSES = 3_000


class Tab:
    """A logged-in browser tab that collects console errors."""

    def __init__(self, browser: Any, base_url: str, username: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base_url}/accounts/login/?next=/topics/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", generator.DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base_url}/topics/")

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str, *, full_page: bool = False) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"text-{name}.png"), full_page=full_page)

    def close(self) -> None:
        errors = list(self.errors)
        self.context.close()
        assert errors == [], errors


@pytest.fixture
def demo() -> Iterator[None]:
    """The demo organisation with the default taxonomy (an earlier transactional test's
    flush removed the migration's topics)."""
    cache.clear()
    figures_forget()
    text_services.topics_load_defaults()
    demo_seed(responses=RESPONSES)
    yield
    cache.clear()
    figures_forget()


def test_a_cx_manager_filters_topics_by_choice_and_reads_a_topics_trend(
    live_server: Any, browser: Any, demo: None
) -> None:
    """The touchpoint is chosen from a list; the topic's page then charts its monthly share
    of comments and share negative with 95% intervals, in the same window and filter."""
    tab = Tab(browser, live_server.url, "cx")
    page = tab.page
    touchpoint = page.locator("select#touchpoint")
    assert touchpoint.count() == 1
    options = touchpoint.locator("option").all_inner_texts()
    assert options[0] == "All touchpoints" and "Support call" in options
    touchpoint.select_option(label="Support call")
    page.locator("form[aria-label='Filter topics'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "touchpoint=support-call" in page.url
    assert page.locator("select#touchpoint option:checked").inner_text() == "Support call"
    window = page.locator("#topic-window").inner_text()
    assert re.fullmatch(r"\d+ \w+ \d{4} – \d+ \w+ \d{4}", window.strip()), window
    assert page.locator("td[data-trend='wait-time']").inner_text().strip()
    tab.shot("topics")

    page.locator("a", has_text=re.compile(r"^Wait time$")).first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Wait time"
    assert "support-call" in page.url
    assert page.locator("#id_touchpoint option:checked").inner_text() == "Support call"
    assert window in page.locator("#topic-window").inner_text()
    if page.locator("#chart-topic-negative").count() == 0:  # few comments a month
        assert "at least 30 are needed" in page.locator("#trend-too-few").inner_text()
    tab.shot("topic-one-touchpoint")

    page.locator("a.button", has_text="Reset").click()
    page.wait_for_load_state("networkidle")
    assert "last 12 months" in page.locator("#topic-window").inner_text()
    page.wait_for_selector("#chart-topic-share .main-svg")
    assert page.locator("#chart-topic-share .errorbar").count() > 0
    if page.locator("#chart-topic-negative").count():
        page.wait_for_selector("#chart-topic-negative .main-svg")
    else:  # the small demo has fewer than 30 mentions a month: the page says so
        assert "Too few mentions" in page.locator("#trend-too-few").inner_text()
    page.locator("details summary", has_text="The figures by month").click()
    cells = page.locator("#topic-trend-table td[data-figure='share'] [data-score-status='ok']")
    assert cells.count() >= 10
    first = cells.first
    low, value, high = (
        float(first.get_attribute(k) or "nan") for k in ("data-low", "data-value", "data-high")
    )
    assert low < value < high
    impact = page.locator("tr[data-figure='nps-impact'] [data-score-status='ok']")
    assert float(impact.get_attribute("data-high") or "0") < 0  # waiting costs NPS
    tab.shot("topic", full_page=False)
    page.locator("#topic-quotes").scroll_into_view_if_needed()
    tab.shot("topic-quotes")
    tab.close()


def test_the_report_quotes_customers_who_agree_with_its_claim(
    live_server: Any, browser: Any, demo: None
) -> None:
    """The Customer Service report says what its top issue costs, with an interval, and
    quotes only sentences that are negative about it: never a quick answer."""
    tab = Tab(browser, live_server.url, "cx")
    tab.goto("/departments/customer-service/report/")
    page = tab.page
    said = page.locator(".narrative").inner_text()
    claim = re.search(
        r"(\w[\w ]*?) costs about [\d.]+ points of NPS where it comes up \(95% interval", said
    )
    assert claim, said
    quotes = [q.strip("“” \n") for q in page.locator(".narrative blockquote").all_inner_texts()]
    assert quotes
    scorer = SentimentScorer()
    for quote in quotes:
        assert "under a minute" not in quote
        assert scorer.polarity(quote) < 0, quote
    tab.shot("report")
    tab.close()


def test_a_viewer_reads_a_topic_page_without_correction_forms(
    live_server: Any, browser: Any, demo: None
) -> None:
    """A viewer sees the figures, charts and quotes but no tag-correction form."""
    tab = Tab(browser, live_server.url, "viewer")
    tab.goto("/topics/wait-time/")
    page = tab.page
    page.wait_for_selector("#chart-topic-share .main-svg")
    assert page.locator("text=Save correction").count() == 0
    assert page.locator("[data-quote-stance='negative']").count() > 0
    tab.shot("topic-viewer")
    tab.close()
