"""Admin for the feedback models: organisation, sources and keys, customers, responses."""

from __future__ import annotations

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from feedback.models import (
    Attribute,
    Customer,
    Department,
    Journey,
    Response,
    Source,
    SourceAPIKey,
    Touchpoint,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["created_at"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_filter = ["created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "journey", "step", "department"]
    list_filter = ["journey", "department"]
    search_fields = ["name", "slug", "step"]
    list_select_related = ["journey", "department"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "description"]


@admin.register(SourceAPIKey)
class SourceAPIKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "source")  # type: ignore[assignment]
    list_filter = (*APIKeyModelAdmin.list_filter, "source")  # type: ignore[assignment]
    search_fields = (*APIKeyModelAdmin.search_fields, "source__name")  # type: ignore[assignment]
    list_select_related = ["source"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "segment", "region", "plan", "annual_revenue", "churned_at"]
    list_filter = ["segment", "region", "plan", "churned_at"]
    search_fields = ["external_id"]


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ["slug", "label", "scale_min", "scale_max"]
    list_filter = ["scale_max"]
    search_fields = ["slug", "label"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "source",
        "submitted_at",
        "channel",
        "touchpoint",
        "nps",
        "csat",
        "ces",
        "nps_category",
        "processed_at",
    ]
    list_filter = ["channel", "nps_category", "touchpoint", "source"]
    search_fields = ["external_id", "comment"]
    raw_id_fields = ["customer"]
    list_select_related = ["source", "touchpoint"]
    date_hierarchy = "submitted_at"
    ordering = ["-submitted_at", "-id"]
    readonly_fields = [
        "nps_category",
        "content_hash",
        "processing_queued_at",
        "processed_at",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False
