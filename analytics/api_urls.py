"""REST API routes of analytics, mounted under /api/v1/; each area's module adds its own."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

from analytics.api import kpis as kpi_api  # noqa: E402

urlpatterns += kpi_api.urlpatterns

from analytics.api import impact as impact_api  # noqa: E402

urlpatterns += impact_api.urlpatterns

from analytics.api import insights as insights_api  # noqa: E402

urlpatterns += insights_api.urlpatterns

from analytics.api import text as text_api  # noqa: E402

urlpatterns += text_api.urlpatterns
