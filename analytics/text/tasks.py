"""Celery tasks of text analytics: take ids, call services; idempotent and safe to retry."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from analytics.text.services import responses_retag_all, responses_tag


@shared_task(name="analytics.tasks.text.responses_tag_task", acks_late=True, ignore_result=True)
def responses_tag_task(response_ids: list[int]) -> dict[str, Any]:
    """Tag these responses (again); the result is the same however often it runs."""
    return responses_tag(response_ids=response_ids).as_dict()


@shared_task(
    name="analytics.tasks.text.responses_retag_all_task", acks_late=True, ignore_result=True
)
def responses_retag_all_task() -> dict[str, Any]:
    """Re-tag every comment not yet tagged with the current taxonomy (after a taxonomy edit)."""
    return responses_retag_all().as_dict()
