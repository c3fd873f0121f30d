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


# --- text analytics: taxonomy, corrections (audit, read-only), theme proposals ----------------

from django import forms  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402

from analytics.models import TagCorrection, ThemeProposal, Topic  # noqa: E402
from analytics.text import services as text_services  # noqa: E402
from cxhub.errors import ApplicationError  # noqa: E402


class TopicAdminForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["slug", "name", "parent", "keywords", "description", "is_active", "origin"]

    def clean_keywords(self) -> list[str]:
        try:
            return text_services.keywords_clean(self.cleaned_data.get("keywords") or [])
        except ApplicationError as exc:
            raise ValidationError([m for msgs in exc.field_errors.values() for m in msgs]) from exc


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """Editing the taxonomy here re-tags all comments once the change is saved."""

    form = TopicAdminForm
    list_display = ["name", "slug", "parent", "origin", "is_active", "updated_at"]
    list_filter = ["is_active", "origin", "parent"]
    search_fields = ["name", "slug", "description"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and obj.created_by_id is None and request.user.is_authenticated:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        text_services.responses_retag_all_on_commit()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: past tags and corrections keep their meaning


@admin.register(TagCorrection)
class TagCorrectionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "response", "topic", "action", "sentiment", "corrected_by"]
    list_filter = ["action", "topic"]
    raw_id_fields = ["response"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ThemeProposal)
class ThemeProposalAdmin(admin.ModelAdmin):
    list_display = ["label", "size", "share", "status", "accepted_topic", "created_at"]
    list_filter = ["status"]
    readonly_fields = [
        "run",
        "top_terms",
        "example_response_ids",
        "size",
        "share",
        "accepted_topic",
    ]
