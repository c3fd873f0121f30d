from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from dashboards.models import DashboardComment
from tests.feedback.factories import DepartmentFactory, cx_manager, line_manager, viewer

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anyone_who_sees_a_dashboard_can_leave_a_suggestion() -> None:
    """A viewer posts a suggestion on the overview; it is stored with the view's filters."""
    user = viewer()
    response = _client(user).post(
        "/comments/new/",
        {
            "body": "Open the call centre at 8",
            "kind": "suggestion",
            "view_query": "channel=phone",
            "next": "/",
        },
    )
    assert response.status_code == 302
    comment = DashboardComment.objects.get()
    assert (comment.author, comment.kind, comment.department, comment.view_query) == (
        user,
        "suggestion",
        None,
        "channel=phone",
    )


def test_htmx_post_swaps_the_comment_list_and_escapes_text() -> None:
    """Posting with htmx returns the list with the new comment shown as text."""
    response = _client(viewer()).post(
        "/comments/new/",
        {"body": "<script>alert(1)</script>", "kind": "comment"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html


def test_empty_comment_is_a_readable_400() -> None:
    response = _client(viewer()).post("/comments/new/", {"body": "   "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Write something before posting." in response.content.decode()
    assert not DashboardComment.objects.exists()


def test_only_members_comment_on_a_department_dashboard() -> None:
    """A viewer outside the department cannot comment on its dashboard."""
    DepartmentFactory(slug="billing")
    response = _client(viewer()).post("/comments/new/", {"body": "hi", "department": "billing"})
    assert response.status_code == 403
    assert not DashboardComment.objects.exists()


def test_cx_managers_see_all_comments_and_can_turn_one_into_an_action() -> None:
    """The inbox lists every dashboard's suggestions with a link to the action form."""
    billing = DepartmentFactory(slug="billing", name="Billing")
    member = line_manager()
    billing.members.add(member)
    _client(member).post(
        "/comments/new/",
        {"body": "Send invoices earlier", "kind": "suggestion", "department": "billing"},
    )
    comment = DashboardComment.objects.get()
    manager = cx_manager()
    html = _client(manager).get("/comments/").content.decode()
    assert "Send invoices earlier" in html
    assert (
        f'name="kind" value="suggestion"><input type="hidden" name="reference" value="{comment.pk}"'
        in html
    )
    assert _client(viewer()).get("/comments/").status_code == 403
    response = _client(manager).post(f"/comments/{comment.pk}/status/", {"status": "actioned"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == "actioned" and comment.resolved_by == manager


def test_inbox_with_unknown_status_is_a_readable_400() -> None:
    response = _client(cx_manager()).get("/comments/?status=bogus")
    assert response.status_code == 400
    assert "Unknown status" in response.content.decode()


def test_comment_api_lists_visible_comments_and_validates() -> None:
    """The API posts and lists comments; bad input gets field errors, others' departments 403."""
    DepartmentFactory(slug="stores")
    client = APIClient()
    client.force_authenticate(viewer())
    created = client.post(
        "/api/v1/dashboard-comments/", {"body": "Nice trend", "kind": "comment"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["department"] is None
    bad = client.post("/api/v1/dashboard-comments/", {"body": "", "kind": "shout"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) >= {"body", "kind"}
    forbidden = client.post(
        "/api/v1/dashboard-comments/", {"body": "x", "department": "stores"}, format="json"
    )
    assert forbidden.status_code == 403
    listed = client.get("/api/v1/dashboard-comments/")
    assert [c["body"] for c in listed.json()["results"]] == ["Nice trend"]
    status = client.post(
        f"/api/v1/dashboard-comments/{created.json()['id']}/status/",
        {"status": "closed"},
        format="json",
    )
    assert status.status_code == 403
