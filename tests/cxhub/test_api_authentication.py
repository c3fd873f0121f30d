"""Every /api/v1/ route answers an anonymous call with 401 and a WWW-Authenticate scheme, as
docs/api.md promises, never 403; an API key where only people are served gets 403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.feedback.factories import SourceAPIKeyFactory

pytestmark = pytest.mark.django_db

SAMPLE = {"int": "1", "slug": "x", "str": "x", "path": "x"}


def _walk(patterns: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_calls() -> list[tuple[str, str]]:
    """``(method, path)`` of every method of every /api/v1/ route, converters filled in."""
    calls = []
    for route, callback in _walk(get_resolver().url_patterns, "/"):
        if not route.startswith("/api/v1/"):
            continue
        view = callback.cls
        path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
        calls.extend(
            (method.upper(), path)
            for method in view.http_method_names
            if method not in ("options", "head") and hasattr(view, method)
        )
    return sorted(set(calls))


CALLS = api_calls()


@pytest.fixture(autouse=True)
def _generous_rates(settings: Any) -> None:
    """This walk makes more anonymous calls than the default anonymous rate allows."""
    rates = {"anon": "10000/min", "user": "10000/min", "api_key": "10000/min"}
    rates["bad_credentials"] = "10000/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_the_walk_covers_the_api() -> None:
    """The route list is read from the URL configuration, so a new endpoint is in it."""
    assert len(CALLS) > 40
    assert ("POST", "/api/v1/feedback/") in CALLS


@pytest.mark.parametrize(("method", "path"), CALLS, ids=[f"{m} {p}" for m, p in CALLS])
def test_anonymous_calls_get_401_with_a_scheme(method: str, path: str) -> None:
    """Nobody signed in: 401, WWW-Authenticate naming how to authenticate, the error shape."""
    response = APIClient().generic(method, path, "{}", content_type="application/json")

    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] in {"Token", "Api-Key"}
    assert response.json()["errors"]["non_field_errors"]


PEOPLE_ONLY = [
    ("GET", "/api/v1/actions/"),
    ("GET", "/api/v1/notifications/"),
    ("GET", "/api/v1/analytics/topics/"),
    ("GET", "/api/v1/analytics/responses/1/tags/"),
    ("GET", "/api/v1/dashboard-comments/"),
    ("POST", "/api/v1/dashboard-comments/"),
]


@pytest.mark.parametrize(("method", "path"), PEOPLE_ONLY)
def test_an_api_key_is_refused_where_only_people_are_served(method: str, path: str) -> None:
    """A source's key on an endpoint for people: 403 saying so, not 'no credentials'."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {SourceAPIKeyFactory().plain_key}")

    response = client.generic(method, path, "{}", content_type="application/json")

    assert response.status_code == 403
    assert "API key" in response.json()["errors"]["non_field_errors"][0]
