"""Page routes of this app."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from actions import views

app_name = "actions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("actions/", views.board, name="board"),
    path("actions/mine/", views.my_actions, name="mine"),
    path("actions/new/", views.create, name="create"),
    path("actions/<int:action_id>/", views.detail, name="detail"),
    path("actions/<int:action_id>/updates/", views.update_post, name="update"),
    path("actions/<int:action_id>/edit/", views.edit, name="edit"),
    path("actions/<int:action_id>/<slug:name>/", views.transition, name="transition"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/bulk/", views.alerts_bulk, name="alerts-bulk"),
    path("alerts/<int:alert_id>/handle/", views.alert_handle, name="alert-handle"),
    path("alerts/<int:alert_id>/assign/", views.alert_assign, name="alert-assign"),
    path("alerts/<int:alert_id>/contacts/", views.alert_contact, name="alert-contact"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/preferences/", views.preferences, name="preferences"),
]
