"""REST API routes of this app, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from dashboards import api

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "dashboard-comments/",
        api.DashboardCommentListCreate.as_view(),
        name="dashboard-comment-list",
    ),
    path("evidence/", api.EvidenceCreate.as_view(), name="evidence-create"),
    path(
        "dashboard-comments/<int:pk>/status/",
        api.DashboardCommentStatus.as_view(),
        name="dashboard-comment-status",
    ),
]
