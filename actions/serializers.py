"""Shapes of actions, updates, alerts and notifications in the API (parsing only)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers

from actions.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    Alert,
    InsightKind,
    Notification,
    NotificationPreference,
)
from actions.services import allowed_transitions
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
            "status",
            "handled_by",
            "handled_at",
            "handled_note",
            "action",
            "created_at",
        ]

    def get_customer(self, alert: Alert) -> str | None:
        customer = alert.response.customer
        return customer.external_id if customer else None


class AlertHandleSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


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
