"""Measured impact of implemented actions on NPS, CSAT, CES and their target KPIs.

For each metric the service builds period series for the action's scope (and its control
scope), hands them to the pure estimators in ``analytics.stats.impact`` and stores the
results as new ``ImpactEstimate`` rows, superseding (never overwriting) the previous ones:

* the causal estimate (``is_primary``): difference-in-differences when the action has a
  control scope, interrupted time series when it has not;
* always the plain before/after comparison next to it.

Windows: up to 26 weeks (12 months) before the period of implementation and 12 weeks
(6 months) after it; the implementation period itself is partly treated and left out.
Estimates need at least 8 weeks (3 months) after implementation; before that, and when a
scope has too few responses, the row says what is missing. When the after-window is
complete and a causal estimate exists, the action becomes ``measured``.

Money: a currency KPI summed per period is annualised (×52 or ×12); NPS is turned into
money through the latest value-of-experience run (revenue kept per customer moved from
detractor to passive × 1% of the scope's customers per point). ROI = annual value ÷ the
action's cost estimate. Each run is an ``AnalysisRun`` of kind ``impact``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from actions.models import Action, ActionStatus
from actions.services import action_mark_measured
from analytics.impact.models import ImpactEstimate, Kpi, KpiObservation
from analytics.impact.selectors import (
    SCORE_METRICS,
    Scope,
    action_scopes,
    kpi_period_series,
    kpi_scope_supported,
    latest_value_per_nps_point,
    scope_customer_count,
    score_weekly_series,
)
from analytics.runs.kinds import RunOutcome
from analytics.runs.models import AnalysisRun
from analytics.runs.services import run_execute_now, run_request
from analytics.stats.impact import (
    METHOD_BEFORE_AFTER,
    METHOD_DID,
    METHOD_ITS,
    EffectEstimate,
    NotEnoughData,
    before_after,
    difference_in_differences,
    interrupted_time_series,
    money_value,
)
from cxhub.errors import InvalidInput

logger = logging.getLogger(__name__)

WEEK = KpiObservation.Granularity.WEEK
MONTH = KpiObservation.Granularity.MONTH


@dataclass(frozen=True)
class WindowRules:
    pre_periods: int
    after_periods: int
    min_pre: int
    min_post: int
    per_year: int
    name: str


WINDOW_RULES: dict[str, WindowRules] = {
    WEEK: WindowRules(
        pre_periods=26, after_periods=12, min_pre=8, min_post=8, per_year=52, name="weeks"
    ),
    MONTH: WindowRules(
        pre_periods=12, after_periods=6, min_pre=6, min_post=3, per_year=12, name="months"
    ),
}
MIN_RESPONSES_PER_WEEK = 5
MEASURABLE_STATUSES = (ActionStatus.IMPLEMENTED, ActionStatus.MEASURED)


def period_start_of(day: dt.date, granularity: str) -> dt.date:
    if granularity == WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def period_shift(day: dt.date, granularity: str, count: int) -> dt.date:
    if granularity == WEEK:
        return day + dt.timedelta(weeks=count)
    months = day.year * 12 + (day.month - 1) + count
    return dt.date(months // 12, months % 12 + 1, 1)


def _period_index(day: dt.date, origin: dt.date, granularity: str) -> int:
    if granularity == WEEK:
        return (day - origin).days // 7
    return (day.year - origin.year) * 12 + (day.month - origin.month)


@dataclass(frozen=True)
class Windows:
    """The periods compared for one action: [pre_start, implemented) vs [post_start, post_end).

    ``data_end`` stops at the current (unfinished) period; ``complete`` says whether the
    whole after-window has passed.
    """

    granularity: str
    implemented_period: dt.date
    pre_start: dt.date
    post_start: dt.date
    post_end: dt.date
    data_end: dt.date
    complete: bool

    @classmethod
    def build(cls, *, implemented_at: dt.date, granularity: str, today: dt.date) -> Windows:
        rules = WINDOW_RULES[granularity]
        implemented = period_start_of(implemented_at, granularity)
        post_start = period_shift(implemented, granularity, 1)
        post_end = period_shift(post_start, granularity, rules.after_periods)
        current = period_start_of(today, granularity)
        return cls(
            granularity=granularity,
            implemented_period=implemented,
            pre_start=period_shift(implemented, granularity, -rules.pre_periods),
            post_start=post_start,
            post_end=post_end,
            data_end=min(post_end, max(current, post_start)),
            complete=current >= post_end,
        )

    @property
    def rules(self) -> WindowRules:
        return WINDOW_RULES[self.granularity]

    def index(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Frame rows inside the windows, with ``t`` (0 = first period after implementation)."""
        if frame.empty:
            return frame.assign(t=pd.Series(dtype=int))
        inside = frame.loc[
            (frame["period"] >= self.pre_start)
            & (frame["period"] < self.data_end)
            & (frame["period"] != self.implemented_period)
        ].copy()
        inside["t"] = [
            _period_index(p, self.post_start, self.granularity) for p in inside["period"]
        ]
        return inside

    def as_dict(self) -> dict[str, Any]:
        return {
            "granularity": self.granularity,
            "pre_start": self.pre_start.isoformat(),
            "pre_end": (self.implemented_period - dt.timedelta(days=1)).isoformat(),
            "implemented_period": self.implemented_period.isoformat(),
            "post_start": self.post_start.isoformat(),
            "post_end": (self.post_end - dt.timedelta(days=1)).isoformat(),
            "complete": self.complete,
        }


@dataclass
class Draft:
    """An estimate before it is stored."""

    metric: str
    method: str
    is_primary: bool
    higher_is_better: bool
    windows: Windows
    kpi: Kpi | None = None
    estimate: EffectEstimate | None = None
    message: str = ""
    money: dict[str, Any] | None = None


def _not_enough(error: NotEnoughData, windows: Windows, label: str) -> str:
    singular = windows.rules.name.rstrip("s")
    text = str(error).replace("needs 1 periods", f"needs 1 {singular}")
    text = text.replace("periods", windows.rules.name)
    if not windows.complete:
        text += f" (the after-window runs to {windows.post_end - dt.timedelta(days=1)})"
    return f"{label}: {text}."


def _estimate_metric(
    *,
    metric: str,
    label: str,
    treated: pd.DataFrame,
    control: pd.DataFrame | None,
    windows: Windows,
    higher_is_better: bool,
    kpi: Kpi | None = None,
) -> list[Draft]:
    rules = windows.rules
    treated_t = windows.index(treated)
    primary_method = METHOD_DID if control is not None else METHOD_ITS
    primary = Draft(metric, primary_method, True, higher_is_better, windows, kpi)
    plain = Draft(metric, METHOD_BEFORE_AFTER, False, higher_is_better, windows, kpi)
    if treated_t.empty:
        last = windows.data_end - dt.timedelta(days=1)
        thin = (
            f" (weeks with fewer than {MIN_RESPONSES_PER_WEEK} answers are left out)"
            if kpi is None
            else ""
        )
        primary.message = plain.message = (
            f"{label}: no data in the action's scope between {windows.pre_start} and {last}{thin}."
        )
        return [primary, plain]
    try:
        if control is not None:
            control_t = windows.index(control)
            panel = pd.concat([treated_t.assign(treated=1), control_t.assign(treated=0)])
            primary.estimate = difference_in_differences(
                panel, min_pre=rules.min_pre, min_post=rules.min_post
            )
        else:
            primary.estimate = interrupted_time_series(
                treated_t, min_pre=max(rules.min_pre, 6), min_post=rules.min_post
            )
    except NotEnoughData as error:
        primary.message = _not_enough(error, windows, label)
    try:
        plain.estimate = before_after(treated_t, min_pre=1, min_post=1)
    except NotEnoughData as error:
        plain.message = _not_enough(error, windows, label)
    return [primary, plain]


def _drop_thin_weeks(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[frame["n"] >= MIN_RESPONSES_PER_WEEK] if not frame.empty else frame


def _score_drafts(
    *, treated: Scope, control: Scope | None, implemented_at: dt.date, today: dt.date
) -> tuple[list[Draft], Windows]:
    windows = Windows.build(implemented_at=implemented_at, granularity=WEEK, today=today)
    treated_series = score_weekly_series(
        scope=treated, start=windows.pre_start, end=windows.data_end
    )
    control_series = (
        score_weekly_series(scope=control, start=windows.pre_start, end=windows.data_end)
        if control is not None
        else None
    )
    drafts: list[Draft] = []
    for metric, meta in SCORE_METRICS.items():
        drafts += _estimate_metric(
            metric=metric,
            label=str(meta["label"]),
            treated=_drop_thin_weeks(treated_series[metric]),
            control=_drop_thin_weeks(control_series[metric]) if control_series else None,
            windows=windows,
            higher_is_better=bool(meta["higher_is_better"]),
        )
    return drafts, windows


def _kpi_drafts(
    *, action: Action, treated: Scope, control: Scope | None, today: dt.date
) -> list[Draft]:
    assert action.implemented_at is not None
    # NPS, CSAT and CES named as targets are already estimated from the responses.
    slugs = [
        str(item.get("kpi"))
        for item in action.target_kpis or []
        if isinstance(item, Mapping) and str(item.get("kpi")) not in SCORE_METRICS
    ]
    kpis = {kpi.slug: kpi for kpi in Kpi.objects.filter(slug__in=slugs)}
    drafts: list[Draft] = []
    for slug in dict.fromkeys(slugs):
        kpi = kpis.get(slug)
        if kpi is None:
            windows = Windows.build(
                implemented_at=action.implemented_at, granularity=WEEK, today=today
            )
            drafts.append(
                Draft(
                    slug,
                    METHOD_ITS if control is None else METHOD_DID,
                    True,
                    True,
                    windows,
                    message=f"Target KPI '{slug}' is not a known KPI.",
                )
            )
            continue
        reason = kpi_scope_supported(treated) or (kpi_scope_supported(control) if control else None)
        wide_start = period_shift(period_start_of(action.implemented_at, MONTH), MONTH, -13)
        wide_end = period_shift(period_start_of(action.implemented_at, MONTH), MONTH, 8)
        granularity, treated_series = kpi_period_series(
            kpi=kpi, scope=treated, start=wide_start, end=wide_end
        )
        windows = Windows.build(
            implemented_at=action.implemented_at, granularity=granularity, today=today
        )
        control_series = None
        if control is not None:
            _, control_series = kpi_period_series(
                kpi=kpi, scope=control, start=wide_start, end=wide_end
            )
        if reason is None and treated_series.empty:
            reason = (
                f"No {kpi.name} observations for {treated.describe()} around the implementation."
            )
        if reason:
            method = METHOD_DID if control is not None else METHOD_ITS
            drafts.append(
                Draft(
                    slug,
                    method,
                    True,
                    kpi.higher_is_better,
                    windows,
                    kpi,
                    message=f"{kpi.name}: {reason}",
                )
            )
            continue
        drafts += _estimate_metric(
            metric=slug,
            label=kpi.name,
            treated=treated_series,
            control=control_series,
            windows=windows,
            higher_is_better=kpi.higher_is_better,
            kpi=kpi,
        )
    return drafts


def _money(
    draft: Draft, *, action: Action, nps_value: dict[str, Any] | None, customers: int
) -> None:
    """Attach the annual money value and ROI to a primary estimate where a conversion exists."""
    estimate = draft.estimate
    if estimate is None or not draft.is_primary:
        return
    cost = float(action.cost_estimate) if action.cost_estimate is not None else None
    kpi = draft.kpi
    if kpi is not None and kpi.unit == Kpi.Unit.CURRENCY and kpi.aggregation == Kpi.Aggregation.SUM:
        value = money_value(
            estimate,
            value_per_unit=1.0,
            units_per_year=draft.windows.rules.per_year,
            higher_is_better=kpi.higher_is_better,
            cost=cost,
        )
        basis = f"{kpi.name} per {draft.windows.granularity} × {draft.windows.rules.per_year}"
        currency = kpi.currency
    elif draft.metric == "nps" and nps_value is not None and customers > 0:
        per_point = 0.01 * customers * nps_value["value_per_customer"]
        value = money_value(
            estimate, value_per_unit=per_point, units_per_year=1, higher_is_better=True, cost=cost
        )
        basis = (
            f"NPS points × {per_point:,.2f} a year per point (1% of {customers} customers in scope "
            f"moved from detractor to passive, value-of-experience run #{nps_value['run_id']})"
        )
        currency = action.currency
    else:
        return
    if action.currency and currency != action.currency and value.roi is not None:
        # ROI needs value and cost in one currency; no exchange rates are kept.
        roi_fields: dict[str, Any] = {"roi": None, "roi_ci_low": None, "roi_ci_high": None}
        basis += f"; no ROI: value in {currency}, cost in {action.currency}"
    else:
        roi_fields = {
            "roi": value.roi,
            "roi_ci_low": value.roi_ci_low,
            "roi_ci_high": value.roi_ci_high,
        }
    draft.money = {
        "annual_value": value.annual_value,
        "annual_value_ci_low": value.ci_low,
        "annual_value_ci_high": value.ci_high,
        "annual_value_std_error": value.std_error,
        "currency": currency,
        "basis": basis,
        **roi_fields,
    }


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    return float(value) if math.isfinite(value) else None


def _row_for(
    draft: Draft, *, action: Action, run: AnalysisRun | None, scopes: dict[str, Any]
) -> ImpactEstimate:
    windows = draft.windows
    row = ImpactEstimate(
        action=action,
        metric=draft.metric,
        kpi=draft.kpi,
        method=draft.method,
        is_primary=draft.is_primary,
        run=run,
        granularity=windows.granularity,
        pre_start=windows.pre_start,
        pre_end=windows.implemented_period - dt.timedelta(days=1),
        post_start=windows.post_start,
        post_end=windows.post_end - dt.timedelta(days=1),
        higher_is_better=draft.higher_is_better,
        details={"windows": windows.as_dict(), "scopes": scopes},
    )
    estimate = draft.estimate
    if estimate is None:
        row.status = ImpactEstimate.Status.INSUFFICIENT_DATA
        row.message = draft.message or "Not enough data."
        return row
    row.status = ImpactEstimate.Status.OK
    row.effect = _finite(estimate.effect)
    row.std_error = _finite(estimate.std_error)
    row.ci_low = _finite(estimate.ci_low)
    row.ci_high = _finite(estimate.ci_high)
    row.p_value = _finite(estimate.p_value)
    row.baseline = _finite(estimate.baseline)
    row.after = _finite(estimate.after)
    row.n_pre, row.n_post = estimate.n_pre, estimate.n_post
    row.periods_pre, row.periods_post = estimate.periods_pre, estimate.periods_post
    row.parallel_trend_slope = _finite(_as_float(estimate.extra.get("parallel_trend_slope")))
    row.parallel_trend_p_value = _finite(_as_float(estimate.extra.get("parallel_trend_p_value")))
    row.details["statistics"] = {k: _finite(_as_float(v)) for k, v in estimate.extra.items()}
    if not windows.complete:
        row.message = (
            f"Preliminary: the after-window runs to {windows.post_end - dt.timedelta(days=1)}."
        )
    if draft.money:
        basis = draft.money.pop("basis")
        for name, value in draft.money.items():
            setattr(row, name, _finite(value) if isinstance(value, float) else value)
        row.details["money_basis"] = basis
    return row


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


@transaction.atomic
def _store(action: Action, rows: list[ImpactEstimate]) -> list[ImpactEstimate]:
    """Save new current rows; the rows they replace stay, linked through ``superseded_by``.

    The action's row is locked first, so two estimations of one action (the daily job and
    an on-demand run) take turns instead of both claiming to be current.
    """
    Action.objects.select_for_update().filter(pk=action.pk).values_list("pk", flat=True).first()
    stored = []
    for row in rows:
        previous = list(
            ImpactEstimate.objects.select_for_update().filter(
                action=row.action, metric=row.metric, method=row.method, is_current=True
            )
        )
        ImpactEstimate.objects.filter(pk__in=[p.pk for p in previous]).update(is_current=False)
        row.is_current = True
        row.save()
        ImpactEstimate.objects.filter(pk__in=[p.pk for p in previous]).update(superseded_by=row)
        stored.append(row)
    return stored


def action_impact_estimate(
    *, action: Action, run: AnalysisRun | None = None, today: dt.date | None = None
) -> list[ImpactEstimate]:
    """Estimate the action's impact on every metric, store it, and mark it measured when due.

    Raises ``InvalidInput`` when the action is not implemented yet.
    """
    if action.status not in MEASURABLE_STATUSES or action.implemented_at is None:
        message = (
            f"Action {action.pk} is '{action.status}'; impact is measured once it is implemented."
        )
        raise InvalidInput(message, field_errors={"action": [message]})
    today = today or timezone.localdate()
    treated, control = action_scopes(action=action)
    drafts, windows = _score_drafts(
        treated=treated, control=control, implemented_at=action.implemented_at, today=today
    )
    drafts += _kpi_drafts(action=action, treated=treated, control=control, today=today)
    nps_value = latest_value_per_nps_point()
    customers = (
        scope_customer_count(scope=treated, start=windows.post_start, end=windows.data_end)
        if nps_value is not None
        else 0
    )
    for draft in drafts:
        _money(draft, action=action, nps_value=nps_value, customers=customers)
    scopes = {"treated": treated.as_dict(), "control": control.as_dict() if control else None}
    rows = _store(action, [_row_for(d, action=action, run=run, scopes=scopes) for d in drafts])
    measured_now = False
    if windows.complete and any(
        r.is_primary and r.status == ImpactEstimate.Status.OK for r in rows
    ):
        with transaction.atomic():
            # Re-read under a lock: another estimation may have measured it meanwhile.
            locked = Action.objects.select_for_update().get(pk=action.pk)
            if locked.status == ActionStatus.IMPLEMENTED:
                action_mark_measured(action=locked)
                measured_now = True
            action.status, action.measured_at = locked.status, locked.measured_at
    logger.info(
        "Impact of action %s estimated: %d rows, measured now: %s",
        action.pk,
        len(rows),
        measured_now,
    )
    return rows


# --- Analysis runs ----------------------------------------------------------------------


def impact_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    raw = data.get("action_id")
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
        raise InvalidInput(
            field_errors={"action_id": ["The id of an implemented action is required."]}
        )
    action = Action.objects.filter(pk=int(raw)).only("id", "status").first()
    if action is None:
        raise InvalidInput(field_errors={"action_id": [f"Action {raw} does not exist."]})
    if action.status not in MEASURABLE_STATUSES:
        raise InvalidInput(
            field_errors={
                "action_id": [
                    f"Action {raw} is '{action.status}'; impact is measured once it is implemented."
                ]
            }
        )
    cleaned: dict[str, Any] = {"action_id": action.pk}
    if data.get("today"):
        try:
            cleaned["today"] = dt.date.fromisoformat(str(data["today"])).isoformat()
        except ValueError:
            raise InvalidInput(field_errors={"today": ["A date in the form YYYY-MM-DD."]}) from None
    return cleaned


def impact_run_execute(run: AnalysisRun) -> RunOutcome:
    action = Action.objects.get(pk=run.parameters["action_id"])
    today = dt.date.fromisoformat(run.parameters["today"]) if run.parameters.get("today") else None
    rows = action_impact_estimate(action=action, run=run, today=today)
    action.refresh_from_db(fields=["status"])
    result = {
        "action_id": action.pk,
        "action_status": action.status,
        "estimates": [
            {
                "id": row.pk,
                "metric": row.metric,
                "method": row.method,
                "status": row.status,
                "effect": row.effect,
                "ci": [row.ci_low, row.ci_high],
                "p_value": row.p_value,
                "message": row.message,
            }
            for row in rows
        ],
    }
    counts = {
        "estimates": len(rows),
        "estimated": sum(1 for r in rows if r.status == ImpactEstimate.Status.OK),
        "nps_responses": sum(
            (r.n_pre or 0) + (r.n_post or 0)
            for r in rows
            if r.metric == "nps" and r.method == METHOD_BEFORE_AFTER
        ),
    }
    return RunOutcome(result=result, counts=counts)


def impact_request(
    *, action: Action, requested_by: AbstractBaseUser | AnonymousUser | None
) -> AnalysisRun:
    """Queue a re-estimation of one action (the API's POST); returns the queued run."""
    return run_request(
        kind=AnalysisRun.Kind.IMPACT, parameters={"action_id": action.pk}, requested_by=requested_by
    )


def impact_estimate_due(*, today: dt.date | None = None) -> list[int]:
    """Re-estimate every implemented (not yet measured) action, one recorded run each.

    The daily job. A failure on one action is recorded on its run and does not stop the rest.
    """
    parameters_today = {"today": today.isoformat()} if today else {}
    run_ids = []
    for action_id in Action.objects.filter(status=ActionStatus.IMPLEMENTED).values_list(
        "id", flat=True
    ):
        run = run_execute_now(
            kind=AnalysisRun.Kind.IMPACT,
            parameters={"action_id": action_id, **parameters_today},
            requested_by=None,
        )
        run_ids.append(run.pk)
    return run_ids
