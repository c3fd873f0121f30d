"""Admin for the feedback models: organisation, sources and keys, customers, responses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from feedback import services
from feedback.models import (
    Attribute,
    Customer,
    CustomerErasure,
    Department,
    Journey,
    Response,
    Source,
    SourceAPIKey,
    Touchpoint,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "alert_response_hours", "cx_owner", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["created_at"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    raw_id_fields = ["cx_owner"]


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

    # Roll-ups per department count a response where its touchpoint belongs: a touchpoint
    # moved to another department changes what every day of its responses counts.
    def save_model(
        self, request: HttpRequest, obj: Touchpoint, form: ModelForm, change: bool
    ) -> None:
        with transaction.atomic():
            moved = (
                change
                and obj.pk is not None
                and Touchpoint.objects.filter(pk=obj.pk)
                .exclude(department_id=obj.department_id)
                .exists()
            )
            super().save_model(request, obj, form, change)
            if moved:
                services.response_days_changed(
                    days=services.response_days_of(Response.objects.filter(touchpoint=obj))
                )


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "is_active", "may_write_customers", "created_at"]
    list_filter = ["kind", "is_active", "may_write_customers"]
    search_fields = ["name", "description"]


@admin.register(SourceAPIKey)
class SourceAPIKeyAdmin(APIKeyModelAdmin):
    """Keys with their source and when each last authenticated a call (to the minute)."""

    list_display = (*APIKeyModelAdmin.list_display, "source", "last_used_at")  # type: ignore[assignment]
    list_filter = (*APIKeyModelAdmin.list_filter, "source", "revoked")  # type: ignore[assignment]
    search_fields = (*APIKeyModelAdmin.search_fields, "source__name")  # type: ignore[assignment]
    list_select_related = ["source"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*super().get_readonly_fields(request, obj), "last_used_at")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "source",
        "segment",
        "region",
        "plan",
        "annual_revenue",
        "churned_at",
        "erased_at",
    ]
    list_filter = ["source", "segment", "region", "plan", "churned_at"]
    search_fields = ["external_id"]
    list_select_related = ["source"]
    readonly_fields = ["erased_at", "created_at", "updated_at"]


@admin.register(CustomerErasure)
class CustomerErasureAdmin(admin.ModelAdmin):
    """The erasure log: read only, since it is the record of what was done."""

    list_display = ["pseudonym", "erased_by", "via", "responses", "erased_at"]
    list_filter = ["via", "erased_at"]
    search_fields = ["pseudonym"]
    list_select_related = ["erased_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ["slug", "label", "scale_min", "scale_max"]
    list_filter = ["scale_max"]
    search_fields = ["slug", "label"]


class ParkedFilter(admin.SimpleListFilter):
    title = "processing"
    parameter_name = "parked"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Parked (processing died repeatedly)"), ("waiting", "Not yet processed")]

    def queryset(self, request: Any, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(processing_parked_at__isnull=False)
        if self.value() == "waiting":
            return queryset.filter(processed_at__isnull=True, processing_parked_at__isnull=True)
        return queryset


@admin.action(description="Process again (parked responses)")
def process_again(modeladmin: Any, request: Any, queryset: Any) -> None:
    queued = services.responses_unpark(response_ids=list(queryset.values_list("id", flat=True)))
    modeladmin.message_user(request, f"{queued} parked responses queued for processing again.")


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    actions = [process_again]
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
    list_filter = [ParkedFilter, "channel", "nps_category", "touchpoint", "source"]
    search_fields = ["external_id", "comment"]
    raw_id_fields = ["customer"]
    list_select_related = ["source", "touchpoint"]
    date_hierarchy = "submitted_at"
    ordering = ["-submitted_at", "-id"]
    readonly_fields = [
        "nps_category",
        "content_hash",
        "processing_queued_at",
        "processing_lease_until",
        "processing_attempts",
        "processing_parked_at",
        "processed_at",
        "erased_at",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False

    # An edited or deleted response changes what its day counts: the roll-ups must recount
    # the day it was on and the day it is on now, in the same transaction.
    def save_model(
        self, request: HttpRequest, obj: Response, form: ModelForm, change: bool
    ) -> None:
        with transaction.atomic():
            days = {services.response_day(obj.submitted_at)}
            if change and obj.pk is not None:
                before = Response.objects.filter(pk=obj.pk).values_list("submitted_at", flat=True)
                days.update(services.response_day(moment) for moment in before)
            super().save_model(request, obj, form, change)
            services.response_days_changed(days=days)

    def delete_model(self, request: HttpRequest, obj: Response) -> None:
        services.responses_delete(responses=Response.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Response]) -> None:
        services.responses_delete(responses=queryset)
