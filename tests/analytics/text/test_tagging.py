"""Tagging responses in the database: after ingest, on taxonomy change, with corrections."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection

from analytics.models import ResponseAnalysis, TagCorrection, ThemeProposal, Topic, TopicMention
from analytics.text import services as text_services
from feedback.models import Response
from feedback.services import response_ingest
from tests.feedback.factories import ResponseFactory, SourceFactory, cx_manager

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_taxonomy() -> None:
    """A transactional test elsewhere may have flushed the migration's topics."""
    text_services.topics_load_defaults()


def _topics(response: Response) -> dict[str, tuple[str | None, str]]:
    return {
        m.topic.slug: (m.sentiment_label, m.origin)
        for m in TopicMention.objects.filter(response=response).select_related("topic")
    }


def test_default_taxonomy_has_about_twenty_topics_under_parents() -> None:
    """The default CX taxonomy: 20 leaf topics under 6 parents; loading it twice adds nothing."""
    leaves = Topic.objects.filter(parent__isnull=False, origin=Topic.Origin.DEFAULT)
    assert leaves.count() == 20
    assert Topic.objects.filter(parent__isnull=True, origin=Topic.Origin.DEFAULT).count() == 6
    assert Topic.objects.get(slug="wait-time").parent.slug == "service"  # type: ignore[union-attr]
    assert Topic.objects.get(slug="food-quality").keywords
    assert text_services.topics_load_defaults() == 0


def test_ingested_response_is_tagged_by_the_registered_processor(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Ingest queues processing; the text processor stores language, sentiment and topics."""
    source = SourceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response, created = response_ingest(
            source=source,
            data={
                "external_id": "r-1",
                "submitted_at": "2026-03-01T10:15:00Z",
                "nps": 3,
                "comment": "Waited 40 minutes and the agent could not fix my bill.",
            },
        )
    assert created
    analysis = ResponseAnalysis.objects.get(response=response)
    assert (analysis.language, analysis.language_supported, analysis.sentiment_label) == (
        "en",
        True,
        "negative",
    )
    topics = _topics(response)
    assert {"wait-time", "billing", "resolution"} <= set(topics)
    assert topics["wait-time"] == ("negative", "rule")
    response.refresh_from_db()
    assert response.processed_at is not None


def test_tagging_twice_gives_the_same_rows_in_few_queries() -> None:
    """Re-tagging is idempotent, and the number of queries does not grow with the batch."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    responses = [
        ResponseFactory(comment=f"The staff were lovely but the wait was awful ({i}).")
        for i in range(30)
    ]
    ids = [r.pk for r in responses]
    text_services.responses_tag(response_ids=ids)
    first = sorted(TopicMention.objects.values_list("response_id", "topic__slug", "sentiment"))
    with CaptureQueriesContext(connection) as small:
        text_services.responses_tag(response_ids=ids[:3])
    with CaptureQueriesContext(connection) as large:
        stats = text_services.responses_tag(response_ids=ids)
    assert len(large.captured_queries) == len(small.captured_queries) <= 16
    assert stats.responses == 30 and stats.analysed == 30 and stats.mentions == 60
    assert (
        sorted(TopicMention.objects.values_list("response_id", "topic__slug", "sentiment")) == first
    )
    assert _topics(responses[0]) == {
        "staff-attitude": ("positive", "rule"),
        "wait-time": ("negative", "rule"),
    }


def test_other_languages_are_stored_unsupported_without_sentiment() -> None:
    """A German comment is marked unsupported with no sentiment and no topics."""
    response = ResponseFactory(comment="Das Essen war kalt und der Service war sehr langsam.")
    text_services.responses_tag(response_ids=[response.pk])
    analysis = ResponseAnalysis.objects.get(response=response)
    assert analysis.language == "de"
    assert analysis.language_supported is False
    assert analysis.sentiment is None and analysis.sentiment_label is None
    assert not TopicMention.objects.filter(response=response).exists()


def test_markup_in_a_comment_is_stored_as_given() -> None:
    """Tagging never rewrites the comment; markup stays as posted (pages escape it)."""
    comment = '<script>alert("x")</script> The staff were <b>rude</b> & slow'
    response = ResponseFactory(comment=comment)
    text_services.responses_tag(response_ids=[response.pk])
    response.refresh_from_db()
    assert response.comment == comment
    assert "staff-attitude" in _topics(response)


def test_empty_comments_get_no_analysis() -> None:
    """A response without a comment has nothing to analyse."""
    response = ResponseFactory(comment="")
    stats = text_services.responses_tag(response_ids=[response.pk])
    assert stats.empty == 1
    assert not ResponseAnalysis.objects.filter(response=response).exists()


def test_a_new_topic_retags_comments_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    """Adding a topic through the service re-tags the stored comments once it commits."""
    response = ResponseFactory(comment="My loyalty points expired before I could use them.")
    text_services.responses_tag(response_ids=[response.pk])
    assert "loyalty" not in _topics(response)
    with django_capture_on_commit_callbacks(execute=True):
        text_services.topic_create(name="Loyalty", slug="loyalty", keywords=["loyalty points"])
    assert _topics(response)["loyalty"][1] == "rule"
    version = ResponseAnalysis.objects.get(response=response).taxonomy_version
    assert version == text_services.tagger_current().version


def test_deactivating_a_topic_removes_its_rule_tags(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A deactivated topic no longer tags comments after the re-tag."""
    response = ResponseFactory(comment="The bill was wrong again.")
    text_services.responses_tag(response_ids=[response.pk])
    assert "billing" in _topics(response)
    with django_capture_on_commit_callbacks(execute=True):
        text_services.topic_deactivate(topic=Topic.objects.get(slug="billing"))
    assert "billing" not in _topics(response)


def test_human_corrections_survive_retagging(django_capture_on_commit_callbacks: Any) -> None:
    """A removed topic stays removed, an added one stays, an overridden sentiment stays."""
    user = cx_manager()
    response = ResponseFactory(comment="The staff were lovely but the wait was awful.")
    text_services.responses_tag(response_ids=[response.pk])
    staff = Topic.objects.get(slug="staff-attitude")
    wait = Topic.objects.get(slug="wait-time")
    delivery = Topic.objects.get(slug="delivery")
    text_services.tag_correct(response=response, topic=staff, action="remove", corrected_by=user)
    text_services.tag_correct(
        response=response,
        topic=delivery,
        action="add",
        sentiment=-0.5,
        corrected_by=user,
        note="courier",
    )
    text_services.tag_correct(
        response=response, topic=wait, action="add", sentiment=-0.9, corrected_by=user
    )
    with django_capture_on_commit_callbacks(execute=True):
        text_services.topic_update(
            topic=Topic.objects.get(slug="cleanliness"), keywords=["spotless", "dirty"]
        )
    text_services.responses_tag(response_ids=[response.pk])
    topics = _topics(response)
    assert "staff-attitude" not in topics
    assert topics["delivery"] == ("negative", "person")
    assert TopicMention.objects.get(response=response, topic=wait).sentiment == -0.9
    assert TagCorrection.objects.filter(response=response).count() == 3
    # A later "add" undoes the removal: the latest correction wins.
    text_services.tag_correct(response=response, topic=staff, action="add", corrected_by=user)
    text_services.responses_tag(response_ids=[response.pk])
    assert _topics(response)["staff-attitude"][1] == "person"


def test_invalid_corrections_are_refused_with_field_messages() -> None:
    """Bad action, out-of-range sentiment or removing an absent topic are 400s, not 500s."""
    from cxhub.errors import InvalidInput

    user = cx_manager()
    response = ResponseFactory(comment="Fine.")
    topic = Topic.objects.get(slug="billing")
    with pytest.raises(InvalidInput) as bad_action:
        text_services.tag_correct(response=response, topic=topic, action="move", corrected_by=user)
    assert "action" in bad_action.value.field_errors
    with pytest.raises(InvalidInput) as bad_sentiment:
        text_services.tag_correct(
            response=response, topic=topic, action="add", sentiment=3, corrected_by=user
        )
    assert "sentiment" in bad_sentiment.value.field_errors
    with pytest.raises(InvalidInput) as absent:
        text_services.tag_correct(
            response=response, topic=topic, action="remove", corrected_by=user
        )
    assert "topic" in absent.value.field_errors


def test_topic_rules_are_validated() -> None:
    """Broken regular expressions, blank keywords, duplicate slugs and deep parents are refused."""
    from cxhub.errors import InvalidInput

    with pytest.raises(InvalidInput) as bad_regex:
        text_services.topic_create(name="Broken", keywords=["re:(oops"])
    assert "keywords" in bad_regex.value.field_errors
    with pytest.raises(InvalidInput) as duplicate:
        text_services.topic_create(name="Billing", slug="billing", keywords=["bill"])
    assert "slug" in duplicate.value.field_errors
    with pytest.raises(InvalidInput) as deep:
        text_services.topic_create(
            name="Too deep", keywords=["x"], parent=Topic.objects.get(slug="wait-time")
        )
    assert "parent" in deep.value.field_errors


def test_retag_all_only_touches_stale_responses() -> None:
    """After a full re-tag, a second one has nothing left to do."""
    for i in range(5):
        ResponseFactory(comment=f"Delivery number {i} was late.")
    ResponseFactory(comment="")
    first = text_services.responses_retag_all(batch_size=2)
    assert first.responses == 5
    assert text_services.responses_retag_all().responses == 0


def test_alerts_are_raised_with_the_new_sentiments(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """After tagging, actions' alerting (when present) receives each response's sentiment."""
    import actions.services

    received: list[dict[int, float | None]] = []
    monkeypatch.setattr(
        actions.services,
        "alerts_raise_for_responses",
        lambda *, response_sentiments: received.append(response_sentiments),
        raising=False,
    )
    angry = ResponseFactory(comment="Absolutely awful, the worst service ever.")
    german = ResponseFactory(comment="Der Techniker kam nicht zum vereinbarten Termin.")
    with django_capture_on_commit_callbacks(execute=True):
        text_services.responses_tag(response_ids=[angry.pk, german.pk])
    assert len(received) == 1
    assert received[0][german.pk] is None
    assert received[0][angry.pk] is not None and received[0][angry.pk] < -0.5


def test_theme_discovery_run_proposes_and_accepting_creates_a_topic(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Untagged comments about a planted theme come back as a proposal; accepting tags them."""
    from analytics.runs.services import run_execute_now

    for i in range(30):
        ResponseFactory(comment=f"My loyalty points expired again, visit {i}.")
        ResponseFactory(comment=f"Dogs are not allowed in the garden area, day {i}.")
    text_services.responses_retag_all()
    run = run_execute_now(kind="theme_discovery", parameters={"n_themes": 2})
    assert run.status == "succeeded", run.error
    proposals = list(ThemeProposal.objects.filter(run=run).order_by("-size"))
    assert len(proposals) == 2
    loyalty = next(p for p in proposals if any("loyalty" in t for t in p.top_terms))
    assert loyalty.size == 30
    user = cx_manager()
    with django_capture_on_commit_callbacks(execute=True):
        topic = text_services.theme_accept(
            proposal=loyalty, accepted_by=user, name="Loyalty scheme"
        )
    loyalty.refresh_from_db()
    assert loyalty.status == "accepted" and loyalty.accepted_topic == topic
    assert topic.origin == "discovered"
    assert TopicMention.objects.filter(topic=topic).count() == 30


@pytest.mark.services
def test_a_real_worker_tags_ingested_feedback(celery_worker: Any) -> None:
    """Through Redis and a real Celery worker, an ingested comment ends up tagged."""
    source = SourceFactory()
    response, _ = response_ingest(
        source=source,
        data={
            "external_id": "worker-1",
            "submitted_at": "2026-03-01T10:15:00Z",
            "comment": "The courier left my parcel in the rain.",
        },
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ResponseAnalysis.objects.filter(response=response).exists():
            break
        time.sleep(0.3)
    assert "delivery" in _topics(response)
    assert connection.vendor == "postgresql"


def test_awkward_characters_survive_the_bulk_write() -> None:
    """Tabs, backslashes, quotes and emoji in a comment reach the stored sentence unchanged."""
    comment = 'The staff\twere rude \\N "quoted" 😡 C:\\path\\to; and the bill was wrong.'
    response = ResponseFactory(comment=comment)
    text_services.responses_tag(response_ids=[response.pk])
    mention = TopicMention.objects.get(response=response, topic__slug="staff-attitude")
    assert mention.sentence == comment
    assert comment[mention.start : mention.end].lower().startswith("staff")
