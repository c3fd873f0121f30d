"""Filters of the feedback list, and a registry for filters other apps implement.

``topic`` and ``sentiment`` are parameters of ``GET /api/v1/feedback/`` whose meaning lives
in analytics (which ``feedback`` must not import). Analytics registers them at start-up:

    register_response_filter("topic", lambda queryset, value: queryset.filter(...))

Until a filter is registered, using the parameter is a 400 saying it is not available, not a
silently ignored parameter.
"""

from __future__ import annotations

from collections.abc import Callable

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from feedback.models import Channel, Customer, NpsCategory, Response

ResponseFilter = Callable[[QuerySet[Response], str], QuerySet[Response]]

_response_filters: dict[str, ResponseFilter] = {}


def register_response_filter(name: str, apply: ResponseFilter) -> None:
    """Register (or replace) the implementation of the list parameter ``name``."""
    _response_filters[name] = apply


def _delegated(name: str) -> Callable[[QuerySet[Response], str, str], QuerySet[Response]]:
    def apply(queryset: QuerySet[Response], field_name: str, value: str) -> QuerySet[Response]:
        implementation = _response_filters.get(name)
        if implementation is None:
            raise ValidationError({name: [f"{name} filtering is not available."]})
        return implementation(queryset, value)

    return apply


class ResponseFilterSet(django_filters.FilterSet):
    submitted_after = django_filters.IsoDateTimeFilter(
        field_name="submitted_at",
        lookup_expr="gte",
        help_text="Responses submitted at or after (ISO 8601).",
    )
    submitted_before = django_filters.IsoDateTimeFilter(
        field_name="submitted_at",
        lookup_expr="lt",
        help_text="Responses submitted before (ISO 8601).",
    )
    touchpoint = django_filters.CharFilter(
        field_name="touchpoint__slug", help_text="Touchpoint slug."
    )
    department = django_filters.CharFilter(
        field_name="touchpoint__department__slug",
        help_text="Slug of the department owning the touchpoint.",
    )
    source = django_filters.CharFilter(field_name="source__name", help_text="Source name.")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    nps_category = django_filters.ChoiceFilter(choices=NpsCategory.choices)
    customer = django_filters.CharFilter(
        field_name="customer__external_id", help_text="Customer external id."
    )
    q = django_filters.CharFilter(
        field_name="comment", lookup_expr="icontains", help_text="Text in the comment."
    )
    topic = django_filters.CharFilter(
        method=_delegated("topic"), help_text="Topic slug (text analytics)."
    )
    sentiment = django_filters.CharFilter(
        method=_delegated("sentiment"),
        help_text="Sentiment: positive, neutral or negative (text analytics).",
    )

    class Meta:
        model = Response
        fields: list[str] = []


class CustomerFilterSet(django_filters.FilterSet):
    external_id = django_filters.CharFilter()
    segment = django_filters.CharFilter()
    region = django_filters.CharFilter()
    plan = django_filters.CharFilter()
    churned = django_filters.BooleanFilter(
        field_name="churned_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Customer
        fields: list[str] = []
