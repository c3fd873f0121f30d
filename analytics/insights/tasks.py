"""Celery tasks for analysis runs (scores, drivers, value of experience, topic impact).

Tasks take ids and call services. ``analysis_run_execute_task`` is idempotent: a run that
already finished is left alone, so a redelivered message (``acks_late``) is harmless.

A driver run with ``workers > 1`` fans out as a chord: one ``drivers_chunk_rows_task``
per range of chunks (each computes its chunks' sufficient statistics in SQL), then
``drivers_run_merge_task`` adds them up and computes shares and bootstrap intervals.
"""

from __future__ import annotations

from typing import Any

from celery import chord, shared_task

from analytics.models import AnalysisRun
from analytics.services.drivers import (
    drivers_chunk_rows,
    drivers_fan_out_ranges,
    drivers_run_merge,
)
from analytics.services.runs import run_execute, run_execute_now, run_fail, run_start


@shared_task(name="analytics.tasks.insights.analysis_run_execute_task")
def analysis_run_execute_task(run_id: int) -> str:
    run = AnalysisRun.objects.filter(pk=run_id).first()
    ranges = drivers_fan_out_ranges(run=run) if run is not None else None
    if not ranges:
        return str(run_execute(run_id=run_id).status)
    if run_start(run_id=run_id) is None:
        return "already finished"
    header = [drivers_chunk_rows_task.s(run_id, lo, hi) for lo, hi in ranges]
    body = drivers_run_merge_task.s(run_id).on_error(analysis_run_fail_task.si(run_id))
    try:
        chord(header)(body)
    except Exception as exc:  # eager mode raises here; with a broker the errback runs
        run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
    return "fanned out"


@shared_task(name="analytics.tasks.insights.drivers_chunk_rows_task")
def drivers_chunk_rows_task(run_id: int, lo: int, hi: int) -> list[list[Any]]:
    return drivers_chunk_rows(run_id=run_id, chunk_range=(lo, hi))


@shared_task(name="analytics.tasks.insights.drivers_run_merge_task")
def drivers_run_merge_task(parts: list[list[list[Any]]], run_id: int) -> str:
    return str(drivers_run_merge(run_id=run_id, parts=parts).status)


@shared_task(name="analytics.tasks.insights.analysis_run_fail_task")
def analysis_run_fail_task(run_id: int) -> None:
    run = AnalysisRun.objects.filter(pk=run_id).only("status").first()
    if run is not None and run.status == AnalysisRun.Status.RUNNING:
        run_fail(
            run_id=run_id,
            error="A worker task of this run failed; see the worker log for the reason.",
        )


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
