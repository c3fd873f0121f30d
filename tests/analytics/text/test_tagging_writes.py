"""How tagging writes: in chunks, on PostgreSQL from a writer thread beside the tagging.

The rows must be the ones a single pass writes, a conflicting (response, topic) pair stored
meanwhile must survive, a failed write must roll the whole batch back with Django's error,
and the transaction's foreign keys must be deferred again afterwards.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from analytics.models import ResponseAnalysis, Topic, TopicMention
from analytics.text import services as text_services
from tests.feedback.factories import ResponseFactory

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the writer thread and COPY are PostgreSQL's"
)

COMMENTS = [
    "The staff were lovely but the wait was awful.",
    "My bill was wrong again and nobody could explain the charges.",
    "",
    "Der Techniker kam nicht zum vereinbarten Termin.",
    "The parcel arrived a week late and the box was damaged.",
    "Great value for money!!!",
    "The app keeps crashing when I try to log in.",
]


@pytest.fixture(autouse=True)
def _default_taxonomy() -> None:
    text_services.topics_load_defaults()


def _rows() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    analyses = sorted(
        ResponseAnalysis.objects.values_list(
            "response_id", "language", "language_supported", "sentiment", "sentiment_label"
        )
    )
    mentions = sorted(
        TopicMention.objects.values_list(
            "response_id", "topic_id", "sentence", "start", "end", "sentiment", "origin"
        )
    )
    return analyses, mentions


@pytest.mark.django_db
def test_chunked_writes_store_the_rows_of_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tagging seven comments two at a time stores exactly what one chunk of all stores."""
    ids = [ResponseFactory(comment=comment).pk for comment in COMMENTS]
    text_services.responses_tag(response_ids=ids)
    one_pass = _rows()
    assert len(one_pass[0]) == 6 and len(one_pass[1]) >= 8

    monkeypatch.setattr(text_services, "TAG_CHUNK", 2)
    stats = text_services.responses_tag(response_ids=ids)

    assert _rows() == one_pass
    assert (stats.responses, stats.analysed, stats.empty, stats.unsupported) == (7, 6, 1, 1)
    assert stats.mentions == len(one_pass[1])


@postgresql_only
@pytest.mark.django_db
def test_a_pair_stored_meanwhile_is_kept_and_the_rest_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A person's mention stored between the batch's reads and its COPY (as a concurrent
    correction would) makes the COPY conflict; the chunk then goes in without it."""
    responses = [ResponseFactory(comment=comment) for comment in COMMENTS]
    ids = [r.pk for r in responses]
    staff = Topic.objects.get(slug="staff-attitude")
    start = text_services._PostgresTaggingWriter._start

    def correction_meanwhile(self: Any, cursor: Any, batch_ids: list[int]) -> None:
        start(self, cursor, batch_ids)
        cursor.execute(
            f"INSERT INTO {TopicMention._meta.db_table} "
            "(response_id, topic_id, sentence, origin, sentiment) VALUES (%s, %s, '', 'person', 0.9)",
            [responses[0].pk, staff.pk],
        )

    monkeypatch.setattr(text_services._PostgresTaggingWriter, "_start", correction_meanwhile)

    text_services.responses_tag(response_ids=ids)

    first = TopicMention.objects.filter(response=responses[0])
    assert first.get(topic=staff).origin == TopicMention.Origin.PERSON
    assert first.get(topic__slug="wait-time").origin == TopicMention.Origin.RULE
    assert TopicMention.objects.filter(response=responses[1], topic__slug="billing").exists()
    assert ResponseAnalysis.objects.filter(response_id__in=ids).count() == 6


@postgresql_only
@pytest.mark.django_db
def test_a_failed_write_rolls_the_batch_back_with_a_django_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mention the database refuses (a topic that does not exist) fails the whole batch
    with Django's IntegrityError, and the connection is usable afterwards."""
    ids = [ResponseFactory(comment=comment).pk for comment in COMMENTS]
    tag_rows = text_services._tag_rows

    def with_a_bad_topic(*args: Any) -> Any:
        chunk = tag_rows(*args)
        chunk.mentions.append((ids[0], 10**9, "x", 0, 1, 0.0, "neutral", "rule"))
        return chunk

    monkeypatch.setattr(text_services, "_tag_rows", with_a_bad_topic)

    with pytest.raises(IntegrityError):
        text_services.responses_tag(response_ids=ids)

    assert not ResponseAnalysis.objects.filter(response_id__in=ids).exists()
    assert not TopicMention.objects.filter(response_id__in=ids).exists()


@postgresql_only
@pytest.mark.django_db
def test_foreign_keys_are_deferred_again_after_tagging() -> None:
    """The writer checks foreign keys per statement while it writes; afterwards the
    caller's transaction defers them to commit again, as Django declares them."""
    response = ResponseFactory(comment=COMMENTS[0])
    with transaction.atomic():
        text_services.responses_tag(response_ids=[response.pk])
        with transaction.atomic():
            # Deferred: no error yet for a mention of a missing topic.
            TopicMention.objects.create(response=response, topic_id=10**9, sentence="")
            with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            transaction.set_rollback(True)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_tagging_the_same_responses_store_one_set_of_rows() -> None:
    """Two processes' worth of taggers on the same batch at the same moment: both finish,
    and the rows are those of one tagging, without duplicates."""
    ids = [ResponseFactory(comment=comment).pk for comment in COMMENTS * 20]
    text_services.responses_tag(response_ids=ids)
    once = _rows()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def tag() -> None:
        try:
            barrier.wait()
            text_services.responses_tag(response_ids=ids)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tag) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert _rows() == once
