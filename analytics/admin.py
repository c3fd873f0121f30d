"""Django admin for analytics: KPIs and their observations, and impact estimates (read-only).

Each area registers its own models below.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import ImpactEstimate, Kpi, KpiObservation


@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "unit",
        "currency",
        "aggregation",
        "higher_is_better",
        "is_active",
    ]
    list_filter = ["unit", "aggregation", "is_active"]
    search_fields = ["slug", "name"]


@admin.register(KpiObservation)
class KpiObservationAdmin(admin.ModelAdmin):
    list_display = ["kpi", "granularity", "period_start", "scope_key", "value", "source"]
    list_filter = ["kpi", "granularity"]
    search_fields = ["scope_key"]
    date_hierarchy = "period_start"
    list_select_related = ["kpi", "source"]
    raw_id_fields = ["department", "touchpoint", "source"]
    readonly_fields = ["scope_key", "created_at", "updated_at"]


@admin.register(ImpactEstimate)
class ImpactEstimateAdmin(admin.ModelAdmin):
    """Estimates are evidence: they are shown, never edited by hand."""

    list_display = [
        "action",
        "metric",
        "method",
        "status",
        "effect",
        "ci_low",
        "ci_high",
        "p_value",
        "is_current",
        "created_at",
    ]
    list_filter = ["method", "status", "is_current", "metric"]
    list_select_related = ["action"]
    search_fields = ["action__title", "metric"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
