"""Every score surface shows the same numbers whether its days are read raw or from the
daily roll-up, and its query count does not grow with the responses behind it."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import ScoreDay
from analytics.responses.rollups import rollups_refresh_all
from dashboards.selectors import figures_forget
from feedback.models import Channel, Response, ResponseDayChange
from feedback.services import customer_erase
from tests.dashboards.downloads import csv_text
from tests.feedback.factories import (
    CustomerFactory,
    DepartmentFactory,
    ResponseFactory,
    SourceFactory,
    TouchpointFactory,
    UserFactory,
    cx_manager,
)

pytestmark = pytest.mark.django_db

WINDOW = "date_from={first}&date_to={last}"
TABLES = ("channels", "departments", "touchpoints", "weekly")


def _forget() -> None:
    from django.core.cache import cache

    figures_forget()
    cache.clear()


def _plant(rng: random.Random, touchpoints: list[Any], count: int, *, days: int) -> None:
    source = SourceFactory(name="rollup-pages")
    customers = [CustomerFactory() for _ in range(5)]
    now = timezone.now()
    for _ in range(count):
        ResponseFactory(
            source=source,
            submitted_at=now - dt.timedelta(minutes=rng.randrange(days * 24 * 60)),
            touchpoint=rng.choice([*touchpoints, None]),
            channel=rng.choice([Channel.WEB, Channel.PHONE, Channel.APP, ""]),
            nps=rng.choice([None, *range(11)]),
            csat=rng.choice([None, *range(1, 6)]),
            ces=rng.choice([None, *range(1, 8)]),
            comment=rng.choice(["", "slow to answer", "very kind"]),
            customer=rng.choice([*customers, None]),
        )


@pytest.fixture
def world() -> list[Any]:
    billing = DepartmentFactory(name="Billing", slug="billing")
    stores = DepartmentFactory(name="Stores", slug="stores")
    touchpoints = [
        TouchpointFactory(name="Billing call", slug="billing-call", department=billing),
        TouchpointFactory(name="Billing chat", slug="billing-chat", department=billing),
        TouchpointFactory(name="Store visit", slug="store-visit", department=stores),
    ]
    _plant(random.Random(7), touchpoints, 250, days=60)
    return touchpoints


def _surfaces(client: Client) -> dict[str, Any]:
    """What the score surfaces show: the pages' figures and the four tables' CSV text."""
    today = timezone.localdate()
    window = WINDOW.format(first=today - dt.timedelta(days=45), last=today)
    shown: dict[str, Any] = {}
    for name, url in (
        ("overview", "/"),
        ("overview window", f"/?{window}"),
        ("department", f"/departments/billing/?{window}"),
        ("report", "/departments/billing/report/"),
        ("overview channel", f"/?{window}&channel=web,phone"),
        ("overview touchpoint", "/?touchpoint=store-visit"),
    ):
        _forget()
        page = client.get(url)
        assert page.status_code == 200, url
        figures = page.context["figures"]
        shown[name] = (figures.breakdown, figures.trend, figures.nps_change)
    for table in TABLES:
        for department in ("", "&department=billing"):
            _forget()
            download = client.get(f"/export/{table}.csv?{window}{department}")
            assert download.status_code == 200
            shown[f"{table}.csv{department}"] = csv_text(download)
    _forget()
    for by in ("", "touchpoint", "department", "journey", "channel"):
        for period in ("", "day", "week", "month"):
            answer = client.get("/api/v1/analytics/scores/", {"by": by, "period": period})
            assert answer.status_code == 200, answer.content
            shown[f"scores {by} {period}"] = answer.json()
    return shown


def test_raw_and_rolled_up_days_show_the_same_numbers_everywhere(world: list[Any]) -> None:
    """Overview, department page, report, the four table exports and the scores API are
    equal with every day read raw (nothing refreshed), every day from the roll-up, and a
    mix after new responses and an erasure."""
    client = Client()
    client.force_login(cx_manager())
    assert not ScoreDay.objects.exists()
    raw = _surfaces(client)

    rollups_refresh_all()
    assert not ResponseDayChange.objects.exists()
    rolled_up = _surfaces(client)

    assert rolled_up == raw
    _plant(random.Random(8), world, 20, days=10)
    erased = Response.objects.filter(customer__isnull=False).exclude(comment="").first()
    assert erased is not None and erased.customer is not None
    customer_erase(customer=erased.customer, by=UserFactory())
    assert ResponseDayChange.objects.exists()
    mixed = _surfaces(client)
    rollups_refresh_all()

    assert _surfaces(client) == mixed
    assert mixed != raw


def _overview_queries(client: Client) -> int:
    _forget()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@pytest.mark.parametrize("refreshed", [True, False], ids=["clean days", "dirty days"])
def test_overview_queries_do_not_grow_with_the_responses(world: list[Any], refreshed: bool) -> None:
    """Ten times the responses over the same days: the same number of queries, whether the
    days are read from the roll-up or raw."""
    client = Client()
    client.force_login(cx_manager())
    if refreshed:
        rollups_refresh_all()
    small = _overview_queries(client)

    _plant(random.Random(9), world, 2_250, days=60)
    if refreshed:
        rollups_refresh_all()

    assert _overview_queries(client) == small
