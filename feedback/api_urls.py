"""REST API routes of this app, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from feedback import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("feedback/", api.FeedbackListCreateApi.as_view(), name="feedback-list"),
    path("feedback/bulk/", api.FeedbackBulkApi.as_view(), name="feedback-bulk"),
    path("feedback/<int:pk>/", api.FeedbackDetailApi.as_view(), name="feedback-detail"),
    path("customers/", api.CustomerListCreateApi.as_view(), name="customer-list"),
    path("customers/bulk/", api.CustomerBulkApi.as_view(), name="customer-bulk"),
    path("customers/<int:pk>/", api.CustomerDetailApi.as_view(), name="customer-detail"),
    path("customers/<int:pk>/export/", api.CustomerExportApi.as_view(), name="customer-export"),
]
