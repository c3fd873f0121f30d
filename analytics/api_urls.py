"""REST API routes of analytics, mounted under /api/v1/; each feature package adds its own."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from analytics.impact import api as impact_api
from analytics.insights import api as insights_api
from analytics.runs import api as runs_api
from analytics.text import api as text_api

urlpatterns: list[URLPattern | URLResolver] = [
    *impact_api.urlpatterns,
    *insights_api.urlpatterns,
    *runs_api.urlpatterns,
    *text_api.urlpatterns,
]
