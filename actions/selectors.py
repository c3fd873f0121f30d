"""Reads: action lists and details, evidence snapshots, alerts and notifications."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from actions.models import (
    Action,
    ActionStatus,
    Alert,
    AlertContact,
    AlertStatus,
    EvidenceDraft,
    InsightKind,
    Notification,
    NotificationPreference,
)
from actions.permissions import actions_visible_to, alerts_visible_to
from cxhub import access
from cxhub.errors import InvalidInput, NotFound
from feedback.models import Attribute, Customer, Response, Touchpoint
from feedback.roles import Role

OPEN_STATUSES = (ActionStatus.PROPOSED, ActionStatus.ACCEPTED, ActionStatus.IN_PROGRESS)
# Touchpoint evidence summarises this many days of feedback before the action was created.
EVIDENCE_WINDOW_DAYS = 90


def action_list(
    *,
    user: AbstractBaseUser | AnonymousUser,
    status: str | None = None,
    department: str | None = None,
    owner: int | None = None,
    overdue: bool | None = None,
    today: dt.date | None = None,
) -> QuerySet[Action]:
    """Actions ``user`` may read, filtered; related rows fetched in the same query."""
    today = today or timezone.localdate()
    queryset = actions_visible_to(user).select_related("department", "owner", "created_by")
    if status:
        queryset = queryset.filter(status=status)
    if department:
        queryset = queryset.filter(department__slug=department)
    if owner:
        queryset = queryset.filter(owner_id=owner)
    if overdue is True:
        queryset = queryset.filter(status__in=OPEN_STATUSES, due_date__lt=today)
    elif overdue is False:
        queryset = queryset.exclude(status__in=OPEN_STATUSES, due_date__lt=today)
    return queryset


def action_get(*, user: AbstractBaseUser | AnonymousUser, action_id: int) -> Action:
    """One action ``user`` may read, or NotFound (also when it exists but is not theirs)."""
    action = (
        actions_visible_to(user)
        .select_related("department", "owner", "created_by", "source_response")
        .prefetch_related(
            "scope_touchpoints", "scope_departments", "control_touchpoints", "control_departments"
        )
        .filter(pk=action_id)
        .first()
    )
    if action is None:
        raise NotFound("No such action.")
    return action


def action_history(*, action: Action) -> list[dict[str, Any]]:
    """The change history of an action: who changed which fields from what to what, when."""
    records = list(action.history.select_related("history_user").order_by("history_date"))
    entries: list[dict[str, Any]] = []
    previous = None
    for record in records:
        changes: list[dict[str, Any]] = []
        if previous is not None:
            delta = record.diff_against(previous)
            changes = [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in delta.changes
            ]
        changes.extend(_m2m_changes(record.history_change_reason))
        entries.append(
            {
                "at": record.history_date,
                "user": record.history_user.get_username() if record.history_user else None,
                "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
                "changes": changes,
            }
        )
        previous = record
    entries.reverse()
    return entries


def _m2m_changes(reason: str | None) -> list[dict[str, Any]]:
    """Scope changes kept as JSON in a history row's change reason (see Action.history)."""
    if not reason or not reason.startswith("{"):
        return []
    try:
        m2m = json.loads(reason).get("m2m", {})
    except (ValueError, AttributeError):
        return []
    return [
        {"field": name, "old": ", ".join(old) or None, "new": ", ".join(new) or None}
        for name, (old, new) in sorted(m2m.items())
    ]


def line_managers() -> QuerySet[Any]:
    return (
        User.objects.filter(groups__name=Role.LINE_MANAGER, is_active=True)
        .distinct()
        .order_by("username")
    )


def department_managers(*, department_ids: set[int]) -> dict[int, list[User]]:
    """Members of each department holding the line_manager or cx_manager role."""
    managers: dict[int, list[User]] = {pk: [] for pk in department_ids}
    rows = (
        User.objects.filter(
            is_active=True,
            departments__in=department_ids,
            groups__name__in=[Role.LINE_MANAGER, Role.CX_MANAGER],
        )
        .values_list("departments", "pk")
        .distinct()
    )
    users = {}
    pairs = [(dep, uid) for dep, uid in rows if dep in department_ids]
    if pairs:
        users = User.objects.in_bulk({uid for _, uid in pairs})
    for dep, uid in pairs:
        if users[uid] not in managers[dep]:
            managers[dep].append(users[uid])
    return managers


@dataclass(frozen=True)
class AlertFilters:
    """The queue's filters, already checked (``actions.forms.AlertFilterForm`` /
    ``actions.serializers.AlertListQuerySerializer``). ``assignee`` is a user id, or 0 for
    "nobody yet"; ``status`` ``None`` means every status."""

    status: str | None = AlertStatus.OPEN
    department: str | None = None
    touchpoint: str | None = None
    assignee: int | None = None
    overdue: bool = False


def _alerts_filtered(
    queryset: QuerySet[Alert], filters: AlertFilters, now: dt.datetime
) -> QuerySet[Alert]:
    if filters.department:
        queryset = queryset.filter(department__slug=filters.department)
    if filters.touchpoint:
        queryset = queryset.filter(touchpoint__slug=filters.touchpoint)
    if filters.assignee == 0:
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee is not None:
        queryset = queryset.filter(assignee_id=filters.assignee)
    if filters.overdue:
        queryset = queryset.filter(status=AlertStatus.OPEN, deadline_at__lt=now)
    return queryset


def alert_list(
    *,
    user: AbstractBaseUser | AnonymousUser,
    status: str | None = None,
    filters: AlertFilters | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Alert]:
    """The alerts ``user`` may read, worst first: severity (stored, see
    ``actions.models.alert_severity``), then nearest deadline, then oldest."""
    queryset = alerts_visible_to(user).select_related(
        "response",
        "response__customer",
        "touchpoint",
        "department",
        "handled_by",
        "action",
        "assignee",
        "escalated_to",
    )
    if filters is not None:
        queryset = _alerts_filtered(queryset, filters, now or timezone.now())
        status = filters.status
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-severity", "deadline_at", "created_at", "id")


@dataclass(frozen=True)
class AlertCounts:
    """How many alerts the filters hold, in total and per state of the queue."""

    total: int
    open: int
    unassigned: int
    assigned: int
    overdue: int
    closed: int
    actioned: int

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def alert_counts(
    *,
    user: AbstractBaseUser | AnonymousUser,
    filters: AlertFilters,
    now: dt.datetime | None = None,
) -> AlertCounts:
    """The counts of the queue for ``filters`` except its status (one query): the one place
    the page and the API get their totals. ``total`` counts every status."""
    now = now or timezone.now()
    queryset = _alerts_filtered(alerts_visible_to(user), filters, now)
    is_open = Q(status=AlertStatus.OPEN)
    figures = queryset.aggregate(
        total=Count("id"),
        open=Count("id", filter=is_open),
        unassigned=Count("id", filter=is_open & Q(assignee__isnull=True)),
        assigned=Count("id", filter=is_open & Q(assignee__isnull=False)),
        overdue=Count("id", filter=is_open & Q(deadline_at__lt=now)),
        closed=Count("id", filter=Q(status=AlertStatus.HANDLED)),
        actioned=Count("id", filter=Q(status=AlertStatus.ACTIONED)),
    )
    return AlertCounts(**{name: int(value or 0) for name, value in figures.items()})


def alert_get(*, user: AbstractBaseUser | AnonymousUser, alert_id: int) -> Alert:
    alert = alert_list(user=user).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("No such alert.")
    return alert


def alert_assignees(*, department_ids: set[int]) -> QuerySet[User]:
    """The people who may be given alerts of these departments: by the access policy, the
    line managers who are members of one of them, and every CX manager (who handles any)."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__name=Role.CX_MANAGER)
            | Q(groups__name=Role.LINE_MANAGER, departments__in=sorted(department_ids))
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def alert_assignees_by_department(*, department_ids: set[int]) -> dict[int | None, list[User]]:
    """``alert_assignees`` for each department at once (two queries): the page's choices.
    The key ``None`` holds the CX managers, who take the alerts of no department."""
    cx_team = list(
        User.objects.filter(is_active=True, groups__name=Role.CX_MANAGER)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    result: dict[int | None, list[User]] = {pk: list(cx_team) for pk in department_ids}
    result[None] = list(cx_team)
    rows = (
        User.objects.filter(
            is_active=True, groups__name=Role.LINE_MANAGER, departments__in=sorted(department_ids)
        )
        .values_list("departments", "pk")
        .distinct()
    )
    pairs = [(dep, uid) for dep, uid in rows if dep in department_ids]
    people = User.objects.in_bulk({uid for _, uid in pairs}) if pairs else {}
    for dep, uid in pairs:
        if people[uid] not in result[dep]:
            result[dep].append(people[uid])
    return result


def user_active_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def alert_contacts(*, alert: Alert) -> QuerySet[AlertContact]:
    """The contact history of one alert, newest first."""
    return AlertContact.objects.filter(alert=alert).select_related("contacted_by")


def alert_contacts_by_alert(*, alert_ids: Sequence[int]) -> dict[int, list[AlertContact]]:
    """The contact histories of several alerts in one query (the queue's page)."""
    history: dict[int, list[AlertContact]] = {pk: [] for pk in alert_ids}
    for contact in AlertContact.objects.filter(alert_id__in=list(alert_ids)).select_related(
        "contacted_by"
    ):
        history[contact.alert_id].append(contact)
    return history


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("action", "alert")


# --- Evidence drafts and the form's choices ------------------------------------------------


def evidence_draft_get(*, user: AbstractBaseUser | AnonymousUser, draft_id: int) -> EvidenceDraft:
    """A draft the user built (the access policy: a draft is its creator's alone), or
    NotFound, also for someone else's draft."""
    draft = (
        access.visible(user, EvidenceDraft.objects.all())
        .select_related("source_response__touchpoint__department", "alert")
        .filter(pk=draft_id)
        .first()
    )
    if draft is None:
        raise NotFound("No such evidence, or it was built by someone else.")
    return draft


class KpiChoice(TypedDict):
    slug: str
    label: str
    unit: str


_KPI_CHOICE_PROVIDERS: list[Callable[[], list[KpiChoice]]] = []


def kpi_choices_register(provider: Callable[[], list[KpiChoice]]) -> None:
    """The app that owns KPIs (analytics) says which exist; actions knows them only as data."""
    if provider not in _KPI_CHOICE_PROVIDERS:
        _KPI_CHOICE_PROVIDERS.append(provider)


def kpi_choices() -> list[KpiChoice]:
    """The KPIs an action may target, from every registered provider, each slug once."""
    seen: dict[str, KpiChoice] = {}
    for provider in _KPI_CHOICE_PROVIDERS:
        for choice in provider():
            seen.setdefault(choice["slug"], choice)
    return list(seen.values())


CUSTOMER_ATTRIBUTE_COLUMNS = ("segment", "region", "plan")
ATTRIBUTE_VALUES_SHOWN = 30


def customer_attribute_values() -> dict[str, list[str]]:
    """The customer attribute keys and the values present in the data (the columns an
    action's scope and control filters use), each list sorted, at most 30 values a key."""
    values: dict[str, list[str]] = {}
    for column in CUSTOMER_ATTRIBUTE_COLUMNS:
        present = (
            Customer.objects.exclude(**{column: ""})
            .order_by(column)
            .values_list(column, flat=True)
            .distinct()[:ATTRIBUTE_VALUES_SHOWN]
        )
        if found := [str(v) for v in present]:
            values[column] = found
    return values


# --- Evidence snapshots -------------------------------------------------------------------


def _format_number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _signed(value: float) -> str:
    text = _format_number(abs(value))
    return f"−{text}" if value < 0 else f"+{text}" if value > 0 else text


def _figure(name: str, value: float, display: str) -> dict[str, Any]:
    return {"name": name, "value": value, "display": display}


def _numeric_figures(figures: Mapping[str, Any]) -> dict[str, float]:
    numbers: dict[str, float] = {}
    errors: list[str] = []
    for key, raw in figures.items():
        if raw is None or raw == "":
            continue
        try:
            number = float(raw)
        except (TypeError, ValueError):
            errors.append(f"Figure '{key}' must be a number, got {raw!r}.")
            continue
        if number != number or number in (float("inf"), float("-inf")):
            errors.append(f"Figure '{key}' must be a finite number.")
            continue
        numbers[str(key)] = number
    if errors:
        raise InvalidInput("Invalid evidence figures.", field_errors={"evidence": errors})
    return numbers


def _driver_or_topic_figures(
    numbers: Mapping[str, float], scale_max: int | None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    known = {"share", "performance", "comments", "mentions", "sentiment", "nps_impact"}
    if "share" in numbers:
        share = numbers["share"]
        if not 0 <= share <= 1:
            raise InvalidInput(
                "Invalid share.",
                field_errors={"evidence": ["'share' is a fraction between 0 and 1."]},
            )
        out.append(
            _figure(
                "share of explained NPS variance",
                share,
                f"{share * 100:.0f}% of explained NPS variance",
            )
        )
    if "performance" in numbers:
        perf = numbers["performance"]
        suffix = f"/{scale_max}" if scale_max else ""
        out.append(_figure("performance", perf, f"performance {perf:.1f}{suffix}"))
    for key in ("comments", "mentions"):
        if key in numbers:
            out.append(_figure(key, numbers[key], f"{_format_number(numbers[key])} {key}"))
    if "sentiment" in numbers:
        sentiment = numbers["sentiment"]
        out.append(_figure("sentiment", sentiment, f"sentiment {_signed(round(sentiment, 2))}"))
    if "nps_impact" in numbers:
        impact = numbers["nps_impact"]
        out.append(_figure("NPS impact", impact, f"{_signed(round(impact, 1))} NPS points"))
    for key in sorted(set(numbers) - known):
        out.append(
            _figure(key, numbers[key], f"{key.replace('_', ' ')} {_format_number(numbers[key])}")
        )
    return out


def _summary(label: str, figures: list[dict[str, Any]]) -> str:
    if not figures:
        return label
    return f"{label}: " + ", ".join(f["display"] for f in figures)


def evidence_build(
    *,
    kind: str,
    reference: str = "",
    label: str = "",
    figures: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A snapshot of the insight an action comes from, frozen at creation.

    Touchpoint and verbatim evidence is computed here from the feedback data; driver and
    topic results come from the analytics pages as figures (``share`` of explained
    variance as a fraction, ``performance`` on the driver's scale, ``comments``,
    ``mentions``, ``sentiment`` −1…1, ``nps_impact`` in points) and are formatted here.
    """
    now = now or timezone.now()
    figures = figures or {}
    if kind not in InsightKind.values:
        raise InvalidInput(
            "Unknown insight kind.",
            field_errors={"insight_kind": [f"Choose one of: {', '.join(InsightKind.values)}."]},
        )
    snapshot: dict[str, Any]
    if kind == InsightKind.SCRATCH:
        snapshot = {"kind": kind, "reference": "", "label": label, "figures": [], "summary": label}
    elif kind == InsightKind.TOUCHPOINT:
        snapshot = _touchpoint_evidence(reference, now)
    elif kind == InsightKind.RESPONSE:
        snapshot = _response_evidence(reference)
    else:
        if not reference:
            raise InvalidInput(
                "Missing reference.",
                field_errors={"evidence": [f"A {kind} insight needs the {kind}'s slug."]},
            )
        numbers = _numeric_figures(figures)
        scale_max = None
        if kind == InsightKind.DRIVER:
            attribute = Attribute.objects.filter(slug=reference).first()
            if attribute is not None:
                scale_max = attribute.scale_max
                label = label or attribute.label
        label = label or reference.replace("-", " ").replace("_", " ").capitalize()
        rows = _driver_or_topic_figures(numbers, scale_max)
        snapshot = {
            "kind": kind,
            "reference": reference,
            "label": label,
            "figures": rows,
            "summary": _summary(label.lower() if rows else label, rows),
        }
    snapshot["captured_at"] = now.isoformat()
    return snapshot


def _touchpoint_evidence(reference: str, now: dt.datetime) -> dict[str, Any]:
    touchpoint = Touchpoint.objects.select_related("department").filter(slug=reference).first()
    if touchpoint is None:
        raise InvalidInput(
            "Unknown touchpoint.",
            field_errors={"evidence": [f"No touchpoint with slug {reference!r}."]},
        )
    since = now - dt.timedelta(days=EVIDENCE_WINDOW_DAYS)
    stats = Response.objects.filter(touchpoint=touchpoint, submitted_at__gte=since).aggregate(
        responses=Count("id"),
        with_nps=Count("id", filter=Q(nps__isnull=False)),
        promoters=Count("id", filter=Q(nps__gte=9)),
        detractors=Count("id", filter=Q(nps__lte=6)),
        comments=Count("id", filter=~Q(comment="")),
        csat=Avg("csat"),
    )
    figures = [
        _figure("responses", stats["responses"], f"{stats['responses']:,} responses in 90 days")
    ]
    if stats["with_nps"]:
        nps = 100 * (stats["promoters"] - stats["detractors"]) / stats["with_nps"]
        figures.append(_figure("NPS", round(nps, 1), f"NPS {_signed(round(nps))}"))
    if stats["csat"] is not None:
        figures.append(_figure("CSAT mean", round(stats["csat"], 2), f"CSAT {stats['csat']:.1f}/5"))
    figures.append(_figure("comments", stats["comments"], f"{stats['comments']:,} comments"))
    return {
        "kind": InsightKind.TOUCHPOINT.value,
        "reference": touchpoint.slug,
        "label": touchpoint.name,
        "department": touchpoint.department.slug,
        "figures": figures,
        "summary": _summary(touchpoint.name, figures),
    }


def _response_evidence(reference: str) -> dict[str, Any]:
    try:
        response_id = int(reference)
    except (TypeError, ValueError):
        raise InvalidInput(
            "Invalid response id.", field_errors={"evidence": ["A verbatim needs a response id."]}
        ) from None
    response = (
        Response.objects.select_related("customer", "touchpoint").filter(pk=response_id).first()
    )
    if response is None:
        raise InvalidInput(
            "Unknown response.", field_errors={"evidence": [f"No response with id {response_id}."]}
        )
    figures = []
    if response.nps is not None:
        figures.append(_figure("NPS score", response.nps, f"NPS {response.nps}/10"))
    if response.csat is not None:
        figures.append(_figure("CSAT", response.csat, f"CSAT {response.csat}/5"))
    if response.ces is not None:
        figures.append(_figure("CES", response.ces, f"CES {response.ces}/7"))
    customer = response.customer.external_id if response.customer else ""
    where = response.touchpoint.name if response.touchpoint else "no touchpoint"
    quote = response.comment if len(response.comment) <= 280 else response.comment[:277] + "…"
    label = f"Verbatim from {customer or 'an anonymous customer'} ({where})"
    summary = f"“{quote}”" if quote else label
    if figures:
        summary += " — " + ", ".join(f["display"] for f in figures)
    return {
        "kind": InsightKind.RESPONSE.value,
        "reference": str(response.pk),
        "label": label,
        "verbatim": response.comment,
        "customer": customer,
        "touchpoint": response.touchpoint.slug if response.touchpoint else "",
        "submitted_at": response.submitted_at.isoformat(),
        "figures": figures,
        "summary": summary,
    }


def notification_preference_get(*, user: User) -> NotificationPreference:
    """The user's preferences, or unsaved defaults (everything on) when never set."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


def customer_actions_export(customer_id: int, response_ids: Sequence[int]) -> dict[str, Any]:
    """Customer export: the alerts raised on their responses and the actions linked to them
    (created from one of their responses or from one of their alerts)."""
    alerts = (
        Alert.objects.filter(response_id__in=response_ids)
        .select_related("touchpoint", "department", "handled_by")
        .prefetch_related("contacts")
        .order_by("created_at", "id")
    )
    actions = (
        Action.objects.filter(
            Q(source_response_id__in=response_ids) | Q(alerts__response_id__in=response_ids)
        )
        .distinct()
        .select_related("department", "owner")
        .order_by("created_at", "id")
    )
    return {
        "alerts": [
            {
                "id": alert.pk,
                "response_id": alert.response_id,
                "touchpoint": alert.touchpoint.slug if alert.touchpoint else None,
                "department": alert.department.slug if alert.department else None,
                "reason": alert.reason,
                "nps": alert.nps,
                "sentiment": alert.sentiment,
                "status": alert.status,
                "handled_by": alert.handled_by.get_username() if alert.handled_by else None,
                "handled_at": alert.handled_at,
                "handled_note": alert.handled_note,
                "action_id": alert.action_id,
                "created_at": alert.created_at,
                "contacts": [
                    {
                        "contacted_at": contact.contacted_at,
                        "channel": contact.channel,
                        "outcome": contact.outcome,
                        "note": contact.note,
                    }
                    for contact in sorted(alert.contacts.all(), key=lambda c: c.contacted_at)
                ],
            }
            for alert in alerts
        ],
        "actions": [
            {
                "id": action.pk,
                "title": action.title,
                "description": action.description,
                "status": action.status,
                "department": action.department.slug,
                "owner": action.owner.get_username(),
                "source_response_id": action.source_response_id,
                "evidence": action.evidence,
                "created_at": action.created_at,
            }
            for action in actions
        ],
    }
