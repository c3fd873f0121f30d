"""Scores (NPS, CSAT, CES) with intervals, aggregated in the database.

One ``GROUP BY (period, group)`` query with conditional counts and sums returns everything;
groups' totals, periods' totals and the overall figure are sums of those rows (counts and
sums add), so no response row is ever loaded.
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

from analytics.stats.scores import score_block, score_block_change
from cxhub.errors import InvalidInput
from feedback.filters import CUSTOMER_FIELDS, response_scope_clean, responses_in_scope

PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
BY_FIXED = ("touchpoint", "department", "journey", "channel", "segment", "region", "plan")
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
SUM_KEYS = (
    "responses",
    "nps_n",
    "promoters",
    "detractors",
    "csat_n",
    "csat_satisfied",
    "csat_sum",
    "csat_sumsq",
    "ces_n",
    "ces_sum",
    "ces_sumsq",
)


def min_responses() -> int:
    return int(settings.CXHUB.get("MIN_RESPONSES", 30))


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
        cleaned["filters"] = response_scope_clean(data)
    except InvalidInput as exc:
        filter_errors = exc.field_errors
    compare = {"date_from": data.get("compare_from"), "date_to": data.get("compare_to")}
    if compare["date_from"] or compare["date_to"]:
        if not (compare["date_from"] and compare["date_to"]):
            errors["compare_from"] = ["Give both compare_from and compare_to."]
        else:
            try:
                window = response_scope_clean(compare)
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


def _aggregates() -> dict[str, Any]:
    return {
        "responses": Count("pk"),
        "nps_n": Count("nps"),
        "promoters": Count("pk", filter=Q(nps__gte=9)),
        "detractors": Count("pk", filter=Q(nps__lte=6)),
        "csat_n": Count("csat"),
        "csat_satisfied": Count("pk", filter=Q(csat__gte=4)),
        "csat_sum": Sum("csat"),
        "csat_sumsq": Sum(F("csat") * F("csat")),
        "ces_n": Count("ces"),
        "ces_sum": Sum("ces"),
        "ces_sumsq": Sum(F("ces") * F("ces")),
    }


def _add(total: dict[str, float], row: Mapping[str, Any]) -> None:
    for key in SUM_KEYS:
        total[key] += float(row.get(key) or 0)


def _block(row: Mapping[str, Any], min_n: int) -> dict[str, Any]:
    return {"responses": int(row["responses"]), **score_block(row, min_n=min_n)}


def _period_series(rows: Mapping[Any, Mapping[str, float]], min_n: int) -> list[dict[str, Any]]:
    series: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for start in sorted(rows):
        block = _block(rows[start], min_n)
        item = {"period_start": start.isoformat() if start is not None else None, **block}
        item["change_from_previous"] = (
            score_block_change(block, previous) if previous is not None else None
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
    qs = responses_in_scope(filters).order_by()
    keys: dict[str, Any] = {}
    if period:
        keys["period_start"] = PERIODS[period]("submitted_at")
    if by:
        keys.update(_group_expressions(by))
    if keys:
        rows = list(qs.values(**keys).annotate(**_aggregates()).order_by())
    else:
        rows = [qs.aggregate(**_aggregates())]

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
    for key in SUM_KEYS:
        overall.setdefault(key, 0.0)

    result: dict[str, Any] = {
        "parameters": dict(parameters),
        "min_responses": min_n,
        "overall": _block(overall, min_n),
    }
    if period:
        result["periods"] = _period_series(by_period, min_n)
    if by:
        groups = []
        for group in sorted(by_group, key=lambda g: (g is None, str(g))):
            item: dict[str, Any] = {
                "key": group,
                "label": group_labels.get(group) if group is not None else "(none)",
                **_block(by_group[group], min_n),
            }
            if period:
                item["periods"] = _period_series(group_periods[group], min_n)
            groups.append(item)
        result["groups"] = groups
    compare = parameters.get("compare")
    if compare:
        window = {**filters, **compare}
        other = responses_in_scope(window).order_by().aggregate(**_aggregates())
        comparison = _block({k: float(other.get(k) or 0) for k in SUM_KEYS}, min_n)
        result["comparison"] = {"window": compare, **comparison}
        result["change"] = score_block_change(result["overall"], comparison)
    return result
