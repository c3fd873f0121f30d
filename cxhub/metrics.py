"""Prometheus metrics, computed when Prometheus scrapes ``/metrics``.

Gauges and counts are read at scrape time from the database, the broker and the shared
cache (``cxhub.health`` and ``feedback.selectors``), not kept in this process: gunicorn runs
several web processes and the worker runs in others, so an in-process counter would show
only the share of whichever process answered. Task failures are counted by the worker in the
shared cache (``task_failure_record``, from Celery's ``task_failure`` signal) for the same
reason; the count starts again from zero if that cache is flushed, which Prometheus reads as
a counter reset.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator

from django.apps import apps
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cxhub.health import readiness_get
from feedback.selectors import responses_count_by_source

TASK_FAILURES_KEY = "cxhub:task-failures:{task}"


def task_failure_record(*, task_name: str) -> None:
    """Count one failure of ``task_name`` in the shared cache."""
    key = TASK_FAILURES_KEY.format(task=task_name)
    cache.add(key, 0, timeout=None)
    cache.incr(key)


def _tasks_import() -> None:
    """Import every app's ``tasks`` module, as the worker does, so the web process knows every
    task name. (Not Celery's ``import_default_modules``: its Django fix-up runs the system
    checks each time.)"""
    for config in apps.get_app_configs():
        module = f"{config.name}.tasks"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def task_failures_get() -> dict[str, int]:
    """Failures counted so far, by task name, for every task the app knows."""
    from cxhub.celery import app

    _tasks_import()
    names = sorted(name for name in app.tasks if not name.startswith("celery."))
    counts = cache.get_many([TASK_FAILURES_KEY.format(task=name) for name in names])
    return {name: int(counts.get(TASK_FAILURES_KEY.format(task=name), 0)) for name in names}


class CXHubCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        readiness = readiness_get(now=now)
        checks = readiness.checks

        up = GaugeMetricFamily(
            "cxhub_check_up", "1 when a readiness check passes, 0 when not.", labels=["check"]
        )
        for name, check in checks.items():
            up.add_metric([name], 1.0 if check["ok"] else 0.0)
        yield up

        processing = checks["processing"]
        if processing.get("unprocessed") is not None:
            yield GaugeMetricFamily(
                "cxhub_responses_unprocessed",
                "Responses stored and not yet processed (tagged, sentiment, alerts).",
                value=processing["unprocessed"],
            )
            yield GaugeMetricFamily(
                "cxhub_processing_lag_seconds",
                "Age of the oldest unprocessed response; 0 when none waits.",
                value=processing["oldest_unprocessed_age_seconds"] or 0.0,
            )

        broker = checks["broker"]
        if broker.get("queued") is not None:
            yield GaugeMetricFamily(
                "cxhub_celery_queue_length",
                "Messages waiting in the Celery queues on the broker, all queues together.",
                value=broker["queued"],
            )
            per_queue = GaugeMetricFamily(
                "cxhub_celery_queue_messages",
                "Messages waiting in one Celery queue (one per workload).",
                labels=["queue"],
            )
            for name, length in (broker.get("queues") or {}).items():
                per_queue.add_metric([name], float(length))
            yield per_queue
            yield GaugeMetricFamily(
                "cxhub_celery_unacked_messages",
                "Messages delivered to a worker and not yet acknowledged.",
                value=broker["unacked"],
            )

        age = checks["worker"].get("heartbeat_age_seconds")
        if age is not None:
            yield GaugeMetricFamily(
                "cxhub_worker_heartbeat_age_seconds",
                "Seconds since a Celery worker last wrote its heartbeat.",
                value=age,
            )

        if checks["database"]["ok"]:
            try:
                stored = responses_count_by_source()
            except DatabaseError:
                stored = None
            if stored is not None:
                ingested = CounterMetricFamily(
                    "cxhub_responses_ingested",
                    "Responses stored, by source.",
                    labels=["source"],
                )
                for source, count in sorted(stored.items()):
                    ingested.add_metric([source], count)
                yield ingested

        try:
            failures = task_failures_get()
        except Exception:  # the cache is down: no failure counts this scrape
            failures = None
        if failures is not None:
            failed = CounterMetricFamily(
                "cxhub_celery_task_failures",
                "Celery tasks that ended in failure, by task name.",
                labels=["task"],
            )
            for task, count in failures.items():
                failed.add_metric([task], count)
            yield failed


def metrics_text() -> bytes:
    """The metrics in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CXHubCollector())
    return generate_latest(registry)
