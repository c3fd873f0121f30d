"""The run kinds of text analytics, for the table in ``analytics.runs.kinds``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.runs.kinds import RunKind
from analytics.runs.models import AnalysisRun
from analytics.text.services import (
    tagging_parameters_clean,
    tagging_run_execute,
    theme_discovery_execute,
    theme_discovery_parameters_clean,
    topic_impact_parameters_clean,
    topic_impact_run_execute,
)


def every_department(parameters: Mapping[str, Any]) -> None:
    """Tagging and theme discovery read (and theme proposals quote) every department's
    comments: only users who see every department read these runs."""
    return None


RUN_KINDS: dict[str, RunKind] = {
    AnalysisRun.Kind.TAGGING: RunKind(
        validate=tagging_parameters_clean, execute=tagging_run_execute, scope=every_department
    ),
    AnalysisRun.Kind.THEME_DISCOVERY: RunKind(
        validate=theme_discovery_parameters_clean,
        execute=theme_discovery_execute,
        scope=every_department,
    ),
    AnalysisRun.Kind.TOPIC_IMPACT: RunKind(
        validate=topic_impact_parameters_clean, execute=topic_impact_run_execute
    ),
}
