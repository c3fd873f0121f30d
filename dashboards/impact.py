"""Context of the impact pages: every implemented action's measured effects with the roll-up,
and one action's estimates per metric next to its KPI series in scope and control scope.

Reads go through ``analytics.impact.selectors``; this module only shapes them for charts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from actions.models import Action
from actions.permissions import actions_visible_to
from analytics.impact import selectors as impact_selectors
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
    return {
        "action": action,
        "summary": impact_selectors.action_impact_summary(action=action),
        "charts": kpi_charts,
        "has_control": bool(control_q),
        "kpis": kpis,
    }
