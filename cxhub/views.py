from __future__ import annotations

import sys
from typing import Any

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.response import TemplateResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from cxhub.access import metrics_token_required, public
from cxhub.health import readiness_get
from cxhub.metrics import metrics_text
from cxhub.redirects import safe_next_url
from cxhub.unavailable import is_unavailable, unavailable_response


@public
@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of this web process alone: it answers without the database or the broker,
    so an orchestrator restarts a hung process, not every process when PostgreSQL blinks.
    Readiness (database, broker, worker, processing) is ``/readyz/``."""
    return JsonResponse({"status": "ok"})


@public
@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database and the broker answer, 503 when either does not.

    A stale worker or lagging processing shows as ``"status": "degraded"`` with 200 (the
    reasons are in ``cxhub.health``); the body reports every check either way.
    """
    readiness = readiness_get()
    return JsonResponse(readiness.as_dict(), status=200 if readiness.ready else 503)


@metrics_token_required
@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (``cxhub.metrics``), for the holder of ``CXHUB_METRICS_TOKEN``."""
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


def server_error(request: HttpRequest) -> HttpResponseBase:
    """``handler500``: an outage of the database or broker raised outside a view (in a
    middleware) still answers 503 with Retry-After; anything else is Django's 500 page."""
    error = sys.exc_info()[1]
    if is_unavailable(error):
        assert error is not None
        return unavailable_response(request, error)
    message = "Something went wrong on our side; it has been logged. Please try again."
    return _api_error(request, message, 500) or defaults.server_error(request)


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
