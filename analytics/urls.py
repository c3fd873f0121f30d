"""Page routes of this app: the text analytics pages (insights and impact pages, which
show charts, live in ``dashboards``, and so does a topic's page, routed in ``cxhub.urls``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from analytics.text import views as text_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("topics/", text_views.topics_page, name="analytics-topics-page"),
    path("topics/themes/", text_views.themes_page, name="analytics-themes-page"),
    path(
        "topics/responses/<int:pk>/tags/",
        text_views.tag_correct_page,
        name="analytics-tag-correct-page",
    ),
]
