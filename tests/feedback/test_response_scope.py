"""The response scope: one meaning of the filters on every surface that selects responses.

The same parameters are sent to the feedback API, the scores API, an analysis run, the
overview page and a CSV export, and every surface must count the same responses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import AnalysisRun, ResponseAnalysis
from dashboards.selectors import figures_forget
from feedback.filters import SCOPE_PARAMETERS, response_scope_clean, scope_window
from feedback.models import Response
from tests.dashboards.downloads import csv_text
from tests.dashboards.factories import plant_topic, tag
from tests.feedback.factories import (
    CustomerFactory,
    ResponseFactory,
    SourceFactory,
    TouchpointFactory,
    cx_manager,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
DAY = "2026-11-30"


@pytest.fixture(autouse=True)
def _paris_and_fresh_figures(settings: Any) -> Iterator[None]:
    """The project runs in Paris time (UTC+1 in November) so that a local day and a UTC day
    differ; dashboards start with no cached figures."""
    settings.TIME_ZONE = "Europe/Paris"
    settings.CXHUB = {**settings.CXHUB, "MIN_RESPONSES": 1, "DASHBOARD_STALE_SECONDS": 0}
    figures_forget()
    cache.clear()
    yield
    figures_forget()
    cache.clear()


@pytest.fixture
def manager(db: None) -> Any:
    return cx_manager()


@pytest.fixture
def api(manager: Any, django_capture_on_commit_callbacks: Any) -> APIClient:
    """A CX manager's API client; a run it starts executes when its request commits."""
    client = APIClient()
    client.force_authenticate(manager)
    client.on_commit = django_capture_on_commit_callbacks  # type: ignore[attr-defined]
    return client


@pytest.fixture
def browser_session(manager: Any) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def _local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _feedback_ids(api: APIClient, query: dict[str, str]) -> set[int]:
    answer = api.get("/api/v1/feedback/", {**query, "page_size": "200"})
    assert answer.status_code == 200, answer.json()
    return {row["id"] for row in answer.json()["results"]}


def _scores_count(api: APIClient, query: dict[str, str]) -> int:
    answer = api.get("/api/v1/analytics/scores/", query)
    assert answer.status_code == 200, answer.json()
    return int(answer.json()["overall"]["responses"])


def _run(api: APIClient, kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
    with api.on_commit(execute=True):  # type: ignore[attr-defined]
        answer = api.post(
            "/api/v1/analytics/runs/", {"kind": kind, "parameters": parameters}, format="json"
        )
    assert answer.status_code == 202, answer.json()
    run = api.get(f"/api/v1/analytics/runs/{answer.json()['id']}/").json()
    assert run["status"] == AnalysisRun.Status.SUCCEEDED, run["error"]
    return run


def _overview_count(client: Client, query: dict[str, str]) -> int:
    page = client.get("/", query)
    assert page.status_code == 200, page.context["form"].errors
    return int(page.context["total"].responses)


def _export_count(client: Client, query: dict[str, str]) -> int:
    export = client.get("/export/channels.csv", query)
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(csv_text(export))))
    return sum(int(row["responses"]) for row in rows)


@pytest.fixture
def around_midnight(db: None) -> dict[str, Response]:
    """Responses on both sides of the two local midnights that bound 30 November."""
    touchpoint = TouchpointFactory(slug="billing-call", department__slug="billing")
    moments = {
        "late_on_the_29th": _local(2026, 11, 29, 23, 59, 59),
        "midnight_on_the_30th": _local(2026, 11, 30, 0, 0, 0),
        "late_on_the_30th": _local(2026, 11, 30, 23, 59, 59),
        "midnight_on_the_1st": _local(2026, 12, 1, 0, 0, 0),
    }
    return {
        name: ResponseFactory(submitted_at=moment, touchpoint=touchpoint, nps=9, channel="web")
        for name, moment in moments.items()
    }


def test_one_day_range_counts_that_local_day_on_every_surface(
    api: APIClient, browser_session: Client, around_midnight: dict[str, Response]
) -> None:
    """date_from == date_to selects the whole local day, 00:00 up to 23:59:59 included and
    the next midnight excluded, on the API, scores, a run, the overview and an export."""
    query = {"date_from": DAY, "date_to": DAY}
    inside = {around_midnight["midnight_on_the_30th"].id, around_midnight["late_on_the_30th"].id}

    assert _feedback_ids(api, query) == inside
    assert _scores_count(api, query) == 2
    run = _run(api, "topic_impact", {"filters": query})
    assert run["counts"]["responses"] == 2
    assert run["parameters"]["filters"] == {"date_from": DAY, "date_to": DAY}
    assert _run(api, "scores", query)["counts"]["responses"] == 2
    assert _overview_count(browser_session, query) == 2
    assert _export_count(browser_session, query) == 2


def test_overview_states_the_window_it_counts(
    browser_session: Client, around_midnight: dict[str, Response]
) -> None:
    """The page names its window next to the figures: the chosen days, or the default year."""
    chosen = browser_session.get("/", {"date_from": "2026-11-01", "date_to": DAY})
    default = browser_session.get("/")

    assert "Window: 1 Nov – 30 Nov 2026" in chosen.content.decode()
    assert "Window: last 12 months (2 Dec 2025 – 1 Dec 2026)" in default.content.decode()


def test_a_range_ending_on_a_date_keeps_its_last_day(
    api: APIClient, around_midnight: dict[str, Response]
) -> None:
    """A report for 1–30 November includes the 30th (it was read as midnight before)."""
    assert _scores_count(api, {"date_from": "2026-11-01", "date_to": DAY}) == 3


def test_datetimes_are_exact_and_inclusive(around_midnight: dict[str, Response]) -> None:
    """A date-time date_to includes that instant; one without an offset is local time."""
    scope = response_scope_clean(
        {"date_from": "2026-11-30T00:00:00", "date_to": "2026-11-30T23:59:59+01:00"}
    )
    start, end = scope_window(scope)

    assert start == _local(2026, 11, 30)
    assert end == _local(2026, 11, 30, 23, 59, 59) + dt.timedelta(microseconds=1)


@pytest.fixture
def segments(db: None) -> dict[str, Response]:
    """Customers with a segment, and responses whose attributes carry another one."""
    smb = CustomerFactory(external_id="C-smb", segment="smb")
    enterprise = CustomerFactory(external_id="C-ent", segment="enterprise")
    no_segment = CustomerFactory(external_id="C-none", segment="")
    when = _local(2026, 11, 20, 12, 0)
    return {
        "smb_customer_says_enterprise": ResponseFactory(
            submitted_at=when, customer=smb, attributes={"segment": "enterprise"}
        ),
        "enterprise_customer_says_smb": ResponseFactory(
            submitted_at=when, customer=enterprise, attributes={"segment": "smb"}
        ),
        "no_customer_says_smb": ResponseFactory(submitted_at=when, attributes={"segment": "smb"}),
        "customer_without_segment_says_smb": ResponseFactory(
            submitted_at=when, customer=no_segment, attributes={"segment": "smb"}
        ),
        "enterprise_customer": ResponseFactory(submitted_at=when, customer=enterprise),
    }


def test_segment_selects_the_same_responses_everywhere(
    api: APIClient, browser_session: Client, segments: dict[str, Response]
) -> None:
    """The customer's segment wins; the response's attributes count only when the response
    has no customer or its customer has no segment — on the API, a run and a dashboard."""
    query = {"segment": "smb", "date_from": "2026-11-01", "date_to": DAY}
    expected = {
        segments[name].id
        for name in (
            "smb_customer_says_enterprise",
            "no_customer_says_smb",
            "customer_without_segment_says_smb",
        )
    }

    assert _feedback_ids(api, query) == expected
    assert _scores_count(api, query) == 3
    assert _run(api, "topic_impact", {"filters": query})["counts"]["responses"] == 3
    assert _run(api, "scores", query)["counts"]["responses"] == 3
    assert _overview_count(browser_session, query) == 3
    assert _export_count(browser_session, query) == 3


def test_date_to_before_date_from_is_a_field_error_everywhere(
    api: APIClient, browser_session: Client
) -> None:
    """An end before the start is an error on date_to, not an empty answer."""
    query = {"date_from": DAY, "date_to": "2026-11-29"}

    feedback = api.get("/api/v1/feedback/", query)
    scores = api.get("/api/v1/analytics/scores/", query)
    run = api.post(
        "/api/v1/analytics/runs/",
        {"kind": "topic_impact", "parameters": {"filters": query}},
        format="json",
    )
    page = browser_session.get("/", query)
    export = browser_session.get("/export/channels.csv", query)

    assert feedback.status_code == 400
    assert feedback.json()["errors"]["date_to"] == ["Must be on or after date_from."]
    assert scores.status_code == 400
    assert "date_to" in scores.json()["errors"]
    assert run.status_code == 400
    assert "filters.date_to" in run.json()["errors"]
    assert page.status_code == 400
    assert "date_to" in page.context["form"].errors
    assert export.status_code == 400


@pytest.fixture
def everything(db: None) -> dict[str, Response]:
    """Two responses that differ in every scope parameter."""
    touchpoint = TouchpointFactory(
        slug="store-visit", department__slug="stores", journey__slug="buy"
    )
    other_touchpoint = TouchpointFactory(
        slug="web-checkout", department__slug="digital", journey__slug="browse"
    )
    matching = ResponseFactory(
        submitted_at=_local(2026, 11, 30, 12, 0),
        touchpoint=touchpoint,
        channel="phone",
        source=SourceFactory(name="crm"),
        nps=2,
        customer=CustomerFactory(segment="smb", region="north", plan="basic"),
        comment="Waited an hour",
    )
    other = ResponseFactory(
        submitted_at=_local(2026, 11, 10, 12, 0),
        touchpoint=other_touchpoint,
        channel="web",
        source=SourceFactory(name="survey-tool"),
        nps=10,
        customer=CustomerFactory(segment="enterprise", region="south", plan="premium"),
        comment="Fine",
    )
    tag(matching, plant_topic(), -0.8)
    tag(other, plant_topic("staff", "Staff"), 0.8)
    for response, label in ((matching, "negative"), (other, "positive")):
        ResponseAnalysis.objects.create(
            response=response,
            sentiment=-0.8 if label == "negative" else 0.8,
            sentiment_label=label,
            analysed_at=timezone.now(),
            taxonomy_version="test",
        )
    return {"matching": matching, "other": other}


VALID_VALUES = {
    "date_from": DAY,
    "date_to": "2026-11-20",
    "department": "stores",
    "journey": "buy",
    "touchpoint": "store-visit",
    "channel": "phone",
    "source": "crm",
    "nps_category": "detractor",
    "topic": "wait-time",
    "sentiment": "negative",
    "segment": "smb",
    "region": "north",
    "plan": "basic",
}


def test_every_scope_parameter_has_a_case() -> None:
    """The surface test below covers every parameter of the scope."""
    assert set(VALID_VALUES) == set(SCOPE_PARAMETERS)


@pytest.mark.parametrize("parameter", SCOPE_PARAMETERS)
def test_every_parameter_is_accepted_and_means_the_same_on_every_surface(
    api: APIClient, browser_session: Client, everything: dict[str, Response], parameter: str
) -> None:
    """Each scope parameter is accepted by every surface, and all select the same response
    (the one before 20 November for date_to, the other one for everything else)."""
    query = {parameter: VALID_VALUES[parameter]}
    selected = everything["other" if parameter == "date_to" else "matching"]

    assert _feedback_ids(api, query) == {selected.id}
    assert _scores_count(api, query) == 1
    assert _run(api, "topic_impact", {"filters": query})["counts"]["responses"] == 1
    assert _run(api, "scores", query)["counts"]["responses"] == 1
    assert _overview_count(browser_session, query) == 1
    assert _export_count(browser_session, query) == 1
    topics = api.get("/api/v1/analytics/topics/", query)
    assert topics.status_code == 200, topics.json()
    verbatims = browser_session.get("/verbatims/", query)
    assert [row.pk for row in verbatims.context["rows"]] == [selected.pk]
    for path in ("/departments/stores/", "/departments/stores/report/", "/export/verbatims.csv"):
        assert browser_session.get(path, query).status_code == 200, path
    assert api.get("/api/v1/analytics/drivers/", query).status_code == 404  # no run yet


@pytest.mark.parametrize(
    "value",
    ["2026-13-45", "2026-02-30", "99999-01-01", "\x00", "x" * 5000, "0001-01-01", "tomorrow"],
)
def test_bad_dates_are_field_errors_never_500s(
    api: APIClient, browser_session: Client, value: str
) -> None:
    """Impossible, malformed, huge and NUL-bearing dates are 400s naming the field."""
    feedback = api.get("/api/v1/feedback/", {"date_from": value})
    scores = api.get("/api/v1/analytics/scores/", {"date_to": value})
    page = browser_session.get("/", {"date_from": value})

    assert feedback.status_code == 400
    assert list(feedback.json()["errors"]) == ["date_from"]
    assert scores.status_code == 400
    assert "date_to" in scores.json()["errors"]
    assert page.status_code == 400


@pytest.mark.parametrize("value", ["\ud800", "a\x00b", "s" * 201, ",".join(["v"] * 2) * 60])
def test_bad_list_values_in_a_run_are_field_errors(api: APIClient, value: str) -> None:
    """A lone surrogate, a NUL, an over-long value or too many values in a run's filters is
    a 400 on that filter."""
    values = [f"v{i}" for i in range(101)] if value.startswith("v,") else value
    body = {"kind": "topic_impact", "parameters": {"filters": {"segment": values}}}
    answer = api.post(  # ASCII JSON: a lone surrogate travels as the escape \ud800
        "/api/v1/analytics/runs/", json.dumps(body), content_type="application/json"
    )

    assert answer.status_code == 400
    # Unstorable text is refused by the JSON parser, which names the path in the body.
    unstorable = value in ("\ud800", "a\x00b")
    expected = "parameters.filters.segment" if unstorable else "filters.segment"
    assert list(answer.json()["errors"]) == [expected]


def test_unknown_slugs_list_the_valid_values(
    api: APIClient, everything: dict[str, Response]
) -> None:
    """An unknown touchpoint is refused with the touchpoints that exist."""
    answer = api.get("/api/v1/analytics/scores/", {"touchpoint": "store-visit,nowhere"})

    assert answer.status_code == 400
    assert answer.json()["errors"]["touchpoint"] == [
        "Unknown touchpoint: nowhere. Valid values: store-visit, web-checkout."
    ]
