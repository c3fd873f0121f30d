"""request_user: the typed actor that pages and API views hand to services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from cxhub.users import request_user
from tests.feedback.factories import viewer


@pytest.mark.django_db
def test_the_signed_in_user_is_the_actor() -> None:
    """A signed-in request yields its user, unchanged."""
    user = viewer()
    request = RequestFactory().get("/")
    request.user = user

    assert request_user(request) is user


def test_an_anonymous_request_is_refused_not_passed_on() -> None:
    """Without a signed-in user the view answers 403 instead of calling a service."""
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    with pytest.raises(PermissionDenied):
        request_user(request)
