"""The product's impact estimates recover every planted business-KPI effect of the demo.

The demo plants effects on churn, revenue and cost to serve (``demo.generator.KPI_EFFECTS``)
in weekly series with seasonality, trend and autocorrelated noise. Seeding the demo and
running the product's own estimation (``action_impact_estimate``, the same code the daily
job and ``seed_demo`` run) must give, for every planted (action, KPI), a 95% interval that
covers the planted value, excludes 0 where the effect is clear, and uses the method the
design calls for: difference-in-differences against the control scope, or interrupted time
series where the action has none. The responses are kept few (NPS is not checked here);
the KPI series are full-size whatever the response count.
"""

from __future__ import annotations

import datetime as dt

import pytest

from actions.models import Action
from analytics.impact.models import ImpactEstimate
from analytics.impact.services import action_impact_estimate
from demo import generator
from demo.services import demo_seed

pytestmark = pytest.mark.django_db

END = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _estimates(seed: int, *, reset: bool = False) -> dict[tuple[str, str], ImpactEstimate]:
    """Seed the demo and run the product's estimation of each action with planted effects;
    the current primary (causal) estimate per (action title, metric)."""
    demo_seed(seed=seed, responses=400, analyse=False, reset=reset, end=END)
    rows: dict[tuple[str, str], ImpactEstimate] = {}
    for title in dict.fromkeys(planted["action"] for planted in generator.KPI_EFFECTS):
        action = Action.objects.get(title=title)
        for row in action_impact_estimate(action=action, today=END.date()):
            if row.is_primary:
                rows[(title, row.metric)] = row
    return rows


def test_every_planted_kpi_effect_lies_in_its_interval() -> None:
    """For the default seed, each planted (action, KPI) effect is inside its 95% interval,
    the interval excludes 0, has visible width, and the method matches the design."""
    estimates = _estimates(generator.DEFAULT_SEED)

    assert {planted["kpi"] for planted in generator.KPI_EFFECTS} >= {
        "churn-rate",
        "revenue",
        "cost-to-serve",
    }
    for planted in generator.KPI_EFFECTS:
        row = estimates[(planted["action"], planted["kpi"])]
        label = f"{planted['action']} / {planted['kpi']}"
        assert row.status == ImpactEstimate.Status.OK, f"{label}: {row.message}"
        assert row.method == ("did" if planted["control"] else "its"), label
        assert row.ci_low is not None and row.ci_high is not None and row.std_error
        assert row.ci_low <= planted["effect"] <= row.ci_high, (
            f"{label}: planted {planted['effect']}, estimated {row.effect} "
            f"({row.ci_low} to {row.ci_high})"
        )
        if planted["clear"]:
            assert row.ci_high < 0 or row.ci_low > 0, f"{label}: interval includes 0"
        # Noise is realistic: the interval is neither a point nor wider than the effect.
        assert (
            0.05 * abs(planted["effect"]) < row.ci_high - row.ci_low < 2 * abs(planted["effect"])
        ), label


def test_currency_effects_carry_a_money_value_with_an_interval() -> None:
    """Revenue and cost-to-serve effects become money per year (×52, a fall in cost counting
    as a gain) whose interval contains the planted value per year."""
    estimates = _estimates(generator.DEFAULT_SEED)

    for planted in generator.KPI_EFFECTS:
        if planted["kpi"] == "churn-rate":
            continue
        row = estimates[(planted["action"], planted["kpi"])]
        gain = 52 * planted["effect"] * (1 if row.higher_is_better else -1)
        assert row.currency == "EUR"
        assert row.annual_value_ci_low is not None and row.annual_value_ci_high is not None
        assert row.annual_value_ci_low <= gain <= row.annual_value_ci_high
        assert row.annual_value is not None and row.annual_value > 0


def test_coverage_over_other_seeds_is_that_of_95_percent_intervals() -> None:
    """The recovery is not a property of one lucky seed: over three other seeds (twelve
    intervals) at most two miss their planted effect. Each is a 95% interval, so about one
    miss in twenty is expected; three or more in twelve would happen about 2% of the time
    if the intervals were right, and points to intervals that are too narrow or biased."""
    misses = []
    for seed in (1, 2, 3):
        for (title, metric), row in _estimates(seed, reset=True).items():
            planted = _planted(title, metric)
            if planted is None:
                continue
            assert row.ci_low is not None and row.ci_high is not None, (title, metric)
            if not row.ci_low <= planted["effect"] <= row.ci_high:
                misses.append((seed, title, metric, row.effect))

    assert len(misses) <= 2, misses


def _planted(title: str, metric: str) -> dict[str, object] | None:
    for planted in generator.KPI_EFFECTS:
        if planted["action"] == title and planted["kpi"] == metric:
            return planted
    return None
