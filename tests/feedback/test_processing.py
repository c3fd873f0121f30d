"""Processing after ingest: queued after commit, never blocking ingest, swept when missed."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cxhub.celery import app as celery_app
from feedback import processing
from feedback.models import Response
from feedback.selectors import responses_processing_backlog
from feedback.services import responses_process, responses_sweep_unprocessed
from feedback.tasks import responses_process_task, responses_sweep_unprocessed_task
from tests.feedback.conftest import feedback_item
from tests.feedback.factories import ResponseFactory

pytestmark = pytest.mark.usefixtures("organisation")


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Only a recording processor is registered; returns the batches it saw."""
    batches: list[list[int]] = []

    def record(ids: Sequence[int]) -> None:
        batches.append(sorted(ids))

    monkeypatch.setattr(processing, "_processors", {"record": record})
    return batches


@pytest.fixture
def dead_broker() -> Iterator[None]:
    """Celery publishes to a port where no broker listens (as when Redis is down)."""
    conf = celery_app.conf
    saved = (
        conf.broker_url,
        conf.task_always_eager,
        celery_app._pool,
        celery_app.amqp._producer_pool,
    )
    conf.broker_url = "redis://127.0.0.1:6390/0"
    conf.task_always_eager = False
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield
    conf.broker_url, conf.task_always_eager, celery_app._pool, celery_app.amqp._producer_pool = (
        saved
    )


def test_broker_down_ingest_still_stores_and_the_sweep_catches_up(
    key_client: APIClient,
    recorded: list[list[int]],
    dead_broker: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """With Redis down a post still answers 201 and stores the row; later the sweep processes it."""
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        answer = key_client.post("/api/v1/feedback/", feedback_item(), format="json")
    assert answer.status_code == 201
    assert time.monotonic() - started < 10, "publishing to a dead broker must fail fast"
    stored = Response.objects.get()
    assert stored.processing_queued_at is None
    assert stored.processed_at is None
    assert recorded == []

    # the broker is back (tasks run inline here); the periodic sweep finds the row
    celery_app.conf.task_always_eager = True
    responses_sweep_unprocessed_task.delay()

    stored.refresh_from_db()
    assert stored.processed_at is not None
    assert recorded == [[stored.id]]


def test_broker_down_bulk_stores_every_item_unqueued(
    key_client: APIClient, dead_broker: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A bulk post with Redis down stores all valid items, none marked as queued."""
    items = [feedback_item(external_id=f"r{i}") for i in range(2_500)]
    with django_capture_on_commit_callbacks(execute=True):
        answer = key_client.post("/api/v1/feedback/bulk/", items, format="json")
    assert answer.status_code == 201
    assert answer.json()["created"] == 2_500
    assert Response.objects.filter(processing_queued_at__isnull=True).count() == 2_500


def test_ingest_queues_processing_after_commit(
    key_client: APIClient, recorded: list[list[int]], django_capture_on_commit_callbacks: Any
) -> None:
    """Stored responses are processed in batches of at most 1,000 once the transaction commits."""
    items = [feedback_item(external_id=f"r{i}") for i in range(2_100)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        key_client.post("/api/v1/feedback/bulk/", items, format="json")
    assert recorded == []  # nothing runs before commit
    for callback in callbacks:
        callback()
    assert [len(batch) for batch in recorded] == [1_000, 1_000, 100]
    assert Response.objects.filter(processed_at__isnull=True).count() == 0
    assert Response.objects.filter(processing_queued_at__isnull=True).count() == 0


def test_processing_is_idempotent(recorded: list[list[int]]) -> None:
    """A batch handed over again (a redelivery after a worker died) skips what is done and
    keeps the first processed time."""
    response = ResponseFactory()
    assert responses_process(response_ids=[response.id]) == 1
    first = Response.objects.get().processed_at
    assert responses_process_task(response_ids=[response.id]) == 0
    assert Response.objects.get().processed_at == first
    assert recorded == [[response.id]]
    assert Response.objects.get().processing_lease_until is None


def test_processing_ignores_ids_that_no_longer_exist(recorded: list[list[int]]) -> None:
    """Deleted responses are skipped without error."""
    assert responses_process(response_ids=[987654]) == 0
    assert recorded == []


def test_sweep_requeues_never_queued_and_stalled_responses_only(recorded: list[list[int]]) -> None:
    """The sweep takes unprocessed rows that were never queued or queued over 10 minutes ago."""
    now = timezone.now()
    never = ResponseFactory(processing_queued_at=None)
    stalled = ResponseFactory(processing_queued_at=now - dt.timedelta(minutes=11))
    ResponseFactory(processing_queued_at=now - dt.timedelta(minutes=5))  # still in the queue
    ResponseFactory(processing_queued_at=now - dt.timedelta(hours=1), processed_at=now)  # done

    assert responses_sweep_unprocessed(now=now).requeued == 2

    assert recorded == [sorted([never.id, stalled.id])]


def test_a_failing_processor_does_not_fail_ingest(
    key_client: APIClient, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """An error inside processing leaves the response stored and unprocessed, for the sweep."""

    def broken(ids: Sequence[int]) -> None:
        raise RuntimeError("tagger crashed")

    monkeypatch.setattr(processing, "_processors", {"broken": broken})
    with django_capture_on_commit_callbacks(execute=True):
        answer = key_client.post("/api/v1/feedback/", feedback_item(), format="json")
    assert answer.status_code == 201
    stored = Response.objects.get()
    assert stored.processed_at is None
    assert stored.processing_queued_at is None


@pytest.mark.services
def test_a_real_worker_processes_a_posted_response(
    celery_worker: Any, organisation: dict[str, Any]
) -> None:
    """Through Redis and a separate worker process, a posted response gets processed_at set."""
    from tests.feedback.factories import SourceAPIKeyFactory

    key = SourceAPIKeyFactory(source__name="worker-test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.plain_key}")
    answer = client.post(
        "/api/v1/feedback/", feedback_item(external_id="via-worker"), format="json"
    )
    assert answer.status_code == 201
    response_id = answer.json()["id"]
    assert Response.objects.get(pk=response_id).processing_queued_at is not None

    deadline = time.monotonic() + 60
    processed_at = None
    while time.monotonic() < deadline:
        processed_at = Response.objects.get(pk=response_id).processed_at
        if processed_at is not None:
            break
        time.sleep(0.25)
    assert processed_at is not None, "the worker did not process the response within 60 s"


# --- leases: a dead worker's responses are handed on, a killer is parked ----------------------


def test_a_worker_holds_its_responses_with_a_lease_renewed_per_processor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While processors run the responses carry a lease in the future; once done, none."""
    seen: list[Any] = []

    def watcher(ids: Sequence[int]) -> None:
        seen.append(Response.objects.get(pk=ids[0]).processing_lease_until)

    monkeypatch.setattr(processing, "_processors", {"watch": watcher, "again": watcher})
    response = ResponseFactory()
    before = timezone.now()
    responses_process(response_ids=[response.id])
    assert len(seen) == 2 and seen[0] > before + dt.timedelta(seconds=60)
    assert seen[1] >= seen[0]  # renewed after the first processor
    assert Response.objects.get().processing_lease_until is None


def test_a_lease_run_out_is_handed_on_then_singly_then_parked(
    recorded: list[list[int]], settings: Any
) -> None:
    """A worker that dies holding responses: on the next sweep they are queued again (1st
    death), then one per task (2nd), then parked (3rd) and out of the backlog."""
    settings.CXHUB = {**settings.CXHUB, "PROCESSING_MAX_ATTEMPTS": 3}
    now = timezone.now()
    a = ResponseFactory(processing_queued_at=now - dt.timedelta(minutes=3))
    b = ResponseFactory(processing_queued_at=now - dt.timedelta(minutes=3))
    fresh = ResponseFactory(processing_queued_at=now)
    held = [a.id, b.id]
    queued: list[tuple[list[int], int]] = []

    def record_queue(*, response_ids: Any, chunk_size: int = 1000, **_: Any) -> int:
        queued.append((list(response_ids), chunk_size))
        return len(response_ids)

    with mock.patch("feedback.services.responses_queue_processing", side_effect=record_queue):
        for death in (1, 2, 3):
            Response.objects.filter(id__in=held).update(
                processing_lease_until=now - dt.timedelta(seconds=1)
            )
            outcome = responses_sweep_unprocessed(now=now)
            if death == 1:
                assert queued[-1] == (sorted(held), 1000) and outcome.handed_on == 2
            elif death == 2:
                assert queued[-1] == (sorted(held), 1)  # one per task
            else:
                assert outcome.parked == 2 and outcome.handed_on == 0
    assert Response.objects.filter(processing_parked_at__isnull=False).count() == 2
    assert fresh.id not in [pk for ids, _ in queued for pk in ids]
    backlog = responses_processing_backlog()
    assert (backlog.unprocessed, backlog.parked) == (1, 2)
    # Parked responses are not taken by a redelivered task either.
    assert responses_process(response_ids=held) == 0


def test_a_live_lease_is_left_alone(recorded: list[list[int]]) -> None:
    now = timezone.now()
    ResponseFactory(
        processing_queued_at=now - dt.timedelta(minutes=30),
        processing_lease_until=now + dt.timedelta(seconds=30),
    )
    outcome = responses_sweep_unprocessed(now=now)
    assert (outcome.requeued, outcome.handed_on, outcome.parked) == (0, 0, 0)


def test_parked_responses_are_processed_again_from_the_admin(
    recorded: list[list[int]], admin_client: Any
) -> None:
    parked = ResponseFactory(processing_parked_at=timezone.now(), processing_attempts=3)
    listed = admin_client.get("/admin/feedback/response/?parked=yes")
    assert listed.status_code == 200 and parked.external_id in listed.content.decode()
    answer = admin_client.post(
        "/admin/feedback/response/",
        {"action": "process_again", "_selected_action": [parked.pk]},
        follow=True,
    )
    assert answer.status_code == 200
    parked.refresh_from_db()
    assert parked.processing_parked_at is None and parked.processed_at is not None
    assert recorded == [[parked.id]]
