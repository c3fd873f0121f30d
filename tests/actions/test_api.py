"""The actions API: creation from insights with evidence snapshots, edits, transitions, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from actions.models import Action, ActionStatus, InsightKind
from tests.actions.conftest import Org
from tests.actions.factories import ActionUpdateFactory
from tests.feedback.factories import AttributeFactory, CustomerFactory, ResponseFactory


def _create(api: Any, org: Org, **extra: Any) -> Any:
    body = {"title": "Cut waiting time", "department": "support", "owner": org.owner.pk, **extra}
    return api(org.cx).post("/api/v1/actions/", body, format="json")


@pytest.mark.django_db
def test_create_from_a_driver_keeps_a_readable_evidence_snapshot(org: Org, api: Any) -> None:
    """Driver figures become a summary like 'wait time: 24% of explained NPS variance, …'."""
    AttributeFactory(slug="wait_time", label="Wait time", scale_max=5)
    response = _create(
        api,
        org,
        insight_kind="driver",
        evidence={
            "reference": "wait_time",
            "figures": {"share": 0.24, "performance": 2.1, "comments": 1240, "sentiment": -0.6},
        },
        due_date=(timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        cost_estimate="12500.00",
        currency="gbp",
        target_kpis=[{"kpi": "churn-rate", "expected_change": -0.5, "unit": "pp"}],
        scope_touchpoints=["help-desk"],
        scope_attributes={"region": ["north"]},
        control_attributes={"region": "south"},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "proposed"
    assert data["allowed_transitions"] == ["accept", "decline", "cancel", "reassign"]
    assert data["evidence"]["summary"] == (
        "wait time: 24% of explained NPS variance, performance 2.1/5, 1,240 comments, sentiment −0.6"
    )
    assert data["currency"] == "GBP"
    assert data["cost_estimate"] == "12500.00"
    assert data["scope_touchpoints"] == ["help-desk"]
    assert data["control_attributes"] == {"region": ["south"]}
    assert data["target_kpis"] == [{"kpi": "churn-rate", "expected_change": -0.5, "unit": "pp"}]
    assert data["owner"]["username"] == "liam" and data["created_by"]["username"] == "cara"


@pytest.mark.django_db
def test_create_from_a_touchpoint_computes_its_recent_figures(org: Org, api: Any) -> None:
    """Touchpoint evidence counts its last 90 days of feedback, whatever the client sends."""
    now = timezone.now()
    for nps in (10, 9, 3, 2, 8):
        ResponseFactory(
            touchpoint=org.desk, nps=nps, submitted_at=now - dt.timedelta(days=5), comment="x"
        )
    ResponseFactory(touchpoint=org.desk, nps=0, submitted_at=now - dt.timedelta(days=200))
    response = _create(
        api,
        org,
        insight_kind="touchpoint",
        evidence={"reference": "help-desk", "figures": {"share": 0.9}},
    )
    assert response.status_code == 201, response.content
    evidence = response.json()["evidence"]
    figures = {f["name"]: f["value"] for f in evidence["figures"]}
    assert figures["responses"] == 5
    assert figures["NPS"] == 0.0  # (2 promoters − 2 detractors) / 5
    assert figures["comments"] == 5
    assert evidence["label"] == "Help desk call"


@pytest.mark.django_db
def test_create_from_a_verbatim_keeps_the_words_and_the_customer(org: Org, api: Any) -> None:
    """A response's comment, score and customer are frozen into the action."""
    customer = CustomerFactory(external_id="C-42")
    verbatim = ResponseFactory(
        touchpoint=org.desk, customer=customer, nps=2, comment="Waited 40 minutes <b>again</b>."
    )
    response = _create(api, org, insight_kind="response", evidence={"reference": str(verbatim.pk)})
    assert response.status_code == 201, response.content
    evidence = response.json()["evidence"]
    assert evidence["verbatim"] == "Waited 40 minutes <b>again</b>."
    assert evidence["customer"] == "C-42"
    assert response.json()["source_response"] == verbatim.pk
    verbatim.comment = "changed later"
    verbatim.save()
    action = Action.objects.get(pk=response.json()["id"])
    assert action.evidence["verbatim"] == "Waited 40 minutes <b>again</b>."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"title": ""}, "title"),
        ({"owner": 999999}, "owner"),
        ({"department": "nope"}, "department"),
        ({"due_date": "2000-01-01"}, "due_date"),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"cost_estimate": "-5"}, "cost_estimate"),
        ({"cost_estimate": "NaN"}, "cost_estimate"),
        ({"currency": "euro"}, "currency"),
        ({"target_kpis": [{"kpi": "churn rate!", "expected_change": 1}]}, "target_kpis"),
        ({"target_kpis": [{"kpi": "churn", "expected_change": "lots"}]}, "target_kpis"),
        ({"target_kpis": "churn"}, "target_kpis"),
        ({"scope_attributes": ["north"]}, "scope_attributes"),
        ({"scope_attributes": {"region": []}}, "scope_attributes"),
        ({"scope_touchpoints": ["nowhere"]}, "scope_touchpoints"),
        ({"insight_kind": "hunch"}, "insight_kind"),
        ({"insight_kind": "touchpoint", "evidence": {"reference": "nowhere"}}, "evidence"),
        ({"insight_kind": "response", "evidence": {"reference": "abc"}}, "evidence"),
        ({"insight_kind": "driver", "evidence": {"reference": ""}}, "evidence"),
        (
            {
                "insight_kind": "driver",
                "evidence": {"reference": "x", "figures": {"share": "a lot"}},
            },
            "evidence",
        ),
        (
            {"insight_kind": "driver", "evidence": {"reference": "x", "figures": {"share": 7}}},
            "evidence",
        ),
        ({"evidence": "not an object"}, "evidence"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(org: Org, api: Any, extra: dict, field: str) -> None:
    """Each invalid field answers 400 with a message under that field; nothing is stored."""
    before = Action.objects.count()
    response = _create(api, org, **extra)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Action.objects.count() == before


@pytest.mark.django_db
def test_owner_must_be_a_line_manager(org: Org, api: Any) -> None:
    """Proposing an action to a viewer is refused."""
    response = _create(api, org, owner=org.reader.pk)
    assert response.status_code == 400
    assert "owner" in response.json()["errors"]


@pytest.mark.django_db
def test_garbage_bodies_never_give_a_500(org: Org, api: Any) -> None:
    """Lists, strings and nulls where objects belong are 400s."""
    client = api(org.cx)
    for body in ([], "x", None, {"title": None}, {"title": ["a"]}):
        assert client.post("/api/v1/actions/", body, format="json").status_code == 400
    action = org.own_action
    for body in (
        [],
        {"progress": 101},
        {"progress": "half"},
        {"owner": org.colleague.pk},
        {"status": "measured"},
    ):
        assert client.patch(f"/api/v1/actions/{action.pk}/", body, format="json").status_code == 400
    # Declining is the owner's step (a CX manager is refused before the body is read).
    assert (
        api(org.owner)
        .post(f"/api/v1/actions/{action.pk}/decline/", {"reason": ""}, format="json")
        .status_code
        == 400
    )
    assert (
        client.post(
            f"/api/v1/actions/{action.pk}/reassign/", {"owner": "x"}, format="json"
        ).status_code
        == 400
    )
    action.status = ActionStatus.IN_PROGRESS
    action.save()
    for date in ("soon", "", None):
        answer = client.post(
            f"/api/v1/actions/{action.pk}/implement/", {"implemented_at": date}, format="json"
        )
        assert answer.status_code == 400
    assert client.get("/api/v1/actions/?status=sleeping").status_code == 400
    assert client.get("/api/v1/actions/?overdue=maybe").status_code == 400
    assert client.get("/api/v1/alerts/?status=sleeping").status_code == 400


@pytest.mark.django_db
def test_invalid_transition_is_a_400_listing_the_allowed_ones(org: Org, api: Any) -> None:
    """Starting a proposed action says what is possible from proposed."""
    response = api(org.owner).post(f"/api/v1/actions/{org.own_action.pk}/start/")
    assert response.status_code == 400
    message = response.json()["errors"]["status"][0]
    assert message == (
        "Cannot start an action that is proposed. "
        "Allowed from proposed: accept, decline, cancel, reassign."
    )


@pytest.mark.django_db
def test_owner_walks_an_action_to_implemented(org: Org, api: Any) -> None:
    """Accept, post progress (which starts it), implement: the detail shows each step."""
    client = api(org.owner)
    url = f"/api/v1/actions/{org.own_action.pk}/"
    assert client.post(url + "accept/").json()["status"] == "accepted"
    posted = client.post(url + "updates/", {"text": "New rota live", "progress": 60}, format="json")
    assert posted.status_code == 201
    assert posted.json()["author"]["username"] == "liam"
    assert client.get(url).json()["status"] == "in_progress"
    assert client.get(url).json()["progress"] == 60
    today = timezone.localdate().isoformat()
    done = client.post(url + "implement/", {"implemented_at": today}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["implemented_at"]) == ("implemented", today)
    timeline = client.get(url + "updates/").json()["results"]
    assert [u["text"] for u in timeline] == ["New rota live"]
    history = client.get(url + "history/").json()
    assert history[0]["user"] == "liam"
    assert history[-1]["type"] == "created"


@pytest.mark.django_db
def test_owner_edits_description_and_progress_but_not_the_due_date(org: Org, api: Any) -> None:
    """PATCH by the owner: description/progress yes, anything else 403."""
    client = api(org.owner)
    url = f"/api/v1/actions/{org.own_action.pk}/"
    response = client.patch(url, {"description": "Plan B", "progress": 10}, format="json")
    assert response.status_code == 200
    assert (response.json()["description"], response.json()["progress"]) == ("Plan B", 10)
    assert client.patch(url, {"due_date": "2030-01-01"}, format="json").status_code == 403


@pytest.mark.django_db
def test_cx_manager_edits_scope_and_kpis(org: Org, api: Any) -> None:
    """PATCH by a CX manager changes scope M2M and target KPIs."""
    url = f"/api/v1/actions/{org.own_action.pk}/"
    response = api(org.cx).patch(
        url,
        {
            "scope_touchpoints": ["help-desk"],
            "target_kpis": [{"kpi": "cost-to-serve", "expected_change": -3, "unit": "%"}],
            "cross_department": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope_touchpoints"] == ["help-desk"]
    assert response.json()["target_kpis"][0]["kpi"] == "cost-to-serve"
    assert response.json()["cross_department"] is True


@pytest.mark.django_db
def test_list_filters_by_status_department_owner_and_overdue(org: Org, api: Any) -> None:
    """Each filter narrows the list; overdue means open and past due."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Action.objects.filter(pk=org.own_action.pk).update(due_date=yesterday)
    Action.objects.filter(pk=org.other_action.pk).update(
        due_date=yesterday, status=ActionStatus.IMPLEMENTED, implemented_at=yesterday
    )
    client = api(org.cx)

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/actions/?{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids("status=implemented") == {org.other_action.pk}
    assert ids("department=support") == {org.own_action.pk}
    assert ids(f"owner={org.outsider.pk}") == {org.other_action.pk, org.shared_action.pk}
    assert ids("overdue=true") == {org.own_action.pk}
    assert org.own_action.pk not in ids("overdue=false")
    row = client.get(f"/api/v1/actions/{org.own_action.pk}/").json()
    assert row["is_overdue"] is True


@pytest.mark.django_db
def test_alert_becomes_an_action_with_the_verbatim_as_evidence(org: Org, api: Any) -> None:
    """Creating with ``alert`` closes the alert as actioned and links it."""
    from tests.actions.factories import AlertFactory

    alert = AlertFactory(response=ResponseFactory(touchpoint=org.desk, nps=1, comment="Rude agent"))
    response = _create(api, org, alert=alert.pk)
    assert response.status_code == 201, response.content
    assert response.json()["insight_kind"] == InsightKind.RESPONSE
    assert response.json()["evidence"]["verbatim"] == "Rude agent"
    alert.refresh_from_db()
    assert alert.status == "actioned" and alert.action_id == response.json()["id"]
    assert _create(api, org, alert=alert.pk).status_code == 400


@pytest.mark.django_db
def test_alert_action_saying_insight_kind_response_takes_the_alerts_verbatim(
    org: Org, api: Any
) -> None:
    """``"insight_kind": "response"`` with an ``alert`` needs no reference: the alert gives it."""
    from tests.actions.factories import AlertFactory

    alert = AlertFactory(response=ResponseFactory(touchpoint=org.desk, nps=2, comment="No reply"))
    response = _create(api, org, alert=alert.pk, insight_kind=InsightKind.RESPONSE)
    assert response.status_code == 201, response.content
    assert response.json()["evidence"]["verbatim"] == "No reply"


@pytest.mark.django_db
def test_updates_list_is_paginated_newest_first(org: Org, api: Any) -> None:
    """The timeline returns updates newest first."""
    first = ActionUpdateFactory(action=org.own_action, text="first")
    second = ActionUpdateFactory(action=org.own_action, text="second")
    rows = api(org.reader).get(f"/api/v1/actions/{org.own_action.pk}/updates/").json()["results"]
    assert [r["id"] for r in rows] == [second.pk, first.pk]


@pytest.mark.django_db
def test_openapi_schema_documents_the_actions_endpoints(org: Org, api: Any) -> None:
    """The schema lists the action and alert paths."""
    schema = api(org.cx).get("/api/schema/?format=json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/actions/{action_id}/accept/", "/api/v1/alerts/{alert_id}/handle/"):
        assert path in text
