from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cxhub import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/", include("feedback.api_urls")),
    path("api/v1/", include("actions.api_urls")),
    path("api/v1/", include("analytics.api_urls")),
    path("api/v1/", include("dashboards.api_urls")),
    path("", include("feedback.urls")),
    path("", include("actions.urls")),
    path("", include("analytics.urls")),
    path("", include("dashboards.urls")),
]
