"""A clean answer when the database or the broker is unavailable: 503 with ``Retry-After``.

API clients (paths under ``/api/``) get JSON, ``{"detail": …, "code": "unavailable"}`` plus
the project's usual ``errors`` key, so a client can tell "try again later" from a bug (500)
or bad input (400). Pages get ``templates/503.html``, rendered without the request's context
processors: they read the session and the user's roles, which need the database that just
failed.

Nothing is half-stored: every service writes in one transaction, which the failure rolled
back before the answer is built; the client's retry stores the whole request.

Three places catch these errors, so none reaches Django's HTML 500 page: DRF's exception
handler (``cxhub.errors``) for API views, :class:`UnavailableMiddleware` for pages, and
``handler500`` (``cxhub.views.server_error``) for a failure in a middleware (the session
saved after the view).
"""

from __future__ import annotations

import logging
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

MESSAGE = (
    "CXHub cannot reach its database or its task queue just now. Nothing from this request "
    "was stored; try again in {seconds} seconds."
)


def is_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, UNAVAILABLE_ERRORS)


def retry_after_seconds() -> int:
    return int(settings.CXHUB_UNAVAILABLE_RETRY_AFTER)


def unavailable_body() -> dict[str, Any]:
    """The JSON an API client gets: DRF's ``detail``/``code`` and the project's ``errors``."""
    message = MESSAGE.format(seconds=retry_after_seconds())
    return {"detail": message, "code": "unavailable", "errors": {"non_field_errors": [message]}}


def unavailable_log(request: HttpRequest, error: BaseException) -> None:
    logger.warning(
        "%s %s answered 503: %s", request.method, request.path, type(error).__name__, exc_info=error
    )


def _page_html() -> str:
    try:
        return loader.get_template("503.html").render(
            {"retry_after": retry_after_seconds()}  # no request: no context processor runs
        )
    except Exception:  # the error page must not fail in its turn: plain words then
        logger.exception("Could not render 503.html")
        return f"<!doctype html><title>Unavailable</title><p>{MESSAGE.format(seconds=retry_after_seconds())}</p>"


def unavailable_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """503 for ``request``: JSON under ``/api/``, the plain error page elsewhere."""
    unavailable_log(request, error)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(unavailable_body(), status=503)
    else:
        response = HttpResponse(_page_html(), status=503)
    response["Retry-After"] = str(retry_after_seconds())
    return response


class UnavailableMiddleware:
    """Turns a database or broker failure raised by a view into the 503 answer."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_unavailable(exception):
            return unavailable_response(request, exception)
        return None
