"""A database or broker outage answers 503 with Retry-After: JSON to API clients, the plain
error page to people; nothing half-stored (cxhub.unavailable)."""

from __future__ import annotations

from typing import Any

import kombu.exceptions
import pytest
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from actions import selectors as action_selectors
from cxhub.unavailable import unavailable_response
from feedback import selectors as feedback_selectors
from feedback import services as feedback_services
from feedback.models import Response
from tests.feedback.factories import SourceAPIKeyFactory, cx_manager


@pytest.fixture
def cx_client(db: None) -> APIClient:
    client = APIClient()
    client.force_authenticate(cx_manager())
    return client


@pytest.fixture
def key_client(db: None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {SourceAPIKeyFactory().plain_key}")
    return client


OUTAGES = [
    OperationalError("could not connect to server"),
    InterfaceError("connection already closed"),
    kombu.exceptions.OperationalError("Error 111 connecting to redis:6379"),
    redis.exceptions.ConnectionError("Connection refused"),
]


def _raise(error: Exception) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fail


def _assert_json_503(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "unavailable"
    assert "try again in 30 seconds" in body["detail"]
    assert body["errors"] == {"non_field_errors": [body["detail"]]}


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: type(e).__module__.split(".")[0])
def test_an_api_read_during_an_outage_is_json_503(
    cx_client: APIClient, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    monkeypatch.setattr(feedback_selectors, "responses_list", _raise(error))

    _assert_json_503(cx_client.get("/api/v1/feedback/"))


def test_a_bulk_post_cut_off_mid_write_stores_nothing_and_its_retry_stores_all(
    key_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows were written, then the database failed inside the transaction: 503, none
    of them kept, and the client's retry stores every item exactly once."""
    items = [
        {"external_id": f"cut-{n}", "submitted_at": "2026-03-01T10:00:00Z", "nps": n}
        for n in range(3)
    ]
    real_insert = feedback_services._insert_rows_generic

    def insert_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_insert(*args, **kwargs)
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(feedback_services, "_insert_rows_generic", insert_then_fail)
    cut_off = key_client.post("/api/v1/feedback/bulk/", items, format="json")
    stored_during_outage = Response.objects.filter(external_id__startswith="cut-").count()
    monkeypatch.setattr(feedback_services, "_insert_rows_generic", real_insert)
    retried = key_client.post("/api/v1/feedback/bulk/", items, format="json")

    _assert_json_503(cut_off)
    assert stored_during_outage == 0
    assert retried.status_code in (200, 201), retried.content
    assert Response.objects.filter(external_id__startswith="cut-").count() == 3


@pytest.mark.django_db
def test_a_failure_before_the_view_is_json_503_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throttling middleware meets a dead cache before any view runs: still 503 JSON
    (through handler500), not Django's HTML 500 page."""
    from cxhub import throttling

    monkeypatch.setattr(
        throttling.AnonymousThrottle,
        "wait_if_blocked",
        _raise(redis.exceptions.ConnectionError("cache down")),
    )

    _assert_json_503(Client(raise_request_exception=False).get("/api/v1/feedback/"))


@pytest.mark.django_db
def test_a_page_during_an_outage_is_the_503_page(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    client.force_login(cx_manager())
    monkeypatch.setattr(
        action_selectors, "notification_list", _raise(OperationalError("server closed"))
    )

    page = client.get("/notifications/")

    assert page.status_code == 503
    assert page["Retry-After"] == "30"
    html = page.content.decode()
    assert "Unavailable for a moment" in html
    assert "Try again in 30 seconds" in html
    assert "cxhub.css" in html  # the product's layout


@pytest.mark.django_db(databases=[])  # any database access in this test is an error
def test_the_503_page_renders_without_the_database() -> None:
    """The page is rendered from no request context: no session, user or role lookup."""
    request = RequestFactory().get("/departments/x/")

    page = unavailable_response(request, OperationalError("down"))

    assert page.status_code == 503
    assert "Unavailable for a moment" in page.content.decode()


@pytest.mark.django_db(databases=[])
def test_the_503_page_falls_back_to_plain_words_when_its_template_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A template that cannot render (a missing static manifest) still gives a 503, not a 500."""
    from cxhub import unavailable

    monkeypatch.setattr(unavailable.loader, "get_template", _raise(ValueError("no manifest")))

    page = unavailable_response(RequestFactory().get("/"), OperationalError("down"))

    assert page.status_code == 503
    assert page["Retry-After"] == "30"
    assert "try again in 30 seconds" in page.content.decode()
