"""The action impact view: a KPI's series before and after an action, in the action's scope
and in its control scope, next to the measured estimate with its interval."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from actions.models import Action, ActionStatus
from actions.permissions import actions_visible_to
from analytics.models import Kpi, KpiObservation
from dashboards import charts, selectors

SERIES_WINDOW_DAYS = 26 * 7


def _estimates_for(actions: list[Action]) -> dict[int, list[dict[str, Any]]]:
    """Measured estimates per action, as plain dicts (empty until a measurement exists)."""
    return selectors.impact_estimates_get([a.pk for a in actions])


def impact_list_context(request: HttpRequest) -> dict[str, Any]:
    actions = list(
        actions_visible_to(request.user)
        .filter(status__in=[ActionStatus.IMPLEMENTED, ActionStatus.MEASURED])
        .select_related("owner", "department")
        .order_by("-implemented_at", "-id")[:100]
    )
    estimates = _estimates_for(actions)
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
        "rows": [(action, estimates.get(action.pk, [])) for action in actions],
        "charts": [
            charts.action_value_chart(
                dom_id="chart-action-value", items=value_items, currency=currency or "EUR"
            )
        ]
        if value_items
        else [],
    }


def _scope_q(departments: list[int], attributes: dict[str, Any]) -> Q:
    """KPI observations belonging to a scope: its departments, or its segment/region."""
    condition = Q()
    if departments:
        condition |= Q(department_id__in=departments)
    for column in ("segment", "region"):
        values = attributes.get(column) or []
        if isinstance(values, str):
            values = [values]
        if values:
            condition |= Q(**{f"{column}__in": values})
    return condition


def _series(kpi: Kpi, scope: Q, start: dt.date, end: dt.date) -> list[charts.KpiPoint]:
    """One value per period: the mean over the scope's observations of that period."""
    totals: dict[dt.date, list[float]] = defaultdict(list)
    for period, value in (
        KpiObservation.objects.filter(
            scope, kpi=kpi, period_start__gte=start, period_start__lte=end
        )
        .order_by("period_start")
        .values_list("period_start", "value")
    ):
        totals[period].append(float(value))
    return [charts.KpiPoint(period, sum(v) / len(v)) for period, v in sorted(totals.items())]


def impact_detail_context(request: HttpRequest, pk: int) -> dict[str, Any] | None:
    action = (
        actions_visible_to(request.user)
        .filter(pk=pk)
        .select_related("owner", "department")
        .prefetch_related("scope_departments", "control_departments")
        .first()
    )
    if action is None:
        return None
    kpi_slugs = [
        str(t.get("kpi")) for t in action.target_kpis or [] if isinstance(t, dict) and t.get("kpi")
    ]
    kpis = list(Kpi.objects.filter(slug__in=kpi_slugs))
    anchor = action.implemented_at or timezone.localdate()
    start, end = (
        anchor - dt.timedelta(days=SERIES_WINDOW_DAYS),
        anchor + dt.timedelta(days=SERIES_WINDOW_DAYS),
    )
    scope_departments = [d.pk for d in action.scope_departments.all()] or [action.department_id]
    control_departments = [d.pk for d in action.control_departments.all()]
    treated_q = _scope_q(scope_departments, action.scope_attributes or {})
    control_q = _scope_q(control_departments, action.control_attributes or {})
    kpi_charts = []
    for index, kpi in enumerate(kpis):
        control = _series(kpi, control_q, start, end) if control_q else []
        kpi_charts.append(
            charts.kpi_series_chart(
                dom_id=f"chart-kpi-{index}",
                kpi_label=kpi.name,
                treated=_series(kpi, treated_q, start, end),
                control=control,
                implemented_on=action.implemented_at,
            )
        )
    return {
        "action": action,
        "estimates": selectors.impact_estimates_get([action.pk]).get(action.pk, []),
        "charts": kpi_charts,
        "has_control": bool(control_q),
        "kpis": kpis,
    }
