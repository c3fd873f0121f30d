"""Page routes of this app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponseBase
from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from dashboards import analysis_views, views

app_name = "dashboards"


def moved(pattern_name: str) -> Callable[..., HttpResponseBase]:
    """A permanent redirect of an old page's URL to the page that replaced it, query kept."""
    return RedirectView.as_view(pattern_name=pattern_name, permanent=True, query_string=True)


urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="overview"),
    path("departments/<slug:slug>/", views.department, name="department"),
    path("departments/<slug:slug>/report/", views.department_report, name="report"),
    path("insights/", analysis_views.insights, name="insights"),
    path("insights/run/", analysis_views.insights_run, name="insights-run"),
    path("verbatims/", analysis_views.verbatims, name="verbatims"),
    path("evidence/new/", analysis_views.evidence_new, name="evidence-new"),
    path("impact/", analysis_views.impact_list, name="impact"),
    path("impact/<int:pk>/", analysis_views.impact_detail, name="impact-detail"),
    path("impact/<int:pk>/estimate/", analysis_views.impact_estimate, name="impact-estimate"),
    path("export/<slug:table>.csv", views.export_csv, name="export"),
    path("comments/", views.comment_list, name="comments"),
    path("comments/new/", views.comment_create, name="comment-create"),
    path("comments/<int:pk>/status/", views.comment_status, name="comment-status"),
    # Pages merged into the ones above; old links and bookmarks keep working.
    path("drivers/", moved("dashboards:insights"), name="drivers-moved"),
    path("impact/rollup/", moved("dashboards:impact"), name="impact-rollup-moved"),
    path(
        "impact/<int:pk>/estimates/",
        moved("dashboards:impact-detail"),
        name="impact-estimates-moved",
    ),
]
