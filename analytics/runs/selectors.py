"""Reads of analysis runs shared by every feature: the latest result for a selection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analytics.runs.models import AnalysisRun
from cxhub import access
from feedback.filters import scope_window_label


def run_latest_matching(
    *, kind: str, outcome: str, filters: Mapping[str, Any]
) -> AnalysisRun | None:
    """The newest succeeded run of ``kind`` with this outcome and exactly these filters.

    Parameters are compared in Python (JSON equality differs between databases) over the
    latest 200 runs' parameters only; the matching run is then loaded with its result.
    """
    candidates = (
        AnalysisRun.objects.filter(kind=kind, status=AnalysisRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .values_list("id", "parameters")[:200]
    )
    wanted = dict(filters)
    for run_id, params in candidates:
        params = params or {}
        if params.get("outcome", outcome) == outcome and (params.get("filters") or {}) == wanted:
            return AnalysisRun.objects.select_related("requested_by").get(pk=run_id)
    return None


def runs_recent(*, kinds: Sequence[str], user: access.AnyUser, limit: int = 8) -> list[AnalysisRun]:
    """The newest runs of these kinds that ``user`` may see, any status, without their
    (large) results."""
    return list(
        access.visible(user, AnalysisRun.objects.filter(kind__in=list(kinds)))
        .select_related("requested_by")
        .defer("result")
        .order_by("-created_at", "-id")[:limit]
    )


def run_pending_exists(*, kind: str) -> bool:
    """Whether a run of ``kind`` is queued or running (a page says "refresh in a moment")."""
    return AnalysisRun.objects.filter(
        kind=kind, status__in=[AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING]
    ).exists()


def run_window_label(run: AnalysisRun | None) -> str:
    """The window of the responses a run analysed, in words ("" without a run)."""
    if run is None:
        return ""
    return scope_window_label((run.parameters or {}).get("filters") or {})
