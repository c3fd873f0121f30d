"""Celery task of the roll-ups: refresh the dirty days (queued after writes; beat, every minute)."""

from __future__ import annotations

from celery import shared_task

from analytics.responses.rollups import rollups_refresh_all, rollups_refresh_unqueue


@shared_task(
    name="analytics.tasks.responses.rollups_refresh_task", acks_late=True, ignore_result=True
)
def rollups_refresh_task() -> int:
    """Refresh every roll-up for every dirty day that is not being written; idempotent.

    The queued mark is cleared first, so a write committing while this runs queues the
    next refresh instead of being left to beat. Two tasks running at once take disjoint
    days (``SKIP LOCKED``).
    """
    rollups_refresh_unqueue()
    return rollups_refresh_all()
