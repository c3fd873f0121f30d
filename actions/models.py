"""Owned improvement actions, their timeline, alerts on unhappy customers and notifications.

An action keeps the evidence it was created from as a JSON snapshot (``evidence``), so it
never depends on the analytics app and still shows what was known at the time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from cxhub.models import TimeStampedModel
from feedback.models import Department, Response, Touchpoint


class ActionStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    IN_PROGRESS = "in_progress", "In progress"
    IMPLEMENTED = "implemented", "Implemented"
    MEASURED = "measured", "Measured"
    CANCELLED = "cancelled", "Cancelled"


class InsightKind(models.TextChoices):
    DRIVER = "driver", "Driver result"
    TOPIC = "topic", "Topic"
    TOUCHPOINT = "touchpoint", "Touchpoint"
    RESPONSE = "response", "Verbatim"
    SUGGESTION = "suggestion", "Dashboard suggestion"
    SCRATCH = "scratch", "From scratch"


class Action(TimeStampedModel):
    """An improvement someone owns, from the insight it came from to its measured effect.

    ``target_kpis`` is a list of ``{"kpi": slug, "expected_change": number, "unit": str}``;
    KPI slugs are data because KPIs live in the analytics app. ``scope_attributes`` and
    ``control_attributes`` filter customers by attribute, e.g. ``{"region": ["north"]}``.
    ``cross_department`` actions are readable by every department (organisation-wide work).
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    insight_kind = models.CharField(
        max_length=16, choices=InsightKind.choices, default=InsightKind.SCRATCH
    )
    evidence = models.JSONField(default=dict, blank=True)
    # The analysis run the evidence figure came from (an id: runs live in analytics).
    evidence_run_id = models.PositiveBigIntegerField(null=True, blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="actions")
    cross_department = models.BooleanField(
        default=False, help_text="Readable by every department, not only the owning one."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_actions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_actions"
    )
    status = models.CharField(
        max_length=16, choices=ActionStatus.choices, default=ActionStatus.PROPOSED, db_index=True
    )
    due_date = models.DateField(null=True, blank=True, db_index=True)
    cost_estimate = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    target_kpis = models.JSONField(default=list, blank=True)
    scope_touchpoints = models.ManyToManyField(
        Touchpoint, related_name="scoped_actions", blank=True
    )
    scope_departments = models.ManyToManyField(
        Department, related_name="scoped_actions", blank=True
    )
    scope_attributes = models.JSONField(default=dict, blank=True)
    control_touchpoints = models.ManyToManyField(
        Touchpoint, related_name="control_actions", blank=True
    )
    control_departments = models.ManyToManyField(
        Department, related_name="control_actions", blank=True
    )
    control_attributes = models.JSONField(default=dict, blank=True)
    implemented_at = models.DateField(null=True, blank=True)
    measured_at = models.DateTimeField(null=True, blank=True)
    declined_reason = models.TextField(blank=True)
    cancelled_reason = models.TextField(blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    source_response = models.ForeignKey(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    # Scope (many-to-many) changes are recorded as JSON in the change reason of the history row.
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        history_change_reason_field=models.TextField(null=True),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="action_progress_0_100"
            ),
            models.CheckConstraint(
                condition=Q(cost_estimate__isnull=True) | Q(cost_estimate__gte=0),
                name="action_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["implemented", "measured"])
                | Q(implemented_at__isnull=False),
                name="action_implemented_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(declined_reason=""),
                name="action_declined_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="action_owner_status"),
            models.Index(fields=["department", "status"], name="action_department_status"),
        ]

    def __str__(self) -> str:
        return self.title


class EvidenceDraft(TimeStampedModel):
    """The evidence of an insight as the server found it, waiting to become an action.

    Built by the page that shows the insight (analytics or dashboards look the figure up
    themselves, with its run and interval, and hand it over as data), owned by the CX
    manager who asked for it; the create form reads only this row, so nothing in the
    address bar can change what an action is created from. ``prefill`` holds the form's
    suggested title, description, department and scope touchpoint slugs.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evidence_drafts"
    )
    insight_kind = models.CharField(max_length=16, choices=InsightKind.choices)
    snapshot = models.JSONField(default=dict)
    run_id = models.PositiveBigIntegerField(null=True, blank=True)
    prefill = models.JSONField(default=dict, blank=True)
    source_response = models.ForeignKey(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    alert = models.ForeignKey(
        "Alert", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.ForeignKey(
        Action, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(insight_kind="scratch"), name="evidence_draft_not_scratch"
            ),
        ]

    def __str__(self) -> str:
        return f"Evidence draft {self.pk}: {self.snapshot.get('label', '')}"


class ActionUpdate(models.Model):
    """One entry of an action's progress timeline, posted by its owner or a CX manager."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_updates"
    )
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__gte=0, progress__lte=100),
                name="action_update_progress_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action_id}: {self.text[:40]}"


class AlertReason(models.TextChoices):
    DETRACTOR = "detractor", "Detractor"
    NEGATIVE_SENTIMENT = "negative_sentiment", "Strongly negative comment"
    BOTH = "both", "Detractor with a strongly negative comment"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    HANDLED = "handled", "Closed"
    ACTIONED = "actioned", "Turned into an action"


# The bands of the queue, worst first; within a band each NPS point lower is one step worse.
ALERT_SEVERITY_BANDS: dict[str, int] = {
    AlertReason.BOTH: 2,
    AlertReason.DETRACTOR: 1,
    AlertReason.NEGATIVE_SENTIMENT: 0,
}
ALERT_SEVERITY_LABELS = {2: "Critical", 1: "High", 0: "Medium"}


def alert_severity(*, reason: str, nps: int | None) -> int:
    """The queue rank of an alert, higher first: the one place severity is computed.

    A detractor with a strongly negative comment (band 2) comes before a detractor (band 1),
    who comes before a strongly negative comment from a passive or promoter (band 0); inside
    a band, a lower NPS is worse (NPS 0 adds 10, NPS 10 adds 0, no score adds 0). Stored on
    the alert and indexed, so the database orders the queue.
    """
    points = 10 - nps if nps is not None else 0
    return ALERT_SEVERITY_BANDS[reason] * 100 + points


class Alert(models.Model):
    """A closed-loop alert: an unhappy customer the touchpoint's department should call back.

    At most one alert per response, whichever of the detractor check and the sentiment
    check sees it first. ``severity`` (:func:`alert_severity`) and ``deadline_at`` (the
    department's response hours after the alert was raised) are stored when it is raised;
    ``escalated_at`` is set once, when an overdue open alert went to the department's CX owner.
    """

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="alert")
    touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    reason = models.CharField(max_length=24, choices=AlertReason.choices)
    nps = models.SmallIntegerField(null=True, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    severity = models.PositiveSmallIntegerField(default=0, db_index=True)
    status = models.CharField(
        max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN, db_index=True
    )
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_alerts",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="escalated_alerts",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="handled_alerts",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.TextField(blank=True)
    action = models.ForeignKey(
        Action, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-severity", "deadline_at", "created_at", "id"]
        indexes = [
            models.Index(
                fields=["status", "-severity", "deadline_at", "created_at"],
                name="alert_queue_order",
            ),
            models.Index(fields=["department", "status"], name="alert_department_status"),
            models.Index(fields=["assignee", "status"], name="alert_assignee_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(severity__lte=210), name="alert_severity_in_range"),
        ]

    def __str__(self) -> str:
        return f"Alert on response {self.response_id}"

    @property
    def severity_label(self) -> str:
        return ALERT_SEVERITY_LABELS.get(self.severity // 100, "Medium")


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message"
    IN_PERSON = "in_person", "In person"
    OTHER = "other", "Other"


class ContactOutcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    NOT_RESOLVED = "not_resolved", "Not resolved"
    NO_ANSWER = "no_answer", "No answer"
    CALLBACK = "callback", "Customer asked to be called again"
    DECLINED = "declined", "Customer declined to talk"


class AlertContact(models.Model):
    """One attempt to close the loop with the customer of an alert: when, how, what came of it.

    An alert keeps every attempt (its contact history); closing it needs at least one.
    """

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="contacts")
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="alert_contacts"
    )
    contacted_at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=16, choices=ContactOutcome.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-contacted_at", "-id"]
        indexes = [models.Index(fields=["alert", "-contacted_at"], name="alert_contact_history")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} contact on alert {self.alert_id}"


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", "Action assigned to me"
    ACCEPTED = "accepted", "My action was accepted"
    DECLINED = "declined", "My action was declined"
    DUE_SOON = "due_soon", "Action due in 3 days"
    OVERDUE = "overdue", "Action overdue"
    DIGEST = "digest", "Weekly digest"
    ALERT = "alert", "Unhappy customer alert"
    ALERT_ASSIGNED = "alert_assigned", "Alert assigned to me"
    ALERT_ESCALATED = "alert_escalated", "Overdue alert escalated to me"


class Notification(models.Model):
    """An in-app message (also e-mailed) to one user.

    ``dedupe_key`` makes scheduled reminders idempotent: a retried task finds the row it
    already wrote instead of notifying twice.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    title = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    dedupe_key = models.CharField(max_length=120, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_unique_dedupe_key",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """Which kinds of notification one user wants; a missing row means all of them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    assigned = models.BooleanField(default=True)
    accepted = models.BooleanField(default=True)
    declined = models.BooleanField(default=True)
    due_soon = models.BooleanField(default=True)
    overdue = models.BooleanField(default=True)
    digest = models.BooleanField(default=True)
    alert = models.BooleanField(default=True)
    email = models.BooleanField(default=True, help_text="Also send notifications by e-mail.")

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"

    def wants(self, kind: str) -> bool:
        # Assigned and escalated alerts follow the one "alert" switch.
        if kind in {NotificationKind.ALERT_ASSIGNED, NotificationKind.ALERT_ESCALATED}:
            kind = NotificationKind.ALERT
        return bool(getattr(self, kind, True))
