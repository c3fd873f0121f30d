from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from dashboards.scoring import (
    counts_add,
    difference_estimate,
    mean_estimate,
    nps_estimate,
    score_summary,
    share_estimate,
)


def test_nps_and_its_interval_follow_the_multinomial_variance() -> None:
    """NPS = %P − %D with var = (pP + pD − (pP − pD)²)/n, worked by hand for 50/20 of 200."""
    estimate = nps_estimate(promoters=100, detractors=40, n=200)
    assert estimate is not None
    assert estimate.value == pytest.approx(30.0)
    half = 1.959963984540054 * 100 * math.sqrt((0.5 + 0.2 - 0.3**2) / 200)
    assert estimate.low == pytest.approx(30.0 - half)
    assert estimate.high == pytest.approx(30.0 + half)
    assert half == pytest.approx(10.8245, abs=1e-3)


def test_nps_of_nobody_is_unknown_not_zero() -> None:
    """With no answers there is no NPS at all."""
    assert nps_estimate(promoters=0, detractors=0, n=0) is None


def test_csat_share_interval_equals_statsmodels_wilson() -> None:
    """The % satisfied interval is Wilson's, as statsmodels computes it (also at 0% and 100%)."""
    for hits, n in [(37, 50), (0, 12), (12, 12), (640, 1000)]:
        estimate = share_estimate(hits=hits, n=n)
        low, high = proportion_confint(hits, n, alpha=0.05, method="wilson")
        assert estimate is not None
        assert estimate.low == pytest.approx(100 * low, abs=1e-9)
        assert estimate.high == pytest.approx(100 * high, abs=1e-9)


def test_mean_interval_uses_the_sample_standard_deviation() -> None:
    """The mean's interval from sums and sums of squares equals numpy's on the raw values."""
    values = np.array([1, 2, 2, 3, 5, 7, 7, 4, 4, 6], dtype=float)
    estimate = mean_estimate(total=values.sum(), total_sq=(values**2).sum(), n=len(values))
    assert estimate is not None
    half = 1.959963984540054 * values.std(ddof=1) / math.sqrt(len(values))
    assert estimate.value == pytest.approx(values.mean())
    assert estimate.high - estimate.value == pytest.approx(half)


def test_difference_of_independent_estimates_adds_variances() -> None:
    """A change between periods has the half-width √(h₁² + h₂²)."""
    after = nps_estimate(promoters=120, detractors=30, n=200)
    before = nps_estimate(promoters=100, detractors=40, n=200)
    assert after is not None and before is not None
    change = difference_estimate(after, before)
    assert change.value == pytest.approx(after.value - before.value)
    assert (change.high - change.low) / 2 == pytest.approx(
        math.hypot(after.half_width, before.half_width)
    )


def test_summary_of_summed_rows_equals_summary_of_all_rows() -> None:
    """Adding touchpoint rows before scoring gives the same NPS as one row of the total."""
    rows = [
        {"n": 10, "nps_n": 10, "promoters": 6, "detractors": 2},
        {"n": 30, "nps_n": 28, "promoters": 10, "detractors": 12},
    ]
    summary = score_summary(counts_add(rows))
    assert summary.responses == 40
    assert summary.nps is not None
    assert summary.nps.value == pytest.approx(100 * (16 - 14) / 38)
