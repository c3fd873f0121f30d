"""Writes and business rules of actions: creation, the lifecycle, updates, alerts, reminders.

The lifecycle is one explicit table (``TRANSITIONS``): each transition names the states it
may start from and the state it leads to. Every transition service checks the table and
the caller's permission, locks the row, and records who did it in the change history.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from actions import notifications
from actions.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    Alert,
    AlertContact,
    AlertReason,
    AlertStatus,
    ContactChannel,
    ContactOutcome,
    EvidenceDraft,
    InsightKind,
    Notification,
    NotificationKind,
    NotificationPreference,
    alert_severity,
)
from actions.permissions import (
    can_create_action,
    can_edit_fields,
    can_handle_alert,
    can_post_update,
    can_transition,
    require,
    transition_refusal,
)
from actions.selectors import (
    OPEN_STATUSES,
    alert_assignees,
    alert_list,
    department_managers,
    evidence_build,
)
from cxhub.errors import ApplicationError, InvalidInput, InvalidTransition, error_text
from feedback.models import Department, Response, Touchpoint
from feedback.privacy import ErasedCustomer
from feedback.roles import Role

S = ActionStatus


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str


TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({S.PROPOSED}), S.ACCEPTED),
    "decline": Transition(frozenset({S.PROPOSED}), S.DECLINED),
    "start": Transition(frozenset({S.ACCEPTED}), S.IN_PROGRESS),
    "implement": Transition(frozenset({S.IN_PROGRESS}), S.IMPLEMENTED),
    "mark_measured": Transition(frozenset({S.IMPLEMENTED}), S.MEASURED),
    "cancel": Transition(frozenset({S.PROPOSED, S.ACCEPTED, S.IN_PROGRESS}), S.CANCELLED),
    "reassign": Transition(
        frozenset({S.PROPOSED, S.ACCEPTED, S.IN_PROGRESS, S.DECLINED}), S.PROPOSED
    ),
}

# Statuses in which the timeline takes progress updates.
UPDATABLE_STATUSES = frozenset({S.ACCEPTED, S.IN_PROGRESS, S.IMPLEMENTED})
# Reminders look this many days ahead.
DUE_SOON_DAYS = 3
# Closed-loop alerts are raised only for recent feedback: calling back a customer about a
# survey from last year (an import of history) helps nobody.
ALERT_NEGATIVE_SENTIMENT = -0.5
ALERT_DETRACTOR_MAX_NPS = 6
# Above this many new alerts for one person in one batch, one summary notification is sent.
ALERT_SINGLE_NOTIFICATIONS_MAX = 5
ALERT_BATCH_LISTED = 10


def allowed_transitions(status: str) -> list[str]:
    """The transitions the table allows from ``status``, in table order."""
    return [name for name, t in TRANSITIONS.items() if status in t.sources]


def _label(status: str) -> str:
    return str(ActionStatus(status).label).lower()


def _check_transition(action: Action, name: str) -> str:
    transition = TRANSITIONS[name]
    if action.status not in transition.sources:
        allowed = allowed_transitions(action.status)
        allowed_text = ", ".join(allowed) if allowed else "none"
        message = (
            f"Cannot {name.replace('_', ' ')} an action that is {_label(action.status)}. "
            f"Allowed from {_label(action.status)}: {allowed_text}."
        )
        raise InvalidTransition(message, field_errors={"status": [message]})
    return transition.target


def _locked(action: Action) -> Action:
    """Re-read the action under a row lock so concurrent transitions serialise."""
    return (
        Action.objects.select_for_update().select_related("owner", "created_by").get(pk=action.pk)
    )


def _action_url(action: Action) -> str:
    return reverse("actions:detail", args=[action.pk])


def _save(action: Action, by: User | None, fields: Iterable[str]) -> None:
    action._history_user = by  # type: ignore[attr-defined]
    action.save(update_fields=[*fields, "updated_at"])


def _refresh_into(target: Action, source: Action) -> None:
    """Copy the saved state back into the caller's instance."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


# --- Validation helpers -------------------------------------------------------------------

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def _clean_target_kpis(raw: Any) -> list[dict[str, Any]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise InvalidInput(
            "Invalid target KPIs.",
            field_errors={"target_kpis": ["A list of {kpi, expected_change, unit} objects."]},
        )
    cleaned: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append(f"Item {index}: an object with kpi, expected_change and unit.")
            continue
        kpi = item.get("kpi")
        if not isinstance(kpi, str) or not _SLUG.match(kpi):
            errors.append(f"Item {index}: 'kpi' must be a KPI slug.")
            continue
        change = item.get("expected_change")
        if isinstance(change, bool):
            change = None
        try:
            change_value = float(change) if change is not None else None
        except (TypeError, ValueError):
            change_value = None
        if (
            change_value is None
            or change_value != change_value
            or abs(change_value) == float("inf")
        ):
            errors.append(f"Item {index}: 'expected_change' must be a number.")
            continue
        unit = item.get("unit", "")
        if not isinstance(unit, str) or len(unit) > 32:
            errors.append(f"Item {index}: 'unit' must be a short text (e.g. 'pp', '%', 'EUR').")
            continue
        cleaned.append({"kpi": kpi, "expected_change": change_value, "unit": unit})
    if errors:
        raise InvalidInput("Invalid target KPIs.", field_errors={"target_kpis": errors})
    return cleaned


def _clean_attribute_filter(raw: Any, field: str) -> dict[str, list[str]]:
    if raw in (None, ""):
        return {}
    message = 'An object of attribute → list of values, e.g. {"region": ["north"]}.'
    if not isinstance(raw, dict):
        raise InvalidInput("Invalid attribute filter.", field_errors={field: [message]})
    cleaned: dict[str, list[str]] = {}
    for key, values in raw.items():
        if isinstance(values, str | int | float) and not isinstance(values, bool):
            values = [values]
        if (
            not isinstance(key, str)
            or not key
            or not isinstance(values, list)
            or not values
            or not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values)
        ):
            raise InvalidInput("Invalid attribute filter.", field_errors={field: [message]})
        cleaned[key] = [str(v) for v in values]
    return cleaned


def _clean_cost(raw: Any) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        cost = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            "Invalid cost.", field_errors={"cost_estimate": ["A number, e.g. 12500.00."]}
        ) from None
    if not cost.is_finite() or cost < 0 or cost >= Decimal("1e12"):
        raise InvalidInput(
            "Invalid cost.",
            field_errors={"cost_estimate": ["A non-negative amount below 1,000,000,000,000."]},
        )
    return cost.quantize(Decimal("0.01"))


def _clean_currency(raw: Any) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z]{3}", raw):
        raise InvalidInput(
            "Invalid currency.", field_errors={"currency": ["A three-letter ISO code, e.g. EUR."]}
        )
    return raw.upper()


def _check_owner(owner: User) -> None:
    if (
        owner is None
        or not owner.is_active
        or not owner.groups.filter(name=Role.LINE_MANAGER).exists()
    ):
        raise InvalidInput(
            "Invalid owner.", field_errors={"owner": ["The owner must be an active line manager."]}
        )


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise InvalidInput("Missing title.", field_errors={"title": ["A title is required."]})
    if len(title) > 200:
        raise InvalidInput("Title too long.", field_errors={"title": ["At most 200 characters."]})
    return title


def _check_progress(progress: Any, field: str = "progress") -> int:
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise InvalidInput(
            "Invalid progress.", field_errors={field: ["A whole percentage from 0 to 100."]}
        )
    return progress


# --- Creation and editing -----------------------------------------------------------------


@transaction.atomic
def action_create(
    *,
    created_by: User,
    title: str,
    department: Department,
    owner: User,
    description: str = "",
    insight_kind: str = InsightKind.SCRATCH,
    evidence_reference: str = "",
    evidence_label: str = "",
    evidence_figures: Mapping[str, Any] | None = None,
    due_date: dt.date | None = None,
    cost_estimate: Any = None,
    currency: str = "EUR",
    target_kpis: Any = None,
    scope_touchpoints: Iterable[Touchpoint] = (),
    scope_departments: Iterable[Department] = (),
    scope_attributes: Any = None,
    control_touchpoints: Iterable[Touchpoint] = (),
    control_departments: Iterable[Department] = (),
    control_attributes: Any = None,
    cross_department: bool = False,
    alert: Alert | None = None,
    evidence_draft: EvidenceDraft | None = None,
    today: dt.date | None = None,
) -> Action:
    """Create a proposed action with a snapshot of its evidence and tell the owner.

    With ``evidence_draft`` (built by the server from the insight, see
    ``evidence_draft_create``) the action keeps that snapshot, its run id, source response
    and alert; the other evidence arguments are then ignored."""
    require(can_create_action(created_by), "Only a CX manager can create actions.")
    if evidence_draft is not None:
        if evidence_draft.created_by_id != created_by.pk:
            raise InvalidInput(
                "Unknown evidence.", field_errors={"evidence": ["This evidence is not yours."]}
            )
        insight_kind = evidence_draft.insight_kind
        if evidence_draft.alert is not None and evidence_draft.alert.status == AlertStatus.OPEN:
            alert = evidence_draft.alert
    today = today or timezone.localdate()
    title = _check_title(title)
    _check_owner(owner)
    if due_date is not None and due_date < today:
        raise InvalidInput(
            "Due date in the past.",
            field_errors={"due_date": ["The due date cannot be in the past."]},
        )
    source_response = None
    run_id = None
    if evidence_draft is not None:
        evidence = dict(evidence_draft.snapshot)
        run_id = evidence_draft.run_id
        source_response = evidence_draft.source_response
    else:
        if alert is not None:  # the alert's verbatim is the evidence, whatever kind was sent
            insight_kind = InsightKind.RESPONSE
            evidence_reference = str(alert.response_id)
        evidence = evidence_build(
            kind=insight_kind,
            reference=evidence_reference,
            label=evidence_label or (title if insight_kind == InsightKind.SCRATCH else ""),
            figures=evidence_figures,
        )
        if insight_kind == InsightKind.RESPONSE:
            source_response = Response.objects.get(pk=int(evidence["reference"]))
    action = Action(
        title=title,
        description=description or "",
        insight_kind=insight_kind,
        evidence=evidence,
        evidence_run_id=run_id,
        department=department,
        cross_department=cross_department,
        owner=owner,
        created_by=created_by,
        due_date=due_date,
        cost_estimate=_clean_cost(cost_estimate),
        currency=_clean_currency(currency or "EUR"),
        target_kpis=_clean_target_kpis(target_kpis),
        scope_attributes=_clean_attribute_filter(scope_attributes, "scope_attributes"),
        control_attributes=_clean_attribute_filter(control_attributes, "control_attributes"),
        source_response=source_response,
    )
    action._history_user = created_by  # type: ignore[attr-defined]
    action.save()
    action.scope_touchpoints.set(list(scope_touchpoints))
    action.scope_departments.set(list(scope_departments))
    action.control_touchpoints.set(list(control_touchpoints))
    action.control_departments.set(list(control_departments))
    if alert is not None:
        Alert.objects.filter(pk=alert.pk).update(
            status=AlertStatus.ACTIONED,
            action=action,
            handled_by=created_by,
            handled_at=timezone.now(),
        )
    if evidence_draft is not None:
        EvidenceDraft.objects.filter(pk=evidence_draft.pk).update(action=action)
    _notify_assigned(action, by=created_by)
    return action


def evidence_draft_create(
    *,
    created_by: User,
    insight_kind: str,
    snapshot: Mapping[str, Any],
    run_id: int | None = None,
    title: str = "",
    description: str = "",
    department: Department | None = None,
    scope_touchpoints: Iterable[Touchpoint] = (),
    source_response: Response | None = None,
    alert: Alert | None = None,
) -> EvidenceDraft:
    """Keep the evidence the server found for an insight until the CX manager who asked
    for it creates the action (``action_create(evidence_draft=…)``).

    The snapshot is data built by the app that owns the insight (its figure with the
    interval, the run, supporting verbatims); here it is only checked to be a labelled
    object and stamped with the time it was captured."""
    require(can_create_action(created_by), "Only a CX manager can create actions.")
    if insight_kind not in InsightKind.values or insight_kind == InsightKind.SCRATCH:
        raise InvalidInput(
            "Unknown insight kind.",
            field_errors={"kind": [f"Choose one of: {', '.join(_DRAFT_KINDS)}."]},
        )
    if not isinstance(snapshot, Mapping) or not snapshot.get("label"):
        raise InvalidInput(
            "Invalid evidence.", field_errors={"evidence": ["The evidence needs a label."]}
        )
    stored = {"kind": insight_kind, **dict(snapshot)}
    stored.setdefault("captured_at", timezone.now().isoformat())
    stored.setdefault("run", None)
    if run_id is not None:
        stored["run_id"] = run_id
    return EvidenceDraft.objects.create(
        created_by=created_by,
        insight_kind=insight_kind,
        snapshot=stored,
        run_id=run_id,
        prefill={
            "title": (title or str(snapshot["label"]))[:200],
            "description": description,
            "department": department.slug if department is not None else "",
            "scope_touchpoints": [t.slug for t in scope_touchpoints],
        },
        source_response=source_response,
        alert=alert,
    )


_DRAFT_KINDS = [kind for kind in InsightKind.values if kind != InsightKind.SCRATCH]


def _notify_assigned(action: Action, *, by: User) -> None:
    if action.owner_id == getattr(by, "pk", None):
        return
    due = f" It is due on {action.due_date:%d %b %Y}." if action.due_date else ""
    notifications.notify(
        recipient=action.owner,
        kind=NotificationKind.ASSIGNED,
        title=f"New action for you: {action.title}",
        body=(
            f"{by.get_full_name() or by.get_username()} proposes that you own the action "
            f"“{action.title}”.{due} Please accept or decline it.\n\n"
            f"Why: {action.evidence.get('summary', '')}"
        ),
        url=_action_url(action),
        action=action,
    )


EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "department",
        "due_date",
        "cost_estimate",
        "currency",
        "target_kpis",
        "scope_touchpoints",
        "scope_departments",
        "scope_attributes",
        "control_touchpoints",
        "control_departments",
        "control_attributes",
        "cross_department",
        "progress",
    }
)
_M2M_FIELDS = frozenset(
    {"scope_touchpoints", "scope_departments", "control_touchpoints", "control_departments"}
)


@transaction.atomic
def action_edit(*, action: Action, by: User, changes: Mapping[str, Any]) -> Action:
    """Change editable fields; the owner may change only the description and progress."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(
            "Not editable.",
            field_errors={
                name: ["This field cannot be changed here (use the transition endpoints)."]
                for name in sorted(unknown)
            },
        )
    require(
        can_edit_fields(by, action, set(changes)),
        "You may change only the description and progress of actions you own."
        if action.owner_id == getattr(by, "pk", None)
        else "Only the owner or a CX manager can change this action.",
    )
    locked = _locked(action)
    if locked.status in {S.CANCELLED, S.DECLINED, S.MEASURED}:
        raise InvalidTransition(
            f"A {_label(locked.status)} action cannot be edited.",
            field_errors={"status": [f"A {_label(locked.status)} action cannot be edited."]},
        )
    cleaners: dict[str, Callable[[Any], Any]] = {
        "title": _check_title,
        "description": lambda v: v or "",
        "department": lambda v: v,
        "due_date": lambda v: v,
        "cost_estimate": _clean_cost,
        "currency": _clean_currency,
        "target_kpis": _clean_target_kpis,
        "scope_attributes": lambda v: _clean_attribute_filter(v, "scope_attributes"),
        "control_attributes": lambda v: _clean_attribute_filter(v, "control_attributes"),
        "cross_department": bool,
        "progress": _check_progress,
    }
    fields = []
    for name, value in changes.items():
        if name in _M2M_FIELDS:
            continue
        cleaned = cleaners[name](value)
        if cleaned == getattr(locked, name):
            continue  # saving an unchanged form changes nothing and leaves no history row
        setattr(locked, name, cleaned)
        fields.append(name)
    m2m_changes: dict[str, list[list[str]]] = {}
    for name in sorted(_M2M_FIELDS & set(changes)):
        before = sorted(getattr(locked, name).values_list("slug", flat=True))
        after = sorted(item.slug for item in changes[name])
        if before != after:
            m2m_changes[name] = [before, after]
    if m2m_changes:
        # Many-to-many changes are not in the history row's fields; the reason keeps them.
        locked._change_reason = json.dumps({"m2m": m2m_changes})  # type: ignore[attr-defined]
    if fields or m2m_changes:
        _save(locked, by, fields)
    for name in m2m_changes:
        getattr(locked, name).set(list(changes[name]))
    _refresh_into(action, locked)
    return action


# --- Lifecycle ----------------------------------------------------------------------------


def _transition(action: Action, name: str, by: User, **changes: Any) -> Action:
    """Run one transition from the table: permission, state check, save, history."""
    require(can_transition(by, action, name), transition_refusal(action, name))
    locked = _locked(action)
    target = _check_transition(locked, name)
    locked.status = target
    for field, value in changes.items():
        setattr(locked, field, value)
    _save(locked, by, ["status", *changes])
    _refresh_into(action, locked)
    return action


@transaction.atomic
def action_accept(*, action: Action, by: User) -> Action:
    _transition(action, "accept", by)
    _notify_creator(action, by, NotificationKind.ACCEPTED, "accepted")
    return action


@transaction.atomic
def action_decline(*, action: Action, by: User, reason: str) -> Action:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Reason required.",
            field_errors={"reason": ["Say why you decline, so the CX manager can act on it."]},
        )
    _transition(action, "decline", by, declined_reason=reason)
    _notify_creator(action, by, NotificationKind.DECLINED, "declined", extra=f"Reason: {reason}")
    return action


def _notify_creator(action: Action, by: User, kind: str, verb: str, extra: str = "") -> None:
    if action.created_by_id == getattr(by, "pk", None):
        return
    notifications.notify(
        recipient=action.created_by,
        kind=kind,
        title=f"{action.owner.get_full_name() or action.owner.get_username()} {verb}: {action.title}",
        body=f"The action “{action.title}” was {verb} by its owner. {extra}".strip(),
        url=_action_url(action),
        action=action,
    )


@transaction.atomic
def action_start(*, action: Action, by: User) -> Action:
    return _transition(action, "start", by)


@transaction.atomic
def action_implement(
    *, action: Action, by: User, implemented_at: dt.date | None, today: dt.date | None = None
) -> Action:
    today = today or timezone.localdate()
    if implemented_at is None:
        raise InvalidInput(
            "Date required.",
            field_errors={"implemented_at": ["The date the change went live is required."]},
        )
    if implemented_at > today:
        raise InvalidInput(
            "Date in the future.",
            field_errors={"implemented_at": ["The implementation date cannot be in the future."]},
        )
    return _transition(action, "implement", by, implemented_at=implemented_at, progress=100)


@transaction.atomic
def action_mark_measured(*, action: Action, by: User | None = None) -> Action:
    """Mark an implemented action measured (called by the impact analysis; ``by`` optional).

    Without ``by`` the call is the system's own and needs no permission.
    """
    if by is not None:
        require(
            can_transition(by, action, "mark_measured"), transition_refusal(action, "mark_measured")
        )
    locked = _locked(action)
    locked.status = _check_transition(locked, "mark_measured")
    locked.measured_at = timezone.now()
    _save(locked, by, ["status", "measured_at"])
    _refresh_into(action, locked)
    return action


@transaction.atomic
def action_cancel(*, action: Action, by: User, reason: str = "") -> Action:
    return _transition(action, "cancel", by, cancelled_reason=(reason or "").strip())


@transaction.atomic
def action_reassign(*, action: Action, by: User, owner: User) -> Action:
    """Give the action to another line manager; it returns to proposed for them to decide."""
    _check_owner(owner)
    if owner.pk == action.owner_id:
        raise InvalidInput(
            "Same owner.", field_errors={"owner": ["The action already belongs to this person."]}
        )
    _transition(action, "reassign", by, owner=owner, declined_reason="")
    action.owner = owner
    _notify_assigned(action, by=by)
    return action


# --- Timeline -----------------------------------------------------------------------------


@transaction.atomic
def action_update_post(
    *, action: Action, by: User, text: str = "", progress: int | None = None
) -> ActionUpdate:
    """Add a timeline entry; posting progress on an accepted action starts it."""
    require(can_post_update(by, action), "Only the owner or a CX manager can post updates.")
    text = (text or "").strip()
    if progress is not None:
        progress = _check_progress(progress)
    if not text and progress is None:
        raise InvalidInput(
            "Empty update.", field_errors={"text": ["Write an update or give a progress %."]}
        )
    locked = _locked(action)
    if locked.status not in UPDATABLE_STATUSES:
        message = (
            f"Updates can be posted on accepted, in-progress or implemented actions; "
            f"this one is {_label(locked.status)}."
        )
        raise InvalidTransition(message, field_errors={"status": [message]})
    if locked.status == S.ACCEPTED and progress:
        _transition(locked, "start", by)
    if progress is not None and locked.status != S.IMPLEMENTED:
        locked.progress = progress
        _save(locked, by, ["progress"])
    update = ActionUpdate.objects.create(action=locked, author=by, text=text, progress=progress)
    _refresh_into(action, locked)
    return update


# --- Alerts -------------------------------------------------------------------------------


def _alert_max_age() -> dt.timedelta:
    days = int(getattr(settings, "CXHUB", {}).get("ALERT_MAX_AGE_DAYS", 14))
    return dt.timedelta(days=days)


def alerts_raise_for_responses(*, response_sentiments: Mapping[int, float | None]) -> int:
    """Raise one closed-loop alert per recent unhappy response; returns how many are new.

    A response alerts when it is a detractor (NPS ≤ 6) or its comment's sentiment is
    ≤ −0.5. Called by the detractor processor right after ingest (sentiments unknown) and
    by the text-tagging processor once comments are scored; whichever comes first creates
    the alert, the other only adds what it knows. The managers of the touchpoint's owning
    department get an in-app notification and an e-mail with the verbatim and customer.

    Set-wise, whatever the batch size: one read of the candidates, one of their alerts,
    one ``bulk_update`` of the sentiments that changed and one insert of the new alerts
    that skips responses alerted meanwhile (``ON CONFLICT DO NOTHING``), so a retry or a
    concurrent call never stores or notifies an alert twice.
    """
    if not response_sentiments:
        return 0
    ids = [int(pk) for pk in response_sentiments]
    negative_ids = [
        int(pk)
        for pk, s in response_sentiments.items()
        if s is not None and s <= ALERT_NEGATIVE_SENTIMENT
    ]
    cutoff = timezone.now() - _alert_max_age()
    candidates = list(
        Response.objects.filter(id__any=ids, submitted_at__gte=cutoff)
        .filter(Q(nps__lte=ALERT_DETRACTOR_MAX_NPS) | Q(id__any=negative_ids))
        .select_related("customer", "touchpoint", "touchpoint__department")
    )
    if not candidates:
        return 0
    existing = {
        response_id: (pk, sentiment)
        for response_id, pk, sentiment in Alert.objects.filter(
            response_id__any=[response.pk for response in candidates]
        ).values_list("response_id", "pk", "sentiment")
    }
    changed: list[Alert] = []
    fresh: list[Alert] = []
    raised_at = timezone.now()
    for response in candidates:
        sentiment = response_sentiments.get(response.pk)
        detractor = response.nps is not None and response.nps <= ALERT_DETRACTOR_MAX_NPS
        negative = sentiment is not None and sentiment <= ALERT_NEGATIVE_SENTIMENT
        reason = (
            AlertReason.BOTH
            if detractor and negative
            else (AlertReason.DETRACTOR if detractor else AlertReason.NEGATIVE_SENTIMENT)
        )
        severity = alert_severity(reason=reason, nps=response.nps)
        if response.pk in existing:
            pk, stored = existing[response.pk]
            if sentiment is not None and stored != sentiment:
                changed.append(Alert(pk=pk, sentiment=sentiment, reason=reason, severity=severity))
            continue
        touchpoint = response.touchpoint
        department = touchpoint.department if touchpoint else None
        fresh.append(
            Alert(
                response=response,
                touchpoint=touchpoint,
                department=department,
                reason=reason,
                nps=response.nps,
                sentiment=sentiment,
                severity=severity,
                deadline_at=alert_deadline(department=department, raised_at=raised_at),
            )
        )
    if changed:
        Alert.objects.bulk_update(changed, ["sentiment", "reason", "severity"], batch_size=500)
    new_alerts = _alerts_insert(fresh)
    if new_alerts:
        with transaction.atomic():
            _notify_alerts(new_alerts)
    return len(new_alerts)


ALERT_INSERT_BATCH = 500


def _alerts_insert(alerts: list[Alert]) -> list[Alert]:
    """Store these new alerts, 500 per statement; returns those stored, in the same order.

    A response that got its alert meanwhile (a concurrent call, a retry) is skipped by the
    unique constraint. Should a statement fail otherwise (say a response deleted meanwhile),
    its alerts are stored one by one so each of the others still gets its alert.
    """
    stored: list[Alert] = []
    for start in range(0, len(alerts), ALERT_INSERT_BATCH):
        chunk = alerts[start : start + ALERT_INSERT_BATCH]
        try:
            with transaction.atomic():
                stored.extend(_alerts_insert_new(chunk))
        except IntegrityError:
            for alert in chunk:
                try:
                    with transaction.atomic():
                        stored.extend(_alerts_insert_new([alert]))
                except IntegrityError:
                    continue
    return stored


def _alerts_insert_new(alerts: list[Alert]) -> list[Alert]:
    """One ``INSERT … ON CONFLICT (response_id) DO NOTHING RETURNING``: the alerts inserted.

    The ORM's ``bulk_create(ignore_conflicts=True)`` cannot tell which rows went in, and
    only those may notify anyone; the columns and values are the model's own, as
    ``Model.save`` would write them.
    """
    if not alerts:
        return []
    fields = [field for field in Alert._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    for alert in alerts:
        params.extend(
            field.get_db_prep_save(field.pre_save(alert, True), connection) for field in fields
        )
    sql = (
        f"INSERT INTO {quote(Alert._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * len(alerts))} "
        f"ON CONFLICT ({quote('response_id')}) DO NOTHING "
        f"RETURNING {quote('id')}, {quote('response_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {response_id: pk for pk, response_id in cursor.fetchall()}
    stored = []
    for alert in alerts:
        pk = inserted.get(alert.response_id)
        if pk is not None:
            alert.pk = pk
            alert._state.adding = False
            alert._state.db = connection.alias
            stored.append(alert)
    return stored


def _cx_managers() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.CX_MANAGER).distinct())


def _notify_alerts(alerts: list[Alert]) -> None:
    department_ids = {a.department_id for a in alerts if a.department_id}
    managers = department_managers(department_ids=department_ids)
    fallback: list[Any] | None = None
    recipients_by_alert: dict[int, list[Any]] = {}
    for alert in alerts:
        people = managers.get(alert.department_id, []) if alert.department_id else []
        if not people:
            # Nobody owns the touchpoint (or there is none): the CX team follows it up.
            if fallback is None:
                fallback = _cx_managers()
            people = fallback
        recipients_by_alert[alert.pk] = people
    preferences = notifications.preferences_for(
        {person.pk for people in recipients_by_alert.values() for person in people}
    )
    url = reverse("actions:alerts")
    by_person: dict[int, tuple[Any, list[Alert]]] = {}
    for alert in alerts:
        for person in recipients_by_alert[alert.pk]:
            by_person.setdefault(person.pk, (person, []))[1].append(alert)
    for person, own_alerts in by_person.values():
        preference = preferences[person.pk]
        if len(own_alerts) > ALERT_SINGLE_NOTIFICATIONS_MAX:
            _notify_alert_batch(person, own_alerts, url, preference)
            continue
        for alert in own_alerts:
            customer, where, score = _alert_facts(alert)
            notifications.notify(
                recipient=person,
                kind=NotificationKind.ALERT,
                title=f"Unhappy customer at {where}: {customer} ({score})",
                body=(
                    f"Customer: {customer}\nTouchpoint: {where}\nScore: {score}\n"
                    f"Submitted: {alert.response.submitted_at:%d %b %Y %H:%M}\n\n"
                    f"“{alert.response.comment or '(no comment)'}”\n\n"
                    "Call the customer back, then mark the alert handled or turn it into an action."
                ),
                url=url,
                alert=alert,
                dedupe_key=f"alert:{alert.pk}",
                preference=preference,
            )


def _alert_facts(alert: Alert) -> tuple[str, str, str]:
    response = alert.response
    customer = response.customer.external_id if response.customer else "an anonymous customer"
    where = alert.touchpoint.name if alert.touchpoint else "no touchpoint"
    score = f"NPS {response.nps}" if response.nps is not None else "no NPS"
    return customer, where, score


def _notify_alert_batch(
    person: User, alerts: list[Alert], url: str, preference: NotificationPreference
) -> None:
    """One summary instead of a flood, when a batch (e.g. an import) holds many alerts."""
    lines = []
    for alert in alerts[:ALERT_BATCH_LISTED]:
        customer, where, score = _alert_facts(alert)
        comment = alert.response.comment or "(no comment)"
        if len(comment) > 160:
            comment = comment[:157] + "…"
        lines.append(f"• {customer} at {where} ({score}): “{comment}”")
    if len(alerts) > ALERT_BATCH_LISTED:
        lines.append(f"… and {len(alerts) - ALERT_BATCH_LISTED} more on the alerts page.")
    notifications.notify(
        recipient=person,
        kind=NotificationKind.ALERT,
        title=f"{len(alerts)} unhappy customers need a call back",
        body="\n".join(lines),
        url=url,
        dedupe_key=f"alerts:{min(a.pk for a in alerts)}-{max(a.pk for a in alerts)}",
        preference=preference,
    )


def alerts_raise_for_detractors(response_ids: Iterable[int]) -> None:
    """Feedback processor: alert on detractors at once, before any sentiment is known."""
    alerts_raise_for_responses(response_sentiments=dict.fromkeys(response_ids))


def alert_deadline(*, department: Department | None, raised_at: dt.datetime) -> dt.datetime:
    """When the customer of an alert raised at ``raised_at`` must have been called back: the
    department's ``alert_response_hours`` later (the default for alerts without one)."""
    hours = (
        department.alert_response_hours
        if department is not None
        else Department._meta.get_field("alert_response_hours").get_default()
    )
    return raised_at + dt.timedelta(hours=hours)


# A contact may be recorded a little ahead of the server's clock (a phone's clock), no more.
CONTACT_CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class AlertContactRecord:
    """What a person did to close the loop with a customer (parsed by a form or serializer)."""

    contacted_at: dt.datetime
    channel: str
    outcome: str
    note: str = ""


def _locked_alert(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


def _require_open(alert: Alert) -> None:
    if alert.status != AlertStatus.OPEN:
        message = f"This alert is already {AlertStatus(alert.status).label.lower()}."
        raise InvalidTransition(message, field_errors={"status": [message]})


def _contact_checked(alert: Alert, contact: AlertContactRecord) -> AlertContactRecord:
    errors: dict[str, list[str]] = {}
    if contact.channel not in ContactChannel.values:
        errors["channel"] = [f"Choose one of: {', '.join(ContactChannel.values)}."]
    if contact.outcome not in ContactOutcome.values:
        errors["outcome"] = [f"Choose one of: {', '.join(ContactOutcome.values)}."]
    if timezone.is_naive(contact.contacted_at):
        errors["contacted_at"] = ["Give a time zone (e.g. 2026-03-01T10:00:00Z)."]
    elif contact.contacted_at > timezone.now() + CONTACT_CLOCK_SKEW:
        errors["contacted_at"] = ["The contact cannot be in the future."]
    elif contact.contacted_at < alert.response.submitted_at.replace(second=0, microsecond=0):
        # Pages give the time to the minute: a call in the response's own minute is valid.
        errors["contacted_at"] = ["The contact cannot be before the customer's response."]
    if len(contact.note) > 5000:
        errors["note"] = ["At most 5,000 characters."]
    if errors:
        raise InvalidInput("Invalid contact record.", field_errors=errors)
    return contact


def _contact_create(alert: Alert, by: User, contact: AlertContactRecord) -> AlertContact:
    """Check and store one contact on a locked alert (with its response loaded)."""
    contact = _contact_checked(alert, contact)
    return AlertContact.objects.create(
        alert=alert,
        contacted_by=by,
        contacted_at=contact.contacted_at,
        channel=contact.channel,
        outcome=contact.outcome,
        note=contact.note.strip(),
    )


@transaction.atomic
def alert_contact_record(*, alert: Alert, by: User, contact: AlertContactRecord) -> AlertContact:
    """Add one contact with the customer to the alert's history (the alert stays as it is)."""
    require(can_handle_alert(by, alert), "Only the department's managers can handle this alert.")
    locked = Alert.objects.select_for_update().select_related("response").get(pk=alert.pk)
    return _contact_create(locked, by, contact)


@transaction.atomic
def alert_handle(
    *, alert: Alert, by: User, note: str = "", contact: AlertContactRecord | None = None
) -> Alert:
    """Close an alert: the loop with the customer is closed, so a contact record is needed —
    ``contact`` (recorded now) or one recorded before."""
    require(can_handle_alert(by, alert), "Only the department's managers can handle this alert.")
    locked = Alert.objects.select_for_update().select_related("response").get(pk=alert.pk)
    _require_open(locked)
    if contact is not None:
        _contact_create(locked, by, contact)
    elif not AlertContact.objects.filter(alert=locked).exists():
        needed = "Record the contact with the customer before closing the alert."
        raise InvalidInput(needed, field_errors={"contact": [needed]})
    locked.status = AlertStatus.HANDLED
    locked.handled_by = by
    locked.handled_at = timezone.now()
    locked.handled_note = (note or "").strip()
    locked.save(update_fields=["status", "handled_by", "handled_at", "handled_note"])
    alert.status, alert.handled_by, alert.handled_at, alert.handled_note = (
        locked.status,
        by,
        locked.handled_at,
        locked.handled_note,
    )
    return alert


@transaction.atomic
def alert_assign(*, alert: Alert, assignee: User, by: User) -> Alert:
    """Give an open alert to someone who may handle it (assign, reassign, or take it when
    ``assignee`` is ``by``); the new assignee is notified in the app unless they took it."""
    require(can_handle_alert(by, alert), "Only the department's managers can handle this alert.")
    locked = _locked_alert(alert)
    _require_open(locked)
    department_ids = {locked.department_id} if locked.department_id else set()
    if not alert_assignees(department_ids=department_ids).filter(pk=assignee.pk).exists():
        name = assignee.get_full_name() or assignee.get_username()
        raise InvalidInput(
            "Not an assignee for this alert.",
            field_errors={
                "assignee": [
                    f"{name} may not handle this alert: choose a line manager of its "
                    "department or a CX manager."
                ]
            },
        )
    if locked.assignee_id == assignee.pk:
        return locked
    locked.assignee = assignee
    locked.assigned_at = timezone.now()
    locked.save(update_fields=["assignee", "assigned_at"])
    if assignee.pk != by.pk:
        full = Alert.objects.select_related("response__customer", "touchpoint").get(pk=locked.pk)
        customer, where, score = _alert_facts(full)
        by_name = by.get_full_name() or by.get_username()
        notifications.notify(
            recipient=assignee,
            kind=NotificationKind.ALERT_ASSIGNED,
            title=f"{by_name} gave you an alert: {customer} at {where} ({score})",
            body=(
                f"“{full.response.comment or '(no comment)'}”\n\n"
                + (
                    f"Call back by {timezone.localtime(full.deadline_at):%d %b %Y %H:%M}. "
                    if full.deadline_at
                    else ""
                )
                + "Record the contact, then close the alert."
            ),
            url=f"{reverse('actions:alerts')}?assignee={assignee.pk}#alert-{locked.pk}",
            alert=full,
            dedupe_key=f"alert_assigned:{locked.pk}:{locked.assigned_at.isoformat()}",
        )
    return locked


class BulkOperation(StrEnum):
    ASSIGN = "assign"
    CLOSE = "close"


@dataclass(frozen=True)
class BulkRefusal:
    alert_id: int
    message: str
    field_errors: dict[str, list[str]]


@dataclass(frozen=True)
class BulkResult:
    """What a bulk request did: the alerts changed and, for each refused one, why."""

    done: list[int]
    refused: list[BulkRefusal]


# One request handles at most this many alerts (a page of the queue is 50).
ALERTS_BULK_MAX = 200


MAX_BIGINT = 2**63 - 1


def alerts_bulk(
    *,
    alert_ids: Sequence[int],
    by: User,
    operation: str,
    assignee: User | None = None,
    contact: AlertContactRecord | None = None,
    note: str = "",
) -> BulkResult:
    """Assign or close several alerts, each on its own under the access policy: a refused
    alert (not visible, not the user's to handle, already closed, no contact record) is
    reported with its reason and the others are still done."""
    if operation not in BulkOperation.__members__.values():
        raise InvalidInput(
            "Unknown operation.",
            field_errors={"operation": [f"Choose one of: {', '.join(BulkOperation)}."]},
        )
    ids = list(dict.fromkeys(int(pk) for pk in alert_ids))
    if not ids:
        raise InvalidInput("No alerts.", field_errors={"ids": ["Select at least one alert."]})
    if len(ids) > ALERTS_BULK_MAX:
        raise InvalidInput(
            "Too many alerts.",
            field_errors={"ids": [f"At most {ALERTS_BULK_MAX} alerts at once."]},
        )
    if operation == BulkOperation.ASSIGN and assignee is None:
        raise InvalidInput("No assignee.", field_errors={"assignee": ["Choose who gets them."]})
    # An id no database key can hold (the API takes any integer) names no alert; asking the
    # database for it would overflow its integer type instead of finding nothing.
    storable = [pk for pk in ids if 0 < pk <= MAX_BIGINT]
    found = {a.pk: a for a in alert_list(user=by).filter(pk__in=storable)}
    done: list[int] = []
    refused: list[BulkRefusal] = []
    for pk in ids:
        alert = found.get(pk)
        if alert is None:
            refused.append(BulkRefusal(pk, "No such alert.", {}))
            continue
        try:
            if operation == BulkOperation.ASSIGN:
                assert assignee is not None
                alert_assign(alert=alert, assignee=assignee, by=by)
            else:
                alert_handle(alert=alert, by=by, note=note, contact=contact)
        except ApplicationError as error:
            refused.append(BulkRefusal(pk, error_text(error), dict(error.field_errors or {})))
            continue
        done.append(pk)
    return BulkResult(done=done, refused=refused)


def _escalation_recipients(
    department: Department | None, cx_team: list[tuple[User, set[int]]]
) -> list[User]:
    """The department's CX owner; without one, the CX managers who are its members; without
    those, the whole CX team (each CX manager comes with the ids of their departments)."""
    owner = department.cx_owner if department is not None else None
    if owner is not None and owner.is_active:
        return [owner]
    if department is not None:
        members = [person for person, ids in cx_team if department.pk in ids]
        if members:
            return members
    return [person for person, _ in cx_team]


def alerts_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Escalate every open alert past its deadline to the department's CX owner, once per
    alert: ``escalated_at`` is set in the same transaction as the notification (whose
    ``dedupe_key`` is the alert), so a retried or overlapping run escalates nothing twice.
    Returns how many alerts were escalated now."""
    now = now or timezone.now()
    due = list(
        Alert.objects.filter(
            status=AlertStatus.OPEN, deadline_at__lt=now, escalated_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if not due:
        return 0
    cx_team = [
        (person, {d.pk for d in person.departments.all()})
        for person in User.objects.filter(is_active=True, groups__name=Role.CX_MANAGER)
        .distinct()
        .prefetch_related("departments")
    ]
    url = reverse("actions:alerts")
    escalated = 0
    for pk in due:
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update(of=("self",))
                .select_related(
                    "department__cx_owner", "response__customer", "touchpoint", "assignee"
                )
                .filter(pk=pk, status=AlertStatus.OPEN, escalated_at__isnull=True)
                .first()
            )
            if alert is None:
                continue
            recipients = _escalation_recipients(alert.department, cx_team)
            alert.escalated_at = now
            alert.escalated_to = recipients[0] if len(recipients) == 1 else None
            alert.save(update_fields=["escalated_at", "escalated_to"])
            customer, where, score = _alert_facts(alert)
            assert alert.deadline_at is not None
            late = now - alert.deadline_at
            hours = int(late.total_seconds() // 3600)
            holder = (
                alert.assignee.get_full_name() or alert.assignee.get_username()
                if alert.assignee
                else "nobody"
            )
            preferences = notifications.preferences_for({r.pk for r in recipients})
            for person in recipients:
                notifications.notify(
                    recipient=person,
                    kind=NotificationKind.ALERT_ESCALATED,
                    title=f"Overdue alert: {customer} at {where} ({score}) not called back",
                    body=(
                        f"The call back was due {timezone.localtime(alert.deadline_at):%d %b %Y %H:%M}"
                        f" ({hours} h ago). Assigned to {holder}.\n\n"
                        f"“{alert.response.comment or '(no comment)'}”"
                    ),
                    url=f"{url}?overdue=1#alert-{alert.pk}",
                    alert=alert,
                    dedupe_key=f"alert_escalated:{alert.pk}",
                    preference=preferences[person.pk],
                )
            escalated += 1
    return escalated


# --- Notifications and reminders ----------------------------------------------------------


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    from actions.models import Notification

    queryset = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.update(read_at=timezone.now())


@transaction.atomic
def notification_preferences_set(
    *, user: User, preferences: Mapping[str, bool]
) -> NotificationPreference:
    # Assigned and escalated alerts follow the "alert" switch; they have none of their own.
    allowed = {*NotificationKind.values, "email"} - {
        NotificationKind.ALERT_ASSIGNED,
        NotificationKind.ALERT_ESCALATED,
    }
    unknown = set(preferences) - allowed
    if unknown:
        raise InvalidInput(
            "Unknown preference.",
            field_errors={k: [f"Choose from: {', '.join(sorted(allowed))}."] for k in unknown},
        )
    preference, _ = NotificationPreference.objects.get_or_create(user=user)
    for key, value in preferences.items():
        setattr(preference, key, bool(value))
    preference.save()
    return preference


def _open_actions_due(**filters: Any) -> list[Action]:
    return list(Action.objects.filter(status__in=OPEN_STATUSES, **filters).select_related("owner"))


def actions_remind_due_soon(*, today: dt.date | None = None) -> int:
    """Tell owners about open actions due in exactly three days (once per due date)."""
    today = today or timezone.localdate()
    due = today + dt.timedelta(days=DUE_SOON_DAYS)
    sent = 0
    actions = _open_actions_due(due_date=due)
    preferences = notifications.preferences_for({a.owner_id for a in actions})
    for action in actions:
        with transaction.atomic():
            sent += bool(
                notifications.notify(
                    recipient=action.owner,
                    kind=NotificationKind.DUE_SOON,
                    title=f"Due in {DUE_SOON_DAYS} days: {action.title}",
                    body=(
                        f"The action “{action.title}” is due on {due:%d %b %Y} and is "
                        f"{_label(action.status)} ({action.progress}% done)."
                    ),
                    url=_action_url(action),
                    action=action,
                    dedupe_key=f"due_soon:{action.pk}:{due.isoformat()}",
                    preference=preferences[action.owner_id],
                )
            )
    return sent


def actions_remind_overdue(*, today: dt.date | None = None) -> int:
    """Tell owners, once a day, about each open action past its due date."""
    today = today or timezone.localdate()
    sent = 0
    actions = _open_actions_due(due_date__lt=today)
    preferences = notifications.preferences_for({a.owner_id for a in actions})
    for action in actions:
        assert action.due_date is not None
        days = (today - action.due_date).days
        with transaction.atomic():
            sent += bool(
                notifications.notify(
                    recipient=action.owner,
                    kind=NotificationKind.OVERDUE,
                    title=f"Overdue by {days} day{'s' if days != 1 else ''}: {action.title}",
                    body=(
                        f"The action “{action.title}” was due on {action.due_date:%d %b %Y} "
                        f"and is {_label(action.status)} ({action.progress}% done). "
                        "Post an update or ask your CX manager for a new date."
                    ),
                    url=_action_url(action),
                    action=action,
                    dedupe_key=f"overdue:{action.pk}:{today.isoformat()}",
                    preference=preferences[action.owner_id],
                )
            )
    return sent


def digests_send(*, today: dt.date | None = None) -> int:
    """Send each owner of open actions a weekly summary (once per ISO week)."""
    today = today or timezone.localdate()
    year, week, _ = today.isocalendar()
    by_owner: dict[int, list[Action]] = {}
    for action in (
        Action.objects.filter(status__in=OPEN_STATUSES)
        .select_related("owner")
        .order_by("due_date", "pk")
    ):
        by_owner.setdefault(action.owner_id, []).append(action)
    preferences = notifications.preferences_for(by_owner)
    sent = 0
    for owner_id, actions in by_owner.items():
        lines = []
        for action in actions:
            due = f"due {action.due_date:%d %b}" if action.due_date else "no due date"
            late = " — OVERDUE" if action.due_date and action.due_date < today else ""
            lines.append(
                f"• {action.title}: {_label(action.status)}, {action.progress}% done, {due}{late}"
            )
        proposed = sum(a.status == S.PROPOSED for a in actions)
        overdue = sum(bool(a.due_date and a.due_date < today) for a in actions)
        with transaction.atomic():
            sent += bool(
                notifications.notify(
                    recipient=actions[0].owner,
                    kind=NotificationKind.DIGEST,
                    title=(
                        f"Your week: {len(actions)} open action{'s' if len(actions) != 1 else ''}"
                        f", {proposed} awaiting your decision, {overdue} overdue"
                    ),
                    body="\n".join(lines),
                    url=reverse("actions:mine"),
                    dedupe_key=f"digest:{year}-W{week:02d}",
                    preference=preferences[owner_id],
                )
            )
    return sent


# --- Customer erasure -----------------------------------------------------------------------

_ACTION_TEXT_FIELDS = ("title", "description", "declined_reason", "cancelled_reason")
# Comments shorter than this are looked for only where they are linked to the customer: a
# short phrase ("Great service") would match unrelated text elsewhere.
_SEARCHED_COMMENT_MIN = 20


def customer_actions_erase(erased: ErasedCustomer) -> None:
    """Customer erasure: the copies of the customer's comments and external id kept by
    alerts (and the notes of their contact records), notifications, actions (evidence, texts, their history) and action updates.

    Rows linked to the customer's responses are scrubbed, and so is any notification or
    action whose text contains the external id or the start of a (long enough) comment,
    such as the digest of several alerts or a description pasted from a verbatim. Rows are
    updated in place, without new history rows.
    """
    ids = list(erased.response_ids)
    Alert.objects.filter(response_id__in=ids).exclude(handled_note="").update(handled_note="")
    AlertContact.objects.filter(alert__response_id__in=ids).exclude(note="").update(note="")
    heads = [c[:_SEARCHED_COMMENT_MIN] for c in erased.comments if len(c) >= _SEARCHED_COMMENT_MIN]

    def mentions(*fields: str) -> Q:
        found = Q()
        for name in fields:
            found |= Q(**{f"{name}__contains": erased.external_id})
            for head in heads:
                found |= Q(**{f"{name}__contains": head})
        return found

    notifications_hit = Notification.objects.filter(
        Q(alert__response_id__in=ids) | mentions("title", "body")
    )
    for notification in notifications_hit:
        title, body = erased.scrub(notification.title), erased.scrub(notification.body)
        if (title, body) != (notification.title, notification.body):
            Notification.objects.filter(pk=notification.pk).update(title=title, body=body)

    action_ids = set(
        Action.objects.filter(
            Q(source_response_id__in=ids)
            | Q(alerts__response_id__in=ids)
            | mentions("title", "description")
        ).values_list("id", flat=True)
    )
    action_ids |= set(
        Action.history.filter(mentions("title", "description")).values_list("id", flat=True)
    )
    for action in Action.objects.filter(id__in=action_ids):
        changes = _scrubbed(action, erased, ("evidence", *_ACTION_TEXT_FIELDS))
        if changes:
            Action.objects.filter(pk=action.pk).update(**changes)
    historical_model = Action.history.model
    for record in Action.history.filter(id__in=action_ids):
        changes = _scrubbed(record, erased, ("evidence", *_ACTION_TEXT_FIELDS))
        if changes:
            historical_model.objects.filter(pk=record.pk).update(**changes)
    for update in ActionUpdate.objects.filter(action_id__in=action_ids).exclude(text=""):
        text = erased.scrub(update.text)
        if text != update.text:
            ActionUpdate.objects.filter(pk=update.pk).update(text=text)


def _scrubbed(row: Any, erased: ErasedCustomer, fields: Iterable[str]) -> dict[str, Any]:
    """The fields of ``row`` that change when scrubbed, with their scrubbed values."""
    changes = {}
    for name in fields:
        value = getattr(row, name)
        scrubbed = erased.scrub(value)
        if scrubbed != value:
            changes[name] = scrubbed
    return changes
