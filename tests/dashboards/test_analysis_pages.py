from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import AnalysisRun, ImpactEstimate, Kpi, KpiObservation, TagCorrection
from dashboards.selectors import figures_forget
from tests.dashboards.downloads import csv_text
from tests.dashboards.factories import plant_action, plant_responses, plant_topic, tag
from tests.feedback.factories import (
    DepartmentFactory,
    TouchpointFactory,
    cx_manager,
    member_everywhere,
    viewer,
)

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def billing_call() -> Any:
    return TouchpointFactory(
        slug="billing-call",
        name="Billing call",
        department=DepartmentFactory(slug="billing", name="Billing"),
    )


def test_verbatims_are_shown_escaped_and_searchable(billing_call: Any) -> None:
    """Markup in a comment is shown as text; search and topic filters narrow the list."""
    topic = plant_topic()
    [marked] = plant_responses(
        touchpoint=billing_call, nps_values=[1], comment="<b>bold</b><script>alert(1)</script>"
    )
    [other] = plant_responses(touchpoint=billing_call, nps_values=[10], comment="Lovely staff")
    tag(marked, topic, -0.7)
    client = _client(member_everywhere(viewer()))
    html = client.get("/verbatims/").content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert [r.pk for r in client.get("/verbatims/?q=lovely").context["rows"]] == [other.pk]
    assert [r.pk for r in client.get("/verbatims/?topic=wait-time").context["rows"]] == [marked.pk]
    assert [r.pk for r in client.get("/verbatims/?nps_category=promoter").context["rows"]] == [
        other.pk
    ]


def test_verbatim_pages_show_every_comment_once_even_in_the_same_instant(
    billing_call: Any,
) -> None:
    """Sixty comments written in one instant, 25 a page: following "Next" shows each once,
    newest (highest id) first, and the last page has no "Next"."""
    planted = plant_responses(touchpoint=billing_call, nps_values=[5] * 60, comment="Same time")
    client = _client(cx_manager())
    seen: list[int] = []
    path = "/verbatims/"
    while path:
        page = client.get(path)
        seen += [response.pk for response in page.context["rows"]]
        link = re.search(r'href="(\?[^"]*page=\d+)">Next</a>', page.content.decode())
        path = "/verbatims/" + html.unescape(link.group(1)) if link else ""

    assert seen == sorted((r.pk for r in planted), reverse=True)


def test_the_verbatims_page_queries_do_not_grow_with_comments(billing_call: Any) -> None:
    """Cold, a page of 25 tagged comments out of 30 or out of 300 takes as many queries."""
    topic = plant_topic()
    client = _client(cx_manager())
    for response in plant_responses(touchpoint=billing_call, nps_values=[2] * 30, comment="Slow"):
        tag(response, topic, -0.5)
    few = _queries(client, "/verbatims/")
    for response in plant_responses(touchpoint=billing_call, nps_values=[2] * 270, comment="Slow"):
        tag(response, topic, -0.5)

    assert _queries(client, "/verbatims/") == few


def test_verbatim_explorer_rejects_bad_options_readably(billing_call: Any) -> None:
    response = _client(viewer()).get("/verbatims/?sentiment=furious&page=0")
    assert response.status_code == 400
    assert "Some search options could not be used" in response.content.decode()


def test_cx_manager_corrects_a_tag_inline(billing_call: Any) -> None:
    """Adding a topic from the explorer records a correction and tags the comment at once."""
    topic = plant_topic("billing", "Billing")
    [response] = plant_responses(touchpoint=billing_call, nps_values=[2], comment="Charged twice")
    manager = cx_manager()
    reply = _client(manager).post(
        f"/topics/responses/{response.pk}/tags/",
        {"topic": "billing", "action": "add", "sentiment": "-0.6"},
        HTTP_HX_REQUEST="true",
    )
    assert reply.status_code == 200
    assert "Tags corrected." in reply.content.decode()
    assert TagCorrection.objects.get().corrected_by == manager
    assert response.topic_mentions.get().topic == topic
    assert (
        _client(viewer())
        .post(f"/topics/responses/{response.pk}/tags/", {"topic": "billing", "action": "remove"})
        .status_code
        == 403
    )
    bad = _client(manager).post(
        f"/topics/responses/{response.pk}/tags/",
        {"topic": "billing", "action": "add", "sentiment": "lots"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 400
    assert "Sentiment must be a number from -1 to 1." in bad.content.decode()


def test_insights_page_without_a_driver_run_says_so() -> None:
    html = _client(viewer()).get("/insights/").content.decode()
    assert "No driver analysis for NPS yet" in html


def _plant_weeks(touchpoints: list[Any], weeks: int) -> None:
    for week in range(weeks):
        for number, touchpoint in enumerate(touchpoints):
            plant_responses(
                touchpoint=touchpoint,
                nps_values=[10, 9, 7, 3, 0, 10][: 3 + (week + number) % 4],
                days_ago=3 + 7 * week,
            )


def _queries(client: Client, path: str) -> int:
    """Queries of a cold request: the figures caches cleared first."""
    figures_forget()
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_insights_scores_are_the_scores_apis_for_weeks_and_touchpoints(
    billing_call: Any,
) -> None:
    """Overall, the last eight weeks (with their change) and each touchpoint's total on the
    page are exactly what ``/api/v1/analytics/scores/?period=week&by=touchpoint`` answers;
    a new response shows on the next request."""
    desk = TouchpointFactory(slug="desk", name="Desk", department=billing_call.department)
    _plant_weeks([billing_call, desk], weeks=11)
    client = _client(cx_manager())

    shown = client.get("/insights/").context["scores"]
    api = client.get("/api/v1/analytics/scores/?period=week&by=touchpoint").json()

    assert shown["overall"] == api["overall"]
    assert len(api["periods"]) == 11
    assert shown["periods"] == api["periods"][-8:]
    assert shown["groups"] == [
        {key: value for key, value in group.items() if key != "periods"} for group in api["groups"]
    ]
    before = shown["overall"]["responses"]
    plant_responses(touchpoint=desk, nps_values=[10], days_ago=1)
    assert client.get("/insights/").context["scores"]["overall"]["responses"] == before + 1


def test_the_insights_page_queries_do_not_grow_with_responses(billing_call: Any) -> None:
    """Cold (caches cleared), four times the weeks of responses take as many queries."""
    client = _client(cx_manager())
    _plant_weeks([billing_call], weeks=3)
    few = _queries(client, "/insights/")
    _plant_weeks([billing_call], weeks=12)

    assert _queries(client, "/insights/") == few


def test_impact_view_shows_kpi_before_after_with_control_and_the_estimate() -> None:
    """An implemented action's KPI series in scope and control, with its DiD interval."""
    billing = DepartmentFactory(slug="billing", name="Billing")
    stores = DepartmentFactory(slug="stores", name="Stores")
    kpi = Kpi.objects.create(
        slug="churn-test", name="Churn test", unit="percent", higher_is_better=False
    )
    action = plant_action(
        department=billing,
        status="implemented",
        title="Call back",
        target_kpis=[{"kpi": "churn-test", "expected_change": -1}],
    )
    action.control_departments.add(stores)
    start = action.implemented_at - dt.timedelta(weeks=4)
    start -= dt.timedelta(days=start.weekday())
    for week in range(8):
        for department, value in ((billing, 3.0 - (week >= 4)), (stores, 3.0)):
            KpiObservation.objects.create(
                kpi=kpi,
                granularity="week",
                period_start=start + dt.timedelta(weeks=week),
                department=department,
                scope_key=f"department={department.slug}",
                value=value,
            )
    ImpactEstimate.objects.create(
        action=action,
        metric="churn-test",
        kpi=kpi,
        method="did",
        is_primary=True,
        status="ok",
        effect=-1.0,
        ci_low=-1.4,
        ci_high=-0.6,
        p_value=0.001,
        higher_is_better=False,
        annual_value=12000.0,
        annual_value_ci_low=6000.0,
        annual_value_ci_high=18000.0,
        currency="EUR",
    )
    client = _client(cx_manager())
    detail = client.get(f"/impact/{action.pk}/")
    assert detail.status_code == 200
    chart = detail.context["charts"][0]
    names = [trace["name"] for trace in chart.figure["data"]]
    assert names == ["Action scope", "Control scope"]
    assert chart.figure["data"][0]["y"][-1] == pytest.approx(2.0)
    html = detail.content.decode()
    # Digits from the interval's width (±0.4: one decimal), with the unit and a real minus.
    assert '−1.0 pp <small class="muted">(95% interval −1.4 to −0.6)</small>' in html
    assert "p < 0.001" not in html and "p = 0.001" in html
    listing = client.get("/impact/").content.decode()
    assert "Call back" in listing and "(95% interval −1.4 to −0.6)" in listing
    assert '12,000 EUR a year <small class="muted">(95% interval 6,000 to 18,000)' in listing
    exported = csv_text(client.get("/export/impact.csv")).splitlines()
    assert len(exported) == 2 and ",-1.0,-1.4,-0.6," in exported[1]
    overview = client.get("/").content.decode()
    assert "Churn test fell by 1.0 percentage points: very likely an improvement" in overview
    assert "Worth about 12,000 EUR a year (95% interval 6,000 to 18,000)." in overview
    assert "chart-action-value" in overview


def test_impact_of_an_action_the_user_cannot_see_is_404() -> None:
    action = plant_action(department=DepartmentFactory(slug="hidden"), status="implemented")
    assert _client(viewer()).get(f"/impact/{action.pk}/").status_code == 404


def test_driver_and_verbatim_tables_download_as_csv(billing_call: Any) -> None:
    """The driver shares and the matching verbatims download as CSV; no run is a 404."""
    client = _client(cx_manager())
    assert client.get("/export/drivers.csv").status_code == 404
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
                    "share": 0.7,
                    "share_interval": [0.6, 0.8],
                    "performance": 30.0,
                    "quadrant": "fix_first",
                    "rank": 1,
                }
            ]
        },
    )
    drivers = csv_text(client.get("/export/drivers.csv")).splitlines()
    assert drivers[1].startswith("wait_time,Wait time,0.7,0.6,0.8,30.0,Fix first")
    plant_responses(touchpoint=billing_call, nps_values=[3], comment="=cmd|' /C calc'!A0")
    plant_responses(touchpoint=billing_call, nps_values=[9], comment="fine")
    rows = csv_text(client.get("/export/verbatims.csv?nps_category=detractor")).splitlines()
    assert len(rows) == 2
    assert rows[1].endswith("'=cmd|' /C calc'!A0")
    assert client.get("/export/verbatims.csv?nps_category=angry").status_code == 400
