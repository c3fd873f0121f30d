"""Money value per KPI and per department, with intervals, in headless Chromium on seed_demo data.

The demo is seeded with its analyses (a small response count; the weekly KPI series are
full-size), so the impact estimates behind the tables are the product's own. Screenshots go
to test-artifacts/kpis-*.png; any console error fails the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from demo import generator
from demo.services import demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
INTERVAL = re.compile(r"^-?[\d,.]+[kM]? to -?[\d,.]+[kM]?$")


class Tab:
    """A tab logged in as a demo user that collects console errors."""

    def __init__(self, browser: Any, base_url: str, username: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base_url}/accounts/login/?next=/impact/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", generator.DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base_url}/impact/")

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str, selector: str | None = None) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / f"kpis-{name}.png"
        if selector:
            self.page.locator(selector).first.screenshot(path=str(target))
        else:
            self.page.screenshot(path=str(target), full_page=True)

    def rows(self, testid: str) -> dict[str, dict[str, str]]:
        """Rows of a value table: key -> label, value, interval as shown."""
        found = {}
        for row in self.page.locator(f"[data-testid={testid}] tbody tr").all():
            cells = row.locator("td").all_inner_texts()
            found[str(row.get_attribute("data-key"))] = {
                "label": row.locator("th").inner_text(),
                "value": cells[0],
                "interval": cells[1],
            }
        return found

    def close(self) -> None:
        errors = list(self.errors)
        self.context.close()
        assert errors == [], errors


@pytest.fixture
def demo() -> Iterator[None]:
    cache.clear()
    demo_seed(responses=3_000)
    yield
    cache.clear()


def _planted_kpis() -> set[str]:
    return {planted["kpi"] for planted in generator.KPI_EFFECTS if planted["kpi"] != "churn-rate"}


def test_impact_page_shows_value_per_kpi_and_department_with_intervals(
    live_server: Any, browser: Any, demo: None
) -> None:
    """A CX manager's impact page lists revenue and cost to serve (the planted currency
    effects) and every department with a measured action, each value with its interval."""
    tab = Tab(browser, live_server.url, "cx")
    page = tab.page
    by_kpi = tab.rows("value-by-kpi")
    by_department = tab.rows("value-by-department")

    assert _planted_kpis() <= set(by_kpi)
    assert by_kpi["revenue"]["label"] == "Revenue"
    assert by_kpi["cost-to-serve"]["label"] == "Cost to serve"
    departments = {
        generator.ACTIONS[i]["department"]
        for i, spec in enumerate(generator.ACTIONS)
        if any(
            p["action"] == spec["title"] and p["kpi"] != "churn-rate" for p in generator.KPI_EFFECTS
        )
    }
    assert departments <= set(by_department)
    for row in [*by_kpi.values(), *by_department.values()]:
        assert row["value"].startswith("EUR "), row
        assert INTERVAL.match(row["interval"]), row
    assert "independent" in page.locator("[data-testid=impact-value]").inner_text()
    tab.shot("impact-page")
    tab.shot("impact-value-tables", "[data-testid=impact-value]")
    tab.close()


def test_overview_and_department_pages_show_the_same_value_tables(
    live_server: Any, browser: Any, demo: None
) -> None:
    """The cross-department overview shows the impact page's tables, figure for figure; a
    department page shows its own department's value; a line manager sees theirs only."""
    tab = Tab(browser, live_server.url, "cx")
    impact_kpi = tab.rows("value-by-kpi")
    impact_department = tab.rows("value-by-department")
    tab.goto("/")
    assert tab.rows("value-by-kpi") == impact_kpi
    assert tab.rows("value-by-department") == impact_department
    tab.page.locator("[data-testid=impact-value]").scroll_into_view_if_needed()
    tab.shot("overview")
    tab.shot("overview-value-tables", "[data-testid=impact-value]")
    tab.goto("/departments/billing-payments/")
    billing = tab.rows("value-by-department")
    assert set(billing) == {"billing-payments"}
    assert billing["billing-payments"] == impact_department["billing-payments"]
    assert "cost-to-serve" in tab.rows("value-by-kpi")
    tab.shot("department-billing", "[data-testid=impact-value]")
    tab.close()

    manager = Tab(browser, live_server.url, "lm.digital")
    manager.goto("/")
    assert set(manager.rows("value-by-department")) == {"digital"}
    manager.shot("line-manager-overview", "[data-testid=impact-value]")
    manager.close()
