"""Every feedback model has a working admin list with search and filters."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.feedback.factories import (
    AttributeFactory,
    CustomerFactory,
    ResponseFactory,
    SourceAPIKeyFactory,
    TouchpointFactory,
    UserFactory,
)

MODELS = [
    "department",
    "journey",
    "touchpoint",
    "source",
    "sourceapikey",
    "customer",
    "attribute",
    "response",
]


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS)
def test_admin_changelist_search_and_add_pages_load(client: Client, model: str) -> None:
    """Changelist (with a search and a filter), add page and change page answer 200."""
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    touchpoint = TouchpointFactory()
    AttributeFactory()
    SourceAPIKeyFactory()
    ResponseFactory(touchpoint=touchpoint, customer=CustomerFactory(), comment="slow <b>bill</b>")

    assert client.get(f"/admin/feedback/{model}/").status_code == 200
    assert client.get(f"/admin/feedback/{model}/?q=bill").status_code == 200
    assert client.get(f"/admin/feedback/{model}/add/").status_code == 200


@pytest.mark.django_db
def test_response_admin_filters(client: Client) -> None:
    """The response list filters by channel, NPS category, touchpoint and source."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = ResponseFactory(channel="phone", nps=2)
    page = client.get(
        "/admin/feedback/response/?channel__exact=phone&nps_category__exact=detractor"
    )
    assert page.status_code == 200
    assert response.external_id in page.content.decode()
    assert client.get(f"/admin/feedback/response/{response.pk}/change/").status_code == 200
