from __future__ import annotations

from typing import Any

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views import defaults

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


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (the login page and the admin's alike).

    429 with ``Retry-After``: every attempt during the lock-out, the right password too,
    starts the cool-off again (axes' default), so the wait is the whole cool-off.
    """
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    response = TemplateResponse(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "username": get_client_username(request, credentials) or "",
            "minutes": max(1, -(-seconds // 60)),
        },
        status=429,
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response.render()


# --- error answers ---------------------------------------------------------------------------
# Django answers requests no view took (an unknown URL, an error outside DRF) with these:
# JSON in the API's error shape under /api/, the product's pages elsewhere.


def _api_error(request: HttpRequest, message: str, status: int) -> HttpResponse | None:
    if not request.path.startswith("/api/"):
        return None
    return JsonResponse({"errors": {"non_field_errors": [message]}}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api_error(request, "The request could not be read.", 400) or defaults.bad_request(
        request, exception
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = str(exception) or "You do not have permission to perform this action."
    return _api_error(request, message, 403) or defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api_error(request, "Not found.", 404) or defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    message = "Something went wrong on our side; it has been logged. Please try again."
    return _api_error(request, message, 500) or defaults.server_error(request)
