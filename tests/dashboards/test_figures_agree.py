"""One figure, one place: the overview, a department page, the insights page, the scores
API, the CSV exports and the printable report show the same n, value and interval for the
same filter.

Each surface is read as a user or a program sees it: the pages' ``data-*`` attributes (the
numbers as shown, with the digits the interval allows), the API's JSON and the CSV's
cells, rounded to the digits the page shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.dashboards.downloads import csv_text
from tests.feedback.factories import (
    DepartmentFactory,
    ResponseFactory,
    SourceFactory,
    TouchpointFactory,
    cx_manager,
)

pytestmark = pytest.mark.django_db

MINIMUM = 30
METRICS = ("nps", "csat_pct", "csat_mean", "ces_mean")
Shown = dict[str, tuple[str, ...]]  # metric -> (n, value, low, high) as shown, or ("insufficient",)

FIGURE = re.compile(
    r'data-figure="(?P<metric>\w+)".*?data-score-status="(?P<status>\w+)"'
    r'(?: data-n="(?P<n>\d+)" data-value="(?P<value>[^"]*)" data-low="(?P<low>[^"]*)"'
    r' data-high="(?P<high>[^"]*)")?',
    re.S,
)


@pytest.fixture(autouse=True)
def _minimum(settings: Any) -> None:
    settings.CXHUB = {**settings.CXHUB, "MIN_RESPONSES": MINIMUM}


@pytest.fixture
def world() -> dict[str, Any]:
    """Two departments, three touchpoints, 330 responses over the last 80 days."""
    billing = DepartmentFactory(name="Billing", slug="billing")
    stores = DepartmentFactory(name="Stores", slug="stores")
    touchpoints = [
        TouchpointFactory(name="Billing call", slug="billing-call", department=billing),
        TouchpointFactory(name="Invoice email", slug="invoice-email", department=billing),
        TouchpointFactory(name="Store visit", slug="store-visit", department=stores),
    ]
    rng = np.random.default_rng(2026)
    source = SourceFactory(name="agreement")
    now = timezone.now()
    for i in range(330):
        touchpoint = touchpoints[i % 3]
        promoter_bias = 2 if touchpoint.slug == "billing-call" else 0
        ResponseFactory(
            source=source,
            touchpoint=touchpoint,
            submitted_at=now - dt.timedelta(days=int(rng.integers(1, 80)), minutes=i),
            nps=int(min(10, rng.integers(0, 11) + promoter_bias)),
            csat=int(rng.integers(1, 6)) if i % 7 else None,
            ces=int(rng.integers(1, 8)) if i % 4 else None,
        )
    return {"billing": billing, "stores": stores, "touchpoints": touchpoints}


def _page_figures(html: str, *, start: str, end: str = "</section>") -> Shown:
    fragment = html[html.index(start) :]
    fragment = fragment[: fragment.index(end)]
    shown: Shown = {}
    for match in FIGURE.finditer(fragment):
        if match["status"] == "ok":
            shown[match["metric"]] = (match["n"], match["value"], match["low"], match["high"])
        else:
            shown[match["metric"]] = ("insufficient",)
    return shown


def _headline(client: Client, path: str) -> Shown:
    response = client.get(path)
    assert response.status_code == 200, path
    return _page_figures(response.content.decode(), start='aria-label="Headline scores"')


def _department_rows(client: Client, path: str) -> dict[str, Shown]:
    html = client.get(path).content.decode()
    return {
        slug: _page_figures(html, start=f'data-department="{slug}"', end="</tr>")
        for slug in re.findall(r'data-department="([\w-]+)"', html)
    }


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _like(
    page: Shown, values: dict[str, tuple[int, float | None, float | None, float | None]]
) -> Shown:
    """Other surfaces' numbers rounded to the digits the page shows for the same figure."""
    shown: Shown = {}
    for metric, (n, value, low, high) in values.items():
        if metric not in page:
            continue
        if value is None or low is None or high is None:
            shown[metric] = ("insufficient",)
            continue
        places = _decimals(page[metric][1]) if page[metric][0] != "insufficient" else 0
        shown[metric] = (str(n), f"{value:.{places}f}", f"{low:.{places}f}", f"{high:.{places}f}")
    return shown


def _api_block(block: dict[str, Any]) -> dict[str, tuple[int, Any, Any, Any]]:
    values = {}
    for metric in METRICS:
        figure = block[metric]
        if figure["status"] == "ok":
            values[metric] = (figure["n"], figure["value"], *figure["interval"])
        else:
            values[metric] = (figure["n"], None, None, None)
    return values


def _api(query: dict[str, str], **extra: str) -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(cx_manager())
    answer = client.get(f"/api/v1/analytics/scores/?{urlencode({**query, **extra})}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def _csv_rows(client: Client, table: str, query: dict[str, str]) -> dict[str, dict[str, str]]:
    response = client.get(f"/export/{table}.csv?{urlencode(query)}")
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(csv_text(response)))
    return {row[table[:-1]]: row for row in rows}


def _csv_block(row: dict[str, str]) -> dict[str, tuple[int, Any, Any, Any]]:
    columns = {
        "nps": ("nps", "nps_low", "nps_high", "nps_n"),
        "csat_pct": ("csat_pct_satisfied", "csat_pct_low", "csat_pct_high", "csat_n"),
        "csat_mean": ("csat_mean", "csat_mean_low", "csat_mean_high", "csat_mean_n"),
        "ces_mean": ("ces_mean", "ces_mean_low", "ces_mean_high", "ces_n"),
    }
    values = {}
    for metric, (value, low, high, n) in columns.items():
        if row[value] == "":
            values[metric] = (int(row[n]), None, None, None)
        else:
            values[metric] = (int(row[n]), float(row[value]), float(row[low]), float(row[high]))
    return values


def _agree(surfaces: dict[str, Shown], reference: Shown) -> None:
    for name, shown in surfaces.items():
        common = set(shown) & set(reference)
        assert {"nps", "csat_pct", "ces_mean"} <= common, name
        assert {k: shown[k] for k in common} == {k: reference[k] for k in common}, name


def _window() -> dict[str, str]:
    today = timezone.localdate()
    return {
        "date_from": (today - dt.timedelta(days=40)).isoformat(),
        "date_to": (today - dt.timedelta(days=10)).isoformat(),
    }


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"department": "billing"},
        {"department": "billing", "touchpoint": "billing-call"},
        {"department": "stores", "window": "yes"},
    ],
    ids=["all", "one-department", "one-touchpoint", "date-range"],
)
def test_every_surface_shows_the_same_scores(world: dict[str, Any], scope: dict[str, str]) -> None:
    """For one filter, the overview, the department page, the report, the scores API and
    the CSV exports show the same n, value and 95% interval for the total and for each
    department."""
    client = Client()
    client.force_login(cx_manager())
    query = _window() if scope.get("window") else {}
    department = scope.get("department")
    touchpoint = scope.get("touchpoint")
    if touchpoint:
        query["touchpoint"] = touchpoint
    scoped = {**query, "department": department} if department else dict(query)

    overview = _headline(client, f"/?{urlencode(scoped)}")
    surfaces: dict[str, Shown] = {
        "api": _like(overview, _api_block(_api(scoped)["overall"])),
    }
    if not scope:  # the insights page shows the same overall scores (all data is recent)
        insights = client.get("/insights/").content.decode()
        surfaces["insights"] = _page_figures(
            insights, start='id="scores-heading"', end="<h3>NPS by week</h3>"
        )
    if department:
        surfaces["department page"] = _headline(
            client, f"/departments/{department}/?{urlencode(query)}"
        )
        surfaces["report"] = _headline(
            client, f"/departments/{department}/report/?{urlencode(query)}"
        )
        table = "touchpoints" if touchpoint else "departments"
        rows = _csv_rows(client, table, scoped)
        assert len(rows) == 1
        surfaces["csv"] = _like(overview, _csv_block(next(iter(rows.values()))))
    _agree(surfaces, overview)
    assert overview["nps"][0] != "insufficient"

    if not department:  # every department's row agrees with its own pages, API and CSV
        table_rows = _department_rows(client, f"/?{urlencode(query)}")
        csv_rows = _csv_rows(client, "departments", query)
        groups = {g["key"]: g for g in _api(query, by="department")["groups"]}
        for slug, name in (("billing", "Billing"), ("stores", "Stores")):
            row = table_rows[slug]
            _agree(
                {
                    "department page": _headline(
                        client, f"/departments/{slug}/?{urlencode(query)}"
                    ),
                    "report": _headline(client, f"/departments/{slug}/report/?{urlencode(query)}"),
                    "api": _like(row, _api_block(groups[slug])),
                    "csv": _like(row, _csv_block(csv_rows[name])),
                },
                row,
            )


def test_all_promoters_have_a_non_zero_interval_on_every_surface() -> None:
    """30 promoters of 30: NPS 100 with the adjusted-Wald interval 79 to 100 (by hand:
    100·(10/11 − 1.96·√(31/7986)) = 78.7), on the page and in the API; never [100, 100]."""
    delight = DepartmentFactory(name="Delight", slug="delight")
    touchpoint = TouchpointFactory(name="Concierge", slug="concierge", department=delight)
    source = SourceFactory(name="promoters")
    for i in range(30):
        ResponseFactory(
            source=source,
            touchpoint=touchpoint,
            nps=10,
            submitted_at=timezone.now() - dt.timedelta(days=2, minutes=i),
        )
    client = Client()
    client.force_login(cx_manager())

    page = _headline(client, "/departments/delight/")
    api = _api({"department": "delight"})["overall"]["nps"]

    assert page["nps"] == ("30", "100", "79", "100")
    assert api["value"] == pytest.approx(100.0)
    assert api["interval"][0] == pytest.approx(78.698, abs=1e-3)
    assert api["interval"][1] == pytest.approx(100.0)


def test_below_the_minimum_every_surface_says_insufficient(
    world: dict[str, Any], settings: Any
) -> None:
    """With the minimum above the data (330 answers, minimum 1,000) no surface shows a
    number: the pages say "not enough responses", the API says "insufficient" and the
    CSV leaves the figure blank, with the n."""
    settings.CXHUB = {**settings.CXHUB, "MIN_RESPONSES": 1000}
    client = Client()
    client.force_login(cx_manager())

    pages = {
        "overview": _headline(client, "/"),
        "department page": _headline(client, "/departments/billing/"),
        "report": _headline(client, "/departments/billing/report/"),
    }
    api = _api({})["overall"]
    rows = _csv_rows(client, "departments", {})

    for name, shown in pages.items():
        assert shown["nps"] == ("insufficient",), name
        assert shown["csat_pct"] == ("insufficient",), name
        assert shown["ces_mean"] == ("insufficient",), name
    for metric in METRICS:
        assert api[metric]["status"] == "insufficient"
        assert "value" not in api[metric]
    for row in rows.values():
        assert row["nps"] == row["nps_low"] == row["ces_mean"] == ""
        assert int(row["nps_n"]) > 0
    assert "not enough responses" in client.get("/departments/billing/report/").content.decode()


def _topic_counts(html: str) -> dict[str, int]:
    return {
        slug: int(count)
        for slug, count in re.findall(r'data-topic="([\w-]+)" data-mentions="(\d+)"', html)
    }


def test_the_overview_and_the_topics_page_count_a_topic_alike() -> None:
    """A topic's count is the responses mentioning it or a sub-topic, once each, in the
    window both pages state: 5 mention the parent only, 10 the child only and 5 both, so
    the parent has 20 and the child 15; 8 older mentions of the child fall outside the
    last 12 months and count on neither page."""
    from analytics.models import Topic
    from tests.dashboards.factories import tag

    waiting = Topic.objects.create(slug="waiting", name="Waiting")
    queue = Topic.objects.create(slug="queue-length", name="Queue length", parent=waiting)
    touchpoint = TouchpointFactory(slug="front-desk", name="Front desk")
    source = SourceFactory(name="topics")
    now = timezone.now()

    def answered(days_ago: int) -> Any:
        return ResponseFactory(
            source=source,
            touchpoint=touchpoint,
            nps=3,
            comment="slow",
            submitted_at=now - dt.timedelta(days=days_ago),
        )

    for i in range(20):
        response = answered(days_ago=2 + i)
        if i < 10 or i >= 15:
            tag(response, queue, -0.6)
        if i >= 10:
            tag(response, waiting, -0.4)
    for i in range(8):
        tag(answered(days_ago=400 + i), queue, -0.5)
    client = Client()
    client.force_login(cx_manager())

    for query in ({}, _window()):
        overview = client.get(f"/?{urlencode(query)}").content.decode()
        topics_page = client.get(f"/topics/?{urlencode(query)}").content.decode()
        on_overview, on_topics_page = _topic_counts(overview), _topic_counts(topics_page)
        assert {"waiting", "queue-length"} <= set(on_overview)
        assert on_overview == {slug: on_topics_page[slug] for slug in on_overview}
        if not query:
            assert _topic_counts(overview)["waiting"] == 20
            assert _topic_counts(overview)["queue-length"] == 15
            assert "last 12 months (" in overview.split('id="topic-window"')[1][:200]
            assert "last 12 months (" in topics_page.split('id="topic-window"')[1][:200]
        else:
            start = dt.date.fromisoformat(query["date_from"])
            label = f"{start.day} {start:%b}"
            assert label in overview.split('id="topic-window"')[1][:200]
            assert label in topics_page.split('id="topic-window"')[1][:200]


def test_a_topics_nps_cost_on_the_overview_is_the_planted_one() -> None:
    """40 detractors mention a topic, 40 others (20 promoters, 20 passives) do not: NPS of
    all is −25, without the topic +50, so the topic costs 75 points, with an interval."""
    from analytics.models import Topic
    from tests.dashboards.factories import tag

    topic = Topic.objects.create(slug="late-refunds", name="Late refunds")
    touchpoint = TouchpointFactory(slug="refund-desk", name="Refund desk")
    source = SourceFactory(name="refunds")
    now = timezone.now()
    for i, score in enumerate([3] * 40 + [10] * 20 + [8] * 20):
        response = ResponseFactory(
            source=source,
            touchpoint=touchpoint,
            nps=score,
            comment="refund",
            submitted_at=now - dt.timedelta(days=1, minutes=i),
        )
        if i < 40:
            tag(response, topic, -0.7)
    client = Client()
    client.force_login(cx_manager())

    topics = {t["slug"]: t for t in client.get("/").context["extra"]["topics"]}

    cost = topics["late-refunds"]["impact"]
    assert cost.value == pytest.approx(-75.0)
    assert cost.low < -75.0 < cost.high
    assert topics["late-refunds"]["mentions"] == 40
