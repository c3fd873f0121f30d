"""Text analytics API and pages: taxonomy, tags and corrections, themes, feedback filters."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from analytics.models import TagCorrection, ThemeProposal, Topic, TopicMention
from analytics.text import services as text_services
from tests.feedback.factories import (
    ResponseFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
    member_everywhere,
    viewer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_taxonomy() -> None:
    """A transactional test elsewhere may have flushed the migration's topics."""
    text_services.topics_load_defaults()


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def tagged() -> dict[str, Any]:
    touchpoint = TouchpointFactory(slug="billing-call")
    responses = {
        "mixed": ResponseFactory(
            comment="The staff were lovely but the wait was awful.", touchpoint=touchpoint
        ),
        "angry": ResponseFactory(
            comment="Waited an hour on hold, terrible.", touchpoint=touchpoint
        ),
        "happy": ResponseFactory(comment="Friendly staff, thank you!"),
        "german": ResponseFactory(comment="Der Service war schlecht."),
    }
    text_services.responses_tag(response_ids=[r.pk for r in responses.values()])
    return responses


def test_topics_list_has_counts_and_sentiment_in_constant_queries(
    tagged: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    """Viewers read the taxonomy with response counts, sentiment and parent roll-ups."""
    client = _client(member_everywhere(viewer()))
    with django_assert_max_num_queries(6):
        answer = client.get("/api/v1/analytics/topics/")
    assert answer.status_code == 200
    rows = {row["slug"]: row for row in answer.json()["results"]}
    assert rows["staff-attitude"]["own"]["responses"] == 2
    assert rows["staff-attitude"]["own"]["positive"] == 2
    assert rows["wait-time"]["own"]["negative"] == 2
    assert rows["wait-time"]["own"]["mean_sentiment"] < 0
    # The parent counts each response once although it mentions two of its children.
    assert rows["service"]["total"]["responses"] == 3
    filtered = client.get("/api/v1/analytics/topics/", {"touchpoint": "billing-call"}).json()
    assert {r["slug"]: r["own"]["responses"] for r in filtered["results"]}["staff-attitude"] == 1


def test_topics_list_rejects_bad_filters() -> None:
    """An unknown touchpoint, a malformed date or a pre-scope parameter name is a 400 naming
    the field."""
    client = _client(viewer())
    answer = client.get(
        "/api/v1/analytics/topics/",
        {"touchpoint": "nope", "date_from": "yesterday", "submitted_after": "2026-01-01"},
    )
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"touchpoint", "date_from", "submitted_after"}


def test_only_cx_managers_edit_the_taxonomy() -> None:
    """Viewers and line managers get 403; a CX manager creates, edits and deactivates."""
    payload = {"name": "Loyalty", "keywords": ["loyalty points", "reward card"], "parent": "money"}
    for user in (viewer(), line_manager()):
        refused = _client(user).post("/api/v1/analytics/topics/", payload, format="json")
        assert refused.status_code == 403
        assert "CX managers" in str(refused.json()["errors"])
    client = _client(cx_manager())
    created = client.post("/api/v1/analytics/topics/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["slug"] == "loyalty" and created.json()["parent"] == "money"
    edited = client.patch(
        "/api/v1/analytics/topics/loyalty/", {"keywords": ["points"]}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["keywords"] == ["points"]
    assert client.delete("/api/v1/analytics/topics/loyalty/").status_code == 204
    assert Topic.objects.get(slug="loyalty").is_active is False
    assert client.get("/api/v1/analytics/topics/unknown/").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "keywords": ["re:(oops"]}, "keywords"),
        ({"name": "X", "keywords": "not a list"}, "keywords"),
        ({"name": "", "keywords": ["x"]}, "name"),
        ({"name": "Billing again", "slug": "billing", "keywords": ["x"]}, "slug"),
        ({"name": "X", "keywords": ["x"], "parent": "nope"}, "parent"),
        ({"name": "X", "keywords": ["x"], "parent": "wait-time"}, "parent"),
        ({"name": "X", "keywords": ["x"], "slug": "Not A Slug!"}, "slug"),
        ({"name": "X", "keywords": ["re:(a+)+$"]}, "keywords"),
        ({"name": "X\x00", "keywords": ["x"]}, "name"),
        ({"name": "X", "keywords": ["x" * 201]}, "keywords"),
    ],
)
def test_bad_topics_are_400_with_field_messages(payload: dict[str, Any], field: str) -> None:
    """Every invalid topic is a 400 that names the field, never a 500."""
    answer = _client(cx_manager()).post("/api/v1/analytics/topics/", payload, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]


def test_response_tags_are_read_by_all_and_corrected_by_cx_managers(tagged: dict[str, Any]) -> None:
    """Everyone reads a response's tags; only CX managers correct them, with an audit trail."""
    response = tagged["mixed"]
    url = f"/api/v1/analytics/responses/{response.pk}/tags/"
    read = _client(member_everywhere(viewer())).get(url)
    assert read.status_code == 200
    body = read.json()
    assert body["analysis"]["sentiment_label"] == "negative"
    assert {t["topic"]: t["sentiment_label"] for t in body["topics"]} == {
        "staff-attitude": "positive",
        "wait-time": "negative",
    }
    assert (
        _client(line_manager())
        .post(url, {"topic": "billing", "action": "add"}, format="json")
        .status_code
        == 403
    )
    manager = _client(cx_manager())
    added = manager.post(
        url, {"topic": "billing", "action": "add", "sentiment": -0.4, "note": "bill"}, format="json"
    )
    assert added.status_code == 201
    removed = manager.post(url, {"topic": "staff-attitude", "action": "remove"}, format="json")
    assert removed.status_code == 201
    topics = {t["topic"]: t for t in removed.json()["topics"]}
    assert set(topics) == {"billing", "wait-time"}
    assert topics["billing"]["origin"] == "person" and topics["billing"]["sentiment"] == -0.4
    assert [c["action"] for c in removed.json()["corrections"]] == ["remove", "add"]
    assert TagCorrection.objects.filter(response=response).count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"topic": "billing", "action": "move"}, "action"),
        ({"topic": "nope", "action": "add"}, "topic"),
        ({"topic": "billing", "action": "add", "sentiment": 2}, "sentiment"),
        ({"topic": "billing", "action": "add", "sentiment": "very"}, "sentiment"),
        ({"topic": "billing", "action": "remove"}, "topic"),
        ({"action": "add"}, "topic"),
    ],
)
def test_bad_corrections_are_400(
    tagged: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    """Invalid corrections name the field; nothing is stored."""
    url = f"/api/v1/analytics/responses/{tagged['mixed'].pk}/tags/"
    answer = _client(cx_manager()).post(url, payload, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not TagCorrection.objects.exists()


def test_tags_of_an_unknown_response_are_404() -> None:
    assert _client(viewer()).get("/api/v1/analytics/responses/999999/tags/").status_code == 404


def test_feedback_list_filters_by_topic_and_sentiment(tagged: dict[str, Any]) -> None:
    """The feedback list's topic filter includes child topics; sentiment uses the comment's."""
    client = _client(cx_manager())
    by_topic = client.get("/api/v1/feedback/", {"topic": "wait-time"})
    assert by_topic.status_code == 200, by_topic.json()
    assert {r["id"] for r in by_topic.json()["results"]} == {tagged["mixed"].pk, tagged["angry"].pk}
    by_parent = client.get("/api/v1/feedback/", {"topic": "service"})
    assert {r["id"] for r in by_parent.json()["results"]} == {
        tagged["mixed"].pk,
        tagged["angry"].pk,
        tagged["happy"].pk,
    }
    positive = client.get("/api/v1/feedback/", {"sentiment": "positive"})
    assert {r["id"] for r in positive.json()["results"]} == {tagged["happy"].pk}
    assert client.get("/api/v1/feedback/", {"topic": "nope"}).status_code == 400
    bad = client.get("/api/v1/feedback/", {"sentiment": "furious"})
    assert bad.status_code == 400 and "sentiment" in bad.json()["errors"]


def _proposal(**kwargs: Any) -> ThemeProposal:
    example = ResponseFactory(comment="<i>Loyalty</i> points expired")
    defaults = {
        "label": "loyalty / points / expired",
        "top_terms": ["loyalty points", "expired"],
        "example_response_ids": [example.pk],
        "size": 12,
        "share": 0.2,
    }
    return ThemeProposal.objects.create(**{**defaults, **kwargs})


def test_themes_are_listed_accepted_and_dismissed(django_capture_on_commit_callbacks: Any) -> None:
    """A CX manager accepts a theme into a topic in one step, or dismisses it; not twice."""
    keep, drop = _proposal(), _proposal(label="weather / rain")
    assert _client(viewer()).get("/api/v1/analytics/themes/").status_code == 403
    listed = _client(cx_manager()).get("/api/v1/analytics/themes/")
    assert listed.status_code == 200 and listed.json()["count"] == 2
    assert listed.json()["results"][0]["examples"][0]["comment"] == "<i>Loyalty</i> points expired"
    assert _client(viewer()).post(f"/api/v1/analytics/themes/{keep.pk}/accept/").status_code == 403
    manager = _client(cx_manager())
    with django_capture_on_commit_callbacks(execute=True):
        accepted = manager.post(
            f"/api/v1/analytics/themes/{keep.pk}/accept/", {"name": "Loyalty"}, format="json"
        )
    assert accepted.status_code == 201, accepted.json()
    topic = Topic.objects.get(slug=accepted.json()["slug"])
    assert topic.keywords == ["loyalty points", "expired"] and topic.origin == "discovered"
    assert TopicMention.objects.filter(topic=topic).count() >= 1  # re-tagged after commit
    again = manager.post(f"/api/v1/analytics/themes/{keep.pk}/accept/", {}, format="json")
    assert again.status_code == 400 and "status" in again.json()["errors"]
    dismissed = manager.post(f"/api/v1/analytics/themes/{drop.pk}/dismiss/")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert manager.post("/api/v1/analytics/themes/999999/dismiss/").status_code == 404
    assert (
        _client(cx_manager()).get("/api/v1/analytics/themes/", {"status": "bogus"}).status_code
        == 400
    )


def test_theme_discovery_starts_a_run() -> None:
    """POST themes/discover/ answers 202 with a run id; bad parameters are 400."""
    manager = _client(cx_manager())
    started = manager.post("/api/v1/analytics/themes/discover/", {"n_themes": 3}, format="json")
    assert started.status_code == 202 and started.json()["run_id"]
    bad = manager.post("/api/v1/analytics/themes/discover/", {"n_themes": 99}, format="json")
    assert bad.status_code == 400 and "n_themes" in bad.json()["errors"]


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_escape_comments_and_stay_within_a_query_budget(
    django_assert_max_num_queries: Any,
) -> None:
    """Markup in comments is shown escaped; the topic page's queries (figures, trend, quotes,
    comments) and the Topics list's (counts and trend per half of the window) do not grow
    with rows."""
    desk = TouchpointFactory()
    for i in range(12):
        ResponseFactory(
            touchpoint=desk, comment=f'<script>alert("{i}")</script> The staff were rude.'
        )
    text_services.responses_retag_all()
    client = _login(member_everywhere(viewer()))
    # The days just tagged are marked changed: each roll-up read takes a second statement
    # that reads them raw (one fewer per read once the roll-ups are refreshed).
    with django_assert_max_num_queries(34):
        page = client.get("/topics/staff-attitude/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    assert "Save correction" not in html  # viewers see no correction forms
    assert "Save correction" in _login(cx_manager()).get("/topics/staff-attitude/").content.decode()
    with django_assert_max_num_queries(20):
        listing = client.get("/topics/")
    assert listing.status_code == 200 and "Staff attitude" in listing.content.decode()
    assert client.get("/topics/themes/").status_code == 403  # themes quote every department
    assert client.get("/topics/nope/").status_code == 404


def test_tag_correction_page_flow() -> None:
    """A CX manager removes a tag from the verbatim page; a viewer's attempt is refused."""
    response = ResponseFactory(comment="The bill was wrong.")
    text_services.responses_tag(response_ids=[response.pk])
    url = f"/topics/responses/{response.pk}/tags/"
    form = {"topic": "billing", "action": "remove", "next": "/topics/billing/"}
    assert _login(viewer()).post(url, form).status_code == 403
    answer = _login(cx_manager()).post(url, form)
    assert answer.status_code == 302 and answer["Location"] == "/topics/billing/"
    assert not TopicMention.objects.filter(response=response, topic__slug="billing").exists()
    evil = _login(cx_manager()).post(
        url, {**form, "action": "add", "next": "https://evil.example/"}
    )
    assert evil["Location"].startswith("/topics/")


def test_topic_page_form_adds_a_topic_or_explains_the_error() -> None:
    """The topics page adds a topic for CX managers and shows a message for bad input."""
    client = _login(cx_manager())
    ok = client.post(
        "/topics/", {"name": "Loyalty", "keywords": "loyalty points, reward card"}, follow=True
    )
    assert ok.status_code == 200 and Topic.objects.filter(slug="loyalty").exists()
    bad = client.post("/topics/", {"name": "Broken", "keywords": "re:(oops"}, follow=True)
    assert "Invalid regular expression" in bad.content.decode()
    assert _login(viewer()).post("/topics/", {"name": "X", "keywords": "x"}).status_code == 403
    nul = client.post(
        "/topics/", {"name": "Bad\x00name", "keywords": "x", "description": "d\x00"}, follow=True
    )
    # Refused before the view (cxhub.input_guard), with the field and the reason.
    assert nul.status_code == 400 and "NUL" in nul.content.decode()
    assert not Topic.objects.filter(name__startswith="Bad").exists()


def test_admin_edits_the_taxonomy_with_validation(django_capture_on_commit_callbacks: Any) -> None:
    """Administrators edit topics in the admin; bad keywords are refused, saves re-tag."""
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser(
        "root", "root@example.com", "pw-12345-long"
    )
    client = _login(admin_user)
    assert client.get("/admin/analytics/topic/").status_code == 200
    response = ResponseFactory(comment="My loyalty points expired.")
    form = {
        "slug": "loyalty",
        "name": "Loyalty",
        "keywords": '["re:(oops"]',
        "description": "",
        "is_active": "on",
        "origin": "manual",
    }
    bad = client.post("/admin/analytics/topic/add/", form)
    assert bad.status_code == 200 and "Invalid regular expression" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post("/admin/analytics/topic/add/", {**form, "keywords": '["loyalty points"]'})
    assert ok.status_code == 302
    assert TopicMention.objects.filter(response=response, topic__slug="loyalty").exists()
