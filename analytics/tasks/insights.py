"""Celery tasks for analysis runs (scores, drivers, value of experience, …).

Tasks take ids and call services. ``analysis_run_execute_task`` is idempotent: a run that
already finished is left alone, so a redelivered message (``acks_late``) is harmless.
"""

from __future__ import annotations

from celery import shared_task

from analytics.services.runs import run_execute, run_execute_now


@shared_task(name="analytics.tasks.insights.analysis_run_execute_task")
def analysis_run_execute_task(run_id: int) -> str:
    run = run_execute(run_id=run_id)
    return str(run.status)


@shared_task(name="analytics.tasks.insights.nightly_insights_task")
def nightly_insights_task() -> list[int]:
    """The nightly driver (NPS and CSAT), value-of-experience and topic-impact runs."""
    run_ids = []
    for kind, parameters in (
        ("drivers", {"outcome": "nps"}),
        ("drivers", {"outcome": "csat"}),
        ("value", {}),
        ("topic_impact", {}),
    ):
        run_ids.append(run_execute_now(kind=kind, parameters=parameters).pk)
    return run_ids
