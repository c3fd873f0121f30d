"""The filters every dashboard shares, parsed from the URL so any view is a shareable link.

A bad value never reaches the database: ``filters_parse`` returns the readable errors
instead, and the page shows them next to the filter bar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict

from analytics.text.choices import SentimentLabel
from analytics.text.selectors import DEFAULT_WINDOW_DAYS
from feedback.models import Channel, NpsCategory

MAX_WINDOW_DAYS = 3 * 366


@dataclass(frozen=True)
class DashboardFilters:
    """A validated set of filters. ``date_from``/``date_to`` are inclusive calendar dates."""

    date_from: dt.date
    date_to: dt.date
    department: str = ""
    touchpoint: str = ""
    channel: str = ""
    region: str = ""
    segment: str = ""
    plan: str = ""
    explicit_dates: bool = field(default=False, compare=False)

    def as_query(self, **overrides: str) -> str:
        """The URL query string of this view (dates only when the user chose them)."""
        values: dict[str, Any] = asdict(replace(self, **overrides))  # type: ignore[arg-type]
        values.pop("explicit_dates")
        if not self.explicit_dates:
            values.pop("date_from")
            values.pop("date_to")
        return urlencode({key: str(value) for key, value in values.items() if value})

    def cache_key(self) -> str:
        values = asdict(self)
        values.pop("explicit_dates")
        return "|".join(f"{key}={value}" for key, value in sorted(values.items()))

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


@dataclass(frozen=True)
class FilterOptions:
    """The values a user can pick from, and so the only values the filters accept."""

    departments: list[tuple[str, str]]
    touchpoints: list[tuple[str, str]]
    regions: list[str]
    segments: list[str]
    plans: list[str]


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    department = forms.ChoiceField(required=False)
    touchpoint = forms.ChoiceField(required=False)
    channel = forms.ChoiceField(required=False, choices=[("", "All channels"), *Channel.choices])
    region = forms.ChoiceField(required=False)
    segment = forms.ChoiceField(required=False)
    plan = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, options: FilterOptions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["department"].choices = [("", "All departments"), *options.departments]
        fields["touchpoint"].choices = [("", "All touchpoints"), *options.touchpoints]
        fields["region"].choices = [("", "All regions"), *[(v, v) for v in options.regions]]
        fields["segment"].choices = [("", "All segments"), *[(v, v) for v in options.segments]]
        fields["plan"].choices = [("", "All plans"), *[(v, v) for v in options.plans]]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_from > date_to:
                self.add_error("date_to", "The end date must be on or after the start date.")
            elif (date_to - date_from).days > MAX_WINDOW_DAYS:
                self.add_error("date_from", "Choose a range of at most three years.")
        return cleaned


def filters_parse(
    query: QueryDict | dict[str, str],
    *,
    options: FilterOptions,
    latest_day: dt.date,
    fixed_department: str = "",
) -> tuple[DashboardFilters | None, DashboardFilterForm]:
    """Validate the URL's filters; returns ``(None, form)`` with errors when any is invalid.

    Without dates the window is the last year up to ``latest_day`` (the day of the newest
    response), so a dashboard over historical data is never empty by default. A
    department page passes its own ``fixed_department``.
    """
    data = query.copy() if isinstance(query, QueryDict) else dict(query)
    if fixed_department:
        data["department"] = fixed_department
    form = DashboardFilterForm(data, options=options)
    if not form.is_valid():
        return None, form
    cleaned = form.cleaned_data
    date_to: dt.date = cleaned.get("date_to") or latest_day
    date_from: dt.date = cleaned.get("date_from") or (
        date_to - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
    )
    if date_from > date_to:
        form.add_error("date_from", "The start date must be on or before the end date.")
        return None, form
    filters = DashboardFilters(
        date_from=date_from,
        date_to=date_to,
        department=cleaned.get("department") or "",
        touchpoint=cleaned.get("touchpoint") or "",
        channel=cleaned.get("channel") or "",
        region=cleaned.get("region") or "",
        segment=cleaned.get("segment") or "",
        plan=cleaned.get("plan") or "",
        explicit_dates=bool(cleaned.get("date_from") or cleaned.get("date_to")),
    )
    return filters, form


class VerbatimForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search the comments")
    topic = forms.ChoiceField(required=False)
    sentiment = forms.ChoiceField(
        required=False, choices=[("", "Any sentiment"), *SentimentLabel.choices]
    )
    score = forms.ChoiceField(
        required=False, choices=[("", "Any NPS"), *NpsCategory.choices], label="NPS group"
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=400)

    def __init__(self, *args: Any, topics: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [("", "Any topic"), *topics]  # type: ignore[attr-defined]
