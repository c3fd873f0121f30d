"""Erasing a customer: personal data and comment text go from every table, scores stay."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Avg, Count
from rest_framework.test import APIClient

from analytics.responses.cache import _MEMO, figures_generation
from analytics.text.models import ResponseAnalysis, TopicMention
from analytics.text.services import responses_tag
from feedback.models import Customer, CustomerErasure, Response
from tests.feedback.conftest import feedback_item
from tests.feedback.customer_story import COMMENT, CUSTOMER_ID, EMAIL, PLANTED, RECENT
from tests.feedback.factories import UserFactory


def _planted_anywhere() -> list[str]:
    """Every (table, value) whose text holds a planted string, over every column of every
    table in the database: the erasure's proof, whatever table a copy was made in."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    text = str(value).lower()
                    hits = [p for p in PLANTED if p.lower() in text]
                    if hits:
                        found.append(f"{table}: {str(value)[:120]} ({', '.join(hits)})")
    return found


def _figures() -> dict[str, Any]:
    """What erasure must not change: scores, categories, topics and sentiment counts."""
    return {
        "responses": list(
            Response.objects.order_by("id").values_list(
                "id", "nps", "csat", "ces", "nps_category", "touchpoint", "submitted_at", "ratings"
            )
        ),
        "nps": Response.objects.aggregate(Avg("nps"), Count("id")),
        "mentions": list(
            TopicMention.objects.values("topic").annotate(n=Count("id")).order_by("topic")
        ),
        "sentiment": list(
            ResponseAnalysis.objects.order_by("response").values_list("response", "sentiment")
        ),
        "customer": list(Customer.objects.values_list("segment", "region", "plan", "churned_at")),
    }


def test_erasure_leaves_no_trace_of_the_customer_and_keeps_the_scores(
    story: dict[str, Any], key_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    """DELETE by a CX manager: 204; no planted string in any table (history, notifications,
    evidence, snippets included); the same scores and topic counts; a log without personal
    data; and the figures cache no longer answers."""
    assert len(_planted_anywhere()) > 8
    before = _figures()
    generation = figures_generation()
    customer = Customer.objects.get(external_id=CUSTOMER_ID)
    client = APIClient()
    client.force_authenticate(story["cx"])

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.delete(f"/api/v1/customers/{customer.pk}/")

    assert answer.status_code == 204
    assert _planted_anywhere() == []
    assert _figures() == before
    customer.refresh_from_db()
    assert customer.external_id.startswith("erased-")
    assert (customer.annual_revenue, customer.cost_to_serve) == (None, None)
    assert customer.attributes == {"tenure_months": 26, "tier": "gold"}
    erasure = CustomerErasure.objects.get()
    assert (erasure.pseudonym, erasure.erased_by, erasure.via, erasure.responses) == (
        customer.external_id,
        story["cx"],
        "api",
        1,
    )
    other = Response.objects.get(external_id="resp-other")
    assert other.comment == "The agent fixed my bill quickly."
    assert figures_generation() != generation
    assert _MEMO == {}
    response = Response.objects.get(pk=story["response"].pk)
    assert (response.comment, response.attributes) == ("", {"region": "north"})

    # A re-post of the erased response is a conflict, not a new row (the source that sends
    # the customer's id again creates a new customer, though); retagging keeps the topics.
    responses_tag(response_ids=[response.pk])
    assert _figures() == before
    repost = key_client.post(
        "/api/v1/feedback/",
        feedback_item(
            external_id="resp-plant",
            submitted_at=RECENT,
            customer_id=CUSTOMER_ID,
            nps=2,
            comment=COMMENT,
            attributes={"region": "north", "email": EMAIL},
        ),
        format="json",
    )
    assert repost.status_code == 409
    assert Response.objects.count() == 2


def test_erasing_twice_changes_nothing(story: dict[str, Any]) -> None:
    """The second DELETE answers 204 and keeps the first pseudonym and log entry."""
    customer = Customer.objects.get(external_id=CUSTOMER_ID)
    client = APIClient()
    client.force_authenticate(story["cx"])
    assert client.delete(f"/api/v1/customers/{customer.pk}/").status_code == 204
    pseudonym = Customer.objects.get(pk=customer.pk).external_id
    assert client.delete(f"/api/v1/customers/{customer.pk}/").status_code == 204
    assert Customer.objects.get(pk=customer.pk).external_id == pseudonym
    assert CustomerErasure.objects.count() == 1


def test_only_cx_managers_and_administrators_erase(
    organisation: Any,
    key_client: APIClient,
    viewer_client: APIClient,
    line_manager_client: APIClient,
) -> None:
    """Nobody signed in: 401; keys, viewers, line managers, no role: 403; superuser: 204."""
    customer = Customer.objects.create(external_id="C-1")
    url = f"/api/v1/customers/{customer.pk}/"
    nobody = APIClient()
    no_role = APIClient()
    no_role.force_authenticate(UserFactory())
    admin = APIClient()
    admin.force_authenticate(UserFactory(is_superuser=True))

    assert nobody.delete(url).status_code == 401
    for client in (key_client, viewer_client, line_manager_client, no_role):
        answer = client.delete(url)
        assert answer.status_code == 403
        assert Customer.objects.get().erased_at is None
    assert "CX managers and administrators" in str(viewer_client.delete(url).json())
    assert admin.delete("/api/v1/customers/999999/").status_code == 404
    assert admin.delete(url).status_code == 204


def test_the_erase_command_erases_and_explains_unknown_ids(story: dict[str, Any]) -> None:
    """erase_customer prints the pseudonym; an unknown id or user is a readable error."""
    with pytest.raises(CommandError, match="No customer with external id 'C-NOPE'"):
        call_command("erase_customer", "C-NOPE")
    with pytest.raises(CommandError, match="No user called 'ghost'"):
        call_command("erase_customer", CUSTOMER_ID, "--by", "ghost")
    out = StringIO()

    call_command("erase_customer", CUSTOMER_ID, "--by", "cara", stdout=out, stderr=StringIO())

    erasure = CustomerErasure.objects.get()
    assert out.getvalue().strip() == erasure.pseudonym
    assert (erasure.via, erasure.erased_by) == ("command", story["cx"])
    assert not Customer.objects.filter(external_id=CUSTOMER_ID).exists()
    assert Response.objects.get(pk=story["response"].pk).comment == ""
