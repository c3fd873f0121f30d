"""Impact pages: the measured value of actions (roll-up) and one action's estimates.

Plain server-rendered pages over the same selectors as the API; a CX manager or the
action's owner can ask for a re-estimation from the action page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from actions.permissions import actions_visible_to
from actions.selectors import action_get
from analytics.impact.selectors import (
    action_impact_summary,
    actions_with_estimates,
    impact_rollup,
)
from analytics.impact.services import MEASURABLE_STATUSES, impact_request
from cxhub.errors import NotFound
from feedback.models import Department
from feedback.roles import user_is_cx_manager


@login_required
@require_GET
def impact_rollup_page(request: HttpRequest) -> HttpResponse:
    """Total measured value of the actions a user can see, for a department or everyone."""
    departments = list(Department.objects.order_by("name"))
    slug = request.GET.get("department") or None
    if slug is not None and slug not in {d.slug for d in departments}:
        messages.error(request, f"Unknown department '{slug}'; showing the whole organisation.")
        slug = None
    actions = actions_with_estimates(department_slug=slug, visible=actions_visible_to(request.user))
    context = {
        "rollup": impact_rollup(actions=actions, department_slug=slug),
        "departments": departments,
        "department": slug,
    }
    return render(request, "analytics/impact_rollup.html", context)


@login_required
@require_GET
def impact_action_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One action's current estimates per metric, causal next to before/after, and history."""
    try:
        action = action_get(user=request.user, action_id=pk)
    except NotFound:
        raise PermissionDenied("No such action, or it is not visible to you.") from None
    summary = action_impact_summary(action=action)
    context = {
        "action": action,
        "summary": summary,
        "can_estimate": (user_is_cx_manager(request.user) or action.owner_id == request.user.pk)
        and action.status in MEASURABLE_STATUSES,
    }
    return render(request, "analytics/impact_action.html", context)


@login_required
@require_POST
def impact_action_estimate(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Queue a re-estimation (CX managers and the owner) and come back to the page."""
    try:
        action = action_get(user=request.user, action_id=pk)
    except NotFound:
        raise PermissionDenied("No such action, or it is not visible to you.") from None
    if not (user_is_cx_manager(request.user) or action.owner_id == request.user.pk):
        raise PermissionDenied("Only CX managers and the action's owner may re-estimate.")
    if action.status not in MEASURABLE_STATUSES:
        messages.error(request, "Impact is measured once the action is implemented.")
    else:
        run = impact_request(action=action, requested_by=request.user)
        messages.success(request, f"Re-estimation queued (run #{run.pk}); reload in a moment.")
    return HttpResponseRedirect(reverse("analytics-impact-action-page", args=[action.pk]))
