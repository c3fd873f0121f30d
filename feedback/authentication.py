"""``Authorization: Api-Key <key>``: a source system authenticates with one of its keys.

The request's ``user`` becomes a ``SourceClient`` (authenticated, but no person and no
roles) and ``request.auth`` the ``SourceAPIKey``; permissions decide what a source may do
(post its own data, read nothing).
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from cxhub.authentication import API_KEY_KEYWORD as KEYWORD
from feedback.models import Source, SourceAPIKey
from feedback.services import source_api_key_mark_used


class SourceClient:
    """The caller behind an API key: a source system, not a user."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    _cxhub_roles: set[str] = set()

    def __init__(self, source: Source, api_key: SourceAPIKey) -> None:
        self.source = source
        self.api_key = api_key
        self.pk = None
        self.id = None
        self._cxhub_roles = set()

    def __str__(self) -> str:
        return f"source:{self.source.name}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return False


class SourceAPIKeyAuthentication(authentication.BaseAuthentication):
    """Resolves ``Authorization: Api-Key <key>`` to its source; bad keys get a clear 401."""

    def authenticate(self, request: Request) -> tuple[SourceClient, SourceAPIKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, key = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed(
                "Invalid API key header: use 'Authorization: Api-Key <key>'."
            )
        prefix, dot, _ = key.partition(".")
        api_key = (
            SourceAPIKey.objects.select_related("source").filter(prefix=prefix).first()
            if dot
            else None
        )
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if api_key.revoked:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not api_key.source.is_active:
            raise exceptions.AuthenticationFailed(
                f"The source {api_key.source.name!r} is inactive."
            )
        source_api_key_mark_used(api_key=api_key)
        return SourceClient(api_key.source, api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


def request_source(request: Request) -> Source | None:
    """The source whose API key authenticated this request, or None for a user."""
    return request.user.source if isinstance(request.user, SourceClient) else None
