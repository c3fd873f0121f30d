"""The table of run kinds: for each ``AnalysisRun.Kind``, how to validate and execute it.

The generic engine (``analytics.runs.services``, ``analytics.runs.tasks``) looks a run's
kind up here and knows nothing else about it. The table is filled from outside: each
feature declares its kinds in its own ``kinds.py`` (``analytics.insights.kinds``,
``analytics.text.kinds``, ``analytics.impact.kinds``) and ``AnalyticsConfig.ready`` hands
them to ``run_kinds_register``, so ``runs`` imports no feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analytics.runs.models import AnalysisRun


@dataclass(frozen=True)
class RunOutcome:
    """What an analysis found (``result``) and how much data went into it (``counts``)."""

    result: dict[str, Any]
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunKind:
    """How one kind of run is validated and executed.

    ``validate`` cleans requested parameters (raising ``InvalidInput`` with field
    messages); ``execute`` computes in the worker and returns a ``RunOutcome``.
    ``dispatch``, when set, is asked first by the worker task: it may take the run over
    (a driver run with ``workers > 1`` fans out as a Celery chord) and returns a status
    text, or returns None to let the engine execute the run in this process.
    ``scope`` says whose data the run reads, from its cleaned parameters: the ids of the
    departments (empty: an aggregate across departments), or None when its result holds
    records of every department. Without it, the departments its ``filters`` name.
    """

    validate: Callable[[Mapping[str, Any]], dict[str, Any]]
    execute: Callable[[AnalysisRun], RunOutcome]
    dispatch: Callable[[AnalysisRun], str | None] | None = None
    scope: Callable[[Mapping[str, Any]], set[int] | None] | None = None


_kinds: dict[str, RunKind] = {}


def run_kinds_register(kinds: Mapping[str, RunKind]) -> None:
    """Add a feature's kinds to the table (called from ``AnalyticsConfig.ready``)."""
    for kind, handler in kinds.items():
        if kind not in AnalysisRun.Kind.values:
            raise ValueError(f"Unknown analysis kind {kind!r}; add it to AnalysisRun.Kind first.")
        _kinds[str(kind)] = handler


def run_kind_get(kind: str) -> RunKind | None:
    """The handler of ``kind``, or None when no feature registered it."""
    return _kinds.get(kind)


def run_kinds_available() -> list[str]:
    """The kinds that can be started, sorted."""
    return sorted(_kinds)
