"""Celery tasks of the feedback app: take ids, call services; idempotent and safe to retry."""

from __future__ import annotations

from celery import shared_task

from feedback import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def responses_process_task(response_ids: list[int]) -> int:
    """Run the registered processors on these responses and mark them processed."""
    return services.responses_process(response_ids=response_ids)


@shared_task(acks_late=True, ignore_result=True)
def responses_sweep_unprocessed_task() -> int:
    """Re-queue responses whose processing was never queued or has stalled (beat, every minute)."""
    return services.responses_sweep_unprocessed()
