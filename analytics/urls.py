"""Page routes of this app."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from analytics.impact import views as impact_views
from analytics.insights import views as insights_views
from analytics.text import views as text_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("insights/", insights_views.insights_page, name="analytics-insights-page"),
    path("insights/run/", insights_views.insights_run, name="analytics-insights-run"),
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
    path("topics/", text_views.topics_page, name="analytics-topics-page"),
    path("topics/themes/", text_views.themes_page, name="analytics-themes-page"),
    path(
        "topics/responses/<int:pk>/tags/",
        text_views.tag_correct_page,
        name="analytics-tag-correct-page",
    ),
    path(
        "topics/<slug:slug>/",
        text_views.topic_verbatims_page,
        name="analytics-topic-verbatims-page",
    ),
]
