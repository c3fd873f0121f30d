"""Scores (NPS, CSAT, CES) with intervals, aggregated in the database.

One ``GROUP BY (period, group)`` query with conditional counts and sums returns everything;
groups' totals, periods' totals and the overall figure are sums of those rows (counts and
sums add), so no response row is ever loaded. ``score_aggregates`` is the one set of
aggregate expressions (and key names) over responses: the dashboards group by it too, and
``analytics.stats.scores`` turns its rows into figures. ``min_responses`` reads the one
minimum-n setting.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import CharField, Count, F, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, NullIf, TruncDay, TruncMonth, TruncWeek

from analytics.selectors.response_filters import (
    CUSTOMER_FIELDS,
    response_filters_clean,
    responses_filtered,
)
from analytics.stats.scores import COUNT_KEYS, ScoreBlock, score_block, score_block_change
from cxhub.errors import InvalidInput

PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
BY_FIXED = ("touchpoint", "department", "journey", "channel", "segment", "region", "plan")
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def min_responses() -> int:
    """The one minimum-n rule's setting: fewer answers than this give no number."""
    return int(getattr(settings, "CXHUB", {}).get("MIN_RESPONSES", 30))


def scores_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``period``, ``by``, ``compare_from``/``compare_to`` and the filters."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    period = data.get("period") or None
    if period is not None and period not in PERIODS:
        errors["period"] = [f"Must be one of: {', '.join(PERIODS)}."]
    cleaned["period"] = period
    by = data.get("by") or None
    if by is not None:
        by = str(by)
        prefix, _, key = by.partition(":")
        if by in BY_FIXED or (prefix in ("attribute", "customer_attribute") and _KEY.match(key)):
            pass
        else:
            errors["by"] = [
                f"Must be one of: {', '.join(BY_FIXED)}, attribute:<key> "
                "(a response attribute) or customer_attribute:<key>."
            ]
    cleaned["by"] = by
    filter_errors: dict[str, list[str]] = {}
    try:
        cleaned["filters"] = response_filters_clean(data)
    except InvalidInput as exc:
        filter_errors = exc.field_errors
    compare = {"date_from": data.get("compare_from"), "date_to": data.get("compare_to")}
    if compare["date_from"] or compare["date_to"]:
        if not (compare["date_from"] and compare["date_to"]):
            errors["compare_from"] = ["Give both compare_from and compare_to."]
        else:
            try:
                window = response_filters_clean(compare)
                cleaned["compare"] = {
                    "date_from": window["date_from"],
                    "date_to": window["date_to"],
                }
            except InvalidInput as exc:
                for name, messages in exc.field_errors.items():
                    errors[name.replace("date_", "compare_")] = messages
    errors.update(filter_errors)
    if errors:
        raise InvalidInput(field_errors=errors)
    return cleaned


def _group_expressions(by: str) -> dict[str, Any]:
    if by == "touchpoint":
        return {"group": F("touchpoint__slug"), "group_label": F("touchpoint__name")}
    if by == "department":
        return {
            "group": F("touchpoint__department__slug"),
            "group_label": F("touchpoint__department__name"),
        }
    if by == "journey":
        return {
            "group": F("touchpoint__journey__slug"),
            "group_label": F("touchpoint__journey__name"),
        }
    if by == "channel":
        return {"group": F("channel"), "group_label": F("channel")}
    if by in CUSTOMER_FIELDS:
        expression = Coalesce(
            NullIf(F(f"customer__{by}"), Value("")),
            KeyTextTransform(by, "attributes"),
            output_field=CharField(),
        )
        return {"group": expression, "group_label": expression}
    prefix, _, key = by.partition(":")
    source = "attributes" if prefix == "attribute" else "customer__attributes"
    text_expression = KeyTextTransform(key, source)
    return {"group": text_expression, "group_label": text_expression}


def score_aggregates(*, prefix: str = "", count: str = "pk") -> dict[str, Any]:
    """Counts and sums behind every score (keys ``analytics.stats.scores.COUNT_KEYS``).

    Over responses by default. For a related model (topic mentions) ``prefix`` is the path
    to the response (``"response__"``) and ``count`` the response's id column
    (``"response_id"``), counted distinct so that each response counts once.
    """
    distinct = count != "pk"

    def counted(condition: Q | None = None) -> Count:
        return Count(count, filter=condition, distinct=distinct)

    def column(name: str) -> str:
        return f"{prefix}{name}"

    return {
        "responses": counted(),
        "comments": counted(~Q(**{column("comment"): ""})),
        "nps_n": counted(Q(**{column("nps__isnull"): False})),
        "promoters": counted(Q(**{column("nps__gte"): 9})),
        "detractors": counted(Q(**{column("nps__lte"): 6})),
        "csat_n": counted(Q(**{column("csat__isnull"): False})),
        "csat_satisfied": counted(Q(**{column("csat__gte"): 4})),
        "csat_sum": Sum(column("csat")),
        "csat_sumsq": Sum(F(column("csat")) * F(column("csat"))),
        "ces_n": counted(Q(**{column("ces__isnull"): False})),
        "ces_sum": Sum(column("ces")),
        "ces_sumsq": Sum(F(column("ces")) * F(column("ces"))),
    }


def _add(total: dict[str, float], row: Mapping[str, Any]) -> None:
    for key in COUNT_KEYS:
        total[key] += float(row.get(key) or 0)


def _change_dict(later: ScoreBlock, earlier: ScoreBlock) -> dict[str, Any]:
    return {key: score.as_dict() for key, score in score_block_change(later, earlier).items()}


def _period_series(rows: Mapping[Any, Mapping[str, float]], min_n: int) -> list[dict[str, Any]]:
    series: list[dict[str, Any]] = []
    previous: ScoreBlock | None = None
    for start in sorted(rows):
        block = score_block(rows[start], min_n=min_n)
        item: dict[str, Any] = {"period_start": start.isoformat() if start else None}
        item.update(block.as_dict())
        item["change_from_previous"] = (
            _change_dict(block, previous) if previous is not None else None
        )
        series.append(item)
        previous = block
    return series


def scores_summary(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Scores for cleaned parameters (``scores_parameters_clean``), with intervals."""
    min_n = min_responses()
    period = parameters.get("period")
    by = parameters.get("by")
    filters = parameters.get("filters") or {}
    qs = responses_filtered(filters).order_by()
    keys: dict[str, Any] = {}
    if period:
        keys["period_start"] = PERIODS[period]("submitted_at")
    if by:
        keys.update(_group_expressions(by))
    if keys:
        rows = list(qs.values(**keys).annotate(**score_aggregates()).order_by())
    else:
        rows = [qs.aggregate(**score_aggregates())]

    overall: dict[str, float] = defaultdict(float)
    by_period: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_group: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    group_labels: dict[Any, Any] = {}
    group_periods: dict[Any, dict[Any, dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float))
    )
    for row in rows:
        _add(overall, row)
        if period:
            _add(by_period[row["period_start"]], row)
        if by:
            group = row["group"]
            group_labels[group] = row.get("group_label")
            _add(by_group[group], row)
            if period:
                _add(group_periods[group][row["period_start"]], row)
    overall_block = score_block(overall, min_n=min_n)
    result: dict[str, Any] = {
        "parameters": dict(parameters),
        "min_responses": min_n,
        "overall": overall_block.as_dict(),
    }
    if period:
        result["periods"] = _period_series(by_period, min_n)
    if by:
        groups = []
        for group in sorted(by_group, key=lambda g: (g is None, str(g))):
            item: dict[str, Any] = {
                "key": group,
                "label": group_labels.get(group) if group is not None else "(none)",
                **score_block(by_group[group], min_n=min_n).as_dict(),
            }
            if period:
                item["periods"] = _period_series(group_periods[group], min_n)
            groups.append(item)
        result["groups"] = groups
    compare = parameters.get("compare")
    if compare:
        window = {**filters, **compare}
        other = responses_filtered(window).order_by().aggregate(**score_aggregates())
        comparison = score_block(other, min_n=min_n)
        result["comparison"] = {"window": compare, **comparison.as_dict()}
        result["change"] = _change_dict(overall_block, comparison)
    return result
