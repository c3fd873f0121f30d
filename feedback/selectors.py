"""Reads of the feedback app."""

from __future__ import annotations

from django.db.models import QuerySet

from feedback.models import Customer, Response


def responses_list() -> QuerySet[Response]:
    """Responses newest first with what their representation shows, in one query per page."""
    return Response.objects.select_related("source", "touchpoint", "customer").order_by(
        "-submitted_at", "-id"
    )


def customers_list() -> QuerySet[Customer]:
    return Customer.objects.order_by("external_id")
