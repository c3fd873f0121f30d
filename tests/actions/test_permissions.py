"""Permission matrix: every role × every endpoint and page, own and other departments' objects.

Codes: 200/201 allowed, 403 seen but not allowed (or no role at all), 404 not visible.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from actions.models import ActionStatus
from tests.actions.conftest import Org
from tests.actions.factories import AlertFactory
from tests.feedback.factories import ResponseFactory, SourceAPIKeyFactory

ROLES = ["cx", "owner", "colleague", "outsider", "reader", "stranger"]

# Reads: list visibility (ids of own/other/shared) and detail codes per object.
VISIBLE = {
    "cx": {"own_action", "other_action", "shared_action"},
    "owner": {"own_action", "shared_action"},
    "colleague": {"own_action", "shared_action"},
    "outsider": {"other_action", "shared_action"},
    "reader": {"own_action", "shared_action"},
    "stranger": set(),
}


def _code_for_read(role: str, target: str) -> int:
    if role == "stranger":
        return 403
    return 200 if target in VISIBLE[role] else 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_list_shows_only_visible_actions(org: Org, api: Any, role: str) -> None:
    """The list holds exactly the actions the role may see (no role: 403)."""
    response = api(getattr(org, role)).get("/api/v1/actions/")
    if role == "stranger":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {getattr(org, name).pk for name in VISIBLE[role]}


READ_PATHS = [
    "/api/v1/actions/{id}/",
    "/api/v1/actions/{id}/updates/",
    "/api/v1/actions/{id}/history/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ["own_action", "other_action", "shared_action"])
@pytest.mark.parametrize("path", READ_PATHS)
def test_reads_are_404_for_what_one_may_not_see(
    org: Org, api: Any, role: str, target: str, path: str
) -> None:
    """Detail, updates and history answer 200 when visible, 404 when not."""
    action = getattr(org, target)
    response = api(getattr(org, role)).get(path.format(id=action.pk))
    assert response.status_code == _code_for_read(role, target)


# (transition, body, who may) on a proposed action; start/implement prepared separately.
WRITE_CASES = [
    ("accept", {}, {"owner"}),
    ("decline", {"reason": "Not ours."}, {"owner"}),
    ("cancel", {"reason": "Superseded."}, {"cx"}),
    ("reassign", "colleague", {"cx"}),
    ("updates", {"text": "Going well", "progress": 40}, {"owner", "cx"}),
    ("patch-description", {"description": "New plan"}, {"owner", "cx"}),
    ("patch-title", {"title": "New title"}, {"cx"}),
    ("start", {}, {"owner", "cx"}),
    ("implement", {"implemented_at": "2026-01-10"}, {"owner", "cx"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ["own_action", "other_action"])
@pytest.mark.parametrize("case", WRITE_CASES, ids=[c[0] for c in WRITE_CASES])
def test_writes_follow_the_matrix(org: Org, api: Any, role: str, target: str, case: Any) -> None:
    """Permitted roles succeed; visible-but-not-permitted get 403; invisible get 404."""
    name, body, allowed = case
    action = getattr(org, target)
    if name in {"updates", "start"}:
        action.status = ActionStatus.ACCEPTED
    if name == "implement":
        action.status = ActionStatus.IN_PROGRESS
    action.save()
    if target == "other_action" and "owner" in allowed:
        # In billing the owner is ``outsider``: map the matrix roles onto that department.
        allowed = {"outsider" if r == "owner" else r for r in allowed}
    if body == "colleague":
        body = {"owner": (org.colleague if target == "own_action" else org.owner).pk}
    client = api(getattr(org, role))
    if name.startswith("patch"):
        response = client.patch(f"/api/v1/actions/{action.pk}/", body, format="json")
    else:
        response = client.post(f"/api/v1/actions/{action.pk}/{name}/", body, format="json")
    if role in {"stranger", "reader"}:
        expected = 403  # a role that may never write is refused before any look-up
    elif target not in VISIBLE[role]:
        expected = 404
    elif role in allowed:
        expected = 201 if name == "updates" else 200
    else:
        expected = 403
    assert response.status_code == expected, response.content
    if expected == 403 and role != "stranger":
        assert response.json()["errors"]["non_field_errors"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_cx_managers_create_actions(org: Org, api: Any, role: str) -> None:
    """POST actions/ is the CX manager's; everyone else 403."""
    body = {"title": "New", "department": "support", "owner": org.owner.pk}
    response = api(getattr(org, role)).post("/api/v1/actions/", body, format="json")
    assert response.status_code == (201 if role == "cx" else 403)


@pytest.mark.django_db
def test_an_api_key_gets_403_everywhere(org: Org) -> None:
    """A source's API key opens nothing of the actions app."""
    key = SourceAPIKeyFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.plain_key}")
    assert client.get("/api/v1/actions/").status_code == 403
    assert client.get(f"/api/v1/actions/{org.own_action.pk}/").status_code == 403
    assert client.post(f"/api/v1/actions/{org.own_action.pk}/accept/").status_code == 403
    assert client.get("/api/v1/alerts/").status_code == 403
    assert client.post("/api/v1/actions/", {}, format="json").status_code == 403


@pytest.mark.django_db
def test_anonymous_api_access_is_refused(org: Org) -> None:
    """Without credentials nothing is readable."""
    assert APIClient().get("/api/v1/actions/").status_code in {401, 403}


def _alerts(org: Org) -> tuple[Any, Any]:
    support_alert = AlertFactory(response=ResponseFactory(touchpoint=org.desk, nps=1))
    from tests.feedback.factories import TouchpointFactory

    billing_point = TouchpointFactory(department=org.billing)
    billing_alert = AlertFactory(response=ResponseFactory(touchpoint=billing_point, nps=2))
    return support_alert, billing_alert


ALERT_VISIBLE = {
    "cx": {"support", "billing"},
    "owner": {"support"},
    "colleague": {"support"},
    "outsider": {"billing"},
    "reader": set(),
    "stranger": set(),
}


def _close_with_call() -> dict[str, Any]:
    called = timezone.now().isoformat()
    return {
        "note": "Called",
        "contact": {"contacted_at": called, "channel": "phone", "outcome": "resolved"},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_alerts_are_seen_and_handled_by_the_departments_managers(
    org: Org, api: Any, role: str
) -> None:
    """CX managers see all alerts, line managers their departments'; handling follows sight."""
    support_alert, billing_alert = _alerts(org)
    client = api(getattr(org, role))
    listing = client.get("/api/v1/alerts/")
    if role in {"stranger", "reader"}:
        assert listing.status_code == 403  # viewers see no alerts, and are told so
        return
    ids = {row["id"] for row in listing.json()["results"]}
    expected = {"support": support_alert.pk, "billing": billing_alert.pk}
    assert ids == {expected[name] for name in ALERT_VISIBLE[role]}
    for name, alert in (("support", support_alert), ("billing", billing_alert)):
        answer = client.post(
            f"/api/v1/alerts/{alert.pk}/handle/", _close_with_call(), format="json"
        )
        assert answer.status_code == (200 if name in ALERT_VISIBLE[role] else 404)


# --- Pages -------------------------------------------------------------------------------


def _page_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_pages_follow_the_same_matrix(org: Org, role: str) -> None:
    """Board, my actions, notifications: any role; detail 200/404; new action CX only; alerts managers."""
    client = _page_client(getattr(org, role))
    no_role = role == "stranger"
    assert client.get(reverse("actions:board")).status_code == (403 if no_role else 200)
    assert client.get(reverse("actions:mine")).status_code == (403 if no_role else 200)
    assert client.get(reverse("actions:notifications")).status_code == (403 if no_role else 200)
    assert client.get(reverse("actions:preferences")).status_code == (403 if no_role else 200)
    assert client.get(reverse("actions:alerts")).status_code == (
        403 if no_role or role == "reader" else 200
    )
    create_code = 200 if role == "cx" else 403
    assert client.get(reverse("actions:create")).status_code == create_code
    for target in ("own_action", "other_action", "shared_action"):
        action = getattr(org, target)
        code = client.get(reverse("actions:detail", args=[action.pk])).status_code
        assert code == _code_for_read(role, target)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ["own_action", "other_action"])
def test_page_accept_follows_the_matrix(org: Org, role: str, target: str) -> None:
    """The accept button works for the owner only; others 403, unseen 404."""
    action = getattr(org, target)
    owner_role = "owner" if target == "own_action" else "outsider"
    client = _page_client(getattr(org, role))
    response = client.post(reverse("actions:transition", args=[action.pk, "accept"]))
    if role in {"stranger", "reader"}:
        expected = 403  # a role that may never write is refused before any look-up
    elif target not in VISIBLE[role]:
        expected = 404
    elif role == owner_role:
        expected = 302
    else:
        expected = 403
    assert response.status_code == expected
    action.refresh_from_db()
    assert action.status == (ActionStatus.ACCEPTED if expected == 302 else ActionStatus.PROPOSED)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ["own_action", "other_action"])
def test_page_update_follows_the_matrix(org: Org, role: str, target: str) -> None:
    """Posting progress from a page: owner and CX manager only."""
    action = getattr(org, target)
    action.status = ActionStatus.IN_PROGRESS
    action.save()
    allowed = {"cx", "owner" if target == "own_action" else "outsider"}
    client = _page_client(getattr(org, role))
    response = client.post(
        reverse("actions:update", args=[action.pk]), {"progress": 50, "text": "Half"}
    )
    if role in {"stranger", "reader"}:
        expected = 403  # a role that may never write is refused before any look-up
    elif target not in VISIBLE[role]:
        expected = 404
    else:
        expected = 302 if role in allowed else 403
    assert response.status_code == expected
    assert action.updates.exists() == (expected == 302)


@pytest.mark.django_db
def test_pages_need_login(org: Org) -> None:
    """An anonymous visitor is sent to the login page."""
    response = Client().get(reverse("actions:board"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
