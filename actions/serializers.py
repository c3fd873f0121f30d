"""Shapes of actions, updates, alerts and notifications in the API (parsing only)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework import serializers

from actions.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    Alert,
    AlertContact,
    AlertStatus,
    ContactChannel,
    ContactOutcome,
    InsightKind,
    Notification,
    NotificationPreference,
)
from actions.services import (
    ALERTS_BULK_MAX,
    AlertContactRecord,
    BulkOperation,
    allowed_transitions,
)
from feedback.models import Department, Touchpoint


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.SerializerMethodField()

    def get_display_name(self, user: User) -> str:
        return str(user.get_full_name() or user.get_username())


class EvidenceInputSerializer(serializers.Serializer):
    reference = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    label = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")  # type: ignore[assignment]  # the API field is called label
    figures = serializers.DictField(child=serializers.JSONField(), required=False, default=dict)


class TargetKpiSerializer(serializers.Serializer):
    kpi = serializers.SlugField()
    expected_change = serializers.FloatField()
    unit = serializers.CharField(allow_blank=True, max_length=32, required=False, default="")


class ActionSerializer(serializers.ModelSerializer):
    """An action as read; ``allowed_transitions`` says which lifecycle steps its state allows."""

    department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    owner = UserBriefSerializer(read_only=True)
    created_by = UserBriefSerializer(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    allowed_transitions = serializers.SerializerMethodField()
    target_kpis = TargetKpiSerializer(many=True, read_only=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = [
            "id",
            "title",
            "description",
            "insight_kind",
            "evidence",
            "evidence_run_id",
            "department",
            "cross_department",
            "owner",
            "created_by",
            "status",
            "status_label",
            "allowed_transitions",
            "due_date",
            "is_overdue",
            "cost_estimate",
            "currency",
            "target_kpis",
            "scope_attributes",
            "control_attributes",
            "implemented_at",
            "measured_at",
            "declined_reason",
            "cancelled_reason",
            "progress",
            "source_response",
            "created_at",
            "updated_at",
        ]

    def get_allowed_transitions(self, action: Action) -> list[str]:
        return allowed_transitions(action.status)

    def get_is_overdue(self, action: Action) -> bool:
        today = self.context.get("today")
        return bool(
            action.due_date
            and today
            and action.due_date < today
            and action.status
            in {ActionStatus.PROPOSED, ActionStatus.ACCEPTED, ActionStatus.IN_PROGRESS}
        )


class ActionDetailSerializer(ActionSerializer):
    scope_touchpoints: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    scope_departments: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    control_touchpoints: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    control_departments: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )

    class Meta(ActionSerializer.Meta):
        fields = [
            *ActionSerializer.Meta.fields,
            "scope_touchpoints",
            "scope_departments",
            "control_touchpoints",
            "control_departments",
        ]


def _line_manager_field() -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))


class _ActionWritableFields(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Department.objects.all()
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    cost_estimate = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, default="EUR")
    target_kpis = TargetKpiSerializer(many=True, required=False)
    scope_touchpoints: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Touchpoint.objects.all(), many=True, required=False
    )
    scope_departments: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Department.objects.all(), many=True, required=False
    )
    scope_attributes = serializers.JSONField(required=False)
    control_touchpoints: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Touchpoint.objects.all(), many=True, required=False
    )
    control_departments: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Department.objects.all(), many=True, required=False
    )
    control_attributes = serializers.JSONField(required=False)
    cross_department = serializers.BooleanField(required=False, default=False)


class ActionCreateSerializer(_ActionWritableFields):
    """Input of ``POST actions/``: the action and the insight it comes from."""

    owner = _line_manager_field()
    insight_kind = serializers.ChoiceField(choices=InsightKind.choices, default=InsightKind.SCRATCH)
    evidence = EvidenceInputSerializer(required=False)
    evidence_id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The id of evidence the server built (POST /api/v1/evidence/); then the "
        "action keeps that snapshot and its run, and insight_kind and evidence are ignored.",
    )
    alert = serializers.PrimaryKeyRelatedField(
        queryset=Alert.objects.all(), required=False, allow_null=True
    )


class ActionEditSerializer(_ActionWritableFields):
    """Input of ``PATCH actions/{id}/``; owners may send only description and progress."""

    progress = serializers.IntegerField(min_value=0, max_value=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.fields["currency"].default = serializers.empty
        self.fields["cross_department"].default = serializers.empty


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ImplementSerializer(serializers.Serializer):
    implemented_at = serializers.DateField()


class ReassignSerializer(serializers.Serializer):
    owner = _line_manager_field()


class ActionUpdateSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True)

    class Meta:
        model = ActionUpdate
        fields = ["id", "author", "progress", "text", "created_at"]


class ActionUpdateCreateSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    progress = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True, default=None
    )


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    type = serializers.CharField()
    changes = HistoryChangeSerializer(many=True)


class AlertSerializer(serializers.ModelSerializer):
    touchpoint: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    customer = serializers.SerializerMethodField()
    verbatim = serializers.CharField(source="response.comment", read_only=True)
    submitted_at = serializers.DateTimeField(source="response.submitted_at", read_only=True)
    severity_label = serializers.CharField(read_only=True)
    overdue = serializers.SerializerMethodField()
    assignee = UserBriefSerializer(read_only=True, allow_null=True)
    escalated_to = UserBriefSerializer(read_only=True, allow_null=True)
    handled_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "response",
            "touchpoint",
            "department",
            "customer",
            "verbatim",
            "submitted_at",
            "reason",
            "nps",
            "sentiment",
            "severity",
            "severity_label",
            "status",
            "created_at",
            "deadline_at",
            "overdue",
            "assignee",
            "assigned_at",
            "escalated_at",
            "escalated_to",
            "handled_by",
            "handled_at",
            "handled_note",
            "action",
        ]

    def get_customer(self, alert: Alert) -> str | None:
        customer = alert.response.customer
        return customer.external_id if customer else None

    def get_overdue(self, alert: Alert) -> bool:
        now = self.context.get("now") or timezone.now()
        return bool(
            alert.status == AlertStatus.OPEN and alert.deadline_at and alert.deadline_at < now
        )


class AlertListQuerySerializer(serializers.Serializer):
    """The queue's filters as query parameters; every one is a choice, checked here."""

    status = serializers.ChoiceField(
        choices=[*AlertStatus.choices, ("all", "All")], required=False, default=AlertStatus.OPEN
    )
    department = serializers.SlugRelatedField(
        slug_field="slug", queryset=Department.objects.all(), required=False
    )
    touchpoint = serializers.SlugRelatedField(
        slug_field="slug", queryset=Touchpoint.objects.all(), required=False
    )
    assignee = serializers.CharField(
        required=False, help_text="A user id, or `none` for alerts nobody has taken."
    )
    overdue = serializers.BooleanField(required=False, default=False)

    def validate_assignee(self, value: str) -> int:
        if value == "none":
            return 0
        if not value.isdigit() or not User.objects.filter(pk=int(value)).exists():
            raise serializers.ValidationError("Give a user id, or none.")
        return int(value)


class AlertCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Every status, under the other filters.")
    open = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    assigned = serializers.IntegerField()
    overdue = serializers.IntegerField()
    closed = serializers.IntegerField()
    actioned = serializers.IntegerField()


class AlertContactSerializer(serializers.ModelSerializer):
    contacted_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = AlertContact
        fields = ["id", "contacted_at", "channel", "outcome", "note", "contacted_by", "created_at"]


class AlertContactInputSerializer(serializers.Serializer):
    contacted_at = serializers.DateTimeField(
        required=False, help_text="When the customer was contacted (default: now)."
    )
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    outcome = serializers.ChoiceField(choices=ContactOutcome.choices)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def to_record(self) -> AlertContactRecord:
        record = contact_record(self.validated_data)
        assert record is not None
        return record


def contact_record(data: dict[str, Any] | None) -> AlertContactRecord | None:
    """The service's contact record from validated input; no time given means now."""
    if not data:
        return None
    return AlertContactRecord(
        contacted_at=data.get("contacted_at") or timezone.now(),
        channel=data["channel"],
        outcome=data["outcome"],
        note=data.get("note", ""),
    )


class AlertHandleSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    contact = AlertContactInputSerializer(
        required=False,
        help_text="The contact with the customer; needed unless one was recorded before.",
    )


class AlertAssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        help_text="The user id of a line manager of the alert's department or a CX manager "
        "(your own id to take it).",
    )


class AlertBulkSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=ALERTS_BULK_MAX
    )
    operation = serializers.ChoiceField(choices=[(o.value, o.value) for o in BulkOperation])
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False
    )
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    contact = AlertContactInputSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["operation"] == BulkOperation.ASSIGN and "assignee" not in attrs:
            raise serializers.ValidationError({"assignee": ["Choose who gets the alerts."]})
        return attrs


class AlertBulkRefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="alert_id")
    message = serializers.CharField()
    field_errors = serializers.DictField(child=serializers.ListField())


class AlertBulkResultSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField())
    refused = AlertBulkRefusalSerializer(many=True)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "action", "alert", "read_at", "created_at"]


class NotificationPreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationPreference
        fields = [
            "assigned",
            "accepted",
            "declined",
            "due_soon",
            "overdue",
            "digest",
            "alert",
            "email",
        ]
