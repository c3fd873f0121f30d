"""Refusals and missing pages are pages of the product: the layout, the reason, a way on."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cxhub.access import MANAGERS_ONLY, ROLE_NEEDED
from tests.feedback.factories import viewer

pytestmark = pytest.mark.django_db


def test_a_refused_page_says_why_inside_the_layout() -> None:
    client = Client()
    client.force_login(viewer())
    response = client.get("/alerts/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "Not available to you" in body
    assert MANAGERS_ONLY.replace("'", "&#x27;") in body
    assert 'href="/"' in body  # the way back; the nav is there too
    assert "<nav" in body


def test_a_user_without_a_role_is_told_what_they_need() -> None:
    client = Client()
    client.force_login(get_user_model().objects.create_user("nobody", password="x"))
    response = client.get("/")
    assert response.status_code == 403
    assert ROLE_NEEDED in response.content.decode()


def test_a_missing_page_is_a_page_of_the_product() -> None:
    client = Client()
    client.force_login(viewer())
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not found" in body and "<nav" in body
