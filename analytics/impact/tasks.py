"""Celery task for action impact: the daily re-estimation of implemented actions.

On-demand estimations go through ``analysis_run_execute_task`` like every analysis run.
"""

from __future__ import annotations

from celery import shared_task

from analytics.impact.services import impact_estimate_due


@shared_task(name="analytics.tasks.impact.impact_estimate_due_task")
def impact_estimate_due_task() -> list[int]:
    """Re-estimate every implemented action (one recorded run each); returns the run ids."""
    return impact_estimate_due()
