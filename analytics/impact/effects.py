"""An action's measured effect as the actions pages show it, through ``actions.effects``.

The dates come from the estimator's own window rules (``WINDOW_RULES`` in
``analytics.impact.services.estimates``): scores are weekly, and an action counts as
measured once the whole after-window (12 weeks after the week of implementation) has
passed; a preliminary estimate needs 8 of those weeks. The headline figure is the causal
(primary) estimate of the action's first target KPI, else of NPS, written with the digits
its interval supports (``analytics.stats.scores.figure_text``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils import timezone

from actions.effects import EffectSummary
from actions.models import Action, ActionStatus
from analytics.impact.models import ImpactEstimate
from analytics.impact.selectors import SCORE_METRICS, impact_unit
from analytics.impact.services.estimates import WEEK, WINDOW_RULES, Windows, period_shift
from analytics.stats.scores import figure_text

OPEN_BEFORE_IMPLEMENTATION = (
    ActionStatus.PROPOSED,
    ActionStatus.ACCEPTED,
    ActionStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class MeasurementDates:
    """When an action implemented on ``implemented_on`` is first estimated and measured."""

    implemented_on: dt.date
    first_estimate_on: dt.date
    measured_on: dt.date
    after_weeks: int
    min_after_weeks: int
    before_weeks: int

    @property
    def why(self) -> str:
        return (
            f"the estimate compares the {self.after_weeks} weeks after the week of "
            f"implementation with up to {self.before_weeks} weeks before it, and counts as "
            f"measured once all {self.after_weeks} have passed (a preliminary estimate needs "
            f"{self.min_after_weeks} of them, from {self.first_estimate_on:%d %b %Y})"
        )


def measurement_dates(*, implemented_on: dt.date) -> MeasurementDates:
    """The dates of the weekly estimator's windows for an implementation day."""
    rules = WINDOW_RULES[WEEK]
    windows = Windows.build(implemented_at=implemented_on, granularity=WEEK, today=implemented_on)
    return MeasurementDates(
        implemented_on=implemented_on,
        first_estimate_on=period_shift(windows.post_start, WEEK, rules.min_post),
        measured_on=windows.post_end,
        after_weeks=rules.after_periods,
        min_after_weeks=rules.min_post,
        before_weeks=rules.pre_periods,
    )


def action_measurement_note(action: Action) -> str:
    """One sentence: when this action's effect will be measured and why."""
    if action.status == ActionStatus.MEASURED:
        return ""
    if action.status == ActionStatus.IMPLEMENTED and action.implemented_at:
        dates = measurement_dates(implemented_on=action.implemented_at)
        if dates.measured_on <= timezone.localdate():
            return (
                f"The after-window closed on {dates.measured_on:%d %b %Y}; the effect counts as "
                "measured at the next estimate that has enough data."
            )
        return f"The effect will be measured on {dates.measured_on:%d %b %Y}: {dates.why}."
    if action.status in OPEN_BEFORE_IMPLEMENTATION:
        after = WINDOW_RULES[WEEK].after_periods
        text = (
            f"The effect is measured {after} weeks after the week the action is implemented "
            f"(the after-window the estimate needs)"
        )
        if action.due_date:
            dates = measurement_dates(implemented_on=action.due_date)
            text += f"; implemented on its due date, that is {dates.measured_on:%d %b %Y}"
        return text + "."
    return ""


def _headline_metric(action: Action, measured: Mapping[str, ImpactEstimate]) -> str | None:
    targets = [
        str(t.get("kpi"))
        for t in action.target_kpis or []
        if isinstance(t, Mapping) and t.get("kpi")
    ]
    for metric in [*targets, "nps", *measured]:
        if metric in measured:
            return metric
    return None


def _label(estimate: ImpactEstimate) -> str:
    if estimate.kpi is not None:
        return estimate.kpi.name
    return str(SCORE_METRICS.get(estimate.metric, {}).get("label", estimate.metric))


def action_effect_summaries(actions: Sequence[Action]) -> dict[int, EffectSummary]:
    """The headline effect of each action (one query for all of them)."""
    ids = [a.pk for a in actions]
    primaries: dict[int, dict[str, ImpactEstimate]] = {}
    if any(a.status in (ActionStatus.IMPLEMENTED, ActionStatus.MEASURED) for a in actions):
        for row in ImpactEstimate.objects.filter(
            action_id__in=ids, is_current=True, is_primary=True
        ).select_related("kpi"):
            primaries.setdefault(row.action_id, {})[row.metric] = row
    summaries: dict[int, EffectSummary] = {}
    for action in actions:
        summaries[action.pk] = _summary(action, primaries.get(action.pk, {}))
    return summaries


def _summary(action: Action, rows: Mapping[str, ImpactEstimate]) -> EffectSummary:
    measured = {m: r for m, r in rows.items() if r.status == ImpactEstimate.Status.OK}
    if action.status == ActionStatus.IMPLEMENTED and action.implemented_at:
        dates = measurement_dates(implemented_on=action.implemented_at)
        if dates.measured_on > timezone.localdate():
            return EffectSummary(
                state="scheduled",
                text=f"measured on {dates.measured_on:%d %b %Y}",
                measured_on=dates.measured_on,
            )
    if action.status in (ActionStatus.DECLINED, ActionStatus.CANCELLED):
        return EffectSummary(state="not_measurable", text=f"not measured ({action.status})")
    if action.status not in (ActionStatus.IMPLEMENTED, ActionStatus.MEASURED):
        return EffectSummary(state="not_measurable", text="not measurable yet")
    metric = _headline_metric(action, measured)
    if metric is None:
        return EffectSummary(state="not_measurable", text="not measurable yet")
    row = measured[metric]
    assert row.effect is not None
    shown = figure_text(row.effect, row.ci_low, row.ci_high, signed=True)
    unit = impact_unit(row)
    unit_text = f" {unit}" if unit else ""
    interval = f" (95% interval {shown['low']} to {shown['high']})" if shown["low"] else ""
    return EffectSummary(
        state="measured",
        text=f"{_label(row)} {shown['value']}{unit_text}{interval}",
        metric=row.metric,
        significant=row.is_significant,
    )
