"""The one score engine (``analytics.stats.scores``): formulas against hand computation and
reference libraries, the minimum-n rule, and the digits a figure is shown with."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats as st
from statsmodels.stats.proportion import proportion_confint

from analytics.stats.scores import (
    Score,
    counts_add,
    difference,
    enough,
    mean_estimate,
    nps_estimate,
    proportion_estimate,
    score_block,
    score_decimals,
    score_text,
    wilson_interval,
)

Z = 1.959963984540054


def test_nps_interval_is_the_adjusted_wald_interval_by_hand() -> None:
    """200 answers, 90 promoters, 40 detractors: NPS 25 of the raw counts; adjusted Wald
    adds 3 to n and ¾ to each count: p̂P = 90.75/203, p̂D = 40.75/203,
    var = (p̂P + p̂D − (p̂P − p̂D)²)/203 = 0.0028922, se = 5.37792,
    interval 24.6305 ± 1.95996·5.37792 = [14.0900, 35.1711]."""
    result = nps_estimate(200, 90, 40, min_n=30)
    assert result.ok
    assert result.value == pytest.approx(25.0)
    assert result.se == pytest.approx(5.377919, abs=1e-6)
    assert result.low == pytest.approx(14.09001, abs=1e-5)
    assert result.high == pytest.approx(35.17107, abs=1e-5)


def test_all_promoters_have_an_interval_of_positive_width() -> None:
    """30 promoters of 30: NPS 100, and the interval is not [100, 100]. By hand, in exact
    fractions: p̂P = 41/44, p̂D = 1/44, var = (42/44 − (40/44)²)/33 = 31/7986, so the low
    end is 100·(10/11 − 1.95996·√(31/7986)) = 78.698; the high end clips at 100."""
    p_p, p_d = Fraction(41, 44), Fraction(1, 44)
    variance = (p_p + p_d - (p_p - p_d) ** 2) / 33
    assert variance == Fraction(31, 7986)
    expected_low = 100 * (float(p_p - p_d) - Z * math.sqrt(float(variance)))

    result = nps_estimate(30, 30, 0, min_n=30)

    assert result.value == pytest.approx(100.0)
    assert result.low == pytest.approx(expected_low, abs=1e-9)
    assert result.low == pytest.approx(78.698, abs=1e-3)
    assert result.high == 100.0
    assert result.half_width is not None and result.half_width > 10
    mirrored = nps_estimate(30, 0, 30, min_n=30)
    assert (mirrored.low, mirrored.high) == pytest.approx((-100.0, -expected_low))


def test_adjusted_wald_nps_covers_about_95_percent_at_small_n() -> None:
    """Simulated: 40 answers from a population with 60% promoters and 15% detractors; the
    adjusted-Wald interval holds the true NPS (45) in 93–97% of 4,000 samples."""
    rng = np.random.default_rng(7)
    draws = rng.multinomial(40, [0.60, 0.25, 0.15], size=4000)
    covered = 0
    for promoters, _, detractors in draws:
        score = nps_estimate(40, int(promoters), int(detractors), min_n=30)
        assert score.low is not None and score.high is not None
        covered += score.low <= 45.0 <= score.high
    assert 0.93 <= covered / 4000 <= 0.97


def test_csat_percentage_uses_the_wilson_interval() -> None:
    """The satisfied share's interval equals statsmodels' Wilson interval (also at 0%, 100%)."""
    for successes, n in [(0, 40), (33, 40), (480, 500), (37, 50), (640, 1000)]:
        low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
        assert wilson_interval(successes, n) == pytest.approx((low, high), abs=1e-12)
        result = proportion_estimate(successes, n, min_n=30)
        assert result.interval == pytest.approx([100 * low, 100 * high], abs=1e-9)


def test_mean_interval_is_scipys_t_interval() -> None:
    """Means from n, Σx, Σx² give scipy's t interval with n − 1 degrees of freedom."""
    rng = np.random.default_rng(1)
    values = rng.integers(1, 8, size=40).astype(float)
    result = mean_estimate(len(values), values.sum(), (values**2).sum(), min_n=30)
    expected = st.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=st.sem(values))
    assert result.value == pytest.approx(values.mean())
    assert result.interval == pytest.approx(list(expected), abs=1e-10)


def test_mean_change_is_welchs_t_test() -> None:
    """A change between two periods of means gives the Welch t-test's p-value."""
    rng = np.random.default_rng(1)
    a = rng.integers(1, 6, size=120).astype(float)
    b = rng.integers(2, 6, size=90).astype(float)
    ea = mean_estimate(len(a), a.sum(), (a * a).sum(), min_n=30)
    eb = mean_estimate(len(b), b.sum(), (b * b).sum(), min_n=30)
    change = difference(eb, ea, kind="t")
    welch = st.ttest_ind(b, a, equal_var=False)
    assert change.value == pytest.approx(b.mean() - a.mean())
    assert change.details["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)


def test_nps_change_between_periods_is_a_two_sample_z_test() -> None:
    """NPS 40 (n=400) vs 30 (n=400): difference 10 with se √(se₁²+se₂²) and its p-value."""
    later = nps_estimate(400, 200, 40, min_n=30)
    earlier = nps_estimate(400, 180, 60, min_n=30)
    change = difference(later, earlier)
    assert later.se is not None and earlier.se is not None
    se = math.hypot(later.se, earlier.se)
    assert change.value == pytest.approx(10.0)
    assert change.se == pytest.approx(se)
    assert change.interval == pytest.approx([10.0 - Z * se, 10.0 + Z * se])
    assert change.details["p_value"] == pytest.approx(2 * st.norm.sf(10.0 / se))


def test_below_the_minimum_every_figure_is_insufficient_with_a_message() -> None:
    """One rule for every figure: under ``min_n`` answers there is a message, never a number;
    a change with an insufficient period is insufficient too."""
    figures = [
        nps_estimate(29, 29, 0, min_n=30),
        proportion_estimate(20, 29, min_n=30),
        mean_estimate(29, 100.0, 400.0, min_n=30),
    ]
    for figure in figures:
        assert figure.status == "insufficient"
        assert figure.value is None and figure.interval is None
        assert figure.message == "Not enough responses (29 of at least 30)."
        assert figure.as_dict() == {"status": "insufficient", "n": 29, "message": figure.message}
    change = difference(nps_estimate(400, 200, 40, min_n=30), figures[0])
    assert change.status == "insufficient"
    assert enough(30, 30) and not enough(29, 30)
    assert not enough(1, 1, at_least=2)  # a mean needs two answers for its spread


def test_score_block_reads_one_aggregated_row() -> None:
    """Adding touchpoint rows before scoring gives the same NPS as one row of the total."""
    rows = [
        {"responses": 10, "nps_n": 10, "promoters": 6, "detractors": 2},
        {"responses": 30, "nps_n": 28, "promoters": 10, "detractors": 12},
    ]
    block = score_block(counts_add(rows), min_n=30)
    assert block.responses == 40
    assert block.nps.value == pytest.approx(100 * (16 - 14) / 38)
    assert block.csat_pct.status == "insufficient"
    assert block.as_dict()["nps"]["interval"] == block.nps.interval


@pytest.mark.parametrize(
    ("half_width", "decimals"),
    [(12.0, 0), (3.0, 0), (1.0, 0), (0.3, 1), (0.12, 1), (0.04, 2), (0.0004, 3)],
)
def test_digits_follow_the_width_of_the_interval(half_width: float, decimals: int) -> None:
    """The half-width to one significant digit: ±12 → 0 decimals, ±0.3 → 1, ±0.04 → 2."""
    score = Score(status="ok", n=100, value=4.0, low=4.0 - half_width, high=4.0 + half_width)
    assert score_decimals(score) == decimals


def test_score_text_uses_the_same_digits_for_value_and_interval() -> None:
    """An NPS of ±10 is whole points; a CES mean of ±0.2 has one decimal."""
    nps = nps_estimate(200, 90, 40, min_n=30)
    assert score_text(nps) == {"value": "25", "low": "14", "high": "35", "half_width": "11"}
    ces = Score(status="ok", n=300, value=3.456, low=3.256, high=3.656)
    assert score_text(ces)["value"] == "3.5"
    assert score_text(ces)["low"] == "3.3"


def test_the_dict_form_reads_back_as_the_same_score() -> None:
    """``Score.from_dict(score.as_dict())`` is the score again, ok or insufficient, so pages
    that hold the API's dicts format them like pages that hold scores."""
    for score in (nps_estimate(200, 90, 40, min_n=30), nps_estimate(3, 1, 1, min_n=30)):
        again = Score.from_dict(score.as_dict())
        assert again == score
        assert score_text(again) == score_text(score)


@pytest.mark.parametrize(
    ("share", "interval", "shown"),
    [
        (0.1723, (0.1671, 0.1774), "17.2% (16.7–17.7%)"),  # ±0.5 points: one decimal
        (0.09, (0.04, 0.14), "9% (4–14%)"),  # ±5 points: whole percent
        (0.061, (0.0604, 0.0616), "6.10% (6.04–6.16%)"),  # never "6% (6–6%)"
        (0.2, None, "20%"),
    ],
)
def test_a_driver_share_shows_the_digits_its_interval_supports(
    share: float, interval: tuple[float, float] | None, shown: str
) -> None:
    from analytics.templatetags.score_tags import share_cell

    assert share_cell(share, interval) == shown


def test_score_text_never_prints_minus_zero() -> None:
    """An interval end that rounds to zero reads "0", not "-0" ("-3 to -0" was shown)."""
    nps = Score(status="ok", n=12_224, value=-1.6, low=-3.2, high=-0.1)

    shown = score_text(nps)

    assert shown == {"value": "-2", "low": "-3", "high": "0", "half_width": "2"}
