"""Value-of-experience inputs: customers by their latest NPS score, with outcomes.

Each customer counts once, at the NPS score of their latest response within the filters
(a correlated subquery on the ``(customer, submitted_at)`` index); one ``GROUP BY score``
returns customers, churned customers (``churned_at`` set) and revenue sums per score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum

from feedback.filters import responses_in_scope
from feedback.models import Customer


def customers_by_latest_score(filters: Mapping[str, Any]) -> dict[int, dict[str, float]]:
    """``{score: {n, churned, revenue_n, revenue_sum, revenue_sumsq}}`` for scores 0–10."""
    latest = (
        responses_in_scope(filters)
        .filter(customer=OuterRef("pk"), nps__isnull=False)
        .order_by("-submitted_at", "-id")
        .values("nps")[:1]
    )
    rows = (
        Customer.objects.annotate(score=Subquery(latest))
        .filter(score__isnull=False)
        .values("score")
        .annotate(
            n=Count("pk"),
            churned=Count("pk", filter=Q(churned_at__isnull=False)),
            revenue_n=Count("annual_revenue"),
            revenue_sum=Sum("annual_revenue"),
            revenue_sumsq=Sum(F("annual_revenue") * F("annual_revenue")),
        )
        .order_by()
    )
    return {
        int(row["score"]): {
            key: float(row[key] or 0)
            for key in ("n", "churned", "revenue_n", "revenue_sum", "revenue_sumsq")
        }
        for row in rows
    }
