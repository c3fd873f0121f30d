"""Page routes of this app."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from analytics.views import impact as impact_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("impact/rollup/", impact_views.impact_rollup_page, name="analytics-impact-rollup-page"),
    path(
        "impact/<int:pk>/estimates/",
        impact_views.impact_action_page,
        name="analytics-impact-action-page",
    ),
    path(
        "impact/<int:pk>/estimates/run/",
        impact_views.impact_action_estimate,
        name="analytics-impact-action-estimate",
    ),
]
