"""Reads of the feedback app."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Min, Q, QuerySet

from cxhub.errors import NotFound
from feedback.models import Customer, Response
from feedback.privacy import customer_exporters


def responses_list() -> QuerySet[Response]:
    """Responses newest first with what their representation shows, in one query per page."""
    return Response.objects.select_related("source", "touchpoint", "customer").order_by(
        "-submitted_at", "-id"
    )


def customers_list() -> QuerySet[Customer]:
    return Customer.objects.select_related("source").order_by("external_id")


def customer_by_external_id(*, external_id: str) -> Customer:
    """The customer with this external id; ``NotFound`` naming it otherwise."""
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise NotFound(f"No customer with external id {external_id[:200]!r}.")
    return customer


def customer_export(*, customer: Customer) -> dict[str, Any]:
    """Everything stored about one customer, as JSON-ready data (strings, numbers, lists).

    The customer record, its responses with scores, ratings and comments, and the sections
    other apps add through ``feedback.privacy.register_customer_exporter`` (topics, alerts,
    actions). The API and ``export_customer`` answer exactly this.
    """
    responses = list(
        Response.objects.filter(customer=customer)
        .select_related("source", "touchpoint")
        .order_by("submitted_at", "id")
    )
    response_ids = [response.pk for response in responses]
    data: dict[str, Any] = {
        "customer": {
            "id": customer.pk,
            "external_id": customer.external_id,
            "source": customer.source.name if customer.source else None,
            "segment": customer.segment,
            "region": customer.region,
            "plan": customer.plan,
            "attributes": customer.attributes,
            "annual_revenue": customer.annual_revenue,
            "cost_to_serve": customer.cost_to_serve,
            "churned_at": customer.churned_at,
            "erased_at": customer.erased_at,
            "created_at": customer.created_at,
            "updated_at": customer.updated_at,
        },
        "responses": [
            {
                "id": response.pk,
                "source": response.source.name,
                "external_id": response.external_id,
                "submitted_at": response.submitted_at,
                "channel": response.channel,
                "touchpoint": response.touchpoint.slug if response.touchpoint else None,
                "nps": response.nps,
                "csat": response.csat,
                "ces": response.ces,
                "nps_category": response.nps_category,
                "ratings": response.ratings,
                "comment": response.comment,
                "attributes": response.attributes,
                "created_at": response.created_at,
                "erased_at": response.erased_at,
            }
            for response in responses
        ],
    }
    for _, exporter in customer_exporters():
        data.update(exporter(customer.pk, response_ids))
    # One encoding for the API and the command: datetimes ISO 8601, decimals as strings.
    result: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return result


@dataclass(frozen=True)
class ProcessingBacklog:
    """Responses stored but not yet processed (tagged, scored for sentiment, alerted on)."""

    unprocessed: int
    oldest_created_at: datetime | None
    # Given up on after their workers died repeatedly; not counted in ``unprocessed``.
    parked: int = 0

    def oldest_age_seconds(self, *, now: datetime) -> float | None:
        """How long the oldest unprocessed response has waited, or None when none waits."""
        if self.oldest_created_at is None:
            return None
        return max(0.0, (now - self.oldest_created_at).total_seconds())


def responses_processing_backlog() -> ProcessingBacklog:
    """How many responses wait for processing and since when: the one figure behind the
    readiness check, the admin, the CX managers' banner and the metrics.

    One query on the partial index ``response_unprocessed`` (rows with no ``processed_at``),
    so it stays cheap however many processed responses there are.
    """
    waiting = Q(processing_parked_at__isnull=True)
    figures = Response.objects.filter(processed_at__isnull=True).aggregate(
        unprocessed=Count("id", filter=waiting),
        oldest=Min("created_at", filter=waiting),
        parked=Count("id", filter=~waiting),
    )
    return ProcessingBacklog(
        unprocessed=figures["unprocessed"],
        oldest_created_at=figures["oldest"],
        parked=figures["parked"],
    )


def responses_count_by_source() -> dict[str, int]:
    """How many responses each source has stored, by source name (the metrics' ingest count)."""
    rows = Response.objects.values_list("source__name").annotate(stored=Count("id")).order_by()
    return {str(name): int(stored) for name, stored in rows}
