"""Small template helpers for score figures (faster than an include per cell).

Every score on a page is written by these helpers, and their digits come from the score
engine's ``score_decimals`` (the interval's width), so a figure is never shown more
precisely than it is known. Each figure carries ``data-*`` attributes with the numbers as
shown, which the cross-surface agreement test reads.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from analytics.stats.scores import Score, score_text

register = template.Library()


def _insufficient(score: Score | None) -> SafeString:
    if score is None:
        return mark_safe('<span class="muted" data-score-status="none">–</span>')  # a constant
    return format_html(
        '<span class="muted" title="{}" data-score-status="insufficient" data-n="{}">'
        "not enough responses</span>",
        score.message,
        score.n,
    )


@register.simple_tag
def score_cell(score: Score | None, unit: str = "") -> SafeString:
    """'value (low to high)', or why there is no number (too few answers)."""
    if score is None or not score.ok:
        return _insufficient(score)
    text = score_text(score)
    return format_html(
        '<span data-score-status="ok" data-n="{}" data-value="{}" data-low="{}" data-high="{}">'
        '{}{} <small class="muted">({} to {})</small></span>',
        score.n,
        text["value"],
        text["low"],
        text["high"],
        text["value"],
        unit,
        text["low"],
        text["high"],
    )


@register.simple_tag
def score_value(score: Score | None, unit: str = "") -> SafeString:
    """The value alone (a headline figure), with its digits from the interval."""
    if score is None or not score.ok:
        return mark_safe('<span data-score-status="insufficient">–</span>')  # a constant
    text = score_text(score)
    return format_html(
        '<span data-score-status="ok" data-n="{}" data-value="{}" data-low="{}" data-high="{}">'
        "{}{}</span>",
        score.n,
        text["value"],
        text["low"],
        text["high"],
        text["value"],
        unit,
    )


@register.simple_tag
def score_interval(score: Score | None) -> str:
    """'low to high' with the value's digits, or '' when there is no number."""
    if score is None or not score.ok:
        return ""
    text = score_text(score)
    return f"{text['low']} to {text['high']}"


@register.simple_tag
def score_half_width(score: Score | None) -> str:
    """'±half-width' with the value's digits, or '' when there is no number."""
    if score is None or not score.ok:
        return ""
    return f"±{score_text(score)['half_width']}"
