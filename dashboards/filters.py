"""The filters every dashboard shares, read from the URL so any view is a shareable link.

What the filters mean and which values they accept is the response scope
(``feedback.filters``), the same for the API, analysis runs, pages, exports and the
report. This module only adds what is particular to dashboards: the default window (the
364 days up to the newest response, so a dashboard over historical data is never empty),
a limit of three years, and the filter bar with its readable errors. A bad value never
reaches the database: ``filters_parse`` returns the errors instead, and the page shows
them next to the filter bar.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from analytics.responses.window import window_days
from analytics.text.choices import SentimentLabel
from cxhub import access
from cxhub.errors import InvalidInput
from feedback.filters import (
    LIST_PARAMETERS,
    SCOPE_PARAMETERS,
    response_scope_clean,
    scope_days,
    window_label,
)
from feedback.models import Channel, NpsCategory

MAX_WINDOW_DAYS = 3 * 366

_LABELS = {"nps_category": "NPS group"}


@dataclass(frozen=True)
class DashboardFilters:
    """A validated dashboard view: the cleaned response scope, always with both dates.

    ``date_from``/``date_to`` are the first and last calendar day of the window (both
    inclusive, in the project's time zone); ``given`` holds the parameters as the user
    wrote them (what the shareable link repeats).
    """

    scope: Mapping[str, Any]
    date_from: dt.date
    date_to: dt.date
    given: Mapping[str, str] = field(default_factory=dict, compare=False)
    explicit_dates: bool = field(default=False, compare=False)

    def values(self, name: str) -> list[str]:
        return list(self.scope.get(name) or [])

    @property
    def departments(self) -> list[str]:
        return self.values("department")

    def as_query(self, **overrides: str) -> str:
        """The URL query string of this view (dates only when the user chose them); an
        override of ``""`` drops that parameter."""
        values = {name: ",".join(self.values(name)) for name in LIST_PARAMETERS}
        if self.explicit_dates:
            values.update({name: self.given.get(name, "") for name in ("date_from", "date_to")})
        values.update(overrides)
        ordered = [(name, values.get(name, "")) for name in SCOPE_PARAMETERS]
        return urlencode([(name, value) for name, value in ordered if value])

    def cache_key(self) -> str:
        return json.dumps(dict(self.scope), sort_keys=True, separators=(",", ":"))

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def window_label(self) -> str:
        """The window in words: "1 Nov 2025 – 30 Nov 2026", "last 12 months" by default."""
        return window_label(self.date_from, self.date_to, default=not self.explicit_dates)

    @property
    def summary(self) -> list[str]:
        """The filters other than the dates, readable ("segment smb, enterprise")."""
        return [
            f"{_LABELS.get(name, name)} {', '.join(self.values(name))}"
            for name in LIST_PARAMETERS
            if self.values(name)
        ]


@dataclass(frozen=True)
class FilterOptions:
    """The values offered in the filter bar (the scope decides which values are valid)."""

    departments: list[tuple[str, str]]
    touchpoints: list[tuple[str, str]]
    regions: list[str]
    segments: list[str]
    plans: list[str]


class FilterSelect(forms.Select):
    """Django's select, its HTML remembered: a filter bar draws the same lists (up to a
    few hundred topics) on every request, and drawing each option through the widget
    templates cost tens of milliseconds a page. The key holds everything the HTML is made
    of (renderer, name, value, attributes, choices, language), so a hit is the same HTML."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        key = (
            renderer,
            name,
            json.dumps(value, default=str),
            json.dumps({**self.attrs, **(attrs or {})}, sort_keys=True, default=str),
            tuple((str(v), str(label)) for v, label in self.choices),
            get_language(),
        )
        html = _SELECTS.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(_SELECTS) >= _SELECTS_MAX:
                _SELECTS.clear()
            _SELECTS[key] = html
        return html


_SELECTS: dict[tuple[Any, ...], SafeString] = {}
_SELECTS_MAX = 512


def _select(choices: list[tuple[str, str]]) -> forms.Field:
    """A filter-bar field: renders a select, validates nothing (the scope does)."""
    return forms.Field(required=False, widget=FilterSelect(choices=choices))


class DashboardFilterForm(forms.Form):
    """The filter bar. It only renders the current values and carries the scope's errors;
    every scope parameter has a field so that every error has a place."""

    def __init__(
        self,
        *args: Any,
        options: FilterOptions,
        topics: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["date_from"] = forms.Field(required=False, label="From")
        fields["date_to"] = forms.Field(required=False, label="To")
        fields["department"] = _select([("", "All departments"), *options.departments])
        fields["touchpoint"] = _select([("", "All touchpoints"), *options.touchpoints])
        fields["channel"] = _select([("", "All channels"), *Channel.choices])
        fields["region"] = _select([("", "All regions"), *[(v, v) for v in options.regions]])
        fields["segment"] = _select([("", "All segments"), *[(v, v) for v in options.segments]])
        fields["plan"] = _select([("", "All plans"), *[(v, v) for v in options.plans]])
        fields["nps_category"] = _select([("", "Any NPS"), *NpsCategory.choices])
        fields["sentiment"] = _select([("", "Any sentiment"), *SentimentLabel.choices])
        fields["topic"] = _select([("", "Any topic"), *(topics or [])])
        for name in SCOPE_PARAMETERS:
            fields.setdefault(name, forms.Field(required=False))


def _given(query: QueryDict | Mapping[str, Any]) -> dict[str, str]:
    """The scope parameters as written (repeated parameters joined with commas)."""
    given: dict[str, str] = {}
    for name in SCOPE_PARAMETERS:
        if isinstance(query, QueryDict):
            parts = [value for value in query.getlist(name) if value]
        else:
            raw = query.get(name)
            parts = [str(v) for v in (raw if isinstance(raw, list | tuple) else [raw]) if v]
        if parts:
            given[name] = ",".join(parts)
    return given


def department_slugs(query: QueryDict | Mapping[str, Any]) -> list[str]:
    """Every department the URL names (a comma list or the parameter repeated), so that
    access can be checked for each one before the scope uses them all."""
    given = _given(query).get("department", "")
    return sorted({slug.strip() for slug in given.split(",") if slug.strip()})


def filters_parse(
    query: QueryDict | Mapping[str, Any],
    *,
    options: FilterOptions,
    latest_day: dt.date,
    user: access.AnyUser,
    records: bool = False,
    fixed_department: str = "",
    topics: list[tuple[str, str]] | None = None,
) -> tuple[DashboardFilters | None, DashboardFilterForm]:
    """Validate the URL's filters; returns ``(None, form)`` with errors when any is invalid.

    The scope then passes the access policy for ``user`` (``cxhub.access.scope_restrict``):
    a department, journey or touchpoint the user may not see is refused with 403, and for
    ``records`` (verbatims and their export) an open scope is narrowed to the user's own
    departments.

    Without dates the window is the 364 days up to ``latest_day`` (the day of the newest
    response); with only ``date_from`` it runs to ``latest_day`` (or that same day); with
    only ``date_to`` it starts 364 days before. A department page passes its own
    ``fixed_department``.
    """
    given = _given(query)
    if fixed_department:
        given["department"] = fixed_department
    form = DashboardFilterForm(given, options=options, topics=topics)
    form.is_valid()
    try:
        scope = response_scope_clean(given)
    except InvalidInput as exc:
        for name, messages in exc.field_errors.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
        return None, form
    scope = access.scope_restrict(user, scope, records=records)
    given_first, given_last = scope_days(scope)
    first, last = window_days(given_first, given_last, latest_day=latest_day)
    if given_last is None:
        scope["date_to"] = last.isoformat()
    if given_first is None:
        scope["date_from"] = first.isoformat()
    if (last - first).days > MAX_WINDOW_DAYS:
        form.add_error("date_from", "Choose a range of at most three years.")
        return None, form
    filters = DashboardFilters(
        scope=scope,
        date_from=first,
        date_to=last,
        given=given,
        explicit_dates=bool(given.get("date_from") or given.get("date_to")),
    )
    return filters, form


class VerbatimForm(forms.Form):
    """The verbatim explorer's own inputs; topic, sentiment and NPS group are scope filters."""

    q = forms.CharField(required=False, max_length=200, label="Search the comments")
    page = forms.IntegerField(required=False, min_value=1, max_value=400)
