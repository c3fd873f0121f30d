from __future__ import annotations

from django.contrib import admin

from dashboards.models import DashboardComment


@admin.register(DashboardComment)
class DashboardCommentAdmin(admin.ModelAdmin):
    list_display = ("created_at", "department", "author", "kind", "status")
    list_filter = ("kind", "status", "department")
    search_fields = ("body", "author__username")
    raw_id_fields = ("author", "resolved_by")
    date_hierarchy = "created_at"
