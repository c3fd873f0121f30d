"""Fixtures of the feedback tests: an organisation to post into, and clients per kind of caller."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.feedback.factories import (
    AttributeFactory,
    SourceAPIKeyFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
    viewer,
)


@pytest.fixture
def organisation(db: None) -> dict[str, Any]:
    """Two touchpoints in two departments and two declared rating attributes."""
    billing = TouchpointFactory(
        slug="billing-call", department__slug="billing", department__name="Billing"
    )
    web = TouchpointFactory(
        slug="web-checkout", department__slug="digital", department__name="Digital"
    )
    friendliness = AttributeFactory(slug="staff_friendliness", scale_min=1, scale_max=5)
    wait = AttributeFactory(slug="wait_time", scale_min=0, scale_max=10)
    return {"billing": billing, "web": web, "friendliness": friendliness, "wait": wait}


@pytest.fixture
def api_key(db: None) -> Any:
    return SourceAPIKeyFactory(source__name="survey-tool")


@pytest.fixture
def key_client(api_key: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.plain_key}")
    return client


def _client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def cx_client(db: None) -> APIClient:
    return _client_for(cx_manager())


@pytest.fixture
def viewer_client(db: None) -> APIClient:
    return _client_for(viewer())


@pytest.fixture
def line_manager_client(db: None) -> APIClient:
    return _client_for(line_manager())


def feedback_item(**overrides: Any) -> dict[str, Any]:
    """The design document's example response, with overrides."""
    item: dict[str, Any] = {
        "external_id": "resp-000123",
        "submitted_at": "2026-03-01T10:15:00Z",
        "customer_id": "C-42",
        "channel": "phone",
        "touchpoint": "billing-call",
        "nps": 3,
        "csat": 2,
        "ces": 6,
        "ratings": {"staff_friendliness": 4, "wait_time": 1},
        "comment": "Waited 40 minutes and the agent could not fix my bill.",
        "attributes": {"region": "north", "plan": "premium"},
    }
    item.update(overrides)
    return {key: value for key, value in item.items() if value is not ...}


@pytest.fixture
def story(
    key_client: APIClient, organisation: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> dict[str, Any]:
    """A customer whose comment was copied everywhere (see ``customer_story``)."""
    from tests.feedback.customer_story import customer_story_build

    return customer_story_build(key_client, organisation, django_capture_on_commit_callbacks)
