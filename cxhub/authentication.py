"""The default first authenticator of the API: people only, and 401s that name a scheme.

Kept free of the apps' modules: DRF imports the default authenticators while its own
``rest_framework.views`` loads, before any app's models may be imported.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

# ``Authorization: Api-Key <key>``: how a source system authenticates (feedback.authentication).
API_KEY_KEYWORD = "Api-Key"


def names_api_key(request: Request) -> bool:
    """Whether the request's Authorization header carries an API key."""
    keyword, _, _ = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return keyword.lower() == API_KEY_KEYWORD.lower()


class PeopleOnlyAuthentication(authentication.BaseAuthentication):
    """First of the default authenticators, for the endpoints that serve people only.

    An API key sent there is refused with a 403 that says why (without looking the key up)
    instead of being ignored and answered as a missing login. Being first, it also gives
    anonymous calls their 401 with ``WWW-Authenticate: Token``: DRF answers 403 instead when
    the first authenticator names no scheme (as ``SessionAuthentication``).
    """

    def authenticate(self, request: Request) -> None:
        if names_api_key(request):
            raise exceptions.PermissionDenied(
                "An API key posts its source's data; this endpoint is for people "
                "(a session or 'Authorization: Token <token>')."
            )
        return None

    def authenticate_header(self, request: Request) -> str:
        return "Token"
