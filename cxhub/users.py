"""The user a page or API call acts for, typed, so services can require a real ``User``."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in user of the request.

    Views that call services are behind a login, so an anonymous user here means a view
    lost its guard: it answers 403 instead of reaching a service with no actor.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in to do this.")
    return user
