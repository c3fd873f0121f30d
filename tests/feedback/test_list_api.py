"""GET /api/v1/feedback/: cursor pagination, filters, the delegated filter registry, query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Q
from rest_framework.test import APIClient

from feedback import filters
from feedback.filters import register_response_filter
from feedback.models import Response
from tests.feedback.factories import CustomerFactory, ResponseFactory, SourceFactory

URL = "/api/v1/feedback/"
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def empty_filter_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """No delegated filters registered (analytics registers the real ones at start-up)."""
    monkeypatch.setattr(filters, "_response_filters", {})


def _ids(answer: Any) -> list[int]:
    return [row["id"] for row in answer.json()["results"]]


@pytest.fixture
def responses(organisation: dict[str, Any]) -> dict[str, Response]:
    source = SourceFactory(name="survey-tool")
    customer = CustomerFactory(external_id="C-7")
    return {
        "old_web_promoter": ResponseFactory(
            source=source,
            submitted_at=T0,
            nps=10,
            channel="web",
            touchpoint=organisation["web"],
            comment="Lovely site",
        ),
        "billing_detractor": ResponseFactory(
            source=source,
            submitted_at=T0 + dt.timedelta(days=1),
            nps=2,
            channel="phone",
            touchpoint=organisation["billing"],
            customer=customer,
            comment="Bill was WRONG again",
        ),
        "passive_no_touchpoint": ResponseFactory(
            source=SourceFactory(name="crm"),
            submitted_at=T0 + dt.timedelta(days=2),
            nps=7,
            channel="email",
            comment="",
        ),
    }


def test_list_is_newest_first(cx_client: APIClient, responses: dict[str, Response]) -> None:
    """Responses come newest first."""
    answer = cx_client.get(URL)
    assert answer.status_code == 200
    assert _ids(answer) == [
        responses["passive_no_touchpoint"].id,
        responses["billing_detractor"].id,
        responses["old_web_promoter"].id,
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("touchpoint=billing-call", ["billing_detractor"]),
        ("department=digital", ["old_web_promoter"]),
        ("channel=email", ["passive_no_touchpoint"]),
        ("nps_category=promoter", ["old_web_promoter"]),
        ("nps_category=detractor", ["billing_detractor"]),
        ("customer=C-7", ["billing_detractor"]),
        ("q=wrong", ["billing_detractor"]),
        ("source=crm", ["passive_no_touchpoint"]),
        ("date_from=2026-03-02T00:00:00Z", ["passive_no_touchpoint", "billing_detractor"]),
        ("date_to=2026-03-01T23:59:59Z", ["old_web_promoter"]),
        ("date_to=2026-03-01", ["old_web_promoter"]),
        ("date_from=2026-03-02&date_to=2026-03-02", ["billing_detractor"]),
        (
            "date_from=2026-03-01T12:00:00Z&date_to=2026-03-02T12:00:00Z",
            ["billing_detractor"],
        ),
        ("channel=web,email", ["passive_no_touchpoint", "old_web_promoter"]),
        ("channel=web&channel=phone", ["billing_detractor", "old_web_promoter"]),
        ("source=crm,survey-tool&nps_category=detractor", ["billing_detractor"]),
    ],
)
def test_filters(
    cx_client: APIClient, responses: dict[str, Response], query: str, expected: list[str]
) -> None:
    """Each filter narrows the list to the matching responses."""
    answer = cx_client.get(f"{URL}?{query}")
    assert answer.status_code == 200, answer.json()
    assert _ids(answer) == [responses[name].id for name in expected]


@pytest.mark.parametrize(
    "query",
    [
        "channel=pigeon",
        "nps_category=grumpy",
        "date_from=tomorrow",
        "date_from=2026-03-02&date_to=2026-03-01",
        "submitted_after=2026-03-01",
        "touchpoint=nope",
        "department=nope",
        "journey=nope",
        "source=nobody",
        "topic=billing",
        "sentiment=negative",
    ],
)
@pytest.mark.usefixtures("empty_filter_registry")
def test_bad_or_unavailable_filters_are_400(
    cx_client: APIClient, responses: dict[str, Response], query: str
) -> None:
    """Invalid filter values, and topic/sentiment before analytics registers them, are 400s."""
    answer = cx_client.get(f"{URL}?{query}")
    assert answer.status_code == 400
    assert answer.json()["errors"]


@pytest.mark.usefixtures("empty_filter_registry")
def test_topic_filter_is_delegated_to_the_registered_implementation(
    cx_client: APIClient, responses: dict[str, Response]
) -> None:
    """A registered 'topic' filter checks the values it accepts and receives them as a list."""
    seen: list[list[str]] = []

    def by_comment_words(values: list[str]) -> Q:
        seen.append(values)
        condition = Q()
        for value in values:
            condition |= Q(comment__icontains=value)
        return condition

    register_response_filter("topic", condition=by_comment_words, values=lambda: ["site", "bill"])
    answer = cx_client.get(f"{URL}?topic=site")
    unknown = cx_client.get(f"{URL}?topic=parking")

    assert answer.status_code == 200
    assert seen == [["site"]]
    assert _ids(answer) == [responses["old_web_promoter"].id]
    assert unknown.status_code == 400
    assert unknown.json()["errors"]["topic"] == [
        "Unknown topic: parking. Valid values: bill, site."
    ]


def test_cursor_pagination_walks_every_response_once(
    cx_client: APIClient, organisation: dict[str, Any]
) -> None:
    """Following 'next' visits every response exactly once, newest first, even with equal times."""
    source = SourceFactory()
    created = [
        ResponseFactory(source=source, submitted_at=T0 + dt.timedelta(hours=i // 3))
        for i in range(25)
    ]
    seen: list[int] = []
    url: str | None = f"{URL}?page_size=7"
    while url:
        answer = cx_client.get(url)
        assert answer.status_code == 200
        seen.extend(_ids(answer))
        url = answer.json()["next"]
    expected = sorted(created, key=lambda r: (r.submitted_at, r.id), reverse=True)
    assert seen == [r.id for r in expected]


def test_list_query_count_does_not_grow_with_rows(
    cx_client: APIClient, organisation: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    """A page of 50 responses with sources, touchpoints and customers costs a fixed few queries."""
    source = SourceFactory()
    for i in range(60):
        ResponseFactory(
            source=source,
            touchpoint=organisation["billing" if i % 2 else "web"],
            customer=CustomerFactory(),
        )
    cx_client.get(URL)  # warm the session/role caches
    with django_assert_max_num_queries(4):
        answer = cx_client.get(URL)
    assert len(answer.json()["results"]) == 50
    with django_assert_max_num_queries(4):
        cx_client.get(f"{URL}?page_size=5")


def test_unauthenticated_list_is_401(db: None) -> None:
    """Reading needs a signed-in user."""
    assert APIClient().get(URL).status_code == 401
