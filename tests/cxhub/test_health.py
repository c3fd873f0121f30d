"""Readiness, the worker heartbeat, the admin's status and the CX managers' lag banner all
report the same checks (cxhub.health)."""

from __future__ import annotations

import datetime as dt
import os
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from django.db import OperationalError, connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cxhub.celery import WorkerHeartbeatStep
from cxhub.health import (
    processing_lag_get,
    readiness_get,
    worker_heartbeat_get,
    worker_heartbeat_record,
)
from cxhub.metrics import CXHubCollector
from feedback.models import Response
from feedback.selectors import responses_processing_backlog
from tests.feedback.factories import ResponseFactory, UserFactory, cx_manager, line_manager

NO_BROKER_HERE = "redis://127.0.0.1:6390/0"  # a port where nothing listens


def _waiting(minutes: float, count: int = 1) -> list[Response]:
    """``count`` unprocessed responses stored ``minutes`` ago."""
    responses = ResponseFactory.create_batch(count)
    created = timezone.now() - dt.timedelta(minutes=minutes)
    Response.objects.filter(id__in=[r.id for r in responses]).update(
        created_at=created, processed_at=None
    )
    return responses


@pytest.fixture
def inline(settings: Any) -> None:
    """No broker configured: tasks run in the web process, no worker to hear from."""
    settings.CELERY_BROKER_URL = "memory://"


@pytest.fixture
def with_broker(settings: Any) -> None:
    """A Redis broker configured, whose worker readiness must hear from."""
    settings.CELERY_BROKER_URL = os.environ.get("REDIS_URL") or NO_BROKER_HERE


def test_healthz_needs_no_database(client: Client) -> None:
    """Liveness answers with no database access at all (this test may not touch it)."""
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_every_check_and_the_backlog(client: Client, inline: None) -> None:
    """Without a broker (tasks inline) every check passes and the backlog is counted."""
    ResponseFactory.create_batch(2, processed_at=timezone.now())
    _waiting(minutes=2, count=3)

    response = client.get("/readyz/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "worker", "processing"}
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"]["mode"] == "inline"
    processing = body["checks"]["processing"]
    assert processing["unprocessed"] == 3
    assert 110 <= processing["oldest_unprocessed_age_seconds"] <= 130
    assert processing["ok"] is True


@pytest.mark.django_db
def test_a_lag_past_the_limit_is_degraded_but_still_ready(
    client: Client, settings: Any, inline: None
) -> None:
    """Processing behind by more than CXHUB_LAG_BANNER_MINUTES: reported, still 200."""
    settings.CXHUB_LAG_BANNER_MINUTES = 5
    _waiting(minutes=6)

    response = client.get("/readyz/")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["processing"]["ok"] is False


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that refuses connections makes the process not ready, and says why."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)

    response = client.get("/readyz/")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {"ok": False, "error": "OperationalError"}
    assert checks["processing"]["ok"] is False
    assert "refused" not in response.content.decode()  # no driver message leaks


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_down(client: Client, settings: Any) -> None:
    settings.CELERY_BROKER_URL = NO_BROKER_HERE

    response = client.get("/readyz/")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["ok"] is False
    assert checks["database"]["ok"] is True
    assert checks["worker"] == {"ok": False, "heartbeat_age_seconds": None, "hostname": None}


@pytest.mark.services
@pytest.mark.django_db
def test_readyz_counts_the_queue_on_a_live_broker(client: Client, settings: Any) -> None:
    """The broker check reads the length of every task queue from Redis itself: the default
    queue and the workloads' queues, in all and one by one."""
    url = os.environ["REDIS_URL"]
    queue = f"cxhub-test-readyz-{os.getpid()}"
    analyses = f"{queue}-analyses"
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.CXHUB_TASK_QUEUES = (queue, analyses)
    broker = redis.Redis.from_url(url)
    broker.rpush(queue, "a", "b", "c")
    broker.rpush(analyses, "d")
    try:
        response = client.get("/readyz/")
        metrics = list(CXHubCollector().collect())
        per_queue = next(m for m in metrics if m.name == "cxhub_celery_queue_messages")
    finally:
        broker.delete(queue, analyses)
        broker.close()

    broker_check = response.json()["checks"]["broker"]
    assert broker_check["ok"] is True
    assert broker_check["queued"] == 4
    assert broker_check["queues"] == {queue: 3, analyses: 1}
    assert {s.labels["queue"]: s.value for s in per_queue.samples} == {queue: 3.0, analyses: 1.0}


@pytest.mark.django_db
def test_a_fresh_heartbeat_is_a_live_worker_and_an_old_one_is_stale(
    client: Client, with_broker: None, settings: Any
) -> None:
    """Readiness tells the heartbeat's age; past CXHUB_WORKER_STALE_SECONDS it is stale,
    and a stale worker does not make the web process unready."""
    now = timezone.now()
    worker_heartbeat_record(hostname="celery@w1", now=now - dt.timedelta(seconds=10))
    fresh = readiness_get(now=now).checks["worker"]
    worker_heartbeat_record(
        hostname="celery@w1",
        now=now - dt.timedelta(seconds=settings.CXHUB_WORKER_STALE_SECONDS + 5),
    )
    stale = readiness_get(now=now).checks["worker"]

    assert fresh == {"ok": True, "heartbeat_age_seconds": 10.0, "hostname": "celery@w1"}
    assert stale["ok"] is False
    assert stale["heartbeat_age_seconds"] == settings.CXHUB_WORKER_STALE_SECONDS + 5


def test_the_worker_step_beats_at_start_and_on_its_timer(settings: Any) -> None:
    """Started, the step writes a heartbeat at once and schedules one every interval."""
    scheduled: list[tuple[float, Any, tuple[Any, ...]]] = []
    timer = SimpleNamespace(
        call_repeatedly=lambda secs, fun, args, priority=0: (
            scheduled.append((secs, fun, args)) or SimpleNamespace(cancel=lambda: None)
        )
    )
    worker = SimpleNamespace(hostname="celery@box", timer=timer)
    step = WorkerHeartbeatStep(worker)

    step.start(worker)

    beat = worker_heartbeat_get()
    assert beat is not None and beat.hostname == "celery@box"
    assert (timezone.now() - beat.at).total_seconds() < 60
    [(seconds, fun, args)] = scheduled
    assert seconds == settings.CXHUB_WORKER_HEARTBEAT_SECONDS
    fun(*args)  # the timer firing writes the heartbeat again
    assert worker_heartbeat_get() is not None
    step.stop(worker)
    assert step.entry is None


@pytest.mark.django_db
def test_the_admin_index_shows_the_same_checks(admin_client: Client, inline: None) -> None:
    _waiting(minutes=1, count=4)

    page = admin_client.get("/admin/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "CXHub status: ok" in html
    assert "4 unprocessed" in html
    checks = page.context["readiness_checks"]
    assert checks["processing"]["unprocessed"] == responses_processing_backlog().unprocessed


def _page(user: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/notifications/")
    assert response.status_code == 200
    return str(response.content.decode())


@pytest.mark.django_db
def test_cx_managers_see_a_banner_when_processing_lags(settings: Any) -> None:
    settings.CXHUB_LAG_BANNER_MINUTES = 5
    _waiting(minutes=12, count=2)

    html = _page(cx_manager())

    assert "Processing is behind" in html
    assert "the oldest of 2 unprocessed responses arrived 12 minutes ago" in html


@pytest.mark.django_db
def test_no_banner_while_processing_keeps_up(settings: Any) -> None:
    settings.CXHUB_LAG_BANNER_MINUTES = 5
    _waiting(minutes=3)

    assert "Processing is behind" not in _page(cx_manager())


@pytest.mark.django_db
def test_only_cx_managers_see_the_banner(settings: Any) -> None:
    """Line managers and people without a role are not shown the operations banner."""
    settings.CXHUB_LAG_BANNER_MINUTES = 5
    _waiting(minutes=30)

    assert "Processing is behind" not in _page(line_manager())
    client = Client()
    client.force_login(UserFactory())
    assert "Processing is behind" not in client.get("/notifications/").content.decode()


@pytest.mark.django_db
def test_the_banner_costs_one_query_per_cache_period(settings: Any) -> None:
    """The backlog is read once and cached: the next pages do not query it again."""
    settings.CXHUB_LAG_BANNER_MINUTES = 5
    _waiting(minutes=12)
    user = cx_manager()

    with CaptureQueriesContext(connection) as first:
        _page(user)
    with CaptureQueriesContext(connection) as second:
        _page(user)

    def backlog_reads(captured: CaptureQueriesContext) -> int:
        return sum(
            1
            for query in captured.captured_queries
            if '"processed_at" IS NULL' in query["sql"] and "MIN(" in query["sql"]
        )

    assert backlog_reads(first) == 1
    assert backlog_reads(second) == 0
    assert "Processing is behind" in _page(user)


@pytest.mark.django_db
def test_a_broken_cache_shows_no_banner_rather_than_failing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise redis.exceptions.ConnectionError("cache down")

    _waiting(minutes=30)
    monkeypatch.setattr(cache, "get", broken)

    assert processing_lag_get() is None
