"""Reads for action impact: period series of scores and KPIs per scope, the estimates, and
the KPI catalogue with its observation series.

Score series are aggregated in SQL to one row per week with the sufficient statistics
(count, sum, sum of squares) that the pure estimators in ``analytics.stats.impact`` need,
so a scope with a million responses still hands over a few dozen rows.

Per-response values: NPS counts a promoter as 100, a passive as 0 and a detractor as −100
(their mean is the NPS); CSAT counts a 4–5 as 100 and anything else as 0 (their mean is the
% satisfied); CES is the 1–7 effort score itself (lower is better).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek

from actions.models import Action
from actions.selectors import KpiChoice
from analytics.impact.models import ImpactEstimate, Kpi, KpiObservation
from analytics.runs.models import AnalysisRun
from analytics.stats.impact import RollupItem, rollup
from analytics.stats.scores import figure_text
from cxhub.errors import InvalidInput
from feedback.models import Response

SCORE_METRICS: dict[str, dict[str, Any]] = {
    "nps": {"label": "NPS", "higher_is_better": True, "unit": "points"},
    "csat": {"label": "CSAT (% satisfied)", "higher_is_better": True, "unit": "points"},
    "ces": {"label": "CES (mean effort)", "higher_is_better": False, "unit": "score"},
}
CUSTOMER_COLUMNS = ("segment", "region", "plan")


@dataclass(frozen=True)
class Scope:
    """Which responses (and KPI series) an action touches: union of touchpoints and
    departments, intersected with each attribute filter (any of its values)."""

    touchpoint_ids: tuple[int, ...] = ()
    touchpoint_slugs: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()
    department_slugs: tuple[str, ...] = ()
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.touchpoint_ids or self.department_ids or self.attributes)

    def describe(self) -> str:
        parts = []
        if self.department_slugs:
            parts.append("departments " + ", ".join(self.department_slugs))
        if self.touchpoint_slugs:
            parts.append("touchpoints " + ", ".join(self.touchpoint_slugs))
        parts += [f"{key} in {', '.join(values)}" for key, values in self.attributes]
        return "; ".join(parts) or "the whole organisation"

    def as_dict(self) -> dict[str, Any]:
        return {
            "touchpoints": list(self.touchpoint_slugs),
            "departments": list(self.department_slugs),
            "attributes": {key: list(values) for key, values in self.attributes},
        }


def _attributes(raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(raw, Mapping):
        return ()
    cleaned = []
    for key, values in sorted(raw.items()):
        items = values if isinstance(values, list) else [values]
        strings = tuple(sorted(str(v) for v in items if v not in (None, "")))
        if strings:
            cleaned.append((str(key), strings))
    return tuple(cleaned)


def action_scopes(*, action: Action) -> tuple[Scope, Scope | None]:
    """The action's treated scope and its control scope (None when it has none)."""
    scoped_tps = list(action.scope_touchpoints.order_by("slug").values_list("id", "slug"))
    scoped_deps = list(action.scope_departments.order_by("slug").values_list("id", "slug"))
    control_tps = list(action.control_touchpoints.order_by("slug").values_list("id", "slug"))
    control_deps = list(action.control_departments.order_by("slug").values_list("id", "slug"))
    treated = Scope(
        touchpoint_ids=tuple(i for i, _ in scoped_tps),
        touchpoint_slugs=tuple(s for _, s in scoped_tps),
        department_ids=tuple(i for i, _ in scoped_deps),
        department_slugs=tuple(s for _, s in scoped_deps),
        attributes=_attributes(action.scope_attributes),
    )
    control = Scope(
        touchpoint_ids=tuple(i for i, _ in control_tps),
        touchpoint_slugs=tuple(s for _, s in control_tps),
        department_ids=tuple(i for i, _ in control_deps),
        department_slugs=tuple(s for _, s in control_deps),
        attributes=_attributes(action.control_attributes),
    )
    return treated, (None if control.is_empty else control)


def scope_response_filter(scope: Scope) -> Q:
    """Responses in a scope; an attribute matches the customer's column or JSON attributes,
    or the response's own attributes."""
    query = Q()
    if scope.touchpoint_ids or scope.department_ids:
        query &= Q(touchpoint_id__in=scope.touchpoint_ids) | Q(
            touchpoint__department_id__in=scope.department_ids
        )
    for key, values in scope.attributes:
        match = Q(**{f"attributes__{key}__in": list(values)}) | Q(
            **{f"customer__attributes__{key}__in": list(values)}
        )
        if key in CUSTOMER_COLUMNS:
            match |= Q(**{f"customer__{key}__in": list(values)})
        query &= match
    return query


def _aware(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def score_weekly_series(*, scope: Scope, start: dt.date, end: dt.date) -> dict[str, pd.DataFrame]:
    """Weekly sufficient statistics per score metric for a scope, weeks in [start, end).

    One SQL query; returns ``{"nps": frame, "csat": frame, "ces": frame}`` with columns
    ``period`` (the Monday), ``n``, ``total``, ``total_sq``.
    """
    rows = (
        Response.objects.filter(
            scope_response_filter(scope),
            submitted_at__gte=_aware(start),
            submitted_at__lt=_aware(end),
        )
        .annotate(week=TruncWeek("submitted_at", tzinfo=dt.UTC))
        .values("week")
        .annotate(
            nps_n=Count("nps"),
            promoters=Count("id", filter=Q(nps__gte=9)),
            detractors=Count("id", filter=Q(nps__lte=6)),
            csat_n=Count("csat"),
            satisfied=Count("id", filter=Q(csat__gte=4)),
            ces_n=Count("ces"),
            ces_sum=Sum("ces"),
            ces_sq=Sum(F("ces") * F("ces")),
        )
        .order_by("week")
    )
    nps, csat, ces = [], [], []
    for row in rows:
        week = row["week"]
        period = week.date() if isinstance(week, dt.datetime) else week
        promoters, detractors = row["promoters"], row["detractors"]
        nps.append(
            (period, row["nps_n"], 100.0 * (promoters - detractors), 1e4 * (promoters + detractors))
        )
        csat.append((period, row["csat_n"], 100.0 * row["satisfied"], 1e4 * row["satisfied"]))
        ces.append((period, row["ces_n"], float(row["ces_sum"] or 0), float(row["ces_sq"] or 0)))
    columns = ["period", "n", "total", "total_sq"]
    return {
        "nps": pd.DataFrame(nps, columns=columns),
        "csat": pd.DataFrame(csat, columns=columns),
        "ces": pd.DataFrame(ces, columns=columns),
    }


def scope_customer_count(*, scope: Scope, start: dt.date, end: dt.date) -> int:
    """Distinct customers who answered in the scope between ``start`` and ``end``."""
    return (
        Response.objects.filter(
            scope_response_filter(scope),
            submitted_at__gte=_aware(start),
            submitted_at__lt=_aware(end),
            customer__isnull=False,
        )
        .values("customer_id")
        .distinct()
        .count()
    )


KPI_SCOPE_ATTRIBUTES = ("segment", "region")


def kpi_scope_supported(scope: Scope) -> str | None:
    """None when KPI observations can be matched to the scope, else the reason they cannot."""
    unsupported = [key for key, _ in scope.attributes if key not in KPI_SCOPE_ATTRIBUTES]
    if unsupported:
        return (
            f"KPI observations are kept per department, touchpoint, segment and region; "
            f"the scope's filter on {', '.join(unsupported)} cannot be matched."
        )
    return None


def kpi_period_series(
    *, kpi: Kpi, scope: Scope, start: dt.date, end: dt.date
) -> tuple[str, pd.DataFrame]:
    """A KPI's series for a scope, periods in [start, end): (granularity, frame).

    Observations whose scope fields each fall in the scope (an unscoped field must be
    empty) are combined per period by the KPI's aggregation (a mean for ``mean``, a sum
    otherwise). Weekly data is preferred to monthly when both exist. The frame has
    columns ``period``, ``n`` (1 per period), ``total`` (the value) and ``total_sq``.
    """
    query = Q(kpi=kpi, period_start__gte=start, period_start__lt=end)
    query &= (
        Q(department_id__in=scope.department_ids)
        if scope.department_ids
        else Q(department__isnull=True)
    )
    query &= (
        Q(touchpoint_id__in=scope.touchpoint_ids)
        if scope.touchpoint_ids
        else Q(touchpoint__isnull=True)
    )
    attributes = dict(scope.attributes)
    for key in KPI_SCOPE_ATTRIBUTES:
        query &= Q(**{f"{key}__in": list(attributes[key])}) if key in attributes else Q(**{key: ""})
    rows = list(
        KpiObservation.objects.filter(query).values_list("granularity", "period_start", "value")
    )
    if not rows:
        return KpiObservation.Granularity.WEEK, pd.DataFrame(
            columns=["period", "n", "total", "total_sq"]
        )
    weekly = [row for row in rows if row[0] == KpiObservation.Granularity.WEEK]
    granularity = KpiObservation.Granularity.WEEK if weekly else KpiObservation.Granularity.MONTH
    chosen = weekly or [row for row in rows if row[0] == KpiObservation.Granularity.MONTH]
    frame = pd.DataFrame(
        [(period, float(value)) for _, period, value in chosen], columns=["period", "value"]
    )
    how = "mean" if kpi.aggregation == Kpi.Aggregation.MEAN else "sum"
    combined = frame.groupby("period", as_index=False)["value"].agg(how).sort_values("period")
    return granularity, pd.DataFrame(
        {
            "period": combined["period"],
            "n": 1,
            "total": combined["value"],
            "total_sq": combined["value"] ** 2,
        }
    )


def latest_value_per_nps_point() -> dict[str, Any] | None:
    """Annual revenue kept per customer moved from detractor to passive, from the latest
    successful value-of-experience run (None when there is none or it had too little data).
    """
    run = (
        AnalysisRun.objects.filter(kind=AnalysisRun.Kind.VALUE, status=AnalysisRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .first()
    )
    if run is None:
        return None
    move = (run.result or {}).get("move_value", {}).get("detractor_to_passive", {})
    if not isinstance(move, Mapping) or move.get("status") != "ok" or move.get("value") is None:
        return None
    return {"run_id": run.pk, "value_per_customer": float(move["value"])}


def impact_estimates_for_action(*, action: Action) -> QuerySet[ImpactEstimate]:
    return ImpactEstimate.objects.filter(action=action).select_related("kpi", "run")


def current_estimates(*, actions: Iterable[Action] | None = None) -> QuerySet[ImpactEstimate]:
    rows = ImpactEstimate.objects.filter(is_current=True).select_related("kpi", "action")
    if actions is not None:
        rows = rows.filter(action__in=list(actions))
    return rows


def actions_with_estimates(
    *, department_slug: str | None, visible: QuerySet[Action]
) -> QuerySet[Action]:
    """Implemented and measured actions (optionally one department's), visible to the caller."""
    rows = visible.filter(status__in=["implemented", "measured"]).select_related(
        "department", "owner"
    )
    if department_slug:
        rows = rows.filter(department__slug=department_slug)
    return rows.order_by("department__name", "title", "id")


def metric_labels(kpis: Sequence[Kpi]) -> dict[str, str]:
    labels = {slug: str(meta["label"]) for slug, meta in SCORE_METRICS.items()}
    labels.update({kpi.slug: kpi.name for kpi in kpis})
    return labels


ROLLUP_ASSUMPTION = (
    "The total adds each action's annual money value; its variance is the sum of the "
    "actions' variances, which assumes the estimates are independent. Actions with "
    "overlapping scopes or periods make the true interval wider than shown. Per action, "
    "measured currency KPIs are used; NPS converted through the value of experience only "
    "when no currency KPI was measured, so nothing is counted twice."
)


def estimate_as_dict(estimate: ImpactEstimate) -> dict[str, Any]:
    """The API shape of one stored estimate."""
    return {
        "id": estimate.pk,
        "metric": estimate.metric,
        "kpi": estimate.kpi.slug if estimate.kpi_id and estimate.kpi else None,
        "method": estimate.method,
        "is_primary": estimate.is_primary,
        "status": estimate.status,
        "message": estimate.message,
        "granularity": estimate.granularity,
        "pre_window": [_iso(estimate.pre_start), _iso(estimate.pre_end)],
        "post_window": [_iso(estimate.post_start), _iso(estimate.post_end)],
        "effect": estimate.effect,
        "std_error": estimate.std_error,
        "ci_low": estimate.ci_low,
        "ci_high": estimate.ci_high,
        "p_value": estimate.p_value,
        "baseline": estimate.baseline,
        "after": estimate.after,
        "n_pre": estimate.n_pre,
        "n_post": estimate.n_post,
        "periods_pre": estimate.periods_pre,
        "periods_post": estimate.periods_post,
        "parallel_trend_slope": estimate.parallel_trend_slope,
        "parallel_trend_p_value": estimate.parallel_trend_p_value,
        "higher_is_better": estimate.higher_is_better,
        "unit": impact_unit(estimate),
        "annual_value": estimate.annual_value,
        "annual_value_ci": [estimate.annual_value_ci_low, estimate.annual_value_ci_high],
        "currency": estimate.currency,
        "roi": estimate.roi,
        "roi_ci": [estimate.roi_ci_low, estimate.roi_ci_high],
        "is_current": estimate.is_current,
        "superseded_by": estimate.superseded_by_id,
        "run": estimate.run_id,
        "created_at": estimate.created_at.isoformat() if estimate.created_at else None,
        "details": estimate.details,
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def action_impact_summary(*, action: Action) -> dict[str, Any]:
    """Current estimates per metric (causal and before/after side by side) and the history."""
    rows = list(impact_estimates_for_action(action=action).order_by("-created_at", "-id"))
    kpis = [row.kpi for row in rows if row.kpi is not None]
    labels = metric_labels(kpis)
    metrics: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not row.is_current:
            continue
        entry = metrics.setdefault(
            row.metric,
            {
                "metric": row.metric,
                "label": labels.get(row.metric, row.metric),
                "higher_is_better": row.higher_is_better,
                "primary": None,
                "before_after": None,
            },
        )
        entry["primary" if row.is_primary else "before_after"] = estimate_as_dict(row)
    order = [
        *SCORE_METRICS,
        *(str(t.get("kpi")) for t in action.target_kpis or [] if isinstance(t, Mapping)),
    ]
    ordered = [metrics[m] for m in dict.fromkeys(order) if m in metrics]
    ordered += [entry for key, entry in metrics.items() if key not in order]
    return {
        "action": {
            "id": action.pk,
            "title": action.title,
            "status": action.status,
            "department": action.department.slug if action.department_id else None,
            "implemented_at": _iso(action.implemented_at),
            "measured_at": action.measured_at.isoformat() if action.measured_at else None,
            "cost_estimate": float(action.cost_estimate)
            if action.cost_estimate is not None
            else None,
            "currency": action.currency,
        },
        "metrics": ordered,
        "history": [estimate_as_dict(row) for row in rows if not row.is_current],
    }


def _improvement_significant(row: ImpactEstimate) -> bool:
    improvement = row.improvement
    return (
        row.status == ImpactEstimate.Status.OK
        and improvement is not None
        and improvement > 0
        and row.p_value is not None
        and row.p_value < 0.05
    )


@dataclass(frozen=True)
class ValuedEstimate:
    """One action's annual money value on one metric, as the roll-up counts it."""

    item: RollupItem
    action_id: int
    currency: str
    metric: str
    metric_label: str
    department: str
    department_label: str


def _value_metric_label(row: ImpactEstimate) -> str:
    if row.kpi is not None:
        return row.kpi.name
    label = str(SCORE_METRICS.get(row.metric, {}).get("label", row.metric))
    return f"{label} (through the value of experience)" if row.metric == "nps" else label


MONEY_SCALES = ((1e6, "million", "M"), (1e3, "thousand", "k"))


def money_shown(*, total: float, ci_low: float, ci_high: float) -> dict[str, str]:
    """A money total and its interval as written: in thousands or millions when the
    interval is that wide, rounded by ``figure_text`` (the one rule for digits from an
    interval), so "EUR 243 thousand (132 to 355)" rather than a figure precise to the cent.
    ``suffix`` is the short form of ``scale`` (k, M) for tables."""
    half = (ci_high - ci_low) / 2
    factor, scale, suffix = 1.0, "", ""
    for size, name, short in MONEY_SCALES:
        if half >= size:
            factor, scale, suffix = size, name, short
            break
    shown = figure_text(total / factor, ci_low / factor, ci_high / factor)
    return {
        "scale": scale,
        "suffix": suffix,
        "total": shown["value"],
        "low": shown["low"],
        "high": shown["high"],
    }


def money_total(currency: str, items: Sequence[RollupItem]) -> dict[str, Any]:
    """The sum of independent money estimates (``rollup``) with its interval, as written."""
    total = rollup(items)
    return {
        "currency": currency,
        "total": total.total,
        "std_error": total.std_error,
        "ci_low": total.ci_low,
        "ci_high": total.ci_high,
        "estimates": total.count,
        "shown": money_shown(total=total.total, ci_low=total.ci_low, ci_high=total.ci_high),
    }


def value_breakdown(
    valued: Sequence[ValuedEstimate], *, by: Literal["metric", "department"]
) -> list[dict[str, Any]]:
    """Annual money value per KPI (``by="metric"``) or per department (``by="department"``),
    each with its 95% interval, per currency; largest first.

    A group's total is the sum of its actions' estimates and its standard error the square
    root of the sum of their variances (``analytics.stats.impact.rollup``): this assumes the
    estimates are independent (different actions, scopes and periods). Where scopes or
    periods overlap the estimates are positively correlated and the true interval is wider
    than the one shown. Each action counts once per metric (its measured currency KPIs, or
    NPS through the value of experience when no currency KPI was measured).
    """
    groups: dict[tuple[str, str], list[ValuedEstimate]] = {}
    for entry in valued:
        key = entry.metric if by == "metric" else entry.department
        groups.setdefault((key, entry.currency), []).append(entry)
    rows = []
    for (key, currency), entries in groups.items():
        first = entries[0]
        rows.append(
            {
                "key": key,
                "label": first.metric_label if by == "metric" else first.department_label,
                **money_total(currency, [entry.item for entry in entries]),
                "actions": len({entry.action_id for entry in entries}),
            }
        )
    return sorted(rows, key=lambda row: (row["currency"], -row["total"], row["label"]))


def impact_rollup(
    *, actions: Iterable[Action], department_slug: str | None = None
) -> dict[str, Any]:
    """Organisation (or department) roll-up: total measured value with its interval, and
    which actions delivered a significant improvement and which did not (two queries)."""
    action_rows = list(actions)
    primaries: dict[int, list[ImpactEstimate]] = {a.pk: [] for a in action_rows}
    for row in (
        ImpactEstimate.objects.filter(action__in=action_rows, is_current=True, is_primary=True)
        .select_related("kpi")
        .order_by("metric")
    ):
        primaries[row.action_id].append(row)
    delivered, not_delivered, pending = [], [], []
    money: dict[str, list[RollupItem]] = {}
    counted_values: list[ValuedEstimate] = []
    for action in action_rows:
        rows = primaries[action.pk]
        estimated = [r for r in rows if r.status == ImpactEstimate.Status.OK]
        valued = [
            r
            for r in estimated
            if r.annual_value is not None and r.annual_value_std_error is not None
        ]
        direct = [r for r in valued if r.metric != "nps"]
        counted = direct or [r for r in valued if r.metric == "nps"]
        annual = sum(r.annual_value or 0.0 for r in counted) if counted else None
        for r in counted:
            item = RollupItem(
                f"{action.pk}:{r.metric}",
                float(r.annual_value or 0.0),
                float(r.annual_value_std_error or 0.0),
            )
            money.setdefault(r.currency or action.currency, []).append(item)
            counted_values.append(
                ValuedEstimate(
                    item=item,
                    action_id=action.pk,
                    currency=r.currency or action.currency,
                    metric=r.metric,
                    metric_label=_value_metric_label(r),
                    department=action.department.slug,
                    department_label=action.department.name,
                )
            )
        entry = {
            "id": action.pk,
            "title": action.title,
            "department": action.department.slug,
            "status": action.status,
            "annual_value": annual,
            "currency": counted[0].currency if counted else None,
            "effects": [
                {
                    "metric": r.metric,
                    "method": r.method,
                    "effect": r.effect,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "p_value": r.p_value,
                    "higher_is_better": r.higher_is_better,
                    "significant_improvement": _improvement_significant(r),
                }
                for r in estimated
            ],
        }
        if not estimated:
            pending.append(
                {
                    **entry,
                    "reasons": [r.message for r in rows if r.message] or ["Not estimated yet."],
                }
            )
        elif any(_improvement_significant(r) for r in estimated):
            delivered.append(entry)
        else:
            not_delivered.append(entry)
    totals = [money_total(currency, items) for currency, items in sorted(money.items())]
    return {
        "department": department_slug,
        "actions": len(action_rows),
        "measured_value": totals,
        "assumption": ROLLUP_ASSUMPTION,
        "by_kpi": value_breakdown(counted_values, by="metric"),
        "by_department": value_breakdown(counted_values, by="department"),
        "delivered": delivered,
        "not_delivered": not_delivered,
        "not_yet_measurable": pending,
    }


def kpi_list() -> QuerySet[Kpi]:
    return Kpi.objects.filter(is_active=True).order_by("name")


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field_errors={name: [f"'{value}' is not a date in the form YYYY-MM-DD."]}
        ) from None


def kpi_observations(
    *,
    kpi: Kpi,
    granularity: str | None = None,
    scope_key: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> QuerySet[KpiObservation]:
    """A KPI's observations, optionally one granularity, one scope and a date range."""
    rows = KpiObservation.objects.filter(kpi=kpi).select_related("kpi", "department", "touchpoint")
    if granularity is not None:
        if granularity not in KpiObservation.Granularity.values:
            valid = ", ".join(KpiObservation.Granularity.values)
            raise InvalidInput(field_errors={"granularity": [f"Use one of: {valid}."]})
        rows = rows.filter(granularity=granularity)
    if scope_key is not None:
        rows = rows.filter(scope_key=scope_key)
    start, end = _date(date_from, "from"), _date(date_to, "to")
    if start is not None:
        rows = rows.filter(period_start__gte=start)
    if end is not None:
        rows = rows.filter(period_start__lte=end)
    return rows


# --- pages: current estimates per action and KPI series for charts ------------------------


def _estimate_row(estimate: ImpactEstimate) -> dict[str, Any]:
    """One current estimate as the pages show it (readable metric and method)."""
    return {
        "id": estimate.pk,
        "action_id": estimate.action_id,
        "metric": estimate.kpi.name if estimate.kpi else estimate.metric.upper(),
        "metric_slug": estimate.metric,
        "unit": impact_unit(estimate),
        "method": estimate.get_method_display(),
        "is_primary": estimate.is_primary,
        "ok": estimate.status == ImpactEstimate.Status.OK,
        "message": estimate.message,
        "effect": estimate.effect,
        "low": estimate.ci_low,
        "high": estimate.ci_high,
        "p_value": estimate.p_value,
        "baseline": estimate.baseline,
        "after": estimate.after,
        "n_pre": estimate.n_pre,
        "n_post": estimate.n_post,
        "higher_is_better": estimate.higher_is_better,
        "value": estimate.annual_value,
        "value_low": estimate.annual_value_ci_low,
        "value_high": estimate.annual_value_ci_high,
        "currency": estimate.currency,
        "roi": estimate.roi,
        "roi_low": estimate.roi_ci_low,
        "roi_high": estimate.roi_ci_high,
    }


SCORE_EFFECT_UNITS = {"nps": "points", "csat": "pp", "ces": "points (1–7)"}


def impact_unit(estimate: ImpactEstimate) -> str:
    """The unit of an effect as a page writes it: "points" for NPS, "pp" (percentage points)
    for CSAT % satisfied and a percent KPI, the currency for a money KPI."""
    if estimate.kpi is None:
        return SCORE_EFFECT_UNITS.get(estimate.metric, "")
    return {
        "percent": "pp",
        "currency": estimate.kpi.currency,
        "duration": "s",
    }.get(estimate.kpi.unit, "")


def impact_estimates_by_action(action_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Current measured effects per action (one query), primary (causal) estimates first."""
    estimates: dict[int, list[dict[str, Any]]] = {}
    if not action_ids:
        return estimates
    for estimate in (
        ImpactEstimate.objects.filter(action_id__in=action_ids, is_current=True)
        .select_related("kpi")
        .order_by("action_id", "-is_primary", "metric", "method")
    ):
        estimates.setdefault(estimate.action_id, []).append(_estimate_row(estimate))
    return estimates


def kpis_by_slugs(*, slugs: Sequence[str]) -> list[Kpi]:
    return list(Kpi.objects.filter(slug__in=list(slugs)).order_by("name"))


def kpi_chart_scope(*, departments: Sequence[int], attributes: Mapping[str, Any]) -> Q:
    """KPI observations a chart shows for a scope: its departments, or its segment/region."""
    condition = Q()
    if departments:
        condition |= Q(department_id__in=list(departments))
    for column in ("segment", "region"):
        values = attributes.get(column) or []
        if isinstance(values, str):
            values = [values]
        if values:
            condition |= Q(**{f"{column}__in": values})
    return condition


def kpi_chart_series(
    *, kpi: Kpi, scope: Q, start: dt.date, end: dt.date
) -> list[tuple[dt.date, float]]:
    """One value per period for a chart: the mean over the scope's observations of that period."""
    totals: dict[dt.date, list[float]] = {}
    for period, value in (
        KpiObservation.objects.filter(
            scope, kpi=kpi, period_start__gte=start, period_start__lte=end
        )
        .order_by("period_start")
        .values_list("period_start", "value")
    ):
        totals.setdefault(period, []).append(float(value))
    return [(period, sum(v) / len(v)) for period, v in sorted(totals.items())]


KPI_TARGET_UNITS = {"percent": "pp", "count": "count", "duration": "s"}
"""The unit of an expected change on a KPI of each unit (a percentage moves in points)."""


def kpi_target_choices() -> list[KpiChoice]:
    """What an action may target: the score metrics and the active KPIs, by name (registered
    with ``actions.selectors.kpi_choices_register``, as actions knows KPIs only as data)."""
    choices: list[KpiChoice] = [
        {"slug": slug, "label": str(meta["label"]), "unit": str(meta["unit"])}
        for slug, meta in SCORE_METRICS.items()
    ]
    for kpi in Kpi.objects.filter(is_active=True).order_by("name"):
        unit = kpi.currency if kpi.unit == Kpi.Unit.CURRENCY else KPI_TARGET_UNITS.get(kpi.unit, "")
        choices.append({"slug": kpi.slug, "label": kpi.name, "unit": unit})
    return choices
