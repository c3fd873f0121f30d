"""Page routes of this app."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from dashboards import analysis_views, views

app_name = "dashboards"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="overview"),
    path("departments/<slug:slug>/", views.department, name="department"),
    path("departments/<slug:slug>/report/", views.department_report, name="report"),
    path("drivers/", analysis_views.drivers, name="drivers"),
    path("verbatims/", analysis_views.verbatims, name="verbatims"),
    path("impact/", analysis_views.impact_list, name="impact"),
    path("impact/<int:pk>/", analysis_views.impact_detail, name="impact-detail"),
    path("export/<slug:table>.csv", views.export_csv, name="export"),
    path("verbatims/<int:pk>/tags/", analysis_views.tag_correct_view, name="tag-correct"),
    path("comments/", views.comment_list, name="comments"),
    path("comments/new/", views.comment_create, name="comment-create"),
    path("comments/<int:pk>/status/", views.comment_status, name="comment-status"),
]
