"""The action page is the proof: what an action achieved, with honest digits, on its own page,
on the board and in My actions; and action counts that match the lists they sum up."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions.models import Action, ActionStatus
from analytics.impact import selectors as impact_selectors
from analytics.models import ImpactEstimate, Kpi
from analytics.stats.scores import figure_text, p_value_text
from analytics.templatetags.score_tags import share_cell
from dashboards.impact import score_weeks_get
from dashboards.selectors import figures_forget
from tests.dashboards.factories import plant_action, plant_responses
from tests.feedback.factories import (
    DepartmentFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
    viewer,
)

pytestmark = pytest.mark.django_db

# The demo's callback action as the estimator stored it (seed_demo, 2026-12-04).
CHURN = {
    "effect": -0.038068162393162706,
    "ci_low": -0.041177957428143716,
    "ci_high": -0.0349583673581817,
    "p_value": 3.0554383793604023e-24,
}
NPS = {
    "effect": 5.249440974295931,
    "ci_low": -16.353987779039656,
    "ci_high": 26.85286972763152,
    "p_value": 0.6251402441300297,
    "annual_value": 5503.717261479457,
    "annual_value_ci_low": -17146.154280855917,
    "annual_value_ci_high": 28153.588803814837,
    "annual_value_std_error": 11555.0,
    "roi": 0.04586431051232881,
    "roi_ci_low": -0.14288461900713265,
    "roi_ci_high": 0.23461324003179032,
    "currency": "EUR",
}
WINDOWS = {
    "pre_start": dt.date(2025, 12, 1),
    "pre_end": dt.date(2026, 5, 31),
    "post_start": dt.date(2026, 6, 8),
    "post_end": dt.date(2026, 8, 30),
}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _measured_callback(department: Any, owner: Any = None) -> Action:
    churn, _ = Kpi.objects.get_or_create(
        slug="churn-rate",
        defaults={"name": "Churn rate", "unit": "percent", "higher_is_better": False},
    )
    action = plant_action(
        department=department,
        owner=owner,
        status="measured",
        title="Callback instead of hold queue",
        implemented_at=dt.date(2026, 6, 1),
        measured_at=dt.datetime(2026, 9, 1, 6, tzinfo=dt.UTC),
        cost_estimate=120000,
        control_attributes={"region": ["south"]},
        target_kpis=[
            {"kpi": "nps", "expected_change": 8, "unit": "points"},
            {"kpi": "churn-rate", "expected_change": -0.04, "unit": "% per week"},
        ],
    )
    for metric, figures, kpi in (("nps", NPS, None), ("churn-rate", CHURN, churn)):
        ImpactEstimate.objects.create(
            action=action,
            metric=metric,
            kpi=kpi,
            method="did",
            is_primary=True,
            status="ok",
            higher_is_better=kpi is None,
            parallel_trend_slope=-0.41 if kpi is None else -8.7e-05,
            parallel_trend_p_value=0.348 if kpi is None else 0.236,
            baseline=-20.3 if kpi is None else 0.4251,
            after=-4.1 if kpi is None else 0.3420,
            **WINDOWS,
            **figures,
        )
        ImpactEstimate.objects.create(
            action=action,
            metric=metric,
            kpi=kpi,
            method="before_after",
            is_primary=False,
            status="ok",
            higher_is_better=kpi is None,
            effect=17.8 if kpi is None else -0.0822,
            ci_low=8.4 if kpi is None else -0.0913,
            ci_high=27.2 if kpi is None else -0.0730,
            p_value=0.0002,
            **WINDOWS,
        )
    return action


def test_digits_follow_the_interval_so_no_interval_collapses() -> None:
    """The callback action's churn effect reads −0.038 (−0.041 to −0.035), not −0.04 to
    −0.04; its money value is rounded to its thousands; a tiny p-value reads "p < 0.001"."""
    churn = figure_text(CHURN["effect"], CHURN["ci_low"], CHURN["ci_high"], signed=True)
    money = figure_text(
        NPS["annual_value"], NPS["annual_value_ci_low"], NPS["annual_value_ci_high"]
    )

    assert churn == {"value": "−0.038", "low": "−0.041", "high": "−0.035"}
    assert money == {"value": "6,000", "low": "−17,000", "high": "28,000"}
    assert p_value_text(CHURN["p_value"]) == "p < 0.001"
    assert p_value_text(0.6251) == "p = 0.625"


def test_a_driver_share_with_a_collapsed_interval_does_not_read_6_to_6() -> None:
    """A share whose interval has no width says so instead of "6% (6–6%)"."""
    assert share_cell(0.06, [0.06, 0.06]) == "6% (no interval)"
    assert share_cell(0.06, [0.05, 0.07]) == "6% (5–7%)"


def test_the_action_page_shows_each_effect_with_its_interval_value_roi_and_method() -> None:
    """A measured action's page shows, per metric, the controlled effect with its interval
    and unit, the p-value, value and ROI each with an interval, the method in words against
    the named control scope, the parallel-trend check, and the naive before/after labelled
    as such beside it."""
    action = _measured_callback(DepartmentFactory(slug="care", name="Care"))

    page = _client(cx_manager()).get(f"/actions/{action.pk}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "What it achieved" in html
    assert "−0.038 pp" in html and "(95% interval −0.041 to −0.035)" in html
    assert "−0.04 to −0.04" not in html and "p = 0.000" not in html and "p &lt; 0.001" in html
    assert "+5 points" in html and "(95% interval −16 to +27)" in html
    assert "6,000 EUR a year" in html and "(95% interval −17,000 to 28,000)" in html
    assert "5% of cost" in html and "(95% interval −14 to 23)" in html
    assert "0.0×" not in html
    assert "Difference-in-differences against the control scope (region = south)" in html
    assert "Parallel-trend check" in html and "no sign that they were drifting apart" in html
    assert "e-05" not in html and "−0.000087 pp a week" in html
    assert "Naive before/after" in html and "never in its place" in html
    assert "chart-kpi-0" in html and "chart-score-nps" in html
    assert "Measured on 01 Sep 2026" in html


def test_an_implemented_action_says_when_it_will_be_measured_and_why() -> None:
    """Before the after-window has passed the page gives the date (the Monday after the 12
    weeks following the week of implementation) and the reason, from the estimator's rules."""
    today = timezone.localdate()
    action = plant_action(
        department=DepartmentFactory(slug="care"), status="implemented", implemented_at=today
    )
    monday = today - dt.timedelta(days=today.weekday())
    measured_on = monday + dt.timedelta(weeks=13)

    html = _client(cx_manager()).get(f"/actions/{action.pk}/").content.decode()

    assert f"The effect will be measured on {measured_on:%d %b %Y}" in html
    assert "compares the 12 weeks after the week of implementation" in html
    assert "a preliminary estimate needs 8 of them" in html


def test_an_accepted_action_says_how_long_after_implementation_it_is_measured() -> None:
    """An action not yet implemented says the after-window and, from its due date, the day."""
    due = dt.date(2027, 1, 18)
    action = plant_action(department=DepartmentFactory(), status="accepted", due_date=due)

    html = _client(cx_manager()).get(f"/actions/{action.pk}/").content.decode()

    assert "measured 12 weeks after the week the action is implemented" in html
    assert "implemented on its due date, that is 19 Apr 2027" in html


def test_mark_implemented_says_when_the_effect_will_be_measured() -> None:
    """The success message after "Mark implemented" names the measurement date."""
    department = DepartmentFactory()
    owner = line_manager()
    department.members.add(owner)
    action = plant_action(department=department, owner=owner, status="in_progress")
    day = timezone.localdate()
    measured_on = day - dt.timedelta(days=day.weekday()) + dt.timedelta(weeks=13)

    answer = _client(owner).post(
        f"/actions/{action.pk}/implement/", {"implemented_at": day.isoformat()}
    )

    texts = [str(m) for m in get_messages(answer.wsgi_request)]
    assert answer.status_code == 302
    assert any(
        "is now implemented" in t and f"measured on {measured_on:%d %b %Y}" in t for t in texts
    )


def _effect_cells(html: str) -> list[str]:
    return re.findall(r'data-effect-state="(\w+)"', html)


def test_my_actions_done_shows_the_effect_column() -> None:
    """The owner's Done group shows the primary metric's effect with its interval, or the
    date it will be measured."""
    department = DepartmentFactory(slug="care")
    owner = line_manager()
    department.members.add(owner)
    _measured_callback(department, owner)
    plant_action(department=department, owner=owner, status="implemented", title="Fresh")

    html = _client(owner).get("/actions/mine/").content.decode()

    assert "Measured effect (95% interval)" in html
    assert "NPS +5 points (95% interval −16 to +27)" in html
    assert sorted(_effect_cells(html)) == ["measured", "scheduled"]
    assert "measured on " in html


def _row_queries(captured: CaptureQueriesContext) -> list[str]:
    """The queries that could repeat per row (actions, their estimates, people); the page's
    time-cached banners are left out."""
    tables = ("actions_action", "analytics_impactestimate", "auth_user", "analytics_kpi")
    return [
        q["sql"][:40]
        for q in captured.captured_queries
        if any(t in q["sql"] for t in tables) and not q["sql"].startswith("DECLARE")
    ]


def test_the_board_effect_column_costs_no_query_per_row() -> None:
    """The board reads every row's effect in one query: 2 rows and 8 rows cost the same."""
    department = DepartmentFactory(slug="care")
    _measured_callback(department)
    client = _client(cx_manager())
    client.get("/actions/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get("/actions/")
    for i in range(6):
        plant_action(department=department, status="measured", title=f"More {i}")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/actions/").content.decode()

    assert _row_queries(many) == _row_queries(few)
    assert sum("analytics_impactestimate" in q for q in _row_queries(many)) == 1
    assert "NPS +5 points (95% interval −16 to +27)" in html
    assert _effect_cells(html).count("not_measurable") == 6


def _overview_total(client: Client) -> int:
    return int(client.get("/").context["actions"].total)


def _board_total(client: Client) -> int:
    return int(client.get("/actions/").context["page"].paginator.count)


def test_overview_counts_the_actions_the_board_lists_for_each_role() -> None:
    """A line manager's and a viewer's overview count exactly the actions their board lists
    (their departments', cross-department and their own), and the CX manager's all of them."""
    care = DepartmentFactory(slug="care", name="Care")
    billing = DepartmentFactory(slug="billing", name="Billing")
    manager, member = line_manager(), viewer()
    care.members.add(manager, member)
    for status in (ActionStatus.PROPOSED, ActionStatus.ACCEPTED, ActionStatus.MEASURED):
        plant_action(department=care, status=status, title=f"Care {status}")
    for i in range(5):
        plant_action(department=billing, status=ActionStatus.IN_PROGRESS, title=f"Billing {i}")
    plant_action(department=billing, status=ActionStatus.ACCEPTED, cross_department=True)

    for user, expected in ((manager, 4), (member, 4), (cx_manager(), 9)):
        client = _client(user)
        assert _overview_total(client) == _board_total(client) == expected
        assert len(client.get("/").context["actions"].recent) == expected


def _weeks_of_scope_responses(action: Action, touchpoint: Any, weeks: int, per_week: int) -> None:
    for week in range(weeks):
        plant_responses(
            touchpoint=touchpoint,
            nps_values=[10, 9, 3, 0, 7, 10, 2][:per_week],
            days_ago=(timezone.localdate() - action.implemented_at).days + 7 * (week - 5),
        )


def test_the_score_chart_weeks_are_the_raw_weekly_series_and_follow_new_responses() -> None:
    """The action page's weekly scores (cached) are ``score_weekly_series`` of the scope's
    responses, and a response added in the scope changes them on the next view."""
    care = DepartmentFactory(slug="care", name="Care")
    desk = TouchpointFactory(slug="desk", name="Desk", department=care)
    action = _measured_callback(care)
    _weeks_of_scope_responses(action, desk, weeks=10, per_week=6)
    treated, _ = impact_selectors.action_scopes(action=action)
    start = action.implemented_at - dt.timedelta(days=182)
    end = action.implemented_at + dt.timedelta(days=182)

    shown = score_weeks_get(scope=treated, start=start, end=end)
    raw = impact_selectors.score_weekly_series(scope=treated, start=start, end=end)

    for metric, frame in raw.items():
        assert shown[metric] == list(
            zip(frame["period"], frame["n"].tolist(), frame["total"].tolist(), strict=True)
        )
    assert sum(n for _, n, _ in shown["nps"]) == 60
    plant_responses(
        touchpoint=desk, nps_values=[0], days_ago=(timezone.localdate() - start).days - 3
    )
    again = score_weeks_get(scope=treated, start=start, end=end)
    assert sum(n for _, n, _ in again["nps"]) == 61


def test_the_action_page_queries_do_not_grow_with_responses() -> None:
    """Cold (caches cleared), five times the responses in scope take as many queries."""
    care = DepartmentFactory(slug="care", name="Care")
    desk = TouchpointFactory(slug="desk", name="Desk", department=care)
    action = _measured_callback(care)
    client = _client(cx_manager())
    _weeks_of_scope_responses(action, desk, weeks=2, per_week=3)

    def cold_queries() -> int:
        figures_forget()
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/actions/{action.pk}/").status_code == 200
        return len(queries)

    few = cold_queries()
    _weeks_of_scope_responses(action, desk, weeks=10, per_week=7)

    assert cold_queries() == few
