"""Whether CXHub can do its work: readiness checks, the worker heartbeat and the lag banner.

Every surface that reports health reads it here: ``/readyz/`` (``cxhub.views.readyz``), the
admin index, the CX managers' banner (``cxhub.context_processors.processing_lag``) and the
Prometheus metrics (``cxhub.metrics``). The figure about responses waiting for processing is
``feedback.selectors.responses_processing_backlog``; this module only adds the checks of the
database, the broker and the worker around it.

Readiness gates on the database and the broker only: without them the web process cannot
store or queue anything, so a load balancer should send it no traffic. A stale worker
heartbeat or a processing lag is reported (``"status": "degraded"``) but leaves the answer
200: ingest still stores every response, the sweep catches up once a worker runs again, and
taking every web process out of the balancer because the worker is down would turn a delay
into an outage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from feedback.selectors import ProcessingBacklog, responses_processing_backlog

logger = logging.getLogger(__name__)

WORKER_HEARTBEAT_KEY = "cxhub:worker-heartbeat"
BACKLOG_CACHE_KEY = "cxhub:processing-backlog"
# The banner reads the backlog at most this often, not once per page.
BACKLOG_CACHE_SECONDS = 30
# How long a readiness probe waits for Redis before calling the broker down.
BROKER_TIMEOUT_SECONDS = 1.0


# -- worker heartbeat --------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerHeartbeat:
    hostname: str
    at: datetime

    def age_seconds(self, *, now: datetime) -> float:
        return max(0.0, (now - self.at).total_seconds())


def worker_heartbeat_record(*, hostname: str, now: datetime | None = None) -> None:
    """Note in the shared cache that the worker ``hostname`` is alive and consuming.

    Called by the worker itself (``cxhub.celery``) when it is ready and then every
    ``CXHUB_WORKER_HEARTBEAT_SECONDS`` from its event loop, so a worker stuck reconnecting
    to its broker stops beating too. The last worker to beat wins the key: with several
    workers the age is that of the most recent one.
    """
    at = now or timezone.now()
    cache.set(WORKER_HEARTBEAT_KEY, {"hostname": hostname, "at": at.isoformat()}, timeout=None)


def worker_heartbeat_get() -> WorkerHeartbeat | None:
    """The latest heartbeat any worker wrote, or None when no worker has beaten."""
    value = cache.get(WORKER_HEARTBEAT_KEY)
    if not isinstance(value, dict):
        return None
    at = parse_datetime(str(value.get("at", "")))
    if at is None:
        return None
    return WorkerHeartbeat(hostname=str(value.get("hostname", "")), at=at)


# -- checks ------------------------------------------------------------------------------


def broker_is_inline() -> bool:
    """No broker configured (development without ``REDIS_URL``): tasks run in the web
    process, so there is no broker to reach and no worker to wait for."""
    return str(settings.CELERY_BROKER_URL).startswith("memory://")


def _failure(error: Exception) -> dict[str, Any]:
    # The class only: a driver's message names hosts and ports, and readiness is public.
    return {"ok": False, "error": type(error).__name__}


def database_check() -> dict[str, Any]:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return _failure(error)
    return {"ok": True}


def task_queue_names() -> list[str]:
    """The broker queues tasks go to: the default one and one per workload (settings)."""
    names = [settings.CELERY_TASK_DEFAULT_QUEUE, *getattr(settings, "CXHUB_TASK_QUEUES", ())]
    return list(dict.fromkeys(names))


def broker_check() -> dict[str, Any]:
    """Redis answers; with the messages waiting (in all, and per queue) and the unacknowledged
    ones."""
    if broker_is_inline():
        return {"ok": True, "mode": "inline", "queued": None, "queues": None, "unacked": None}
    names = task_queue_names()
    client = redis.Redis.from_url(
        str(settings.CELERY_BROKER_URL),
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )
    try:
        pipeline = client.pipeline(transaction=False)
        for name in names:
            pipeline.llen(name)
        pipeline.hlen("unacked")  # kombu's Redis transport keeps delivered messages here
        *lengths, unacked = pipeline.execute()
    except redis.RedisError as error:
        return _failure(error)
    finally:
        client.close()
    queues = {name: int(length) for name, length in zip(names, lengths, strict=True)}
    return {"ok": True, "queued": sum(queues.values()), "queues": queues, "unacked": int(unacked)}


def worker_check(*, now: datetime) -> dict[str, Any]:
    if broker_is_inline():
        return {"ok": True, "mode": "inline", "heartbeat_age_seconds": None, "hostname": None}
    try:
        heartbeat = worker_heartbeat_get()
    except Exception as error:  # the cache's Redis is down: no heartbeat can be read
        return {**_failure(error), "heartbeat_age_seconds": None, "hostname": None}
    if heartbeat is None:
        return {"ok": False, "heartbeat_age_seconds": None, "hostname": None}
    age = heartbeat.age_seconds(now=now)
    return {
        "ok": age <= settings.CXHUB_WORKER_STALE_SECONDS,
        "heartbeat_age_seconds": round(age, 1),
        "hostname": heartbeat.hostname,
    }


def lag_limit_seconds() -> float:
    """Past this age of the oldest unprocessed response, processing counts as lagging."""
    return float(settings.CXHUB_LAG_BANNER_MINUTES) * 60


def processing_check(*, now: datetime, backlog: ProcessingBacklog | None = None) -> dict[str, Any]:
    try:
        backlog = backlog or responses_processing_backlog()
    except DatabaseError as error:
        return {
            **_failure(error),
            "unprocessed": None,
            "oldest_unprocessed_age_seconds": None,
            "lagging": None,
            "parked": None,
        }
    age = backlog.oldest_age_seconds(now=now)
    lagging = age is not None and age > lag_limit_seconds()
    return {
        # Parked responses need a person: their processing killed its worker repeatedly.
        "ok": not lagging and backlog.parked == 0,
        "lagging": lagging,
        "unprocessed": backlog.unprocessed,
        "oldest_unprocessed_age_seconds": None if age is None else round(age, 1),
        "parked": backlog.parked,
    }


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, dict[str, Any]]

    @property
    def ready(self) -> bool:
        """The database and the broker answer: the web process can store and queue."""
        return bool(self.checks["database"]["ok"] and self.checks["broker"]["ok"])

    @property
    def status(self) -> str:
        return "ok" if all(check["ok"] for check in self.checks.values()) else "degraded"

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "checks": self.checks}


def readiness_get(*, now: datetime | None = None) -> Readiness:
    """Every check, in the order the readiness answer and the admin show them."""
    now = now or timezone.now()
    return Readiness(
        checks={
            "database": database_check(),
            "broker": broker_check(),
            "worker": worker_check(now=now),
            "processing": processing_check(now=now),
        }
    )


# -- the CX managers' banner -------------------------------------------------------------


@dataclass(frozen=True)
class ProcessingLag:
    minutes: int
    unprocessed: int


def processing_lag_get(*, now: datetime | None = None) -> ProcessingLag | None:
    """The lag the banner shows, or None when processing keeps up.

    The backlog is cached for ``BACKLOG_CACHE_SECONDS`` so pages do not each pay a query; a
    cache or database failure shows no banner rather than failing the page.
    """
    now = now or timezone.now()
    try:
        backlog = cache.get(BACKLOG_CACHE_KEY)
        if not isinstance(backlog, ProcessingBacklog):
            backlog = responses_processing_backlog()
            cache.set(BACKLOG_CACHE_KEY, backlog, BACKLOG_CACHE_SECONDS)
    except Exception:
        logger.warning("Could not read the processing backlog for the banner.", exc_info=True)
        return None
    age = backlog.oldest_age_seconds(now=now)
    if age is None or age <= lag_limit_seconds():
        return None
    return ProcessingLag(minutes=int(age // 60), unprocessed=backlog.unprocessed)
