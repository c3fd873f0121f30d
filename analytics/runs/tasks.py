"""The one Celery task that executes any analysis run, and the errback that fails one.

Tasks take ids and call services. ``analysis_run_execute_task`` is idempotent: a run that
already finished is left alone, so a redelivered message (``acks_late``) is harmless. The
registered names are the ones these tasks had before analytics was split by feature
(``analytics.tasks.insights.…``): messages already queued and the beat schedule carry them.
"""

from __future__ import annotations

from celery import shared_task

from analytics.runs.models import AnalysisRun
from analytics.runs.services import run_dispatch, run_fail


@shared_task(name="analytics.tasks.insights.analysis_run_execute_task")
def analysis_run_execute_task(run_id: int) -> str:
    """Execute the run (or let its kind fan it out); answers the status or what happened."""
    return run_dispatch(run_id=run_id)


@shared_task(name="analytics.tasks.insights.analysis_run_fail_task")
def analysis_run_fail_task(run_id: int) -> None:
    """Errback of a fanned-out run: a worker task failed, so the run fails (if still running)."""
    run = AnalysisRun.objects.filter(pk=run_id).only("status").first()
    if run is not None and run.status == AnalysisRun.Status.RUNNING:
        run_fail(
            run_id=run_id,
            error="A worker task of this run failed; see the worker log for the reason.",
        )
