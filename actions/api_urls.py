"""REST API routes of this app, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from actions import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("actions/", api.ActionListCreateApi.as_view(), name="api-actions"),
    path("actions/<int:action_id>/", api.ActionDetailApi.as_view(), name="api-action-detail"),
    path(
        "actions/<int:action_id>/updates/",
        api.ActionUpdatesApi.as_view(),
        name="api-action-updates",
    ),
    path(
        "actions/<int:action_id>/history/",
        api.ActionHistoryApi.as_view(),
        name="api-action-history",
    ),
    *[
        path(f"actions/<int:action_id>/{name}/", view, name=f"api-action-{name}")
        for name, view in api.transition_views.items()
    ],
    path("alerts/", api.AlertListApi.as_view(), name="api-alerts"),
    path("alerts/bulk/", api.AlertBulkApi.as_view(), name="api-alerts-bulk"),
    path("alerts/<int:alert_id>/handle/", api.AlertHandleApi.as_view(), name="api-alert-handle"),
    path("alerts/<int:alert_id>/assign/", api.AlertAssignApi.as_view(), name="api-alert-assign"),
    path(
        "alerts/<int:alert_id>/contacts/", api.AlertContactsApi.as_view(), name="api-alert-contacts"
    ),
    path("notifications/", api.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/read/", api.NotificationReadApi.as_view(), name="api-notifications-read"),
    path(
        "notifications/preferences/",
        api.NotificationPreferenceApi.as_view(),
        name="api-notification-preferences",
    ),
]
