"""Sources own what they post: a key writes its own source's responses and the customers its
source created (or every customer, when its source is granted customer writes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from feedback.models import Customer, Response
from tests.feedback.conftest import feedback_item
from tests.feedback.factories import CustomerFactory, SourceAPIKeyFactory

URL = "/api/v1/customers/"


def _key_client(source_name: str) -> tuple[APIClient, Any]:
    api_key = SourceAPIKeyFactory(source__name=source_name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.plain_key}")
    return client, api_key.source


@pytest.fixture
def crm(db: None) -> tuple[APIClient, Any]:
    return _key_client("crm")


@pytest.fixture
def billing(db: None) -> tuple[APIClient, Any]:
    return _key_client("billing-system")


def test_a_second_source_cannot_overwrite_or_churn_another_sources_customer(
    crm: tuple[APIClient, Any], billing: tuple[APIClient, Any]
) -> None:
    """The attack of the issue: another source's post is a 403 naming why; nothing changes."""
    crm_client, crm_source = crm
    billing_client, _ = billing
    created = crm_client.post(
        URL, {"external_id": "C-000001", "annual_revenue": "1200.00"}, format="json"
    )
    assert created.status_code == 201
    assert Customer.objects.get().source == crm_source

    answer = billing_client.post(
        URL,
        {
            "external_id": "C-000001",
            "annual_revenue": "0.01",
            "churned_at": "2026-05-01T00:00:00Z",
        },
        format="json",
    )

    assert answer.status_code == 403
    message = answer.json()["errors"]["external_id"][0]
    assert "'C-000001' was not created by the source 'billing-system'" in message
    customer = Customer.objects.get()
    assert (customer.annual_revenue, customer.churned_at) == (Decimal("1200.00"), None)


def test_a_key_updates_the_customers_its_source_created(crm: tuple[APIClient, Any]) -> None:
    """Create (201) then update (200) by the same source's key."""
    client, _ = crm
    assert client.post(URL, {"external_id": "C-1"}, format="json").status_code == 201
    answer = client.post(URL, {"external_id": "C-1", "plan": "basic"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["source"] == "crm"
    assert Customer.objects.get().plan == "basic"


def test_a_key_may_not_update_customers_people_or_the_seed_created(
    crm: tuple[APIClient, Any], cx_client: APIClient
) -> None:
    """Customers without a source (people's, the demo seed's) are not any key's to change."""
    CustomerFactory(external_id="C-SEED", plan="premium")
    cx_client.post(URL, {"external_id": "C-PEOPLE"}, format="json")
    client, _ = crm

    for external_id in ("C-SEED", "C-PEOPLE"):
        answer = client.post(URL, {"external_id": external_id, "plan": "basic"}, format="json")
        assert answer.status_code == 403
    assert Customer.objects.get(external_id="C-PEOPLE").source is None
    assert Customer.objects.get(external_id="C-SEED").plan == "premium"


def test_a_source_granted_customer_writes_updates_every_customer(
    crm: tuple[APIClient, Any], billing: tuple[APIClient, Any]
) -> None:
    """``may_write_customers`` is the explicit grant; the customer keeps its creating source."""
    crm_client, crm_source = crm
    billing_client, billing_source = billing
    crm_client.post(URL, {"external_id": "C-1"}, format="json")
    billing_source.may_write_customers = True
    billing_source.save()

    answer = billing_client.post(URL, {"external_id": "C-1", "segment": "smb"}, format="json")

    assert answer.status_code == 200
    customer = Customer.objects.get()
    assert (customer.segment, customer.source) == ("smb", crm_source)


def test_cx_managers_write_every_customer(crm: tuple[APIClient, Any], cx_client: APIClient) -> None:
    """People keep writing customers as before, whoever created them."""
    client, _ = crm
    client.post(URL, {"external_id": "C-1"}, format="json")
    answer = cx_client.post(URL, {"external_id": "C-1", "region": "east"}, format="json")
    assert answer.status_code == 200
    assert Customer.objects.get().region == "east"


def test_bulk_refuses_other_sources_customers_per_item_and_stores_the_rest(
    crm: tuple[APIClient, Any], billing: tuple[APIClient, Any]
) -> None:
    """Refused items are listed with their index and reason; valid items are all stored; 200."""
    crm_client, _ = crm
    billing_client, billing_source = billing
    crm_client.post(URL, {"external_id": "C-CRM", "segment": "smb"}, format="json")
    billing_client.post(URL, {"external_id": "C-OWN"}, format="json")
    items = [
        {"external_id": "C-OWN", "plan": "premium"},
        {"external_id": "C-CRM", "segment": "enterprise"},
        {"external_id": "C-NEW", "region": "south"},
        {"external_id": "C-BAD", "annual_revenue": -5},
        {"external_id": "C-CRM", "plan": "basic"},
    ]

    answer = billing_client.post(f"{URL}bulk/", items, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["created"], body["updated"], body["rejected"]) == (1, 1, 3)
    assert [error["index"] for error in body["errors"]] == [1, 3, 4]
    refused = [e for e in body["errors"] if e["external_id"] == "C-CRM"]
    assert all("not created by the source" in e["errors"]["external_id"][0] for e in refused)
    assert Customer.objects.get(external_id="C-CRM").segment == "smb"
    assert Customer.objects.get(external_id="C-OWN").plan == "premium"
    assert Customer.objects.get(external_id="C-NEW").source == billing_source


def test_patch_follows_the_same_rules(
    crm: tuple[APIClient, Any],
    billing: tuple[APIClient, Any],
    cx_client: APIClient,
    viewer_client: APIClient,
) -> None:
    """PATCH: the creating key and CX managers change fields; another key gets a 403 naming
    why; viewers 403; nobody signed in 401; the external id cannot change."""
    crm_client, _ = crm
    billing_client, _ = billing
    customer_id = crm_client.post(URL, {"external_id": "C-1"}, format="json").json()["id"]
    detail = f"{URL}{customer_id}/"

    assert crm_client.patch(detail, {"plan": "basic"}, format="json").status_code == 200
    refused = billing_client.patch(detail, {"plan": "premium"}, format="json")
    assert refused.status_code == 403
    assert (
        "not created by the source 'billing-system'" in refused.json()["errors"]["external_id"][0]
    )
    assert viewer_client.patch(detail, {"plan": "premium"}, format="json").status_code == 403
    assert APIClient().patch(detail, {"plan": "premium"}, format="json").status_code == 401
    renamed = cx_client.patch(detail, {"external_id": "C-2"}, format="json")
    assert renamed.status_code == 400
    assert "external_id" in renamed.json()["errors"]
    assert cx_client.patch(detail, {"segment": "smb"}, format="json").status_code == 200
    assert cx_client.patch(detail, [1], format="json").status_code == 400
    customer = Customer.objects.get()
    assert (customer.external_id, customer.plan, customer.segment) == ("C-1", "basic", "smb")


def test_customers_a_keys_responses_create_belong_to_its_source(
    crm: tuple[APIClient, Any], billing: tuple[APIClient, Any], organisation: Any
) -> None:
    """A response naming an unknown customer creates it as the key's source's customer, so the
    same source may then post the customer's attributes; another source may not."""
    crm_client, crm_source = crm
    billing_client, _ = billing
    assert (
        crm_client.post("/api/v1/feedback/", feedback_item(customer_id="C-9"), format="json")
    ).status_code == 201
    crm_client.post(
        "/api/v1/feedback/bulk/",
        [feedback_item(external_id="r-2", customer_id="C-10")],
        format="json",
    )
    assert set(Customer.objects.values_list("external_id", "source")) == {
        ("C-9", crm_source.pk),
        ("C-10", crm_source.pk),
    }

    assert (
        crm_client.post(URL, {"external_id": "C-9", "plan": "x"}, format="json").status_code == 200
    )
    assert (
        billing_client.post(URL, {"external_id": "C-10", "plan": "x"}, format="json").status_code
        == 403
    )


def test_customers_of_peoples_responses_have_no_source(
    cx_client: APIClient, organisation: Any
) -> None:
    """A CX manager's post (recorded under a source) creates customers that belong to no key."""
    assert (
        cx_client.post("/api/v1/feedback/", feedback_item(customer_id="C-5"), format="json")
    ).status_code == 201
    assert Customer.objects.get(external_id="C-5").source is None


def test_a_key_writes_only_its_own_sources_responses_on_every_path(
    crm: tuple[APIClient, Any], organisation: Any
) -> None:
    """Single, bulk JSON and CSV: a payload naming another source is refused with a message
    (single and ?source= as a 403; a bulk item or CSV row on its own), and nothing is stored
    under another source."""
    client, crm_source = crm
    single = client.post("/api/v1/feedback/", feedback_item(source="billing-system"), format="json")
    assert single.status_code == 403
    assert "may only post for the source 'crm'" in single.json()["errors"]["source"][0]

    query = client.post(
        "/api/v1/feedback/bulk/?source=billing-system", [feedback_item()], format="json"
    )
    assert query.status_code == 403

    bulk = client.post(
        "/api/v1/feedback/bulk/",
        [
            feedback_item(external_id="r-1"),
            feedback_item(external_id="r-2", source="billing-system"),
        ],
        format="json",
    ).json()
    assert (bulk["created"], bulk["rejected"]) == (1, 1)
    assert "names the source 'billing-system'" in bulk["errors"][0]["errors"]["source"][0]

    csv_body = (
        "external_id,submitted_at,nps,source\n"
        "r-3,2026-03-01T10:00:00Z,9,crm\n"
        "r-4,2026-03-01T10:00:00Z,9,billing-system\n"
    )
    csv = client.post("/api/v1/feedback/bulk/", csv_body, content_type="text/csv").json()
    assert (csv["created"], csv["rejected"]) == (1, 1)
    assert csv["errors"][0]["line"] == 3
    assert "source" in csv["errors"][0]["errors"]

    assert set(Response.objects.values_list("source", flat=True)) == {crm_source.pk}


def test_an_erased_customer_cannot_be_written(cx_client: APIClient) -> None:
    """Erasure freezes the record: even a CX manager's post is a 403 saying it was erased."""
    customer = CustomerFactory(external_id="C-1")
    cx_client.delete(f"{URL}{customer.pk}/")
    pseudonym = Customer.objects.get().external_id

    answer = cx_client.post(URL, {"external_id": pseudonym, "plan": "x"}, format="json")

    assert answer.status_code == 403
    assert "was erased" in answer.json()["errors"]["external_id"][0]
    assert Customer.objects.get().plan != "x"


def test_a_large_bulk_records_its_new_customers_as_the_keys(
    crm: tuple[APIClient, Any], organisation: Any
) -> None:
    """Past the small-batch threshold (PostgreSQL then COPYs) new customers still belong to
    the posting key's source."""
    client, crm_source = crm
    items = [feedback_item(external_id=f"r-{n}", customer_id=f"C-{n}") for n in range(30)]

    answer = client.post("/api/v1/feedback/bulk/", items, format="json")

    assert answer.json()["created"] == 30
    assert set(Customer.objects.values_list("source", flat=True)) == {crm_source.pk}
    assert Customer.objects.count() == 30
