"""The one domain error type and the DRF handler that turns errors into JSON answers.

Every API error has the shape ``{"errors": {"field": ["message", ...]}}``; errors that
belong to no field use the key ``non_field_errors``. A database or broker outage adds
``detail`` and ``code: "unavailable"`` to it, with status 503 (``cxhub.unavailable``). Services raise ``ApplicationError``
subclasses and never know about HTTP; this module maps them to status codes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cxhub.unavailable import is_unavailable, retry_after_seconds, unavailable_body, unavailable_log

NON_FIELD = "non_field_errors"


class ApplicationError(Exception):
    """A business rule said no. ``field_errors`` maps field names to messages."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str = "", *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message or "Invalid request.")
        self.message = message or "Invalid request."
        self.field_errors = field_errors or {NON_FIELD: [self.message]}


class InvalidInput(ApplicationError):
    status_code = status.HTTP_400_BAD_REQUEST


class InvalidTransition(ApplicationError):
    """A lifecycle step that the current state does not allow."""

    status_code = status.HTTP_400_BAD_REQUEST


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


def error_text(error: ApplicationError) -> str:
    """Every message of a domain error as one readable line, for pages and CLI commands.

    The messages of all fields in order, each a sentence, joined by spaces; the error's own
    message when it has no field messages. The API answers with ``field_errors`` as they are.
    """
    text = " ".join(
        str(message) for messages in error.field_errors.values() for message in messages
    )
    return text or error.message


def _as_error_dict(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {
            str(key): value if isinstance(value, list | dict) else [value]
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return {NON_FIELD: detail}
    return {NON_FIELD: [detail]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_unavailable(exc):  # database or broker down: 503, retry later (cxhub.unavailable)
        request = context.get("request")
        if request is not None:
            unavailable_log(request, exc)
        return Response(
            unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(retry_after_seconds())},
        )
    if isinstance(exc, ApplicationError):
        return Response({"errors": exc.field_errors}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        return Response({"errors": detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.APIException):
        response.data = {"errors": _as_error_dict(exc.detail)}
    return response
