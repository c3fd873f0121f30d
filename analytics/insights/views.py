"""The insights page: scores with intervals, driver shares, quadrant, priority list, value of
experience and topic impact, with a "Run analysis" button for CX managers.

It reads one aggregate query for scores and the latest stored run of each analysis; the
heavy computations run in workers (``POST`` queues runs and comes back here).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analytics.insights.selectors import driver_run_latest, scores_parameters_clean, scores_summary
from analytics.runs.models import AnalysisRun
from analytics.runs.selectors import run_latest_matching
from analytics.runs.services import run_request
from cxhub.errors import ApplicationError
from feedback.filters import scope_window_label
from feedback.roles import user_is_cx_manager

SCORES_CACHE_KEY = "analytics:insights:scores:week-touchpoint"
SCORES_CACHE_SECONDS = 60
OUTCOMES = {"nps": "NPS (0–10)", "csat": "CSAT (1–5)", "ces": "CES (1–7)"}
RUN_SETS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "all": [
        ("drivers", {"outcome": "nps"}),
        ("drivers", {"outcome": "csat"}),
        ("value", {}),
        ("topic_impact", {}),
    ],
    "drivers": [("drivers", {"outcome": "nps"}), ("drivers", {"outcome": "csat"})],
    "value": [("value", {})],
    "topic_impact": [("topic_impact", {})],
}


QUADRANT_NAMES = {
    "fix_first": "Fix first",
    "strength": "Keep strong",
    "maintain": "Maintain",
    "monitor": "Monitor",
}


def _quadrant_members(result: dict[str, Any] | None) -> dict[str, str]:
    """Driver labels per quadrant, joined for display (``"–"`` when empty)."""
    members: dict[str, list[str]] = {key: [] for key in QUADRANT_NAMES}
    for driver in (result or {}).get("drivers", []):
        members.setdefault(driver["quadrant"], []).append(driver["label"])
    return {key: ", ".join(labels) or "–" for key, labels in members.items()}


def _run_window(run: AnalysisRun | None) -> str:
    """The window of the responses a run analysed, in words."""
    return scope_window_label((run.parameters or {}).get("filters") or {}) if run else ""


@login_required
def insights_page(request: HttpRequest) -> HttpResponse:
    outcome = request.GET.get("outcome", "nps")
    if outcome not in OUTCOMES:
        outcome = "nps"
    # One aggregate over all responses (about a second at 1M rows): shared for a minute.
    scores = cache.get(SCORES_CACHE_KEY)
    if scores is None:
        scores = scores_summary(scores_parameters_clean({"period": "week", "by": "touchpoint"}))
        cache.set(SCORES_CACHE_KEY, scores, SCORES_CACHE_SECONDS)
    scores = {**scores, "periods": scores.get("periods", [])[-8:]}
    drivers_run = driver_run_latest(outcome=outcome, filters={})
    value_run = run_latest_matching(kind=AnalysisRun.Kind.VALUE, outcome="nps", filters={})
    topics_run = run_latest_matching(kind=AnalysisRun.Kind.TOPIC_IMPACT, outcome="nps", filters={})
    recent_runs = list(
        AnalysisRun.objects.filter(
            kind__in=[
                AnalysisRun.Kind.DRIVERS,
                AnalysisRun.Kind.VALUE,
                AnalysisRun.Kind.TOPIC_IMPACT,
                AnalysisRun.Kind.SCORES,
            ]
        )
        .select_related("requested_by")
        .defer("result")
        .order_by("-created_at", "-id")[:8]
    )
    context = {
        "outcome": outcome,
        "outcomes": OUTCOMES,
        "scores": scores,
        "drivers_run": drivers_run,
        "drivers": drivers_run.result if drivers_run else None,
        "quadrant_members": _quadrant_members(drivers_run.result if drivers_run else None),
        "value_run": value_run,
        "value": value_run.result if value_run else None,
        "topics_run": topics_run,
        "topics": (topics_run.result.get("topics", [])[:15] if topics_run else []),
        "recent_runs": recent_runs,
        "scores_window": scope_window_label({}),
        "drivers_window": _run_window(drivers_run),
        "value_window": _run_window(value_run),
        "topics_window": _run_window(topics_run),
        "quadrant_names": QUADRANT_NAMES,
        "can_run": user_is_cx_manager(request.user),
    }
    return render(request, "analytics/insights.html", context)


@login_required
@require_POST
def insights_run(request: HttpRequest) -> HttpResponseRedirect:
    if not user_is_cx_manager(request.user):
        raise PermissionDenied("Only CX managers can start analysis runs.")
    which = request.POST.get("analysis", "all")
    started = []
    for kind, parameters in RUN_SETS.get(which, RUN_SETS["all"]):
        try:
            run = run_request(kind=kind, parameters=parameters, requested_by=request.user)
            started.append(f"#{run.pk} {run.get_kind_display().lower()}")
        except ApplicationError as exc:
            text = " ".join(str(m) for msgs in exc.field_errors.values() for m in msgs)
            messages.error(request, f"{kind}: {text}")
    if started:
        messages.success(
            request,
            "Analysis queued: " + ", ".join(started) + ". Results appear here when finished.",
        )
    return HttpResponseRedirect(reverse("analytics-insights-page"))
