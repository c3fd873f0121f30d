"""Celery tasks of the feedback app: take ids, call services; idempotent and safe to retry."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections

from feedback import services

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_connections_drop() -> None:
    """Close this process's database connections, so the next query opens a fresh one.

    A connection inside a transaction is left alone: it belongs to the caller (a task run
    inline in a request or a test), whose transaction is rolled back on the error anyway.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def retry_countdown(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 2, 4, 8, … up to the settings' ceiling,
    which stays below the broker's visibility timeout (``cxhub.settings``)."""
    return int(min(settings.CXHUB_TASK_RETRY_BACKOFF_MAX, 2 ** (retries + 1)))


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=settings.CXHUB_TASK_MAX_RETRIES,
)
def responses_process_task(self: Any, response_ids: list[int]) -> int:
    """Run the registered processors on these responses and mark them processed.

    A database error (a restarted PostgreSQL, a terminated connection) retries the batch
    with back-off after dropping the broken connection, so the retry and the next task do
    not reuse it; after ``CXHUB_TASK_MAX_RETRIES`` tries the error stands and the sweep
    takes the responses up again. Processing is idempotent, so a retry is harmless.
    """
    try:
        return services.responses_process(response_ids=response_ids)
    except DATABASE_ERRORS as error:
        database_connections_drop()
        logger.warning(
            "Processing %d responses met %s; retry %d of %d.",
            len(response_ids),
            type(error).__name__,
            self.request.retries + 1,
            self.max_retries,
        )
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries)) from error


@shared_task(acks_late=True, ignore_result=True)
def responses_sweep_unprocessed_task() -> int:
    """Re-queue responses whose processing was never queued or has stalled (beat, every minute)."""
    outcome = services.responses_sweep_unprocessed()
    return outcome.requeued + outcome.handed_on
