"""Admin for actions, their updates, alerts and notifications (change history included)."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from actions.models import (
    Action,
    ActionUpdate,
    Alert,
    AlertContact,
    Notification,
    NotificationPreference,
)


class ActionUpdateInline(admin.TabularInline):
    model = ActionUpdate
    extra = 0
    readonly_fields = ["author", "progress", "text", "created_at"]
    can_delete = False


@admin.register(Action)
class ActionAdmin(SimpleHistoryAdmin):
    list_display = ["title", "status", "department", "owner", "due_date", "progress", "created_at"]
    list_filter = ["status", "department", "insight_kind", "cross_department"]
    search_fields = ["title", "description", "owner__username", "owner__last_name"]
    list_select_related = ["department", "owner"]
    raw_id_fields = ["owner", "created_by", "source_response"]
    filter_horizontal = [
        "scope_touchpoints",
        "scope_departments",
        "control_touchpoints",
        "control_departments",
    ]
    readonly_fields = ["evidence", "created_at", "updated_at", "measured_at"]
    inlines = [ActionUpdateInline]


class AlertContactInline(admin.TabularInline):
    model = AlertContact
    extra = 0
    raw_id_fields = ["contacted_by"]
    readonly_fields = ["created_at"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "response",
        "touchpoint",
        "department",
        "reason",
        "severity",
        "status",
        "assignee",
        "deadline_at",
        "escalated_at",
        "created_at",
    ]
    list_filter = ["status", "reason", "department"]
    list_select_related = ["response", "touchpoint", "department", "assignee"]
    raw_id_fields = ["response", "handled_by", "action", "assignee", "escalated_to"]
    readonly_fields = ["severity"]
    inlines = [AlertContactInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient", "action", "alert"]
    search_fields = ["title", "recipient__username"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "assigned",
        "accepted",
        "declined",
        "due_soon",
        "overdue",
        "digest",
        "alert",
        "email",
    ]
    raw_id_fields = ["user"]
