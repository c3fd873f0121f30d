"""Pages: my actions, the actions board, action detail, create form, alerts, notifications.

The same rules as the API: what a user may not see is a 404, what they may see but not
change is a 403; business-rule refusals come back as a message on the page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from actions import effects, selectors, services
from actions.filters import ActionFilter
from actions.forms import (
    EVIDENCE_FIGURE_KEYS,
    ActionEditForm,
    ActionForm,
    AlertHandleForm,
    CancelForm,
    DeclineForm,
    ImplementForm,
    NotificationPreferenceForm,
    ReassignForm,
    UpdateForm,
)
from actions.models import Action, ActionStatus, AlertStatus, InsightKind
from actions.permissions import (
    can_create_action,
    can_edit_fields,
    can_post_update,
    can_transition,
    is_open,
)
from cxhub import access
from cxhub.errors import ApplicationError, Forbidden, NotFound, error_text
from cxhub.redirects import redirect_back
from cxhub.users import request_user
from feedback.models import Response, Touchpoint
from feedback.roles import user_is_cx_manager

PAGE_TRANSITIONS = ("accept", "decline", "start", "implement", "cancel", "reassign")
TRANSITION_FORMS: dict[str, Any] = {
    "decline": DeclineForm,
    "cancel": CancelForm,
    "implement": ImplementForm,
    "reassign": ReassignForm,
}
TRANSITION_LABELS = {
    "accept": "Accept",
    "decline": "Decline",
    "start": "Start work",
    "implement": "Mark implemented",
    "cancel": "Cancel action",
    "reassign": "Reassign",
}


def role_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The access policy's page gate (``cxhub.access.page``); domain refusals become 403/404."""

    @access.page
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error_text(error)) from error
        except Forbidden as error:
            raise PermissionDenied(error_text(error)) from error

    return wrapper


@role_required
def my_actions(request: HttpRequest) -> HttpResponse:
    owned = list(
        Action.objects.filter(owner_id=request.user.pk)
        .select_related("department", "created_by")
        .order_by("due_date", "-created_at")
    )
    today = timezone.localdate()
    groups = {
        "awaiting": [a for a in owned if a.status == ActionStatus.PROPOSED],
        "active": [
            a for a in owned if a.status in {ActionStatus.ACCEPTED, ActionStatus.IN_PROGRESS}
        ],
        "done": [a for a in owned if a.status in {ActionStatus.IMPLEMENTED, ActionStatus.MEASURED}],
        "closed": [a for a in owned if a.status in {ActionStatus.DECLINED, ActionStatus.CANCELLED}],
    }
    effects.effects_attach(groups["done"])
    return render(
        request,
        "actions/my_actions.html",
        {
            "groups": groups,
            "today": today,
            "update_form": UpdateForm(),
            "decline_form": DeclineForm(),
        },
    )


@role_required
def board(request: HttpRequest) -> HttpResponse:
    visible = selectors.action_list(user=request.user)
    action_filter = ActionFilter(request.GET or None, queryset=visible)
    status_code = 200
    if action_filter.is_bound and not action_filter.is_valid():
        status_code = 400
        filtered = visible.none()
    else:
        filtered = action_filter.qs
    counts = {
        row["status"]: row["n"]
        for row in visible.order_by().values("status").annotate(n=Count("id", distinct=True))
    }
    page = Paginator(filtered.order_by("due_date", "-created_at", "-id"), 50).get_page(
        request.GET.get("page")
    )
    page.object_list = effects.effects_attach(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "actions/board.html",
        {
            "filter": action_filter,
            "page": page,
            "show_effect": True,
            "today": timezone.localdate(),
            "status_counts": [
                (value, label, counts.get(value, 0)) for value, label in ActionStatus.choices
            ],
            "owners": selectors.line_managers(),
            "query": query.urlencode(),
            "can_create": can_create_action(request.user),
        },
        status=status_code,
    )


def _transition_buttons(request: HttpRequest, action: Action) -> list[dict[str, Any]]:
    allowed = set(services.allowed_transitions(action.status))
    buttons = []
    for name in PAGE_TRANSITIONS:
        if name in allowed and can_transition(request.user, action, name):
            form_class = TRANSITION_FORMS.get(name)
            buttons.append(
                {
                    "name": name,
                    "label": TRANSITION_LABELS[name],
                    "form": form_class(initial={"implemented_at": timezone.localdate()})
                    if form_class
                    else None,
                    "url": reverse("actions:transition", args=[action.pk, name]),
                }
            )
    return buttons


@role_required
def detail(request: HttpRequest, action_id: int) -> HttpResponse:
    action = selectors.action_get(user=request.user, action_id=action_id)
    return render(
        request,
        "actions/detail.html",
        {
            "action": action,
            "updates": list(action.updates.select_related("author")),
            "history": selectors.action_history(action=action),
            "buttons": _transition_buttons(request, action),
            "can_update": can_post_update(request.user, action)
            and action.status in services.UPDATABLE_STATUSES,
            "update_form": UpdateForm(),
            "alerts": list(action.alerts.select_related("touchpoint")),
            "proof": effects.proof_section(request, action),
            "measurement_note": effects.measurement_note(action),
            "today": timezone.localdate(),
            "is_open": is_open(action),
            "can_edit": can_edit_fields(request.user, action, {"title"})
            and action.status
            not in {ActionStatus.CANCELLED, ActionStatus.DECLINED, ActionStatus.MEASURED},
        },
    )


@require_POST
@role_required
def transition(request: HttpRequest, action_id: int, name: str) -> HttpResponse:
    if name not in PAGE_TRANSITIONS:
        raise Http404("No such step.")
    access.require_writer(request.user)
    action = selectors.action_get(user=request.user, action_id=action_id)
    if not can_transition(request.user, action, name):
        raise PermissionDenied(services.transition_refusal(action, name))
    detail_url = reverse("actions:detail", args=[action.pk])
    data: dict[str, Any] = {}
    form_class = TRANSITION_FORMS.get(name)
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
            messages.error(request, f"{TRANSITION_LABELS[name]}: {problems}")
            return redirect_back(request, detail_url)
        data = form.cleaned_data
    try:
        getattr(services, f"action_{name}")(action=action, by=request_user(request), **data)
    except Forbidden:
        raise
    except ApplicationError as error:
        messages.error(request, error_text(error))
        return redirect_back(request, detail_url)
    done = f"“{action.title}” is now {action.get_status_display().lower()}."
    note = effects.measurement_note(action) if name == "implement" else ""
    messages.success(request, f"{done} {note}".strip())
    return redirect_back(request, detail_url)


@require_POST
@role_required
def update_post(request: HttpRequest, action_id: int) -> HttpResponse:
    access.require_writer(request.user)
    action = selectors.action_get(user=request.user, action_id=action_id)
    detail_url = reverse("actions:detail", args=[action.pk])
    form = UpdateForm(request.POST)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, f"Update not posted: {problems}")
        return redirect_back(request, detail_url)
    try:
        services.action_update_post(action=action, by=request_user(request), **form.cleaned_data)
    except Forbidden:
        raise
    except ApplicationError as error:
        messages.error(request, f"Update not posted: {error_text(error)}")
        return redirect_back(request, detail_url)
    messages.success(request, f"Update posted on “{action.title}” ({action.progress}% done).")
    return redirect_back(request, detail_url)


def _prefill(request: HttpRequest) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
    """Initial form values and an evidence preview from ``?from=<kind>&…`` parameters."""
    source = request.GET.get("from", "")
    initial: dict[str, Any] = {"insight_kind": InsightKind.SCRATCH, "currency": "EUR"}
    if not source:
        return initial, None, ""
    if source == "suggestion":
        # A dashboard suggestion arrives as text (actions knows nothing of dashboards).
        text = request.GET.get("text", "").strip()[:2000]
        initial["title"] = (
            request.GET.get("label", "").strip()[:120] or "Act on a dashboard suggestion"
        )
        initial["description"] = f"Suggested on a dashboard: “{text}”" if text else ""
        return initial, None, ""
    if source not in InsightKind.values or source == InsightKind.SCRATCH:
        return initial, None, f"Unknown insight “{source}”; starting from scratch."
    reference = request.GET.get("id" if source == InsightKind.RESPONSE else "slug", "")
    figures = {k: request.GET[k] for k in EVIDENCE_FIGURE_KEYS if request.GET.get(k)}
    label = request.GET.get("label", "")[:200]
    try:
        evidence = selectors.evidence_build(
            kind=source, reference=reference, label=label, figures=figures
        )
    except ApplicationError as error:
        return initial, None, f"Could not use that insight: {error_text(error)}"
    initial.update(
        {
            "insight_kind": source,
            "evidence_reference": evidence["reference"],
            "evidence_label": label,
            "evidence_figures": json.dumps(figures),
        }
    )
    touchpoint = None
    if source == InsightKind.TOUCHPOINT:
        touchpoint = Touchpoint.objects.select_related("department").get(slug=reference)
        initial["title"] = f"Improve the experience at {touchpoint.name}"
    elif source == InsightKind.RESPONSE:
        response = Response.objects.select_related("touchpoint__department").get(
            pk=int(evidence["reference"])
        )
        touchpoint = response.touchpoint
        initial["title"] = "Fix what this customer ran into"
        initial["description"] = f"Customer said: “{response.comment}”" if response.comment else ""
        alert_id = request.GET.get("alert", "")
        if alert_id.isdigit():
            initial["alert"] = int(alert_id)
    else:
        initial["title"] = f"Improve {evidence['label'].lower()}"
    if touchpoint is not None:
        initial["department"] = touchpoint.department.slug
        initial["scope_touchpoints"] = [touchpoint.slug]
    return initial, evidence, ""


@role_required
def create(request: HttpRequest) -> HttpResponse:
    if not can_create_action(request.user):
        raise PermissionDenied("Only a CX manager can create actions.")
    status_code = 200
    evidence = None
    if request.method == "POST":
        form = ActionForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            alert_id = data.pop("alert", None)
            alert = None
            try:
                if alert_id:
                    alert = selectors.alert_get(user=request.user, alert_id=alert_id)
                    if alert.status != AlertStatus.OPEN:
                        alert = None
                action = services.action_create(
                    created_by=request_user(request),
                    evidence_figures=data.pop("evidence_figures"),
                    alert=alert,
                    **data,
                )
            except Forbidden:
                raise
            except ApplicationError as error:
                for field, errors in error.field_errors.items():
                    target = field if field in form.fields else None
                    for message in errors:
                        form.add_error(target, message)
            else:
                messages.success(
                    request,
                    f"Action created and proposed to {action.owner.get_full_name() or action.owner.get_username()}.",
                )
                return redirect("actions:detail", action_id=action.pk)
        status_code = 400
        if form.data.get("insight_kind") not in (None, "", InsightKind.SCRATCH):
            try:
                evidence = selectors.evidence_build(
                    kind=form.data["insight_kind"],
                    reference=form.data.get("evidence_reference", ""),
                    label=form.data.get("evidence_label", ""),
                    figures=json.loads(form.data.get("evidence_figures") or "{}"),
                )
            except (ApplicationError, ValueError, TypeError):
                evidence = None
    else:
        initial, evidence, problem = _prefill(request)
        if problem:
            messages.error(request, problem)
        form = ActionForm(initial=initial)
    return render(
        request, "actions/create.html", {"form": form, "evidence": evidence}, status=status_code
    )


@role_required
def edit(request: HttpRequest, action_id: int) -> HttpResponse:
    """CX managers change what was agreed: title, dates, cost, KPIs and scope."""
    access.require_cx_manager(request.user, "Only a CX manager can edit an action's plan.")
    action = selectors.action_get(user=request.user, action_id=action_id)
    if not can_edit_fields(request.user, action, {"title"}):
        raise PermissionDenied("Only a CX manager can edit an action's plan.")
    status_code = 200
    if request.method == "POST":
        form = ActionEditForm(request.POST)
        if form.is_valid():
            try:
                services.action_edit(
                    action=action, by=request_user(request), changes=form.cleaned_data
                )
            except Forbidden:
                raise
            except ApplicationError as error:
                for field, errors in error.field_errors.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, "Action saved.")
                return redirect("actions:detail", action_id=action.pk)
        status_code = 400
    else:
        form = ActionEditForm(initial=ActionEditForm.initial_for(action))
    return render(
        request, "actions/edit.html", {"form": form, "action": action}, status=status_code
    )


@role_required
def alerts(request: HttpRequest) -> HttpResponse:
    if not access.may_read(request.user, "actions.Alert"):
        raise PermissionDenied(access.MANAGERS_ONLY)
    status_filter = request.GET.get("status", AlertStatus.OPEN)
    if status_filter not in {*AlertStatus.values, "all"}:
        status_filter = AlertStatus.OPEN
    queryset = selectors.alert_list(
        user=request.user, status=None if status_filter == "all" else status_filter
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "actions/alerts.html",
        {
            "page": page,
            "status_filter": status_filter,
            "statuses": [*AlertStatus.choices, ("all", "All")],
            "handle_form": AlertHandleForm(),
            "can_create": can_create_action(request.user),
        },
    )


@require_POST
@role_required
def alert_handle(request: HttpRequest, alert_id: int) -> HttpResponse:
    if not access.may_read(request.user, "actions.Alert"):
        raise PermissionDenied(access.MANAGERS_ONLY)
    alert = selectors.alert_get(user=request.user, alert_id=alert_id)
    form = AlertHandleForm(request.POST)
    back = reverse("actions:alerts")
    if not form.is_valid():
        messages.error(request, "The note is too long.")
        return redirect_back(request, back)
    try:
        services.alert_handle(alert=alert, by=request_user(request), note=form.cleaned_data["note"])
    except Forbidden:
        raise
    except ApplicationError as error:
        messages.error(request, error_text(error))
        return redirect_back(request, back)
    messages.success(request, "Alert marked handled.")
    return redirect_back(request, back)


@role_required
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.notifications_mark_read(user=request_user(request))
        messages.success(request, "All notifications marked read.")
        return redirect("actions:notifications")
    page = Paginator(selectors.notification_list(user=request_user(request)), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "actions/notifications.html", {"page": page})


@role_required
def preferences(request: HttpRequest) -> HttpResponse:
    preference = selectors.notification_preference_get(user=request_user(request))
    if request.method == "POST":
        form = NotificationPreferenceForm(request.POST, instance=preference)
        if form.is_valid():
            services.notification_preferences_set(
                user=request_user(request),
                preferences={name: form.cleaned_data[name] for name in form.fields},
            )
            messages.success(request, "Notification preferences saved.")
            return redirect("actions:preferences")
    else:
        form = NotificationPreferenceForm(instance=preference)
    return render(
        request,
        "actions/preferences.html",
        {"form": form, "is_cx_manager": user_is_cx_manager(request.user)},
    )
