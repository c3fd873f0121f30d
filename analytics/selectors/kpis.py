"""Reads of KPIs and their observation series."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from analytics.models import Kpi, KpiObservation
from cxhub.errors import InvalidInput


def kpi_list() -> QuerySet[Kpi]:
    return Kpi.objects.filter(is_active=True).order_by("name")


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field_errors={name: [f"'{value}' is not a date in the form YYYY-MM-DD."]}
        ) from None


def kpi_observations(
    *,
    kpi: Kpi,
    granularity: str | None = None,
    scope_key: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> QuerySet[KpiObservation]:
    """A KPI's observations, optionally one granularity, one scope and a date range."""
    rows = KpiObservation.objects.filter(kpi=kpi).select_related("kpi", "department", "touchpoint")
    if granularity is not None:
        if granularity not in KpiObservation.Granularity.values:
            valid = ", ".join(KpiObservation.Granularity.values)
            raise InvalidInput(field_errors={"granularity": [f"Use one of: {valid}."]})
        rows = rows.filter(granularity=granularity)
    if scope_key is not None:
        rows = rows.filter(scope_key=scope_key)
    start, end = _date(date_from, "from"), _date(date_to, "to")
    if start is not None:
        rows = rows.filter(period_start__gte=start)
    if end is not None:
        rows = rows.filter(period_start__lte=end)
    return rows
