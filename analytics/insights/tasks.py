"""Celery tasks of insights: the driver chord's chunk and merge tasks, the nightly runs.

A driver run with ``workers > 1`` fans out as a chord (``drivers_run_dispatch``): one
``drivers_chunk_rows_task`` per range of chunks (each computes its chunks' sufficient
statistics in SQL), then ``drivers_run_merge_task`` adds them up and computes shares and
bootstrap intervals. Registered names are unchanged since analytics was split by feature.
"""

from __future__ import annotations

from typing import Any

from celery import chord, shared_task

from analytics.insights.services import (
    drivers_chunk_rows,
    drivers_fan_out_ranges,
    drivers_run_merge,
)
from analytics.runs.models import AnalysisRun
from analytics.runs.services import run_execute_now, run_fail, run_start
from analytics.runs.tasks import analysis_run_fail_task


def drivers_run_dispatch(run: AnalysisRun) -> str | None:
    """The ``dispatch`` of driver runs: fan out as a chord when ``workers > 1``, else None.

    Called by ``analysis_run_execute_task`` through the drivers kind in
    ``analytics.insights.kinds``; None lets the engine execute the run in one process.
    """
    ranges = drivers_fan_out_ranges(run=run)
    if not ranges:
        return None
    if run_start(run_id=run.pk) is None:
        return "already finished"
    header = [drivers_chunk_rows_task.s(run.pk, lo, hi) for lo, hi in ranges]
    body = drivers_run_merge_task.s(run.pk).on_error(analysis_run_fail_task.si(run.pk))
    try:
        chord(header)(body)
    except Exception as exc:  # eager mode raises here; with a broker the errback runs
        run_fail(run_id=run.pk, error=f"{type(exc).__name__}: {exc}")
    return "fanned out"


@shared_task(name="analytics.tasks.insights.drivers_chunk_rows_task")
def drivers_chunk_rows_task(run_id: int, lo: int, hi: int) -> list[list[Any]]:
    return drivers_chunk_rows(run_id=run_id, chunk_range=(lo, hi))


@shared_task(name="analytics.tasks.insights.drivers_run_merge_task")
def drivers_run_merge_task(parts: list[list[list[Any]]], run_id: int) -> str:
    return str(drivers_run_merge(run_id=run_id, parts=parts).status)


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
