"""Pages: my actions, the actions board, action detail, create form, alerts, notifications.

The same rules as the API: what a user may not see is a 404, what they may see but not
change is a 403; business-rule refusals come back as a message on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
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
    ActionEditForm,
    ActionForm,
    AlertCloseForm,
    AlertContactForm,
    AlertFilterForm,
    CancelForm,
    DeclineForm,
    ImplementForm,
    NotificationPreferenceForm,
    ReassignForm,
    UpdateForm,
)
from actions.models import (
    Action,
    ActionStatus,
    AlertStatus,
    ContactChannel,
    ContactOutcome,
    EvidenceDraft,
    InsightKind,
)
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
from feedback.models import Department, Touchpoint
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


LEGACY_REFERENCE = {"response": "id", "suggestion": "id"}


def _legacy_link(request: HttpRequest) -> HttpResponse | None:
    """An old ``?from=<kind>&slug=…`` link: only the insight's kind and reference go on to
    the page that builds the evidence on the server; figures in the address are dropped."""
    source = request.GET.get("from", "")
    if not source:
        return None
    reference = request.GET.get(LEGACY_REFERENCE.get(source, "slug"), "")
    alert_id = request.GET.get("alert", "")
    if alert_id.isdigit():
        source, reference = "alert", alert_id
    query = {"kind": source, "reference": reference}
    for name in ("outcome", "department"):  # which analysis, never a figure
        if request.GET.get(name):
            query[name] = request.GET[name]
    return redirect(reverse("dashboards:evidence-new") + "?" + urlencode(query))


def _draft_initial(draft: EvidenceDraft) -> dict[str, Any]:
    prefill = draft.prefill or {}
    initial: dict[str, Any] = {
        "currency": "EUR",
        "evidence": draft.pk,
        "title": prefill.get("title", ""),
        "description": prefill.get("description", ""),
    }
    if prefill.get("department"):
        initial["department"] = prefill["department"]
    if prefill.get("scope_touchpoints"):
        initial["scope_touchpoints"] = list(prefill["scope_touchpoints"])
    return initial


def _draft_or_error(request: HttpRequest, draft_id: Any) -> EvidenceDraft | None:
    if not draft_id:
        return None
    return selectors.evidence_draft_get(user=request.user, draft_id=int(draft_id))


@role_required
def create(request: HttpRequest) -> HttpResponse:
    """The create form; its evidence is a server-built draft (``?evidence=<id>``), read
    only for the user who built it."""
    if not can_create_action(request.user):
        raise PermissionDenied("Only a CX manager can create actions.")
    status_code = 200
    draft = None
    if request.method == "POST":
        form = ActionForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                draft = _draft_or_error(request, data.pop("evidence", None))
                action = services.action_create(
                    created_by=request_user(request),
                    insight_kind=draft.insight_kind if draft else InsightKind.SCRATCH,
                    evidence_draft=draft,
                    **data,
                )
            except (Forbidden, NotFound):
                raise
            except ApplicationError as error:
                problems: dict[str | None, list[str]] = dict(error.field_errors.items())
                if not problems:
                    problems[None] = [error_text(error)]
                for field, errors in problems.items():
                    target = field if field in form.fields and field != "evidence" else None
                    for message in errors:
                        form.add_error(target, message)
            else:
                messages.success(
                    request,
                    f"Action created and proposed to {action.owner.get_full_name() or action.owner.get_username()}.",
                )
                return redirect("actions:detail", action_id=action.pk)
        else:
            try:
                draft = _draft_or_error(request, form.cleaned_data.get("evidence"))
            except NotFound:
                draft = None
        status_code = 400
    else:
        legacy = _legacy_link(request)
        if legacy is not None:
            return legacy
        draft_id = request.GET.get("evidence", "")
        initial: dict[str, Any] = {"currency": "EUR"}
        if draft_id:
            if not draft_id.isdigit():
                raise Http404("No such evidence.")
            draft = _draft_or_error(request, draft_id)
            if draft is not None:
                initial = _draft_initial(draft)
        form = ActionForm(initial=initial)
    return render(
        request,
        "actions/create.html",
        {
            "form": form,
            "evidence": draft.snapshot if draft else None,
            "draft": draft,
        },
        status=status_code,
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
        form = ActionEditForm(request.POST, initial=ActionEditForm.initial_for(action))
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


def _alerts_gate(request: HttpRequest) -> None:
    """Alerts are for line and CX managers; a viewer is told so (403), as the API does."""
    if not access.may_read(request.user, "actions.Alert"):
        raise PermissionDenied(access.MANAGERS_ONLY)


ALERTS_PAGE_SIZE = 50


@role_required
def alerts(request: HttpRequest) -> HttpResponse:
    _alerts_gate(request)
    # Naming someone else's department or touchpoint is refused, as in the API.
    access.scope_restrict(
        request.user,
        {
            "department": [v for v in [request.GET.get("department", "")] if v],
            "touchpoint": [v for v in [request.GET.get("touchpoint", "")] if v],
        },
        records=False,
    )
    departments = access.visible(request.user, Department.objects.all())
    visible_department_ids = set(departments.values_list("pk", flat=True))
    assignees_by_department = selectors.alert_assignees_by_department(
        department_ids=visible_department_ids
    )
    everyone = {u.pk: u for people in assignees_by_department.values() for u in people}
    form = AlertFilterForm(
        request.GET or None,
        departments=departments,
        touchpoints=access.visible(request.user, Touchpoint.objects.select_related("department")),
        assignees=sorted(everyone.values(), key=lambda u: u.get_full_name() or u.username),
    )
    status_code = 200
    filters = selectors.AlertFilters()
    if form.is_bound:
        if form.is_valid():
            filters = form.filters()
        else:
            status_code = 400
    now = timezone.now()
    counts = selectors.alert_counts(user=request.user, filters=filters, now=now)
    page = Paginator(
        selectors.alert_list(user=request.user, filters=filters, now=now), ALERTS_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    alerts_on_page = list(page.object_list)
    contacts = selectors.alert_contacts_by_alert(alert_ids=[a.pk for a in alerts_on_page])
    query = request.GET.copy()
    query.pop("page", None)
    status_query = query.copy()
    status_query.pop("status", None)
    status_value = "all" if filters.status is None else filters.status
    return render(
        request,
        "actions/alerts.html",
        {
            "form": form,
            "page": page,
            "rows": [
                {
                    "alert": alert,
                    "contacts": contacts.get(alert.pk, []),
                    "overdue": bool(
                        alert.status == AlertStatus.OPEN
                        and alert.deadline_at
                        and alert.deadline_at < now
                    ),
                    "assignees": assignees_by_department.get(alert.department_id, [])
                    if alert.department_id
                    else assignees_by_department.get(None, []),
                }
                for alert in alerts_on_page
            ],
            "counts": counts,
            "status_value": status_value,
            "status_tabs": [
                (AlertStatus.OPEN.value, "Open", counts.open),
                (AlertStatus.HANDLED.value, "Closed", counts.closed),
                (AlertStatus.ACTIONED.value, "Turned into an action", counts.actioned),
                ("all", "All", counts.total),
            ],
            "status_query": status_query.urlencode(),
            "query": query.urlencode(),
            "bulk_assignees": sorted(
                everyone.values(), key=lambda u: u.get_full_name() or u.username
            ),
            "channels": ContactChannel.choices,
            "outcomes": ContactOutcome.choices,
            "now": now,
            "now_local": timezone.localtime(now),
            "can_create": can_create_action(request.user),
            "back": request.get_full_path(),
        },
        status=status_code,
    )


def _alerts_back(request: HttpRequest) -> HttpResponse:
    return redirect_back(request, reverse("actions:alerts"))


def _form_errors(form: Any) -> str:
    """A bound form's errors as one sentence for a message: "Outcome: This field is required." """
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)


@require_POST
@role_required
def alert_handle(request: HttpRequest, alert_id: int) -> HttpResponse:
    _alerts_gate(request)
    alert = selectors.alert_get(user=request.user, alert_id=alert_id)
    form = AlertCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Alert not closed. {_form_errors(form)}")
        return _alerts_back(request)
    try:
        services.alert_handle(
            alert=alert,
            by=request_user(request),
            note=form.cleaned_data["note"],
            contact=form.record_or_none(),
        )
    except Forbidden:
        raise
    except ApplicationError as error:
        messages.error(request, f"Alert not closed. {error_text(error)}")
        return _alerts_back(request)
    messages.success(request, "Alert closed.")
    return _alerts_back(request)


def _assignee_posted(request: HttpRequest, me: User) -> User | None:
    """The user a form names as ``assignee``: ``me``, or an active user's id."""
    chosen = request.POST.get("assignee", "")
    if chosen == "me":
        return me
    return selectors.user_active_get(user_id=int(chosen)) if chosen.isdigit() else None


@require_POST
@role_required
def alert_assign(request: HttpRequest, alert_id: int) -> HttpResponse:
    _alerts_gate(request)
    alert = selectors.alert_get(user=request.user, alert_id=alert_id)
    me = request_user(request)
    assignee = _assignee_posted(request, me)
    if assignee is None:
        messages.error(request, "Choose who gets the alert.")
        return _alerts_back(request)
    try:
        services.alert_assign(alert=alert, assignee=assignee, by=me)
    except Forbidden:
        raise
    except ApplicationError as error:
        messages.error(request, error_text(error))
        return _alerts_back(request)
    name = "you" if assignee.pk == me.pk else (assignee.get_full_name() or assignee.username)
    messages.success(request, f"Alert assigned to {name}.")
    return _alerts_back(request)


@require_POST
@role_required
def alert_contact(request: HttpRequest, alert_id: int) -> HttpResponse:
    _alerts_gate(request)
    alert = selectors.alert_get(user=request.user, alert_id=alert_id)
    form = AlertContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Contact not recorded. {_form_errors(form)}")
        return _alerts_back(request)
    try:
        services.alert_contact_record(alert=alert, by=request_user(request), contact=form.record())
    except Forbidden:
        raise
    except ApplicationError as error:
        messages.error(request, f"Contact not recorded. {error_text(error)}")
        return _alerts_back(request)
    messages.success(request, "Contact recorded.")
    return _alerts_back(request)


@require_POST
@role_required
def alerts_bulk(request: HttpRequest) -> HttpResponse:
    """Several alerts at once; each refused one is listed with its reason, the rest done."""
    _alerts_gate(request)
    me = request_user(request)
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    operation = request.POST.get("operation", "")
    assignee = _assignee_posted(request, me)
    contact = None
    note = ""
    if operation == "close":
        form = AlertCloseForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing closed. {_form_errors(form)}")
            return _alerts_back(request)
        contact, note = form.record_or_none(), form.cleaned_data["note"]
    try:
        result = services.alerts_bulk(
            alert_ids=ids, by=me, operation=operation, assignee=assignee, contact=contact, note=note
        )
    except ApplicationError as error:
        messages.error(request, error_text(error))
        return _alerts_back(request)
    verb = "closed" if operation == "close" else "assigned"
    if result.done:
        count = len(result.done)
        messages.success(request, f"{count} alert{'s' if count != 1 else ''} {verb}.")
    for refusal in result.refused:
        messages.error(request, f"Alert {refusal.alert_id} not {verb}: {refusal.message}")
    return _alerts_back(request)


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
