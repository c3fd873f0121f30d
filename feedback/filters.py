"""The response scope: the one definition of "which responses" for every surface.

``ResponseScopeFilterSet`` (django-filter) parses and validates the scope parameters; the
feedback list, every analytics endpoint and analysis run, every dashboard page, CSV export
and the printable report use it, so the same parameters select the same responses
everywhere (see ``docs/api.md``, "Response scope").

Parameters (all optional; each list-valued one takes one value or a comma-separated list,
or the parameter repeated):

- ``date_from``, ``date_to``: an ISO date or an ISO 8601 date-time. A date means the whole
  day in the project's time zone (``settings.TIME_ZONE``), and both ends are inclusive: the
  range 1–30 November holds every response up to 30 November 23:59:59.999999. A one-day
  range (``date_from == date_to``) is valid; ``date_to`` before ``date_from`` is an error
  on ``date_to``. A date-time without an offset is read in the project's time zone.
- ``department``, ``journey``, ``touchpoint`` (slugs), ``channel``, ``source`` (source
  name), ``nps_category``, ``topic`` (a topic slug; it also matches the topic's children)
  and ``sentiment`` (the comment's sentiment): an unknown value is an error listing the
  valid ones.
- ``segment``, ``region``, ``plan``: the customer's value; the response's own
  ``attributes`` are read only when the response has no customer or its customer has no
  value for the field. These are free values (a value nobody has selects nothing).

``topic`` and ``sentiment`` mean something only to text analytics, which ``feedback``
must not import; analytics registers them at start-up with ``register_response_filter``.
Until it has, using either is a 400 saying the filter is not available.

The cleaned scope (``response_scope_clean``) is a JSON-ready dict: dates and date-times
as ISO strings, lists sorted and de-duplicated. Analysis runs store it and apply it with
``responses_in_scope`` when they execute, and it is equal for equal selections.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cxhub.errors import InvalidInput
from cxhub.input_guard import printable, text_problem
from feedback.models import (
    Channel,
    Customer,
    Department,
    Journey,
    NpsCategory,
    Response,
    Source,
    Touchpoint,
)

DATE_PARAMETERS = ("date_from", "date_to")
CUSTOMER_FIELDS = ("segment", "region", "plan")
DELEGATED_FILTERS = ("topic", "sentiment")
LIST_PARAMETERS = (
    "department",
    "journey",
    "touchpoint",
    "channel",
    "source",
    "nps_category",
    *DELEGATED_FILTERS,
    *CUSTOMER_FIELDS,
)
SCOPE_PARAMETERS = (*DATE_PARAMETERS, *LIST_PARAMETERS)

MAX_VALUES = 100
MAX_VALUE_LENGTH = 200
MIN_YEAR, MAX_YEAR = 1900, 9998
_LISTED_VALID_VALUES = 100


# --- the registry of filters other apps implement -------------------------------------------


@dataclass(frozen=True)
class DelegatedFilter:
    """A scope filter implemented elsewhere: its condition and the values it accepts."""

    condition: Callable[[list[str]], Q]
    values: Callable[[], Iterable[str]]


_response_filters: dict[str, DelegatedFilter] = {}


def register_response_filter(
    name: str,
    *,
    condition: Callable[[list[str]], Q],
    values: Callable[[], Iterable[str]],
) -> None:
    """Register (or replace) the implementation of the scope parameter ``name``.

    ``condition(values)`` returns a ``Q`` on ``Response`` selecting responses matching any
    of the (already validated) ``values``; ``values()`` lists the accepted values. The ``Q``
    must hold plain look-ups (no expressions such as ``Exists``) so that
    ``response_scope_q(prefix=…)`` can apply it across a relation.
    """
    if name not in DELEGATED_FILTERS:
        raise ValueError(f"{name!r} is not a delegated scope filter ({DELEGATED_FILTERS}).")
    _response_filters[name] = DelegatedFilter(condition=condition, values=values)


# --- dates ----------------------------------------------------------------------------------


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the project's time zone."""
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone()
    )


def _moment_parse(text: str) -> dt.date | dt.datetime | None:
    """A date, an aware date-time, or None when ``text`` is neither (raises ValueError when
    it is well-formed but impossible, e.g. 2026-13-45).

    The date is tried first: ``parse_datetime`` also accepts a bare date, as midnight, which
    would silently drop the last day of a range.
    """
    day = parse_date(text)
    if day is not None:
        return day
    moment = parse_datetime(text)
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def _moment_from_json(value: str) -> dt.date | dt.datetime:
    moment = _moment_parse(value)
    if moment is None:
        raise ValueError(f"Not a cleaned scope date: {value!r}")
    return moment


def scope_window(scope: Mapping[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The half-open interval ``[start, end)`` of ``submitted_at`` the scope's dates select.

    A ``date_to`` date ends at the next day's midnight; a ``date_to`` date-time is
    inclusive, so the interval ends one microsecond (the storage precision) after it.
    """
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    if scope.get("date_from"):
        moment = _moment_from_json(str(scope["date_from"]))
        start = moment if isinstance(moment, dt.datetime) else day_start(moment)
    if scope.get("date_to"):
        moment = _moment_from_json(str(scope["date_to"]))
        if isinstance(moment, dt.datetime):
            end = moment + dt.timedelta(microseconds=1)
        else:
            end = day_start(moment + dt.timedelta(days=1))
    return start, end


def scope_days(scope: Mapping[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    """The first and last calendar day (project time zone) of the scope's window."""
    start, end = scope_window(scope)
    tz = timezone.get_default_timezone()
    first = timezone.localtime(start, tz).date() if start else None
    last = timezone.localtime(end - dt.timedelta(microseconds=1), tz).date() if end else None
    return first, last


class MomentField(forms.CharField):
    """An ISO date (the whole day) or an ISO 8601 date-time; cleans to a date or an aware
    date-time."""

    default_error_messages = {
        "invalid": "Enter a date (YYYY-MM-DD) or an ISO 8601 date-time.",
        "impossible": "This date does not exist.",
        "range": f"Enter a date between {MIN_YEAR} and {MAX_YEAR}.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | dt.datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        if len(text) > 64 or "\x00" in text:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            moment = _moment_parse(text)
        except (ValueError, OverflowError):
            raise forms.ValidationError(
                self.error_messages["impossible"], code="impossible"
            ) from None
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise forms.ValidationError(self.error_messages["range"], code="range")
        return moment

    def run_validators(self, value: Any) -> None:
        """The length and NUL checks are done on the text in ``to_python``."""


# --- lists of values ------------------------------------------------------------------------


class ValueListWidget(forms.TextInput):
    """Reads one value, a comma-separated list, a repeated parameter or a JSON list."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str | None:
        if hasattr(data, "getlist"):
            raw: list[Any] = data.getlist(name)
        else:
            value = data.get(name)
            raw = list(value) if isinstance(value, list | tuple) else [value]
        parts = [str(item) for item in raw if item is not None and item != ""]
        return ",".join(parts) if parts else None


class ValueListField(forms.Field):
    """A list of values, checked against ``valid_values`` when the filter has a fixed set."""

    widget = ValueListWidget

    def __init__(
        self,
        *,
        parameter: str = "",
        valid_values: Callable[[], Iterable[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.parameter = parameter
        self.valid_values = valid_values

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        values = sorted({part.strip() for part in str(value).split(",") if part.strip()})
        if len(values) > MAX_VALUES:
            raise forms.ValidationError(f"Give at most {MAX_VALUES} values.", code="too_many")
        for item in values:
            if len(item) > MAX_VALUE_LENGTH:
                raise forms.ValidationError(
                    f"Values must be at most {MAX_VALUE_LENGTH} characters.", code="invalid"
                )
            # Requests are checked by cxhub.input_guard; saved scopes come through here too.
            problem = text_problem(item)
            if problem:
                raise forms.ValidationError(f"Each value {problem}", code="invalid")
        return values

    def validate(self, value: Any) -> None:
        super().validate(value)
        if not value or self.valid_values is None:
            return
        known = set(self.valid_values())
        unknown = [item for item in value if item not in known]
        if unknown:
            listed = sorted(known)
            valid = ", ".join(listed[:_LISTED_VALID_VALUES]) or "none defined"
            if len(listed) > _LISTED_VALID_VALUES:
                valid += f" and {len(listed) - _LISTED_VALID_VALUES} more"
            raise forms.ValidationError(
                f"Unknown {self.parameter or 'value'}: "
                f"{', '.join(printable(item) for item in unknown)}. Valid values: {valid}.",
                code="unknown",
            )


# --- the condition --------------------------------------------------------------------------


def _prefixed(condition: Q, prefix: str) -> Q:
    if not prefix:
        return condition
    prefixed = Q()
    prefixed.connector = condition.connector
    prefixed.negated = condition.negated
    for child in condition.children:
        if isinstance(child, Q):
            prefixed.children.append(_prefixed(child, prefix))
        else:
            lookup, value = child  # type: ignore[misc]
            prefixed.children.append((prefix + lookup, value))
    return prefixed


def _list_condition(name: str, values: list[str]) -> Q:
    if name == "department":
        return Q(touchpoint__department__slug__in=values)
    if name == "journey":
        return Q(touchpoint__journey__slug__in=values)
    if name == "touchpoint":
        return Q(touchpoint__slug__in=values)
    if name == "channel":
        return Q(channel__in=values)
    if name == "source":
        return Q(source__name__in=values)
    if name == "nps_category":
        return Q(nps_category__in=values)
    if name in CUSTOMER_FIELDS:
        own = Q(**{f"customer__{name}__in": values})
        without_own = Q(customer__isnull=True) | Q(**{f"customer__{name}": ""})
        return own | (without_own & Q(**{f"attributes__{name}__in": values}))
    delegated = _response_filters.get(name)
    if delegated is None:
        raise InvalidInput(field_errors={name: [f"{name} filtering is not available."]})
    return delegated.condition(values)


def response_scope_q(scope: Mapping[str, Any], *, prefix: str = "") -> Q:
    """The ``Q`` on ``Response`` of a cleaned scope (``response_scope_clean``).

    ``prefix`` (e.g. ``"response__"``) applies it across a relation, for example to topic
    mentions.
    """
    condition = Q()
    start, end = scope_window(scope)
    if start is not None:
        condition &= Q(submitted_at__gte=start)
    if end is not None:
        condition &= Q(submitted_at__lt=end)
    for name in LIST_PARAMETERS:
        values = scope.get(name)
        if values:
            condition &= _list_condition(name, list(values))
    return _prefixed(condition, prefix)


def responses_in_scope(scope: Mapping[str, Any]) -> QuerySet[Response]:
    """The responses a cleaned scope selects, without ordering (for aggregation)."""
    return Response.objects.order_by().filter(response_scope_q(scope))


# --- the filter set -------------------------------------------------------------------------


def _as_json(name: str, value: Any) -> Any:
    if name in DATE_PARAMETERS:
        return value.isoformat()
    return list(value)


class ScopeFilter(django_filters.Filter):
    """A scope parameter: its condition is ``response_scope_q`` of its cleaned value."""

    def filter(self, qs: QuerySet[Response], value: Any) -> QuerySet[Response]:
        if value in (None, "", []):
            return qs
        name = self.field_name
        return qs.filter(response_scope_q({name: _as_json(name, value)}))


@extend_schema_field(OpenApiTypes.STR)
class MomentFilter(ScopeFilter):
    field_class = MomentField


@extend_schema_field(OpenApiTypes.STR)
class ValuesFilter(ScopeFilter):
    field_class = ValueListField

    def __init__(
        self, *, valid_values: Callable[[], Iterable[str]] | None = None, **kwargs: Any
    ) -> None:
        field_name = kwargs.get("field_name", "")
        super().__init__(parameter=field_name, valid_values=valid_values, **kwargs)


def _slugs(model: Any, field: str = "slug") -> Callable[[], list[str]]:
    return lambda: list(model.objects.values_list(field, flat=True))


def _delegated_values(name: str) -> Callable[[], Iterable[str]]:
    def values() -> Iterable[str]:
        delegated = _response_filters.get(name)
        if delegated is None:
            raise forms.ValidationError(f"{name} filtering is not available.", code="unavailable")
        return delegated.values()

    return values


class ResponseScopeForm(forms.Form):
    """The filter set's form: adds the one rule between fields (the end is not before the
    start; equal days are a one-day range)."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            start, end = scope_window(
                {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
            )
            if start is not None and end is not None and end <= start:
                self.add_error("date_to", "Must be on or after date_from.")
        return cleaned


LIST_HELP = "One value or a comma-separated list."


class ResponseScopeFilterSet(django_filters.FilterSet):
    """The response scope: every surface that selects responses parses it with this."""

    date_from = MomentFilter(
        field_name="date_from",
        help_text="ISO date or date-time; a date starts at midnight (project time zone).",
    )
    date_to = MomentFilter(
        field_name="date_to",
        help_text="ISO date or date-time, inclusive; a date includes the whole day.",
    )
    department = ValuesFilter(
        field_name="department",
        valid_values=_slugs(Department),
        help_text=f"Slug of the department owning the touchpoint. {LIST_HELP}",
    )
    journey = ValuesFilter(
        field_name="journey",
        valid_values=_slugs(Journey),
        help_text=f"Journey slug. {LIST_HELP}",
    )
    touchpoint = ValuesFilter(
        field_name="touchpoint",
        valid_values=_slugs(Touchpoint),
        help_text=f"Touchpoint slug. {LIST_HELP}",
    )
    channel = ValuesFilter(
        field_name="channel",
        valid_values=lambda: Channel.values,
        help_text=f"One of {', '.join(Channel.values)}. {LIST_HELP}",
    )
    source = ValuesFilter(
        field_name="source",
        valid_values=_slugs(Source, "name"),
        help_text=f"Source name. {LIST_HELP}",
    )
    nps_category = ValuesFilter(
        field_name="nps_category",
        valid_values=lambda: NpsCategory.values,
        help_text=f"promoter, passive or detractor. {LIST_HELP}",
    )
    topic = ValuesFilter(
        field_name="topic",
        valid_values=_delegated_values("topic"),
        help_text=f"Topic slug (text analytics; includes its child topics). {LIST_HELP}",
    )
    sentiment = ValuesFilter(
        field_name="sentiment",
        valid_values=_delegated_values("sentiment"),
        help_text=f"positive, neutral or negative (text analytics). {LIST_HELP}",
    )
    segment = ValuesFilter(
        field_name="segment",
        help_text=f"Customer segment (else the response's attributes). {LIST_HELP}",
    )
    region = ValuesFilter(
        field_name="region",
        help_text=f"Customer region (else the response's attributes). {LIST_HELP}",
    )
    plan = ValuesFilter(
        field_name="plan",
        help_text=f"Customer plan (else the response's attributes). {LIST_HELP}",
    )

    class Meta:
        model = Response
        fields: list[str] = []
        form = ResponseScopeForm

    @property
    def scope(self) -> dict[str, Any]:
        """The cleaned scope as a JSON-ready dict (only the parameters that were given)."""
        cleaned = self.form.cleaned_data
        return {
            name: _as_json(name, cleaned[name])
            for name in SCOPE_PARAMETERS
            if cleaned.get(name) not in (None, "", [])
        }


def response_scope_errors(filterset: django_filters.FilterSet) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in filterset.errors.items()}


def response_scope_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the scope parameters in ``data`` (a dict or a ``QueryDict``; other keys are
    ignored); the JSON-ready scope, or ``InvalidInput`` with a message per field."""
    filterset = ResponseScopeFilterSet(data=data, queryset=Response.objects.none())
    if not filterset.is_valid():
        raise InvalidInput(field_errors=response_scope_errors(filterset))
    return filterset.scope


class ResponseFilterSet(ResponseScopeFilterSet):
    """``GET /api/v1/feedback/``: the response scope plus the list's own look-ups."""

    customer = django_filters.CharFilter(
        field_name="customer__external_id", max_length=200, help_text="Customer external id."
    )
    q = django_filters.CharFilter(
        field_name="comment",
        lookup_expr="icontains",
        max_length=200,
        help_text="Text in the comment.",
    )


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


def scope_parameter_help() -> dict[str, str]:
    """Each scope parameter's description (for OpenAPI parameters outside django-filter)."""
    return {
        name: str(ResponseScopeFilterSet.base_filters[name].extra.get("help_text", ""))
        for name in SCOPE_PARAMETERS
    }


RENAMED_PARAMETERS = {"submitted_after": "date_from", "submitted_before": "date_to"}


def renamed_parameters_refuse(query: Mapping[str, Any]) -> None:
    """A 400 for the pre-scope parameter names, so an old client is not silently served
    unfiltered data."""
    errors = {
        old: [f"This parameter was renamed; use {new} (an ISO date or date-time, inclusive)."]
        for old, new in RENAMED_PARAMETERS.items()
        if old in query
    }
    if errors:
        raise InvalidInput(field_errors=errors)


def window_label(first: dt.date | None, last: dt.date | None, *, default: bool = False) -> str:
    """A window of calendar days in words, the one wording every page uses: "30 Nov 2026",
    "1 Nov – 30 Nov 2026", "2 Dec 2025 – 1 Dec 2026", "from 1 Nov 2025", "up to 30 Nov 2026" or "all time";
    ``default`` marks the window nobody chose: "last 12 months (2 Dec 2025 – 1 Dec 2026)"."""

    def day(value: dt.date) -> str:
        return f"{value.day} {value:%b %Y}"

    if first and last and first == last:
        span = day(first)
    elif first and last:
        start = f"{first.day} {first:%b}" if first.year == last.year else day(first)
        span = f"{start} – {day(last)}"
    elif first:
        span = f"from {day(first)}"
    elif last:
        span = f"up to {day(last)}"
    else:
        span = "all time"
    return f"last 12 months ({span})" if default and first and last else span


def scope_window_label(scope: Mapping[str, Any]) -> str:
    """A cleaned scope's window in words (days in the project's time zone)."""
    first, last = scope_days(scope)
    return window_label(first, last)
