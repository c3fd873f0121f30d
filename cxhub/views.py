from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, JsonResponse

from cxhub.redirects import safe_next_url


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for the load balancer and docker-compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class LoginView(auth_views.LoginView):
    """Django's login, returning to ``next`` only through the project's one safety check."""

    def get_redirect_url(self) -> str:
        return safe_next_url(self.request, "", field=self.redirect_field_name)


class LogoutView(auth_views.LogoutView):
    """Django's logout, with the same ``next`` check as the login."""

    def get_redirect_url(self) -> str:
        return safe_next_url(self.request, "", field=self.redirect_field_name)
