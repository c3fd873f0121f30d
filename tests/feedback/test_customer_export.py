"""Export of everything stored about one customer: API and command answer the same JSON."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from feedback.models import Customer
from tests.feedback.customer_story import COMMENT, CUSTOMER_ID
from tests.feedback.factories import UserFactory


def _export(user: Any, customer: Customer) -> Any:
    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/api/v1/customers/{customer.pk}/export/")


def test_the_export_holds_the_record_responses_topics_alerts_and_actions(
    story: dict[str, Any],
) -> None:
    """A CX manager's export: the customer with revenue and attributes, the response with
    ratings and comment, its topics, tag corrections, alert and the action made from it."""
    customer = Customer.objects.get(external_id=CUSTOMER_ID)

    answer = _export(story["cx"], customer)

    assert answer.status_code == 200
    data = answer.json()
    assert data["customer"]["external_id"] == CUSTOMER_ID
    assert data["customer"]["annual_revenue"] == "1200.00"
    assert data["customer"]["attributes"]["tenure_months"] == 26
    [response] = data["responses"]
    assert (response["comment"], response["nps"]) == (COMMENT, 2)
    assert response["ratings"] == {"staff_friendliness": 4, "wait_time": 1}
    assert {t["topic"] for t in data["topics"]} >= {story["mention_topic"].slug}
    assert all(t["response_id"] == response["id"] for t in data["topics"])
    assert data["tag_corrections"][0]["note"].startswith("Zorblaxian")
    assert data["text_analysis"][0]["response_id"] == response["id"]
    [alert] = data["alerts"]
    assert (alert["response_id"], alert["action_id"]) == (response["id"], story["action"].pk)
    [action] = data["actions"]
    assert action["id"] == story["action"].pk
    assert action["evidence"]["verbatim"] == COMMENT


def test_the_command_writes_the_same_json(story: dict[str, Any]) -> None:
    """export_customer prints what the API answers; an unknown id is a readable error."""
    customer = Customer.objects.get(external_id=CUSTOMER_ID)
    out = StringIO()
    call_command("export_customer", CUSTOMER_ID, stdout=out)
    assert json.loads(out.getvalue()) == _export(story["cx"], customer).json()
    with pytest.raises(CommandError, match="No customer with external id 'C-NOPE'"):
        call_command("export_customer", "C-NOPE")


def test_only_cx_managers_and_administrators_export(
    organisation: Any,
    key_client: APIClient,
    viewer_client: APIClient,
    line_manager_client: APIClient,
) -> None:
    """Nobody signed in: 401; keys, viewers, line managers, no role: 403; unknown id: 404."""
    customer = Customer.objects.create(external_id="C-1")
    url = f"/api/v1/customers/{customer.pk}/export/"
    no_role = APIClient()
    no_role.force_authenticate(UserFactory())

    assert APIClient().get(url).status_code == 401
    for client in (key_client, viewer_client, line_manager_client, no_role):
        assert client.get(url).status_code == 403
    admin = UserFactory(is_superuser=True)
    assert _export(admin, customer).json()["responses"] == []
    other = APIClient()
    other.force_authenticate(admin)
    assert other.get("/api/v1/customers/999999/export/").status_code == 404
