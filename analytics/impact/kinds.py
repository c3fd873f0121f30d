"""The run kinds of action impact, for the table in ``analytics.runs.kinds``."""

from __future__ import annotations

from analytics.impact.services.estimates import impact_parameters_clean, impact_run_execute
from analytics.runs.kinds import RunKind
from analytics.runs.models import AnalysisRun

RUN_KINDS: dict[str, RunKind] = {
    AnalysisRun.Kind.IMPACT: RunKind(validate=impact_parameters_clean, execute=impact_run_execute),
}
