"""Template helpers that write every score on a page (``{% load score_tags %}``).

The dashboards and the insights page both use them, and their digits come from the score
engine's ``score_decimals`` (the interval's width), so a figure is never shown more
precisely than it is known and reads the same on every page. Each figure carries
``data-*`` attributes with the numbers as shown, which the cross-surface agreement test
reads. A tag takes a ``Score`` or its dict form (``Score.as_dict``, as the scores API and
stored runs hold it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from analytics.stats.scores import (
    Score,
    figure_text,
    interval_decimals,
    p_value_text,
    score_text,
)

register = template.Library()

Figure = Score | Mapping[str, Any] | None


def _score(figure: Figure) -> Score | None:
    if figure is None or isinstance(figure, Score):
        return figure
    return Score.from_dict(figure)


def _insufficient(score: Score | None) -> SafeString:
    if score is None:
        return mark_safe('<span class="muted" data-score-status="none">–</span>')  # a constant
    return format_html(
        '<span class="muted" title="{}" data-score-status="insufficient" data-n="{}">'
        "not enough responses</span>",
        score.message,
        score.n,
    )


def _shown(score: Score, text: dict[str, str], body: SafeString) -> SafeString:
    """``body`` wrapped in the figure's numbers as shown, for readers and tests."""
    return format_html(
        '<span data-score-status="ok" data-n="{}" data-value="{}" data-low="{}" data-high="{}">'
        "{}</span>",
        score.n,
        text["value"],
        text["low"],
        text["high"],
        body,
    )


@register.simple_tag
def score_cell(figure: Figure, unit: str = "") -> SafeString:
    """'value (low to high)', or why there is no number (too few answers)."""
    score = _score(figure)
    if score is None or not score.ok:
        return _insufficient(score)
    text = score_text(score)
    body = format_html(
        '{}{} <small class="muted">({} to {})</small>',
        text["value"],
        unit,
        text["low"],
        text["high"],
    )
    return _shown(score, text, body)


@register.simple_tag
def score_value(figure: Figure, unit: str = "") -> SafeString:
    """The value alone (a headline figure), with its digits from the interval."""
    score = _score(figure)
    if score is None or not score.ok:
        return mark_safe('<span data-score-status="insufficient">–</span>')  # a constant
    text = score_text(score)
    return _shown(score, text, format_html("{}{}", text["value"], unit))


@register.simple_tag
def score_interval(figure: Figure) -> str:
    """'low to high' with the value's digits, or '' when there is no number."""
    score = _score(figure)
    if score is None or not score.ok:
        return ""
    text = score_text(score)
    return f"{text['low']} to {text['high']}"


@register.simple_tag
def score_half_width(figure: Figure) -> str:
    """'±half-width' with the value's digits, or '' when there is no number."""
    score = _score(figure)
    if score is None or not score.ok:
        return ""
    return f"±{score_text(score)['half_width']}"


@register.simple_tag
def share_cell(share: float | None, interval: Any = None) -> str:
    """A share (0–1) as a percentage with its interval, digits from the interval's width:
    "17.2% (16.7–17.7%)", or "9% (4–14%)" when the interval is wide. An interval of no
    width (a degenerate bootstrap) is not printed as "6% (6–6%)": it says so instead."""
    if share is None:
        return "–"
    if not interval or interval[0] is None or interval[1] is None:
        return f"{100 * share:.0f}%"
    if float(interval[1]) - float(interval[0]) <= 0:
        return f"{100 * share:.0f}% (no interval)"
    low, high = 100 * float(interval[0]), 100 * float(interval[1])
    places = interval_decimals((high - low) / 2)
    return f"{100 * share:.{places}f}% ({low:.{places}f}–{high:.{places}f}%)"


def _estimate_html(
    value: float | None, low: float | None, high: float | None, *, unit: str, signed: bool
) -> SafeString:
    if value is None:
        return mark_safe('<span class="muted">–</span>')  # a constant
    text = figure_text(value, low, high, signed=signed)
    suffix = (unit if unit.startswith("%") else f" {unit}") if unit else ""
    if not text["low"] or not text["high"]:
        return format_html(
            '<span data-value="{}">{}{}</span>', text["value"], text["value"], suffix
        )
    return format_html(
        '<span data-value="{}" data-low="{}" data-high="{}">{}{} '
        '<small class="muted">(95% interval {} to {})</small></span>',
        text["value"],
        text["low"],
        text["high"],
        text["value"],
        suffix,
        text["low"],
        text["high"],
    )


@register.simple_tag
def effect_cell(
    value: float | None, low: float | None = None, high: float | None = None, unit: str = ""
) -> SafeString:
    """A measured effect, signed, with its unit and interval, digits from the interval:
    "−0.038 pp (95% interval −0.041 to −0.035)"."""
    return _estimate_html(value, low, high, unit=unit, signed=True)


@register.simple_tag
def money_cell(
    value: float | None, low: float | None = None, high: float | None = None, currency: str = ""
) -> SafeString:
    """A money value a year with its interval, rounded where the interval allows:
    "6,000 EUR a year (95% interval −17,000 to 28,000)"."""
    return _estimate_html(
        value, low, high, unit=f"{currency} a year" if currency else "a year", signed=False
    )


@register.simple_tag
def roi_cell(roi: float | None, low: float | None = None, high: float | None = None) -> SafeString:
    """ROI (annual value ÷ cost) as a percentage of the cost with its interval:
    "5% of cost a year (95% interval −14% to 23%)", never "0.0×"."""
    if roi is None:
        return _estimate_html(None, None, None, unit="", signed=False)
    percent = [None if x is None else 100.0 * x for x in (low, high)]
    return _estimate_html(100.0 * roi, percent[0], percent[1], unit="% of cost", signed=False)


@register.filter
def p_text(p_value: float | None) -> str:
    """ "p < 0.001" when tiny, "p = 0.625" otherwise, "" when there is none."""
    return p_value_text(p_value)


@register.simple_tag
def level_cell(
    value: float | None, low: float | None = None, high: float | None = None, unit: str = ""
) -> str:
    """A level (a baseline, the value after) with the digits of the effect's interval
    ``low``–``high``, so "0.52 → 0.48" is not printed as "1 → 0"."""
    if value is None:
        return "–"
    shown = figure_text(value, low, high)["value"]
    return f"{shown}{unit}" if unit.startswith("%") else f"{shown} {unit}".strip()
