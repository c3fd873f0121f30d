"""Pure impact statistics: planted effects, interval coverage and false positives by simulation.

No database: every frame here is built in memory with a known truth. Each simulation uses a
fixed seed so a run is reproducible; the limits (coverage 90–99%, zero effects called
significant at most 8% of the time) are the product's promise for the intervals it shows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analytics.stats.impact import (
    METHOD_DID,
    METHOD_ITS,
    NotEnoughData,
    RollupItem,
    before_after,
    difference_in_differences,
    interrupted_time_series,
    money_value,
    rollup,
)

ACTIONS_PER_METHOD = 240


def _did_panel(
    rng: np.random.Generator,
    effect: float,
    *,
    pre: int = 16,
    post: int = 12,
    pre_drift: float = 0.0,
) -> pd.DataFrame:
    """Weekly NPS-like means for a treated and a control scope.

    Both scopes share week shocks (seasonality, campaigns) that follow an AR(1); each scope
    also drifts on its own (an AR(1) with ρ drawn in 0.1–0.5), and each week's mean carries
    its own sampling noise from ~60–120 individual answers on a −100/0/100-like spread
    (sd 45).
    """
    weeks = np.arange(-pre, post)
    shocks = np.zeros(len(weeks))
    innovations = rng.normal(0, 3.0, len(weeks))
    for i in range(len(weeks)):
        shocks[i] = (0.5 * shocks[i - 1] if i else 0.0) + innovations[i]
    rows = []
    for treated, level in ((1, 22.0), (0, 14.0)):
        rho = rng.uniform(0.1, 0.5)
        own = np.zeros(len(weeks))
        own_innovations = rng.normal(0, 2.0, len(weeks))
        own[0] = own_innovations[0] / math.sqrt(1 - rho**2)
        for i in range(1, len(weeks)):
            own[i] = rho * own[i - 1] + own_innovations[i]
        sizes = rng.integers(60, 121, len(weeks))
        for i, week in enumerate(weeks):
            answers = rng.normal(0, 45.0, sizes[i])
            mean = level + shocks[i] + own[i] + 0.15 * week + treated * pre_drift * week
            mean += effect if (treated and week >= 0) else 0.0
            values = mean + answers
            rows.append((week, treated, sizes[i], values.sum(), (values**2).sum()))
    return pd.DataFrame(rows, columns=["t", "treated", "n", "total", "total_sq"])


def _its_series(
    rng: np.random.Generator, effect: float, *, pre: int = 26, post: int = 12
) -> pd.DataFrame:
    """One scope's weekly means: trend + level shift + AR(1) noise with ρ drawn in 0.1–0.5."""
    rho = rng.uniform(0.1, 0.5)
    weeks = np.arange(-pre, post)
    noise = np.zeros(len(weeks))
    innovations = rng.normal(0, 2.0, len(weeks))
    noise[0] = innovations[0] / math.sqrt(1 - rho**2)
    for i in range(1, len(weeks)):
        noise[i] = rho * noise[i - 1] + innovations[i]
    means = 30.0 + 0.2 * weeks + effect * (weeks >= 0) + noise
    sizes = np.full(len(weeks), 80)
    return pd.DataFrame(
        {"t": weeks, "n": sizes, "total": means * sizes, "total_sq": means**2 * sizes}
    )


def _simulate(method: str, seed: int) -> tuple[float, float]:
    """(coverage of the true effect, share of zero effects called significant)."""
    rng = np.random.default_rng(seed)
    covered = zero_significant = zeros = 0
    for k in range(ACTIONS_PER_METHOD):
        effect = 0.0 if k % 2 == 0 else float(rng.uniform(-8, 8))
        if method == METHOD_DID:
            estimate = difference_in_differences(_did_panel(rng, effect))
        else:
            estimate = interrupted_time_series(_its_series(rng, effect))
        assert estimate.method == method
        covered += estimate.ci_low <= effect <= estimate.ci_high
        if effect == 0.0:
            zeros += 1
            zero_significant += estimate.p_value < 0.05
    return covered / ACTIONS_PER_METHOD, zero_significant / zeros


@pytest.mark.parametrize("method", [METHOD_DID, METHOD_ITS])
def test_intervals_cover_planted_effects_and_zero_effects_are_rarely_significant(
    method: str,
) -> None:
    """Over 240 synthetic actions, 95% intervals hold the truth 90–99% of the time."""
    coverage, false_positive_rate = _simulate(method, seed=20260301)
    assert 0.90 <= coverage <= 0.99, coverage
    assert false_positive_rate <= 0.08, false_positive_rate


def test_did_point_estimate_equals_the_textbook_regression() -> None:
    """The effect is the treated × post coefficient of OLS on the weekly panel."""
    rng = np.random.default_rng(5)
    panel = _did_panel(rng, effect=6.0)
    estimate = difference_in_differences(panel)
    frame = panel.assign(y=panel["total"] / panel["n"], post=(panel["t"] >= 0).astype(int))
    reference = smf.ols("y ~ treated * post", data=frame).fit()
    assert estimate.effect == pytest.approx(reference.params["treated:post"], abs=1e-9)
    means = frame.groupby(["treated", "post"])["y"].mean()
    by_hand = (means[1, 1] - means[1, 0]) - (means[0, 1] - means[0, 0])
    assert estimate.effect == pytest.approx(by_hand, abs=1e-9)
    assert estimate.n_pre == int(panel.loc[(panel.treated == 1) & (panel.t < 0), "n"].sum())


def test_parallel_trend_check_flags_groups_already_drifting_apart() -> None:
    """A treated scope that was already pulling away before gets a small pre-trend p-value."""
    rng = np.random.default_rng(11)
    drifting_panel = _did_panel(rng, effect=0.0, pre=20, pre_drift=1.5)
    drifting = difference_in_differences(drifting_panel)
    steady = difference_in_differences(_did_panel(rng, effect=0.0, pre=20))
    assert drifting.extra["parallel_trend_p_value"] < 0.01
    assert steady.extra["parallel_trend_p_value"] > 0.01
    # The slope is that of the treated − control gap over the pre weeks (ordinary OLS).
    pre = drifting_panel.loc[drifting_panel["t"] < 0].assign(y=lambda f: f["total"] / f["n"])
    wide = pre.pivot(index="t", columns="treated", values="y")
    gap_slope = np.polyfit(wide.index.to_numpy(dtype=float), (wide[1] - wide[0]).to_numpy(), 1)[0]
    assert drifting.extra["parallel_trend_slope"] == pytest.approx(gap_slope, abs=1e-9)


def test_its_separates_level_and_trend_change_without_noise() -> None:
    """With no noise the segmented regression returns the planted level and slope change."""
    weeks = np.arange(-20, 10)
    means = 10 + 0.5 * weeks + (weeks >= 0) * (4.0 + 0.25 * weeks)
    series = pd.DataFrame({"t": weeks, "n": 1, "total": means, "total_sq": means**2})
    estimate = interrupted_time_series(series)
    assert estimate.extra["level_change"] == pytest.approx(4.0, abs=1e-9)
    assert estimate.extra["trend_change"] == pytest.approx(0.25, abs=1e-9)
    assert estimate.effect == pytest.approx(4.0 + 0.25 * 4.5, abs=1e-9)  # mean over weeks 0..9


def test_before_after_matches_welch_t_test_on_the_raw_values() -> None:
    """The plain comparison is Welch's t-test on the individual observations."""
    from scipy import stats

    rng = np.random.default_rng(3)
    before = [rng.normal(10, 4, 30), rng.normal(10, 4, 25)]
    after = [rng.normal(12, 6, 40)]
    rows = [(-2, len(v), v.sum(), (v**2).sum()) for v in before[:1]]
    rows += [(-1, len(before[1]), before[1].sum(), (before[1] ** 2).sum())]
    rows += [(0, len(after[0]), after[0].sum(), (after[0] ** 2).sum())]
    estimate = before_after(pd.DataFrame(rows, columns=["t", "n", "total", "total_sq"]))
    pooled_before = np.concatenate(before)
    reference = stats.ttest_ind(after[0], pooled_before, equal_var=False)
    assert estimate.effect == pytest.approx(after[0].mean() - pooled_before.mean())
    assert estimate.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    low, high = reference.confidence_interval(0.95)
    assert (estimate.ci_low, estimate.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert (estimate.n_pre, estimate.n_post) == (55, 40)


def test_too_little_data_says_what_is_missing() -> None:
    """Three weeks after implementation is reported as such, not as an estimate."""
    series = _its_series(np.random.default_rng(1), 0.0, pre=26, post=3)
    with pytest.raises(
        NotEnoughData, match="needs 8 periods with data after implementation, has 3"
    ):
        interrupted_time_series(series, min_post=8)
    panel = _did_panel(np.random.default_rng(1), 0.0, pre=2, post=10)
    with pytest.raises(NotEnoughData, match=r"needs 4 .* before implementation, has 2"):
        difference_in_differences(panel)


def test_money_value_annualises_turns_sign_when_lower_is_better_and_gives_roi() -> None:
    """A weekly fall of 1,000 in cost to serve is worth 52,000 a year; ROI = value ÷ cost."""
    weeks = np.arange(-12, 12)
    means = 50_000 - 1_000 * (weeks >= 0)
    series = pd.DataFrame({"t": weeks, "n": 1, "total": means, "total_sq": means**2})
    estimate = before_after(series)
    value = money_value(
        estimate, value_per_unit=1.0, units_per_year=52, higher_is_better=False, cost=26_000
    )
    assert value.annual_value == pytest.approx(52_000)
    assert value.roi == pytest.approx(2.0)
    assert value.ci_low <= value.annual_value <= value.ci_high


def test_rollup_adds_values_and_variances() -> None:
    """The total's standard error is the root of the summed variances (independence)."""
    total = rollup([RollupItem("a", 100.0, 30.0), RollupItem("b", 50.0, 40.0)])
    assert total.total == 150.0
    assert total.std_error == pytest.approx(50.0)
    assert total.ci_low == pytest.approx(150 - 1.959964 * 50, abs=1e-3)
    assert total.count == 2
