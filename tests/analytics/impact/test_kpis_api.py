"""KPI catalogue and observation API: idempotent posts, unit checks, bulk with per-item errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from analytics.models import Kpi, KpiObservation
from feedback.models import Department, Source, SourceAPIKey

pytestmark = pytest.mark.django_db


def _client_for(role: str | None) -> APIClient:
    user = User.objects.create_user(username=f"user-{role}", password="x")
    if role:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def manager() -> APIClient:
    return _client_for("cx_manager")


def _post(client: APIClient, slug: str, body: Any, *, bulk: bool = False) -> Any:
    url = f"/api/v1/kpis/{slug}/observations/" + ("bulk/" if bulk else "")
    return client.post(url, body, format="json")


def test_default_kpis_are_created_by_migration(manager: APIClient) -> None:
    """A fresh database offers churn rate, revenue, cost to serve and lifetime value."""
    answer = manager.get("/api/v1/kpis/")
    assert answer.status_code == 200
    by_slug = {kpi["slug"]: kpi for kpi in answer.json()}
    assert {"churn-rate", "revenue", "cost-to-serve", "customer-lifetime-value"} <= set(by_slug)
    assert by_slug["churn-rate"]["unit"] == "percent"
    assert by_slug["churn-rate"]["higher_is_better"] is False
    assert by_slug["revenue"]["currency"] == "EUR"


def test_reposting_the_same_observation_is_a_duplicate_and_another_value_a_conflict(
    manager: APIClient,
) -> None:
    """Same KPI + period + scope + value → 200 and the same row; another value → 409."""
    body = {"period_start": "2026-03-02", "granularity": "week", "value": 4.5, "region": "north"}
    first = _post(manager, "churn-rate", body)
    assert first.status_code == 201, first.json()
    again = _post(manager, "churn-rate", {**body, "value": "4.500"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other = _post(manager, "churn-rate", {**body, "value": 5})
    assert other.status_code == 409
    assert "refusing to overwrite" in other.json()["errors"]["value"][0]
    assert KpiObservation.objects.get().value == pytest.approx(4.5)
    other_scope = _post(manager, "churn-rate", {**body, "region": "south", "value": 5})
    assert other_scope.status_code == 201
    assert other_scope.json()["scope_key"] == "region=south"


def test_unknown_kpi_lists_the_valid_ones(manager: APIClient) -> None:
    """Posting to a KPI that does not exist is a 400 naming the valid slugs."""
    answer = _post(manager, "happiness", {"period_start": "2026-03-02", "value": 1})
    assert answer.status_code == 400
    message = answer.json()["errors"]["kpi"][0]
    assert "happiness" in message and "churn-rate" in message and "revenue" in message


@pytest.mark.parametrize(
    ("slug", "body", "field", "fragment"),
    [
        ("churn-rate", {"period_start": "2026-03-02", "value": 120}, "value", "between 0 and 100"),
        ("churn-rate", {"period_start": "2026-03-02", "value": -1}, "value", "between 0 and 100"),
        ("churn-rate", {"period_start": "2026-03-03", "value": 3}, "period_start", "2026-03-02"),
        (
            "revenue",
            {"period_start": "2026-03-05", "granularity": "month", "value": 3},
            "period_start",
            "2026-03-01",
        ),
        ("revenue", {"period_start": "March", "value": 3}, "period_start", "YYYY-MM-DD"),
        ("revenue", {"period_start": "2026-03-02", "value": "lots"}, "value", "not a number"),
        ("revenue", {"period_start": "2026-03-02", "value": "NaN"}, "value", "finite"),
        (
            "revenue",
            {"period_start": "2026-03-02", "value": 1, "granularity": "day"},
            "granularity",
            "week",
        ),
        (
            "revenue",
            {"period_start": "2026-03-02", "value": 1, "department": "nowhere"},
            "department",
            "nowhere",
        ),
        (
            "revenue",
            {"period_start": "2026-03-02", "value": 1, "colour": "red"},
            "non_field_errors",
            "colour",
        ),
    ],
)
def test_bad_observations_get_field_messages(
    manager: APIClient, slug: str, body: dict[str, Any], field: str, fragment: str
) -> None:
    """Out-of-unit values, misaligned periods and unknown scopes are 400s naming the field."""
    answer = _post(manager, slug, body)
    assert answer.status_code == 400, answer.json()
    assert fragment in " ".join(answer.json()["errors"][field])
    assert not KpiObservation.objects.exists()


def test_a_count_kpi_refuses_negative_and_fractional_values(manager: APIClient) -> None:
    """A count is a whole number of at least zero."""
    created = manager.post(
        "/api/v1/kpis/",
        {"slug": "complaints", "name": "Complaints", "unit": "count"},
        format="json",
    )
    assert created.status_code == 201
    assert (
        _post(manager, "complaints", {"period_start": "2026-03-02", "value": -2}).status_code == 400
    )
    assert (
        _post(manager, "complaints", {"period_start": "2026-03-02", "value": 2.5}).status_code
        == 400
    )
    assert (
        _post(manager, "complaints", {"period_start": "2026-03-02", "value": 7}).status_code == 201
    )


def test_declaring_a_currency_kpi_needs_a_currency(manager: APIClient) -> None:
    """A currency KPI without a code is refused; a duplicate slug too."""
    answer = manager.post(
        "/api/v1/kpis/", {"slug": "refunds", "name": "Refunds", "unit": "currency"}, format="json"
    )
    assert answer.status_code == 400
    assert "currency" in answer.json()["errors"]
    dup = manager.post(
        "/api/v1/kpis/", {"slug": "revenue", "name": "R", "unit": "count"}, format="json"
    )
    assert dup.status_code == 400
    assert "slug" in dup.json()["errors"]


def test_bulk_keeps_valid_items_and_reports_each_bad_one(manager: APIClient) -> None:
    """Valid items are stored, duplicates counted, conflicts and invalid items listed, gaps warned."""
    Department.objects.create(name="Care", slug="care")
    _post(manager, "revenue", {"period_start": "2026-01-05", "value": 100, "department": "care"})
    items = [
        {"period_start": "2026-01-05", "value": 100, "department": "care"},  # duplicate
        {"period_start": "2026-01-12", "value": 110, "department": "care"},
        {"period_start": "2026-01-26", "value": 120, "department": "care"},  # leaves a gap
        {"period_start": "2026-01-13", "value": 1},  # not a Monday
        "not an object",
        {"period_start": "2026-01-05", "value": 999, "department": "care"},  # conflict
        {"period_start": "2026-02-02", "value": 5, "department": "care"},
        {"period_start": "2026-02-02", "value": 6, "department": "care"},  # conflicts with item 6
    ]
    answer = _post(manager, "revenue", items, bulk=True)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (3, 1, 4)
    assert [error["index"] for error in sorted(body["errors"], key=lambda e: e["index"])] == [
        3,
        4,
        5,
        7,
    ]
    assert any("2026-01-19" in warning for warning in body["warnings"])
    assert KpiObservation.objects.filter(kpi__slug="revenue").count() == 4
    assert KpiObservation.objects.get(period_start="2026-01-05").value == 100


def test_bulk_needs_a_non_empty_array(manager: APIClient) -> None:
    """An object or an empty array is a 400, not a 500."""
    assert _post(manager, "revenue", {"value": 1}, bulk=True).status_code == 400
    assert _post(manager, "revenue", [], bulk=True).status_code == 400


def test_a_source_key_may_post_but_not_read_and_a_viewer_may_only_read() -> None:
    """API keys post observations for their source; viewers read; neither declares KPIs."""
    source = Source.objects.create(name="billing")
    _, key = SourceAPIKey.objects.create_key(name="billing key", source=source)
    system = APIClient()
    system.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    answer = _post(system, "revenue", {"period_start": "2026-03-02", "value": 10})
    assert answer.status_code == 201
    assert KpiObservation.objects.get().source == source
    assert system.get("/api/v1/kpis/revenue/observations/").status_code == 403
    viewer = _client_for("viewer")
    listed = viewer.get("/api/v1/kpis/revenue/observations/")
    assert listed.status_code == 200
    assert [row["value"] for row in listed.json()["results"]] == [10]
    assert _post(viewer, "revenue", {"period_start": "2026-03-09", "value": 10}).status_code == 403
    declared = viewer.post(
        "/api/v1/kpis/", {"slug": "x", "name": "X", "unit": "count"}, format="json"
    )
    assert declared.status_code == 403
    assert Kpi.objects.filter(slug="x").count() == 0


JUNK = [
    None,
    True,
    [],
    {},
    [1, 2],
    {"a": 1},
    "",
    " ",
    "\u0000",
    "x" * 5000,
    -1,
    1e308,
    "1e400",
    "NaN",
    "-Infinity",
    "2026-02-30",
    "9999-12-27",
    "0001-01-01",
    3.5,
]


def test_junk_in_any_field_is_a_400_never_a_500(manager: APIClient) -> None:
    """Every field fed every junk value answers 400 (or a 2xx when the junk happens to be valid)."""
    valid = {"period_start": "2026-03-02", "granularity": "week", "value": 1, "region": "north"}
    fields = [
        "period_start",
        "granularity",
        "value",
        "department",
        "touchpoint",
        "segment",
        "region",
        "kpi",
    ]
    for field in fields:
        bulk = _post(manager, "revenue", [{**valid, field: junk} for junk in JUNK], bulk=True)
        assert bulk.status_code == 200, (field, bulk.content)
        counts = bulk.json()
        assert counts["created"] + counts["duplicates"] + counts["rejected"] == len(JUNK)
    for junk in JUNK:
        answer = _post(manager, "revenue", {**valid, "value": junk})
        assert answer.status_code in (200, 201, 400, 409), (junk, answer.content)
    for body in JUNK:
        assert _post(manager, "revenue", body).status_code == 400
        bulk = _post(manager, "revenue", body, bulk=True)
        if isinstance(body, list) and body:
            assert bulk.status_code == 200 and bulk.json()["rejected"] == len(body)
        else:
            assert bulk.status_code == 400
    listed = manager.get("/api/v1/kpis/revenue/observations/?from=junk&granularity=day")
    assert listed.status_code == 400


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_posts_store_exactly_one_observation() -> None:
    """Eight simultaneous posts of one observation: one row, one 'created', seven duplicates."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from analytics.impact.services import observation_record

    # Transactional tests run after others that may have flushed the migration's KPIs.
    revenue, _ = Kpi.objects.get_or_create(
        slug="revenue", defaults={"name": "Revenue", "unit": "currency", "currency": "EUR"}
    )
    item = {"period_start": "2026-03-02", "value": "123.45", "region": "north"}

    def post(_: int) -> bool:
        try:
            return observation_record(kpi=revenue, item=item)[1]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(post, range(8)))

    assert created.count(True) == 1
    assert KpiObservation.objects.count() == 1


def test_admin_lists_kpis_observations_and_estimates() -> None:
    """A superuser sees the KPI, observation and (read-only) estimate admin pages."""
    from django.test import Client

    admin_user = User.objects.create_superuser(username="root", password="x", email="r@x.org")
    client = Client()
    client.force_login(admin_user)
    for path in [
        "/admin/analytics/kpi/",
        "/admin/analytics/kpiobservation/",
        "/admin/analytics/impactestimate/",
    ]:
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/analytics/impactestimate/add/").status_code == 403
