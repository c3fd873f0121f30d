"""The Celery application. Tasks live in each app's ``tasks.py`` and are found automatically.

The worker also writes a heartbeat into the shared cache (``cxhub.health``) so the web
process can tell a live worker from a dead one, and counts failed tasks there for the
metrics: counters kept in a worker process would be invisible to the web process that
Prometheus scrapes.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, bootsteps
from celery.signals import task_failure, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")

logger = logging.getLogger(__name__)

app = Celery("cxhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _heartbeat(hostname: str) -> None:
    from cxhub.health import worker_heartbeat_record

    try:
        worker_heartbeat_record(hostname=hostname)
    except Exception:  # a cache outage must not stop the worker; readiness reports it
        logger.warning("Could not write the worker heartbeat.", exc_info=True)


class WorkerHeartbeatStep(bootsteps.StartStopStep):
    """Beat every ``CXHUB_WORKER_HEARTBEAT_SECONDS`` on the worker's own timer.

    The timer runs in the consumer's event loop, so a worker that is stuck (reconnecting to
    its broker, or its loop blocked) stops beating and readiness reports it stale.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.entry: Any = None

    def start(self, worker: Any) -> None:
        from django.conf import settings

        _heartbeat(worker.hostname)
        self.entry = worker.timer.call_repeatedly(
            settings.CXHUB_WORKER_HEARTBEAT_SECONDS, _heartbeat, (worker.hostname,), priority=10
        )

    def stop(self, worker: Any) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None


app.steps["worker"].add(WorkerHeartbeatStep)


@worker_ready.connect
def _worker_ready(sender: Any = None, **kwargs: Any) -> None:
    hostname = getattr(sender, "hostname", None)
    if hostname:
        _heartbeat(str(hostname))


@task_failure.connect
def _task_failed(sender: Any = None, **kwargs: Any) -> None:
    from cxhub.metrics import task_failure_record

    try:
        task_failure_record(task_name=str(getattr(sender, "name", sender)))
    except Exception:
        logger.warning("Could not count a task failure.", exc_info=True)
