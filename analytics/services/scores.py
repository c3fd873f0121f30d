"""Score runs: a stored snapshot of ``scores_summary`` for the given parameters."""

from __future__ import annotations

from analytics.models import AnalysisRun
from analytics.selectors.scores import scores_parameters_clean, scores_summary
from analytics.services.runs import RunOutcome, register_run_kind


def scores_run_execute(run: AnalysisRun) -> RunOutcome:
    result = scores_summary(run.parameters)
    return RunOutcome(result=result, counts={"responses": result["overall"]["responses"]})


register_run_kind(
    AnalysisRun.Kind.SCORES, validate=scores_parameters_clean, execute=scores_run_execute
)
