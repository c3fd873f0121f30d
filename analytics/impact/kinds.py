"""The run kinds of action impact, for the table in ``analytics.runs.kinds``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions.models import Action
from analytics.impact.services.estimates import impact_parameters_clean, impact_run_execute
from analytics.runs.kinds import RunKind
from analytics.runs.models import AnalysisRun


def impact_scope(parameters: Mapping[str, Any]) -> set[int]:
    """An impact run is seen by those who see its action: its department's members, or
    every role for a cross-department action."""
    action = Action.objects.filter(pk=parameters["action_id"]).first()
    if action is None or action.cross_department or action.department_id is None:
        return set()
    return {action.department_id}


RUN_KINDS: dict[str, RunKind] = {
    AnalysisRun.Kind.IMPACT: RunKind(
        validate=impact_parameters_clean, execute=impact_run_execute, scope=impact_scope
    ),
}
