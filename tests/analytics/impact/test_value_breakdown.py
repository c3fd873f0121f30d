"""Money value per year by KPI and by department: one computation (``impact_rollup``) that the
impact page, the dashboards, the roll-up API and the value CSV all show, with intervals."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from actions.models import Action
from analytics.impact.models import ImpactEstimate, Kpi
from analytics.impact.selectors import impact_rollup, money_shown
from tests.analytics.impact.test_services import _action
from tests.dashboards.downloads import csv_text
from tests.feedback.factories import DepartmentFactory, cx_manager, line_manager

pytestmark = pytest.mark.django_db

Z95 = 1.959963984540054


def _estimate(action: Action, metric: str, value: float, se: float, **extra: Any) -> None:
    kpi = Kpi.objects.filter(slug=metric).first()
    ImpactEstimate.objects.create(
        action=action,
        metric=metric,
        kpi=kpi,
        method=extra.pop("method", "did"),
        is_primary=extra.pop("is_primary", True),
        status="ok",
        effect=value / 52,
        std_error=se / 52,
        ci_low=(value - Z95 * se) / 52,
        ci_high=(value + Z95 * se) / 52,
        p_value=0.01,
        higher_is_better=True,
        annual_value=value,
        annual_value_std_error=se,
        annual_value_ci_low=value - Z95 * se,
        annual_value_ci_high=value + Z95 * se,
        currency="EUR",
        **extra,
    )


def _world() -> dict[str, Action]:
    """Three actions in two departments: revenue, cost to serve and NPS values."""
    care = DepartmentFactory(slug="care", name="Care")
    billing = DepartmentFactory(slug="billing", name="Billing")
    save_desk = _action(title="Save desk", department=care)
    callback = _action(title="Callback", department=care)
    bills = _action(title="Clear bills", department=billing)
    _estimate(save_desk, "revenue", 234_000.0, 50_000.0)
    _estimate(save_desk, "nps", 90_000.0, 40_000.0)  # not counted: revenue was measured
    _estimate(callback, "nps", 60_000.0, 30_000.0)
    _estimate(bills, "cost-to-serve", 218_000.0, 36_000.0)
    _estimate(bills, "revenue", 10_000.0, 20_000.0, is_primary=False, method="before_after")
    return {"save_desk": save_desk, "callback": callback, "bills": bills}


def _by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in rows}


def test_value_by_kpi_and_by_department_adds_values_and_variances() -> None:
    """Each group's total is the sum of its actions' values, its standard error the root of
    the summed variances, its interval total ± 1.96 SE; NPS counts only for an action
    without a measured currency KPI, and before/after rows never count."""
    world = _world()

    summary = impact_rollup(actions=list(world.values()))

    by_kpi = _by_key(summary["by_kpi"])
    assert set(by_kpi) == {"revenue", "cost-to-serve", "nps"}
    assert by_kpi["revenue"]["total"] == pytest.approx(234_000)
    assert by_kpi["nps"]["total"] == pytest.approx(60_000)
    assert by_kpi["nps"]["label"] == "NPS (through the value of experience)"
    assert by_kpi["cost-to-serve"]["label"] == "Cost to serve"
    by_department = _by_key(summary["by_department"])
    care = by_department["care"]
    assert care["label"] == "Care" and care["actions"] == 2 and care["estimates"] == 2
    assert care["total"] == pytest.approx(294_000)
    assert care["std_error"] == pytest.approx(math.sqrt(50_000**2 + 30_000**2))
    assert care["ci_low"] == pytest.approx(294_000 - Z95 * care["std_error"])
    assert care["ci_high"] == pytest.approx(294_000 + Z95 * care["std_error"])
    assert by_department["billing"]["total"] == pytest.approx(218_000)
    (total,) = summary["measured_value"]
    # The two breakdowns are two ways of cutting the same total.
    assert sum(r["total"] for r in summary["by_kpi"]) == pytest.approx(total["total"])
    assert sum(r["total"] for r in summary["by_department"]) == pytest.approx(total["total"])
    assert [r["key"] for r in summary["by_kpi"]] == ["revenue", "cost-to-serve", "nps"]


def test_money_is_shown_with_digits_from_the_interval_width() -> None:
    """Wide intervals are written in thousands or millions, narrow ones keep decimals, so a
    value is never shown more precisely than its interval supports: rounded by the one rule
    (``figure_text``), two significant digits of a half-width from 10 on (±116k → tens of k)."""
    assert money_shown(total=294_000, ci_low=178_000, ci_high=410_000) == {
        "scale": "thousand",
        "suffix": "k",
        "total": "290",
        "low": "180",
        "high": "410",
    }
    assert money_shown(total=-12_000, ci_low=-30_000, ci_high=6_000)["total"] == "\u221212"
    assert money_shown(total=3_400_000, ci_low=1_100_000, ci_high=5_700_000)["scale"] == "million"
    assert money_shown(total=3_400_000, ci_low=3_350_000, ci_high=3_450_000) == {
        "scale": "thousand",
        "suffix": "k",
        "total": "3,400",
        "low": "3,350",
        "high": "3,450",
    }
    assert money_shown(total=12.345, ci_low=12.0, ci_high=12.69)["total"] == "12.3"


def _csv(client: Client, query: str = "") -> list[dict[str, str]]:
    answer = client.get(f"/export/impact-value.csv{query}")
    assert answer.status_code == 200
    return list(csv.DictReader(io.StringIO(csv_text(answer))))


def test_page_api_and_csv_show_the_same_value_tables() -> None:
    """The impact page, the overview, the roll-up API and the CSV give the same figures for
    every KPI and department row (the page as shown, the others as numbers and as shown)."""
    _world()
    user = cx_manager()
    page = Client()
    page.force_login(user)
    api = APIClient()
    api.force_authenticate(user)

    body = api.get("/api/v1/analytics/impact/rollup/").json()
    rows = _csv(page)
    impact_html = page.get("/impact/").content.decode()
    overview_html = page.get("/").content.decode()

    for breakdown, groups in (("kpi", body["by_kpi"]), ("department", body["by_department"])):
        assert groups
        for group in groups:
            (line,) = [r for r in rows if r["breakdown"] == breakdown and r["key"] == group["key"]]
            assert float(line["value_per_year"]) == pytest.approx(group["total"], abs=1e-3)
            assert float(line["value_low"]) == pytest.approx(group["ci_low"], abs=1e-3)
            assert float(line["value_high"]) == pytest.approx(group["ci_high"], abs=1e-3)
            shown = group["shown"]
            attributes = (
                f'data-key="{group["key"]}" data-currency="EUR" data-total="{shown["total"]}" '
                f'data-low="{shown["low"]}" data-high="{shown["high"]}"'
            )
            assert attributes in impact_html
            assert attributes in overview_html
    assert (
        "Value per year by KPI" in impact_html and "Value per year by department" in overview_html
    )


def test_a_line_manager_sees_the_value_of_their_departments_only() -> None:
    """The value tables follow the access policy: a line manager of Care sees Care's value on
    the overview and in the CSV, not Billing's; the department page shows the same."""
    world = _world()
    manager = line_manager()
    world["save_desk"].department.members.add(manager)
    page = Client()
    page.force_login(manager)

    rows = _csv(page)
    overview = page.get("/").content.decode()
    department_page = page.get("/departments/care/").content.decode()

    assert {r["key"] for r in rows if r["breakdown"] == "department"} == {"care"}
    assert 'data-key="billing"' not in overview
    assert 'data-key="care"' in overview and 'data-key="care"' in department_page
    assert 'data-key="cost-to-serve"' not in department_page
