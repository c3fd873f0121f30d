from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.dashboards.downloads import csv_text
from tests.dashboards.factories import plant_action, plant_responses, plant_topic, tag
from tests.feedback.factories import (
    CustomerFactory,
    DepartmentFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
    viewer,
)

pytestmark = pytest.mark.django_db


def _forget_cache() -> None:
    from django.core.cache import cache

    from dashboards.selectors import figures_forget

    figures_forget()
    cache.clear()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world() -> dict[str, Any]:
    billing = DepartmentFactory(name="Billing", slug="billing")
    stores = DepartmentFactory(name="Stores", slug="stores")
    billing_call = TouchpointFactory(name="Billing call", slug="billing-call", department=billing)
    store_visit = TouchpointFactory(name="Store visit", slug="store-visit", department=stores)
    # Billing: 6 promoters, 2 passives, 2 detractors of 10 → NPS 40. Stores: 2P, 8D of 10 → −60.
    plant_responses(touchpoint=billing_call, nps_values=[10, 10, 9, 9, 9, 10, 8, 7, 3, 0])
    plant_responses(touchpoint=store_visit, nps_values=[10, 9, 1, 2, 3, 4, 5, 6, 0, 0])
    return {
        "billing": billing,
        "stores": stores,
        "billing_call": billing_call,
        "store_visit": store_visit,
    }


def test_overview_shows_each_departments_nps_computed_in_sql(world: dict[str, Any]) -> None:
    """The overview lists every department with its planted NPS, and the total across both."""
    response = _client(cx_manager()).get("/")
    assert response.status_code == 200
    departments = {row.key: row for row, _ in response.context["department_rows"]}
    assert departments["billing"].summary.nps.value == pytest.approx(40.0)
    assert departments["stores"].summary.nps.value == pytest.approx(-60.0)
    assert response.context["total"].nps.value == pytest.approx(-10.0)
    assert response.context["total"].responses == 20
    html = response.content.decode()
    assert "You said, we did" in html
    assert "vendor/plotly/plotly.min.js" in html


def test_overview_query_count_does_not_grow_with_data(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    """Adding many responses, actions and topic tags adds no query to the overview."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = cx_manager()
    client = _client(user)
    client.get("/")
    _forget_cache()
    with CaptureQueriesContext(connection) as before:
        client.get("/")
    topic = plant_topic()
    more = plant_responses(
        touchpoint=world["billing_call"], nps_values=[0, 1, 2, 9, 10] * 20, comment="slow"
    )
    for response in more[:30]:
        tag(response, topic, -0.6)
    for _ in range(15):
        plant_action(department=world["billing"], status="implemented")
    _forget_cache()
    with CaptureQueriesContext(connection) as after:
        client.get("/")
    # Topics appear (topic names, the top issue's sub-topics and its quotes) and, with
    # implemented actions, their measured value (the current estimates): each once.
    assert len(after) <= len(before) + 5
    _forget_cache()
    with django_assert_max_num_queries(len(after)):
        client.get("/")
    plant_responses(touchpoint=world["store_visit"], nps_values=[5, 6, 7] * 30)
    _forget_cache()
    with django_assert_max_num_queries(len(after)):
        client.get("/")
    with django_assert_max_num_queries(12):
        client.get("/")  # cached figures: only the session, roles, actions and comments


def test_cached_figures_refresh_when_a_response_arrives(world: dict[str, Any]) -> None:
    """New feedback shows at once: the cache key holds the newest response id."""
    client = _client(cx_manager())
    assert client.get("/").context["total"].responses == 20
    plant_responses(touchpoint=world["billing_call"], nps_values=[10])
    assert client.get("/").context["total"].responses == 21


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=not-a-date", "date_from"),
        ("date_from=2026-05-01&date_to=2026-01-01", "date_to"),
        ("department=nowhere", "department"),
        ("channel=pigeon", "channel"),
        ("touchpoint=%3Cscript%3E", "touchpoint"),
        ("date_from=1900-01-01&date_to=2026-01-01", "date_from"),
        ("date_from=2026-13-45", "date_from"),
        ("segment=" + "s" * 201, "segment"),
        ("sentiment=furious", "sentiment"),
        ("nps_category=grumpy", "nps_category"),
        ("journey=nowhere", "journey"),
        ("source=nobody", "source"),
        ("topic=nothing-like-it", "topic"),
    ],
)
def test_invalid_filters_answer_400_with_a_readable_message(
    world: dict[str, Any], query: str, field: str
) -> None:
    """A bad filter is reported next to the filter bar, never a 500."""
    response = _client(viewer()).get(f"/?{query}")
    assert response.status_code == 400
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert "Some filters could not be used" in html
    assert "<script>" not in html.split("</header>", 1)[1].replace("<script src=", "")


def test_unstorable_filter_text_is_refused_before_the_page(world: dict[str, Any]) -> None:
    """A NUL in a filter never reaches the page: cxhub.input_guard answers 400 naming it."""
    response = _client(viewer()).get("/?date_to=%00")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Request not understood" in html
    assert "date_to" in html


def test_filters_narrow_the_figures(world: dict[str, Any]) -> None:
    """Touchpoint, channel and customer attributes filter the responses in SQL."""
    north = CustomerFactory(region="north", segment="smb", plan="basic")
    plant_responses(
        touchpoint=world["billing_call"], nps_values=[0, 0, 0], customer=north, channel="phone"
    )
    client = _client(cx_manager())
    assert client.get("/?touchpoint=store-visit").context["total"].responses == 10
    assert client.get("/?channel=phone").context["total"].responses == 3
    assert client.get("/?region=north").context["total"].responses == 3
    assert client.get("/?department=billing").context["total"].responses == 13


def test_htmx_filter_change_returns_only_the_dashboard_body(world: dict[str, Any]) -> None:
    """With htmx, a filter change swaps the body in place; the URL holds the filters."""
    response = _client(cx_manager()).get(
        "/?channel=web", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="dashboard-body"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "You said, we did" in html
    assert "HX-Request" in response["Vary"]


def test_department_dashboard_is_for_members_and_cx_managers(world: dict[str, Any]) -> None:
    """A department's page opens for its members and CX managers; others get 403."""
    member = viewer()
    world["billing"].members.add(member)
    assert _client(member).get("/departments/billing/").status_code == 200
    assert _client(member).get("/departments/stores/").status_code == 403
    assert _client(cx_manager()).get("/departments/stores/").status_code == 200
    assert _client(cx_manager()).get("/departments/nowhere/").status_code == 404


def test_naming_several_departments_needs_access_to_each(world: dict[str, Any]) -> None:
    """A list or a repeated department in an export or the verbatims is checked for every
    department named, not only the last one."""
    member = viewer()
    world["billing"].members.add(member)
    client = _client(member)

    assert client.get("/export/touchpoints.csv?department=billing").status_code == 200
    assert client.get("/export/touchpoints.csv?department=billing,stores").status_code == 403
    assert (
        client.get("/export/touchpoints.csv?department=stores&department=billing").status_code
        == 403
    )
    assert client.get("/verbatims/?department=billing&department=stores").status_code == 403
    assert _client(cx_manager()).get("/verbatims/?department=billing,stores").status_code == 200


def test_department_page_shows_its_touchpoints_and_actions(world: dict[str, Any]) -> None:
    """The department dashboard scores its own touchpoints and lists its actions with owners."""
    owner = line_manager(first_name="Dana", last_name="Line")
    plant_action(
        department=world["billing"],
        owner=owner,
        status="implemented",
        title="Call back within a day",
    )
    response = _client(cx_manager()).get("/departments/billing/")
    assert response.status_code == 200
    assert response.context["total"].nps.value == pytest.approx(40.0)
    assert [row.key for row in response.context["figures"].breakdown.touchpoints] == [
        "billing-call"
    ]
    html = response.content.decode()
    assert "Dana Line put in place “Call back within a day”" in html
    assert "chart-trend-nps" in html


def test_printable_report_has_the_story_and_scores(world: dict[str, Any]) -> None:
    """The one-page report carries the narrative, headline scores and actions."""
    response = _client(cx_manager()).get("/departments/billing/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "customer experience report" in html
    assert "You said, we did" in html
    assert "data-print" in html


def test_csv_export_of_the_department_table_matches_the_page(world: dict[str, Any]) -> None:
    """The departments CSV carries the same NPS and interval as the page."""
    response = _client(cx_manager()).get("/export/departments.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_text(response))))
    billing = next(row for row in rows if row["department"] == "Billing")
    assert float(billing["nps"]) == pytest.approx(40.0)
    assert float(billing["nps_low"]) < 40.0 < float(billing["nps_high"])


def test_csv_export_with_a_bad_filter_is_a_readable_400(world: dict[str, Any]) -> None:
    """An export with an invalid filter says which filter, as plain text."""
    response = _client(cx_manager()).get("/export/weekly.csv?date_from=yesterday")
    assert response.status_code == 400
    assert "date_from" in response.content.decode()


def test_csv_cells_that_look_like_formulas_are_neutralised(world: dict[str, Any]) -> None:
    """A title starting with '=' is exported as text, not as a spreadsheet formula."""
    plant_action(department=world["billing"], title='=HYPERLINK("http://x")', status="accepted")
    rows = list(csv.reader(io.StringIO(csv_text(_client(cx_manager()).get("/export/actions.csv")))))
    assert rows[1][1].startswith("'=")


def test_unknown_export_table_is_404(world: dict[str, Any]) -> None:
    assert _client(cx_manager()).get("/export/secrets.csv").status_code == 404


def test_pages_need_a_login(world: dict[str, Any]) -> None:
    """Anonymous visitors are sent to the login page."""
    response = Client().get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_top_negative_topic_is_quoted_in_customers_words_escaped(world: dict[str, Any]) -> None:
    """The narrative quotes the most negative comment of the costliest topic, as text."""
    topic = plant_topic()
    bad = plant_responses(
        touchpoint=world["billing_call"],
        nps_values=[0, 1, 2, 0, 1, 2],
        comment="<b>bold</b><script>alert(1)</script> waited an hour",
    )
    for response in bad:
        tag(response, topic, -0.9)
    html = _client(cx_manager()).get("/").content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt; waited an hour" in html
    assert "<script>alert(1)</script>" not in html
    assert "wait time (6 mentions, 100% negative)" in html


def test_under_steady_ingest_figures_are_reused_for_the_stale_window(
    world: dict[str, Any], settings: Any
) -> None:
    """With a stale window, a new response does not force a recompute until it has passed."""
    settings.CXHUB = {**settings.CXHUB, "DASHBOARD_STALE_SECONDS": 60}
    client = _client(cx_manager())
    assert client.get("/").context["total"].responses == 20
    plant_responses(touchpoint=world["billing_call"], nps_values=[10])
    assert client.get("/").context["total"].responses == 20
    settings.CXHUB = {**settings.CXHUB, "DASHBOARD_STALE_SECONDS": 0}
    assert client.get("/").context["total"].responses == 21


def test_history_restore_gets_the_whole_page(world: dict[str, Any]) -> None:
    """Going back to a pushed URL that htmx no longer caches returns the full page."""
    response = _client(cx_manager()).get(
        "/?channel=web",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="dashboard-body",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def test_trend_marks_the_week_an_action_was_implemented(world: dict[str, Any]) -> None:
    """An action implemented in the window draws a dotted line on that day in the NPS trend."""
    action = plant_action(department=world["billing"], status="implemented", title="Call back")
    charts = {c.dom_id: c for c in _client(cx_manager()).get("/").context["charts"]}
    shapes = charts["chart-trend-nps"].figure["layout"]["shapes"]
    assert [s["x0"] for s in shapes] == [action.implemented_at.isoformat()]


def test_the_window_and_list_filters_are_stated_and_kept_in_the_link(
    world: dict[str, Any],
) -> None:
    """A one-day window is valid and named; a comma list of channels is shown and shared."""
    plant_responses(touchpoint=world["billing_call"], nps_values=[9], channel="phone")
    plant_responses(touchpoint=world["billing_call"], nps_values=[3], channel="chat")
    plant_responses(touchpoint=world["billing_call"], nps_values=[0], channel="web")
    when = timezone.localdate() - dt.timedelta(days=3)
    day = when.isoformat()
    label = f"{when.day} {when.strftime('%b %Y')}"

    page = _client(viewer()).get("/", {"date_from": day, "date_to": day, "channel": "phone,chat"})

    assert page.status_code == 200
    assert page.context["total"].responses == 2
    html = page.content.decode()
    assert f"Window: {label} ·" in html  # a one-day window is that day
    assert "channel chat, phone" in html
    assert page.context["export_query"] == f"date_from={day}&date_to={day}&channel=chat%2Cphone"
