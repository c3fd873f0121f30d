"""customers/: list, detail, upsert by external id, and bulk with per-item errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from feedback.models import Customer
from tests.feedback.factories import CustomerFactory

URL = "/api/v1/customers/"


def test_key_creates_then_updates_a_customer_by_external_id(key_client: APIClient) -> None:
    """The first post creates (201); a later one changes only the fields given (200)."""
    first = key_client.post(
        URL,
        {
            "external_id": "C-1",
            "segment": "smb",
            "region": "north",
            "annual_revenue": 1200.5,
            "attributes": {"tenure": 3},
        },
        format="json",
    )
    assert first.status_code == 201, first.json()
    assert first.json()["annual_revenue"] == "1200.50"

    second = key_client.post(
        URL,
        {"external_id": "C-1", "churned_at": "2026-05-01T00:00:00Z", "plan": "basic"},
        format="json",
    )

    assert second.status_code == 200
    customer = Customer.objects.get()
    assert (customer.segment, customer.region, customer.plan) == ("smb", "north", "basic")
    assert customer.annual_revenue == Decimal("1200.50")
    assert customer.churned_at == dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    assert customer.attributes == {"tenure": 3}
    assert second.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({}, "external_id"),
        ({"external_id": "C", "annual_revenue": -1}, "annual_revenue"),
        ({"external_id": "C", "annual_revenue": "lots"}, "annual_revenue"),
        ({"external_id": "C", "annual_revenue": 1e20}, "annual_revenue"),
        ({"external_id": "C", "cost_to_serve": True}, "cost_to_serve"),
        ({"external_id": "C", "churned_at": "2026-05-01"}, "churned_at"),
        ({"external_id": "C", "segment": "x" * 65}, "segment"),
        ({"external_id": "C", "attributes": {"a": [1]}}, "attributes"),
        ({"external_id": "C", "favourite_colour": "red"}, "non_field_errors"),
    ],
)
def test_invalid_customers_are_400(
    key_client: APIClient, item: dict[str, object], field: str
) -> None:
    """Each customer rule refuses bad input with a 400 naming the field."""
    answer = key_client.post(URL, item, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert Customer.objects.count() == 0


def test_bulk_upserts_and_reports_each_invalid_item(key_client: APIClient, api_key: Any) -> None:
    """Bulk customers: new ones created, known ones updated, invalid ones listed by index."""
    CustomerFactory(external_id="C-OLD", segment="consumer", source=api_key.source)
    items = [
        {"external_id": "C-OLD", "segment": "enterprise"},
        {"external_id": "C-NEW", "region": "south"},
        {"external_id": "C-BAD", "annual_revenue": -5},
        {"external_id": "C-NEW", "plan": "premium"},
    ]

    answer = key_client.post(f"{URL}bulk/", items, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["created"], body["updated"], body["rejected"]) == (1, 1, 1)
    assert body["errors"][0]["index"] == 2
    assert Customer.objects.get(external_id="C-OLD").segment == "enterprise"
    new = Customer.objects.get(external_id="C-NEW")
    assert (new.region, new.plan) == ("south", "premium")
    assert not Customer.objects.filter(external_id="C-BAD").exists()


def test_cx_managers_list_and_read_customers_and_others_do_not(
    cx_client: APIClient, viewer_client: APIClient, line_manager_client: APIClient
) -> None:
    """Customer records carry revenue and churn: CX managers read them (filterable);
    viewers and line managers get 403 and may not create them."""
    a = CustomerFactory(external_id="A", segment="smb")
    CustomerFactory(external_id="B", segment="enterprise")

    listed = cx_client.get(f"{URL}?segment=smb")
    assert listed.status_code == 200
    assert [row["external_id"] for row in listed.json()["results"]] == ["A"]
    assert cx_client.get(f"{URL}{a.id}/").json()["external_id"] == "A"
    assert cx_client.get(f"{URL}999999/").status_code == 404
    for client in (viewer_client, line_manager_client):
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}{a.id}/").status_code == 403
        assert client.post(URL, {"external_id": "C"}, format="json").status_code == 403


def test_keys_cannot_read_customers(key_client: APIClient) -> None:
    """A source key posts customers but cannot list them."""
    assert key_client.get(URL).status_code == 403


def test_cx_manager_may_post_customers(cx_client: APIClient) -> None:
    """CX managers maintain customers too."""
    assert cx_client.post(URL, {"external_id": "C-9"}, format="json").status_code == 201


def test_customer_list_query_count_is_fixed(
    cx_client: APIClient, django_assert_max_num_queries: object
) -> None:
    """A page of customers costs a fixed few queries."""
    for _ in range(60):
        CustomerFactory()
    cx_client.get(URL)
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        answer = cx_client.get(URL)
    assert len(answer.json()["results"]) == 50
