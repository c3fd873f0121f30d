"""Create action from any insight: the server builds the evidence, the action keeps it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from actions.models import Action, Alert, AlertStatus, EvidenceDraft
from analytics.models import AnalysisRun, ResponseAnalysis
from analytics.text.services import topic_impact_compute
from dashboards.models import DashboardComment
from tests.dashboards.factories import plant_responses, plant_topic, tag
from tests.feedback.factories import (
    AttributeFactory,
    DepartmentFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
    viewer,
)

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _analysed(responses: list[Any], sentiment: float) -> None:
    label = "negative" if sentiment < -0.05 else "positive" if sentiment > 0.05 else "neutral"
    for response in responses:
        ResponseAnalysis.objects.create(
            response=response,
            language="en",
            sentiment=sentiment,
            sentiment_label=label,
            analysed_at=timezone.now(),
            taxonomy_version="test",
        )


@pytest.fixture
def desk() -> Any:
    support = DepartmentFactory(name="Customer support", slug="support")
    return TouchpointFactory(name="Help desk", slug="help-desk", department=support)


@pytest.fixture
def waits(desk: Any) -> dict[str, Any]:
    """40 detractors complaining about the wait, 40 promoters without; a topic impact run."""
    topic = plant_topic()
    angry = plant_responses(touchpoint=desk, nps_values=[2] * 40, comment="I waited an hour")
    happy = plant_responses(touchpoint=desk, nps_values=[10] * 40, comment="Lovely staff")
    _analysed(angry, -0.8)
    _analysed(happy, 0.7)
    for response in angry:
        tag(response, topic, -0.8)
    parameters = {"outcome": "nps", "filters": {}}
    run = AnalysisRun.objects.create(
        kind=AnalysisRun.Kind.TOPIC_IMPACT,
        status=AnalysisRun.Status.SUCCEEDED,
        parameters=parameters,
        finished_at=timezone.now(),
        result=topic_impact_compute(parameters=parameters),
    )
    return {"topic": topic, "run": run, "angry": angry}


def _draft_from(client: Client, **data: Any) -> EvidenceDraft:
    response = client.post("/evidence/new/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    match = re.search(r"/actions/new/\?evidence=(\d+)$", response["Location"])
    assert match, response["Location"]
    return EvidenceDraft.objects.get(pk=int(match.group(1)))


def _create(client: Client, draft: EvidenceDraft, owner: Any, **extra: Any) -> Action:
    response = client.post(
        "/actions/new/",
        {
            "title": "Answer faster",
            "department": "support",
            "owner": owner.pk,
            "currency": "EUR",
            "evidence": draft.pk,
            **extra,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Action.objects.get(title="Answer faster")


def test_a_topic_action_keeps_the_servers_figure_run_and_negative_quotes(
    waits: dict[str, Any],
) -> None:
    """From a topic the server takes the NPS impact with its interval from the latest topic
    impact run, the mentions in the window and the most negative mentions as quotes; the
    form shows them and the created action keeps the snapshot and the run id."""
    cx, owner = cx_manager(), line_manager()
    client = _client(cx)
    draft = _draft_from(client, kind="topic", reference="wait-time")
    page = client.get(f"/actions/new/?evidence={draft.pk}").content.decode()
    assert "Wait time costs about" in page
    assert "95% interval" in page
    assert f"Topic impact #{waits['run'].pk}" in page
    assert "I waited an hour" in page and "Lovely staff" not in page
    assert 'value="Fix what customers say about wait time"' in page

    action = _create(client, draft, owner)
    assert action.evidence == EvidenceDraft.objects.get(pk=draft.pk).snapshot
    assert action.evidence_run_id == waits["run"].pk
    assert action.insight_kind == "topic"
    impact = next(f for f in action.evidence["figures"] if f["name"] == "NPS impact")
    expected = next(t for t in waits["run"].result["topics"] if t["slug"] == "wait-time")
    assert impact["value"] == pytest.approx(expected["impact"])
    assert [impact["low"], impact["high"]] == pytest.approx(expected["interval"])
    assert impact["value"] < 0 and impact["low"] < impact["value"] < impact["high"]


def test_figures_in_the_address_bar_change_nothing() -> None:
    """The old link /actions/new/?from=driver&slug=…&share=0.99 is sent through the server's
    builder: the form shows the run's 70% (60–80%), never 99%, and a posted share is ignored."""
    AttributeFactory(slug="wait_time", label="Wait time", scale_max=5)
    run = AnalysisRun.objects.create(
        kind=AnalysisRun.Kind.DRIVERS,
        status=AnalysisRun.Status.SUCCEEDED,
        parameters={"outcome": "nps", "filters": {}},
        finished_at=timezone.now(),
        result={
            "drivers": [
                {
                    "slug": "wait_time",
                    "label": "Wait time",
                    "share": 0.7,
                    "share_interval": [0.6, 0.8],
                    "performance": 30.0,
                    "rank": 1,
                    "rank_interval": [1, 2],
                }
            ]
        },
    )
    DepartmentFactory(slug="support")
    cx, owner = cx_manager(), line_manager()
    client = _client(cx)
    response = client.get(
        "/actions/new/?from=driver&slug=wait_time&share=0.99&performance=4.9", follow=True
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "70% (60–80%) of the explained NPS variance" in page
    assert "99%" not in page and "4.9" not in page
    draft = EvidenceDraft.objects.get()
    assert draft.created_by == cx and draft.run_id == run.pk
    action = _create(
        client,
        draft,
        owner,
        share="0.99",
        evidence_figures='{"share": 0.99}',
        insight_kind="scratch",
        evidence_reference="other",
    )
    assert action.evidence["figures"][0]["value"] == 0.7
    assert action.evidence["figures"][0]["display"].startswith("70% (60–80%)")
    assert action.insight_kind == "driver" and action.evidence_run_id == run.pk


def test_an_evidence_draft_is_its_builders_alone(waits: dict[str, Any]) -> None:
    """Another CX manager cannot open or use someone's draft (404 / refused on the form)."""
    owner = line_manager()
    draft = _draft_from(_client(cx_manager()), kind="topic", reference="wait-time")
    other = _client(cx_manager(username="other-cx"))
    assert other.get(f"/actions/new/?evidence={draft.pk}").status_code == 404
    assert other.get("/actions/new/?evidence=abc").status_code == 404
    response = other.post(
        "/actions/new/",
        {
            "title": "Sneaky",
            "department": "support",
            "owner": owner.pk,
            "currency": "EUR",
            "evidence": draft.pk,
        },
    )
    assert response.status_code == 404
    assert not Action.objects.filter(title="Sneaky").exists()


def test_only_those_who_may_create_actions_build_evidence_or_see_the_buttons(
    waits: dict[str, Any],
) -> None:
    """Line managers and viewers get 403 from the builder and no "Create action" on the
    topic pages; the CX manager sees it."""
    for user in (line_manager(), viewer()):
        client = _client(user)
        assert (
            client.post("/evidence/new/", {"kind": "topic", "reference": "wait-time"}).status_code
            == 403
        )
        assert "Create action" not in client.get("/topics/").content.decode()
    cx = _client(cx_manager())
    assert "Create action" in cx.get("/topics/").content.decode()
    assert "Create action on this topic" in cx.get("/topics/wait-time/").content.decode()
    assert EvidenceDraft.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "feeling", "reference": "x"}, "kind"),
        ({"kind": "topic", "reference": ""}, "reference"),
        ({"kind": "response", "reference": "12abc"}, "reference"),
        ({"kind": "driver", "reference": "wait_time"}, "reference"),
        ({"kind": "driver", "reference": "wait_time", "outcome": "joy"}, "outcome"),
    ],
)
def test_bad_insight_names_get_a_400_with_the_field(data: dict[str, str], field: str) -> None:
    """A made-up kind, a missing or malformed reference, a driver without an analysis: 400
    with the field's message, nothing stored."""
    response = _client(cx_manager()).post("/evidence/new/", data)
    assert response.status_code == 400
    assert f"{field}:" in response.content.decode()
    assert EvidenceDraft.objects.count() == 0


def test_unknown_insights_are_404(desk: Any) -> None:
    """An unknown topic, touchpoint, response, alert or suggestion is a 404."""
    client = _client(cx_manager())
    for kind, reference in (
        ("topic", "nothing"),
        ("touchpoint", "nowhere"),
        ("response", "999999"),
        ("alert", "999999"),
        ("suggestion", "999999"),
    ):
        assert (
            client.post("/evidence/new/", {"kind": kind, "reference": reference}).status_code == 404
        )


def test_a_touchpoint_action_has_its_nps_interval_department_and_scope(
    waits: dict[str, Any],
) -> None:
    """From a touchpoint row: NPS with its interval in the window, its most negative
    comments, and the form preselects its department and the touchpoint as scope."""
    client = _client(cx_manager())
    draft = _draft_from(client, kind="touchpoint", reference="help-desk")
    nps = next(f for f in draft.snapshot["figures"] if f["name"] == "NPS")
    assert nps["value"] == pytest.approx(0.0)
    assert nps["low"] < 0 < nps["high"]
    assert [q["text"] for q in draft.snapshot["quotes"]] == ["I waited an hour"] * 3
    page = client.get(f"/actions/new/?evidence={draft.pk}").content.decode()
    assert "NPS at Help desk is 0 (95% interval" in page
    assert '<option value="support" selected>' in page
    assert '<option value="help-desk" selected>' in page


def test_an_alert_action_keeps_the_verbatim_tags_and_closes_the_alert(
    waits: dict[str, Any],
) -> None:
    """From an alert: the verbatim with its tags; creating the action marks the alert
    actioned and links the response."""
    response = waits["angry"][0]
    alert = Alert.objects.create(
        response=response, touchpoint=response.touchpoint, department=response.touchpoint.department,
        reason="both", nps=2, sentiment=-0.8,
    )  # fmt: skip
    cx, owner = cx_manager(), line_manager()
    client = _client(cx)
    draft = _draft_from(client, kind="alert", reference=str(alert.pk))
    page = client.get(f"/actions/new/?evidence={draft.pk}").content.decode()
    assert "I waited an hour" in page and "Wait time · negative" in page
    action = _create(client, draft, owner)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACTIONED and alert.action == action
    assert action.source_response == response
    assert action.evidence["alert"]["id"] == alert.pk
    assert action.evidence["tags"] == [
        {"slug": "wait-time", "name": "Wait time", "sentiment": "negative"}
    ]


def test_a_suggestion_action_quotes_the_suggestion(desk: Any) -> None:
    """From a dashboard suggestion: its words (escaped) as evidence and description."""
    cx = cx_manager()
    comment = DashboardComment.objects.create(
        author=cx, kind="suggestion", body="Open on Sundays <b>please</b>"
    )
    client = _client(cx)
    draft = _draft_from(client, kind="suggestion", reference=str(comment.pk))
    page = client.get(f"/actions/new/?evidence={draft.pk}").content.decode()
    assert "&lt;b&gt;please&lt;/b&gt;" in page and "<b>please</b>" not in page
    assert draft.insight_kind == "suggestion"


def test_old_links_of_every_kind_go_through_the_builder(waits: dict[str, Any]) -> None:
    """?from=topic|touchpoint|response links redirect to the builder with only the kind and
    reference; their label and figures are dropped."""
    client = _client(cx_manager())
    response = client.get("/actions/new/?from=topic&slug=wait-time&label=Hype&mentions=99999")
    assert response.status_code == 302
    assert response["Location"] == "/evidence/new/?kind=topic&reference=wait-time"
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Hype" not in page and "99,999" not in page and "Wait time costs" in page
    response_id = waits["angry"][0].pk
    assert client.get(f"/actions/new/?from=response&id={response_id}")["Location"] == (
        f"/evidence/new/?kind=response&reference={response_id}"
    )


def test_a_verbatim_button_on_the_explorer_and_the_topic_page(waits: dict[str, Any]) -> None:
    """The verbatim explorer and a topic's page offer "Create action on this verbatim"."""
    client = _client(cx_manager())
    since = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    assert (
        "Create action on this verbatim"
        in client.get(f"/verbatims/?date_from={since}").content.decode()
    )
    assert "Create action on this verbatim" in client.get("/topics/wait-time/").content.decode()


def test_the_api_builds_evidence_and_creates_the_action_from_it(
    waits: dict[str, Any],
) -> None:
    """POST /api/v1/evidence/ answers the server's snapshot; POST /api/v1/actions/ with its
    evidence_id keeps it and the run; someone else's id is a 400 naming the field."""
    from rest_framework.test import APIClient

    cx, owner = cx_manager(), line_manager()
    api = APIClient()
    api.force_authenticate(cx)
    built = api.post(
        "/api/v1/evidence/", {"kind": "topic", "reference": "wait-time"}, format="json"
    )
    assert built.status_code == 201
    body = built.json()
    assert (
        body["run_id"] == waits["run"].pk and "Wait time costs about" in body["snapshot"]["claim"]
    )
    created = api.post(
        "/api/v1/actions/",
        {"title": "Answer faster", "department": "support", "owner": owner.pk,
         "evidence_id": body["id"], "insight_kind": "scratch",
         "evidence": {"reference": "x", "figures": {"share": 0.99}}},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["evidence"] == body["snapshot"]
    assert created.json()["evidence_run_id"] == waits["run"].pk
    assert created.json()["insight_kind"] == "topic"
    other = APIClient()
    other.force_authenticate(cx_manager(username="other-cx"))
    refused = other.post(
        "/api/v1/actions/",
        {"title": "Sneaky", "department": "support", "owner": owner.pk, "evidence_id": body["id"]},
        format="json",
    )
    assert refused.status_code == 400 and "evidence_id" in refused.json()["errors"]
    assert (
        api.post("/api/v1/evidence/", {"kind": "joy", "reference": "x"}, format="json").status_code
        == 400
    )
    viewer_api = APIClient()
    viewer_api.force_authenticate(viewer())
    assert (
        viewer_api.post(
            "/api/v1/evidence/", {"kind": "topic", "reference": "wait-time"}, format="json"
        ).status_code
        == 403
    )


def test_a_topic_that_earns_nps_is_quoted_with_its_positive_mentions(
    waits: dict[str, Any],
) -> None:
    """The quotes support the claim: a topic mentioned by promoters "earns" points and is
    illustrated by positive mentions, not by the complaints of other topics."""
    staff = plant_topic("staff", "Staff")
    for response in ResponseAnalysis.objects.filter(sentiment_label="positive"):
        tag(response.response, staff, 0.7)
    parameters = {"outcome": "nps", "filters": {}}
    AnalysisRun.objects.create(
        kind=AnalysisRun.Kind.TOPIC_IMPACT,
        status=AnalysisRun.Status.SUCCEEDED,
        parameters=parameters,
        finished_at=timezone.now() + dt.timedelta(seconds=1),
        result=topic_impact_compute(parameters=parameters),
    )
    draft = _draft_from(_client(cx_manager()), kind="topic", reference="staff")
    assert draft.snapshot["claim"].startswith("Staff earns about")
    assert {q["text"] for q in draft.snapshot["quotes"]} == {"Lovely staff"}
