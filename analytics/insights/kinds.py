"""The run kinds of insights, for the table in ``analytics.runs.kinds``.

Driver runs carry a ``dispatch``: with ``workers > 1`` they fan out as a Celery chord
(``analytics.insights.tasks.drivers_run_dispatch``) instead of executing in one process.
"""

from __future__ import annotations

from analytics.insights.selectors import scores_parameters_clean
from analytics.insights.services import (
    drivers_parameters_clean,
    drivers_run_execute,
    scores_run_execute,
    value_parameters_clean,
    value_run_execute,
)
from analytics.insights.tasks import drivers_run_dispatch
from analytics.runs.kinds import RunKind
from analytics.runs.models import AnalysisRun

RUN_KINDS: dict[str, RunKind] = {
    AnalysisRun.Kind.SCORES: RunKind(validate=scores_parameters_clean, execute=scores_run_execute),
    AnalysisRun.Kind.DRIVERS: RunKind(
        validate=drivers_parameters_clean,
        execute=drivers_run_execute,
        dispatch=drivers_run_dispatch,
    ),
    AnalysisRun.Kind.VALUE: RunKind(validate=value_parameters_clean, execute=value_run_execute),
}
