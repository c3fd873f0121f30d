"""Every ``next`` redirect stays on this site: actions, dashboards and the login."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from cxhub.redirects import safe_next_url
from tests.actions.factories import ActionFactory
from tests.feedback.factories import DepartmentFactory, line_manager, viewer

ELSEWHERE = [
    "//evil.example",
    "//evil.example/actions/mine/",
    "https://evil",
    "http://evil.example/",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "/\\evil.example",
    "ftp://testserver/",
]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_targets_off_the_site_fall_back(target: str) -> None:
    """Another host, a protocol-relative URL or another scheme gives the page's default."""
    request = RequestFactory().post("/comments/new/", {"next": target})

    assert safe_next_url(request, "/fallback/") == "/fallback/"


@pytest.mark.parametrize(
    "target", ["/actions/mine/", "/verbatims/?q=wait#response-3", "http://testserver/comments/"]
)
def test_targets_on_the_site_are_followed(target: str) -> None:
    """A path, or an absolute URL on the request's own host, is where the user goes back to."""
    assert safe_next_url(RequestFactory().post("/x/", {"next": target}), "/") == target
    assert safe_next_url(RequestFactory().get("/x/", {"next": target}), "/") == target


def test_an_http_target_is_refused_on_a_secure_request() -> None:
    """On https, an http link to the same host would downgrade the connection: refused."""
    request = RequestFactory().post("/x/", {"next": "http://testserver/"}, secure=True)

    assert safe_next_url(request, "/") == "/"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["//evil.example", "https://evil", "javascript:alert(1)"])
def test_action_pages_never_redirect_off_the_site(target: str) -> None:
    """Accepting an action with a foreign ``next`` returns to the action's own page."""
    owner = line_manager()
    action = ActionFactory(owner=owner, department=DepartmentFactory())
    response = _client(owner).post(
        reverse("actions:transition", args=[action.pk, "accept"]), {"next": target}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("actions:detail", args=[action.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["//evil.example", "https://evil", "javascript:alert(1)"])
def test_dashboard_comments_never_redirect_off_the_site(target: str) -> None:
    """Leaving a suggestion with a foreign ``next`` returns to the overview."""
    response = _client(viewer()).post(
        "/comments/new/", {"body": "Open at 8", "kind": "suggestion", "next": target}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["//evil.example", "https://evil", "javascript:alert(1)"])
def test_login_never_redirects_off_the_site(target: str) -> None:
    """After signing in with a foreign ``next`` the user lands on the home page, and the
    login form does not carry the foreign target along."""
    user = viewer()
    client = Client()
    form = client.get(reverse("login"), {"next": target}).content.decode()
    assert "evil" not in form and "javascript" not in form

    response = client.post(
        reverse("login"),
        {"username": user.username, "password": "correct-horse-battery", "next": target},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_login_returns_to_a_page_on_the_site() -> None:
    """The usual case still works: sign in from a deep link and land on it."""
    user = viewer()
    response = Client().post(
        reverse("login"),
        {"username": user.username, "password": "correct-horse-battery", "next": "/actions/mine/"},
    )

    assert response["Location"] == "/actions/mine/"
