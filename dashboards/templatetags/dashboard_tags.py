"""Small template helpers for dashboard tables (faster than an include per cell)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from dashboards.scoring import Estimate

register = template.Library()


@register.simple_tag
def score_cell(estimate: Estimate | None, digits: int, minimum: int) -> SafeString:
    """'value (low to high)', or why there is no number: too few answers, or none."""
    if estimate is None:
        return mark_safe('<span class="muted">–</span>')  # a constant, nothing from users
    if estimate.n < minimum:
        return format_html(
            '<span class="muted" title="Fewer than {} answers">n&lt;{}</span>', minimum, minimum
        )
    pattern = f"{{:.{int(digits)}f}}"
    return format_html(
        '{} <small class="muted">({} to {})</small>',
        pattern.format(estimate.value),
        pattern.format(estimate.low),
        pattern.format(estimate.high),
    )
