"""Context of the impact pages: every implemented action's measured effects with the roll-up,
and one action's estimates per metric next to its KPI series in scope and control scope.

Reads go through ``analytics.impact.selectors``; this module only shapes them for charts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from django.db.models import Q
from django.utils import timezone

from actions.models import Action
from actions.permissions import actions_visible_to
from analytics.impact import selectors as impact_selectors
from analytics.impact.services import MIN_RESPONSES_PER_WEEK
from analytics.responses.cache import figures_cached
from analytics.stats.scores import p_value_text
from dashboards import charts

SERIES_WINDOW_DAYS = 26 * 7
VERDICTS = {
    "delivered": "Delivered",
    "not_delivered": "No clear effect",
    "not_yet_measurable": "Not measurable yet",
}


def impact_actions(*, user: Any, department_slug: str | None) -> list[Action]:
    """Implemented and measured actions the user can see (one department's, or all), newest
    implementation first: the rows of the impact page and its CSV."""
    return list(
        impact_selectors.actions_with_estimates(
            department_slug=department_slug, visible=actions_visible_to(user)
        ).order_by("-implemented_at", "-id")
    )


def impact_value(*, user: Any, department_slug: str | None) -> dict[str, Any]:
    """The roll-up of the user's visible implemented actions (one department's, or all):
    money value per year in total, by KPI and by department with intervals. The impact
    page, the overview and department pages and the value CSV all read this; the API's
    roll-up calls the same ``impact_rollup``."""
    actions = impact_actions(user=user, department_slug=department_slug)
    return impact_selectors.impact_rollup(actions=actions, department_slug=department_slug)


def value_tables(rollup: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]], str, str]]:
    """(caption, rows, test id, first column) of the two value tables a page shows."""
    return [
        ("Value per year by KPI", rollup["by_kpi"], "value-by-kpi", "KPI"),
        (
            "Value per year by department",
            rollup["by_department"],
            "value-by-department",
            "Department",
        ),
    ]


def impact_list_context(*, actions: list[Action], department_slug: str | None) -> dict[str, Any]:
    """Rows of (action, current estimates, verdict), the roll-up and the value chart."""
    estimates = impact_selectors.impact_estimates_by_action([a.pk for a in actions])
    summary = impact_selectors.impact_rollup(actions=actions, department_slug=department_slug)
    verdicts: dict[int, dict[str, Any]] = {}
    for key, label in VERDICTS.items():
        for entry in summary[key]:
            verdicts[entry["id"]] = {
                "key": key,
                "label": label,
                "reasons": entry.get("reasons", []),
            }
    value_items = []
    currency = ""
    for action in actions:
        for estimate in estimates.get(action.pk, []):
            if estimate.get("value") is not None:
                currency = currency or estimate.get("currency") or ""
                value_items.append(
                    charts.ValueItem(
                        action=action.title,
                        value=float(estimate["value"]),
                        low=estimate.get("value_low"),
                        high=estimate.get("value_high"),
                        cost=float(action.cost_estimate) if action.cost_estimate else None,
                    )
                )
    return {
        "rollup": summary,
        "value": summary,
        "value_tables": value_tables(summary),
        "rows": [
            (action, estimates.get(action.pk, []), verdicts.get(action.pk)) for action in actions
        ],
        "charts": [
            charts.action_value_chart(
                dom_id="chart-action-value", items=value_items, currency=currency or "EUR"
            )
        ]
        if value_items
        else [],
    }


def _points(series: list[tuple[dt.date, float]]) -> list[charts.KpiPoint]:
    return [charts.KpiPoint(period, value) for period, value in series]


def impact_detail_context(*, action: Action) -> dict[str, Any]:
    """The action's estimates per metric (causal and before/after), history and KPI charts."""
    kpi_slugs = [
        str(t.get("kpi")) for t in action.target_kpis or [] if isinstance(t, dict) and t.get("kpi")
    ]
    kpis = impact_selectors.kpis_by_slugs(slugs=kpi_slugs)
    anchor = action.implemented_at or timezone.localdate()
    start, end = (
        anchor - dt.timedelta(days=SERIES_WINDOW_DAYS),
        anchor + dt.timedelta(days=SERIES_WINDOW_DAYS),
    )
    scope_departments = [d.pk for d in action.scope_departments.all()] or [action.department_id]
    control_departments = [d.pk for d in action.control_departments.all()]
    treated_q = impact_selectors.kpi_chart_scope(
        departments=scope_departments, attributes=action.scope_attributes or {}
    )
    control_q: Q = impact_selectors.kpi_chart_scope(
        departments=control_departments, attributes=action.control_attributes or {}
    )
    kpi_charts = []
    for index, kpi in enumerate(kpis):
        control = (
            impact_selectors.kpi_chart_series(kpi=kpi, scope=control_q, start=start, end=end)
            if control_q
            else []
        )
        kpi_charts.append(
            charts.kpi_series_chart(
                dom_id=f"chart-kpi-{index}",
                kpi_label=kpi.name,
                unit=kpi.unit,
                currency=kpi.currency,
                treated=_points(
                    impact_selectors.kpi_chart_series(
                        kpi=kpi, scope=treated_q, start=start, end=end
                    )
                ),
                control=_points(control),
                implemented_on=action.implemented_at,
            )
        )
    treated_scope, control_scope = impact_selectors.action_scopes(action=action)
    score_targets = [slug for slug in kpi_slugs if slug in impact_selectors.SCORE_METRICS]
    if score_targets:
        kpi_charts = (
            _score_charts(
                action=action,
                metrics=score_targets,
                treated=treated_scope,
                control=control_scope,
                start=start,
                end=min(end, timezone.localdate()),
            )
            + kpi_charts
        )
    summary = impact_selectors.action_impact_summary(action=action)
    control_label = control_description(action)
    for metric in summary["metrics"]:
        metric["method_text"] = method_text(metric.get("primary"), control_label=control_label)
        metric["trend_check"] = trend_check_text(metric.get("primary"))
        metric["unit"] = next(
            (e["unit"] for e in (metric.get("primary"), metric.get("before_after")) if e), ""
        )
        # A change of a percentage is in percentage points; the level itself is a percentage.
        metric["level_unit"] = "%" if metric["unit"] == "pp" else metric["unit"]
    return {
        "action": action,
        "summary": summary,
        "charts": kpi_charts,
        "has_control": control_scope is not None,
        "control_label": control_label,
        "kpis": kpis,
        "measured_on": action.measured_at,
    }


def _score_charts(
    *,
    action: Action,
    metrics: list[str],
    treated: impact_selectors.Scope,
    control: impact_selectors.Scope | None,
    start: dt.date,
    end: dt.date,
) -> list[charts.Chart]:
    """Weekly NPS / CSAT / CES in the action's scope and control scope (two queries on a
    miss, none on a hit: ``score_weeks_get``)."""
    treated_series = score_weeks_get(scope=treated, start=start, end=end)
    control_series = (
        score_weeks_get(scope=control, start=start, end=end) if control is not None else None
    )

    def points(weeks: list[tuple[dt.date, int, float]]) -> list[charts.KpiPoint]:
        return [
            charts.KpiPoint(period, total / float(n))
            for period, n, total in weeks
            if n >= MIN_RESPONSES_PER_WEEK
        ]

    built = []
    for metric in metrics:
        meta = impact_selectors.SCORE_METRICS[metric]
        unit = impact_selectors.SCORE_EFFECT_UNITS.get(metric, "")
        built.append(
            charts.kpi_series_chart(
                dom_id=f"chart-score-{metric}",
                kpi_label=f"{meta['label']} per week ({unit})" if unit else str(meta["label"]),
                treated=points(treated_series[metric]),
                control=points(control_series[metric]) if control_series else [],
                implemented_on=action.implemented_at,
            )
        )
    return built


def score_weeks_get(
    *, scope: impact_selectors.Scope, start: dt.date, end: dt.date
) -> dict[str, list[tuple[dt.date, int, float]]]:
    """``(week, n, total)`` per score metric of ``impact_selectors.score_weekly_series``
    (one query over the scope's raw responses), cached like the dashboards' figures
    (``figures_cached``): the action and impact pages draw it on every view, and only new
    responses change it."""

    def compute() -> dict[str, list[tuple[dt.date, int, float]]]:
        frames = impact_selectors.score_weekly_series(scope=scope, start=start, end=end)
        return {
            metric: [
                (period, int(n), float(total))
                for period, n, total in zip(
                    frame["period"], frame["n"], frame["total"], strict=True
                )
            ]
            for metric, frame in frames.items()
        }

    key = json.dumps(
        [scope.touchpoint_ids, scope.department_ids, scope.attributes, str(start), str(end)],
        separators=(",", ":"),
    )
    weeks: dict[str, list[tuple[dt.date, int, float]]] = figures_cached(
        "dashboards:action-score-weeks:v1", key, compute
    )
    return weeks


def control_description(action: Action) -> str:
    """The control scope in words ("Customer Service, region = south"), '' when none."""
    parts = [t.name for t in action.control_touchpoints.all()]
    parts += [d.name for d in action.control_departments.all()]
    parts += [
        f"{key} = {', '.join(str(v) for v in values) if isinstance(values, list) else values}"
        for key, values in (action.control_attributes or {}).items()
    ]
    return "; ".join(parts)


def method_text(estimate: dict[str, Any] | None, *, control_label: str) -> str:
    """The causal method in one sentence: which it is and what it means."""
    if estimate is None:
        return ""
    if estimate["method"] == "did":
        control = control_label or "named on the action"
        return (
            f"Difference-in-differences against the control scope ({control}): the change in "
            "the action's scope minus the change in the control scope over the same weeks, so "
            "what moved both (season, prices, a campaign) is taken out."
        )
    return (
        "Interrupted time series (the action has no control scope): the scope's own trend "
        "before implementation is extended past it, and the effect is the average gap "
        "between what was observed and that extrapolated trend."
    )


def trend_check_text(estimate: dict[str, Any] | None) -> dict[str, Any] | None:
    """The pre-period parallel-trend check of a difference-in-differences estimate."""
    if estimate is None or estimate["method"] != "did":
        return None
    slope, p_value = estimate.get("parallel_trend_slope"), estimate.get("parallel_trend_p_value")
    if slope is None or p_value is None:
        return {
            "ok": None,
            "text": "The pre-period was too short (fewer than 3 common weeks) to check that "
            "both scopes moved in parallel before the action.",
        }
    unit = estimate.get("unit") or ""
    drifting = p_value < 0.05
    # No interval to take digits from: two significant digits, never in e-notation.
    places = max(0, 1 - math.floor(math.log10(abs(slope)))) if slope else 0
    slope_text = f"{slope:+.{places}f}".replace("-", "\u2212")
    verdict = (
        "the groups were already drifting apart, so read the effect with care."
        if drifting
        else "no sign that they were drifting apart, as the method assumes."
    )
    return {
        "ok": not drifting,
        "text": f"Before the action the gap between the scopes changed by {slope_text}"
        f"{' ' + unit if unit else ''} a week ({p_value_text(p_value)}): {verdict}",
    }
