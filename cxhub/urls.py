from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from cxhub import views
from dashboards import analysis_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script is served as a file (the split view), not inline.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc styles itself with injected style elements and renders in a blob: worker: the one
    # page whose styles are not all files (it shows only the public schema).
    path(
        "api/redoc/",
        csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    path("api/v1/", include("feedback.api_urls")),
    path("api/v1/", include("actions.api_urls")),
    path("api/v1/", include("analytics.api_urls")),
    path("api/v1/", include("dashboards.api_urls")),
    path("", include("feedback.urls")),
    path("", include("actions.urls")),
    path("", include("analytics.urls")),
    # A topic's page shows charts, so its view is the dashboards' (analytics may not import
    # dashboards); it keeps the name and address every link uses.
    path(
        "topics/<slug:slug>/",
        analysis_views.topic_page,
        name="analytics-topic-verbatims-page",
    ),
    path("", include("dashboards.urls")),
]

# Requests no view took answer JSON under /api/ and the product's pages elsewhere; an outage
# of the database or broker raised outside a view answers 503, not 500.
handler400 = "cxhub.views.bad_request"
handler403 = "cxhub.views.permission_denied"
handler404 = "cxhub.views.page_not_found"
handler500 = "cxhub.views.server_error"
