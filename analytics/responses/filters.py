"""Which responses an analysis looks at: parsing and applying the shared filter parameters.

Filters (all optional): ``date_from``/``date_to`` (ISO dates or datetimes; a date means the
whole day, both ends inclusive), ``touchpoint``, ``department``, ``journey``, ``channel``,
``segment``, ``region``, ``plan`` (each one value or a comma-separated list). Segment,
region and plan are read from the customer and, when the customer has none, from the
response's own ``attributes``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cxhub.errors import InvalidInput
from feedback.models import Channel, Department, Journey, Response, Touchpoint

LIST_FILTERS = ("touchpoint", "department", "journey", "channel", "segment", "region", "plan")
CUSTOMER_FIELDS = ("segment", "region", "plan")
FILTER_KEYS = ("date_from", "date_to", *LIST_FILTERS)


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _parse_moment(value: Any, *, end: bool) -> dt.datetime | None:
    text = str(value).strip()
    try:
        # A plain date first: parse_datetime also reads "2026-11-22" (as midnight), which
        # would make date_to exclude its own day, unlike the dashboards' inclusive dates.
        day = parse_date(text)
        if day is None:
            moment = parse_datetime(text)
            if moment is None:
                return None
            return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
        if end:
            day += dt.timedelta(days=1)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    except (ValueError, OverflowError):  # well-formed but impossible, e.g. 2026-13-45
        return None


def _check_known(
    errors: dict[str, list[str]], name: str, values: list[str], known: set[str]
) -> None:
    unknown = [v for v in values if v not in known]
    if unknown:
        valid = ", ".join(sorted(known)) or "none defined"
        errors.setdefault(name, []).append(
            f"Unknown {name} {', '.join(unknown)}. Valid values: {valid}."
        )


def response_filters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated filters as a JSON-ready dict (stored on runs); raises ``InvalidInput``."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key in ("date_from", "date_to"):
        raw = data.get(key)
        if raw in (None, ""):
            continue
        if _parse_moment(raw, end=key == "date_to") is None:
            errors[key] = ["Enter a date (YYYY-MM-DD) or an ISO 8601 date-time."]
        else:
            cleaned[key] = str(raw).strip()
    for key in LIST_FILTERS:
        values = _as_list(data.get(key))
        if any("\x00" in v or len(v) > 200 for v in values):
            errors[key] = ["Values must be at most 200 characters without NUL characters."]
        elif values:
            cleaned[key] = sorted(set(values))
    if "touchpoint" in cleaned:
        known = set(Touchpoint.objects.values_list("slug", flat=True))
        _check_known(errors, "touchpoint", cleaned["touchpoint"], known)
    if "department" in cleaned:
        known = set(Department.objects.values_list("slug", flat=True))
        _check_known(errors, "department", cleaned["department"], known)
    if "journey" in cleaned:
        known = set(Journey.objects.values_list("slug", flat=True))
        _check_known(errors, "journey", cleaned["journey"], known)
    if "channel" in cleaned:
        _check_known(errors, "channel", cleaned["channel"], set(Channel.values))
    if not errors and "date_from" in cleaned and "date_to" in cleaned:
        start = _parse_moment(cleaned["date_from"], end=False)
        stop = _parse_moment(cleaned["date_to"], end=True)
        if start and stop and start >= stop:
            errors["date_to"] = ["Must be after date_from."]
    if errors:
        raise InvalidInput(field_errors=errors)
    return cleaned


def response_filter_q(filters: Mapping[str, Any]) -> Q:
    """The ``Q`` for cleaned filters (see ``response_filters_clean``)."""
    q = Q()
    if filters.get("date_from"):
        q &= Q(submitted_at__gte=_parse_moment(filters["date_from"], end=False))
    if filters.get("date_to"):
        q &= Q(submitted_at__lt=_parse_moment(filters["date_to"], end=True))
    if filters.get("touchpoint"):
        q &= Q(touchpoint__slug__in=filters["touchpoint"])
    if filters.get("department"):
        q &= Q(touchpoint__department__slug__in=filters["department"])
    if filters.get("journey"):
        q &= Q(touchpoint__journey__slug__in=filters["journey"])
    if filters.get("channel"):
        q &= Q(channel__in=filters["channel"])
    for name in CUSTOMER_FIELDS:
        values = filters.get(name)
        if values:
            own = Q(**{f"customer__{name}__in": values})
            fallback = (Q(customer__isnull=True) | Q(**{f"customer__{name}": ""})) & Q(
                **{f"attributes__{name}__in": values}
            )
            q &= own | fallback
    return q


def responses_filtered(filters: Mapping[str, Any]) -> QuerySet[Response]:
    return Response.objects.filter(response_filter_q(filters))
