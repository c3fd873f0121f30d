"""Measured impact of an action: difference-in-differences, interrupted time series, before/after.

Pure computation on plain data frames (NumPy, pandas, statsmodels); nothing of Django.

Every estimator takes *period-level* data: one row per period (a week or a month) and, for
difference-in-differences, per group (treated scope, control scope). A row carries the
sufficient statistics of the raw observations in that period, ``n`` (how many), ``total``
(their sum) and ``total_sq`` (the sum of their squares), so that the caller can aggregate
millions of responses in SQL and hand over a few dozen rows. The period's mean
``total / n`` is the outcome of the regressions; the raw statistics feed the plain
before/after comparison, which is the only one that uses individual-level variance.

Periods are indexed by an integer ``t`` relative to the implementation: ``t < 0`` before,
``t >= 0`` after. The period in which the action was implemented is only partly treated;
the caller leaves it out of both windows.

Methods
-------
* **Difference-in-differences** (a control scope exists): OLS on the period panel,
  ``y ~ treated + post + treated:post``; the interaction is the effect. Standard errors are
  Driscoll–Kraay (``hac-groupsum``): robust to shocks common to both groups in a period and
  to autocorrelation over periods. Inference uses a t distribution with (periods − 2)
  degrees of freedom, because the number of independent pieces of information is the number
  of periods, not the number of panel rows. Driscoll–Kraay too is optimistic with few
  periods, so the reported standard error is the larger of it and an AR(1) sandwich on the
  treated − control gap series (same point estimate on the common periods; ρ erred
  upwards as for the time series below). The pre-period parallel-trend check regresses
  ``y ~ treated + t + treated:t`` on the pre window and reports the ``treated:t`` slope
  and its p-value (a small p-value means the groups were already drifting apart).
* **Interrupted time series** (no control): segmented regression
  ``y = b0 + b1·t + b2·post + b3·post·t`` with Newey–West (HAC, Bartlett kernel) errors.
  ``b2`` is the level change at implementation and ``b3`` the change of trend; the
  reported effect is their average over the observed post window, ``b2 + b3·mean(t_post)``,
  i.e. the mean gap between what was observed and the extrapolated pre-period trend.
  Newey–West is known to understate the variance in short autocorrelated series (Kiefer &
  Vogelsang 2005), so each variance is the larger of Newey–West and an AR(1) sandwich whose
  ρ is corrected for residual bias and erred upwards by half its standard error, and the
  t degrees of freedom use the AR(1) effective sample size T·(1−ρ)/(1+ρ) − 4. Tuned by
  simulation (tests/analytics/test_impact_stats.py): about 95% coverage, ~4% false alarms.
* **Before/after**: the treated scope's mean after minus before, Welch's t interval from
  the raw observations (or the period values, for KPIs). It ignores trends and common
  shocks and is shown for transparency, never as the causal estimate.

References: Wooldridge, *Econometric Analysis of Cross Section and Panel Data* (2010),
ch. 6.5; Driscoll & Kraay (1998), *Rev. Econ. Stat.* 80(4); Wagner et al. (2002),
"Segmented regression analysis of interrupted time series studies", *J. Clin. Pharm. Ther.*
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats

__all__ = [
    "METHOD_BEFORE_AFTER",
    "METHOD_DID",
    "METHOD_ITS",
    "EffectEstimate",
    "MoneyValue",
    "NotEnoughData",
    "Rollup",
    "RollupItem",
    "before_after",
    "difference_in_differences",
    "interrupted_time_series",
    "money_value",
    "newey_west_lags",
    "parallel_trend_check",
    "rollup",
]

METHOD_DID = "did"
METHOD_ITS = "its"
METHOD_BEFORE_AFTER = "before_after"

CONFIDENCE = 0.95
# How many standard errors of ρ the AR(1) variances err upwards (see ``_ar1_covariance``);
# chosen by simulation so zero effects are called significant about 5% of the time.
RHO_MARGIN = 0.5


class NotEnoughData(ValueError):
    """The data cannot support the estimate yet; ``str(error)`` says what is missing."""


@dataclass(frozen=True)
class EffectEstimate:
    """One estimated effect with its 95% interval.

    ``n_pre``/``n_post`` count raw observations (responses, or KPI periods) in the treated
    scope; ``periods_pre``/``periods_post`` count the periods that carried data.
    """

    method: str
    effect: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    baseline: float
    after: float
    n_pre: int
    n_post: int
    periods_pre: int
    periods_post: int
    extra: dict[str, float | int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _t_interval(estimate: float, se: float, df: float) -> tuple[float, float, float]:
    """(low, high, two-sided p) of a t statistic with ``df`` degrees of freedom."""
    if not math.isfinite(se) or se <= 0:
        if se == 0 and math.isfinite(estimate):
            p = 1.0 if estimate == 0 else 0.0
            return estimate, estimate, p
        return math.nan, math.nan, math.nan
    q = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df))
    p = float(2 * stats.t.sf(abs(estimate / se), df))
    return estimate - q * se, estimate + q * se, p


def _period_means(frame: pd.DataFrame) -> pd.DataFrame:
    required = {"t", "n", "total"}
    missing = required - set(frame.columns)
    if missing:
        raise ValueError(f"period data needs columns {sorted(required)}; missing {sorted(missing)}")
    data = frame.loc[frame["n"] > 0].copy()
    data["y"] = data["total"].astype(float) / data["n"].astype(float)
    return data


def newey_west_lags(periods: int) -> int:
    """The usual Newey–West bandwidth, floor(4·(T/100)^(2/9)), at least 1."""
    return max(1, math.floor(4 * (periods / 100.0) ** (2.0 / 9.0)))


def _require_periods(pre: int, post: int, *, min_pre: int, min_post: int, what: str) -> None:
    problems = []
    if pre < min_pre:
        problems.append(f"needs {min_pre} {what} before implementation, has {pre}")
    if post < min_post:
        problems.append(f"needs {min_post} {what} after implementation, has {post}")
    if problems:
        raise NotEnoughData("; ".join(problems))


def before_after(
    periods: pd.DataFrame, *, min_pre: int = 1, min_post: int = 1, min_observations: int = 2
) -> EffectEstimate:
    """Mean after minus mean before, Welch's t interval from the raw sufficient statistics.

    ``periods`` has columns ``t``, ``n``, ``total``, ``total_sq`` for the treated scope.
    """
    data = periods.loc[periods["n"] > 0]
    pre, post = data.loc[data["t"] < 0], data.loc[data["t"] >= 0]
    _require_periods(
        len(pre), len(post), min_pre=min_pre, min_post=min_post, what="periods with data"
    )
    sums: list[tuple[float, float, float]] = []
    for window, label in ((pre, "before"), (post, "after")):
        n = float(window["n"].sum())
        if n < min_observations:
            raise NotEnoughData(
                f"needs {min_observations} observations {label} implementation, has {int(n)}"
            )
        total = float(window["total"].sum())
        total_sq = float(window["total_sq"].sum())
        mean = total / n
        variance = max(0.0, (total_sq - n * mean * mean) / (n - 1))
        sums.append((n, mean, variance))
    (n0, m0, v0), (n1, m1, v1) = sums
    effect = m1 - m0
    a, b = v0 / n0, v1 / n1
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (n0 - 1) + b * b / (n1 - 1)) if a + b > 0 else n0 + n1 - 2
    low, high, p = _t_interval(effect, se, df)
    return EffectEstimate(
        method=METHOD_BEFORE_AFTER,
        effect=effect,
        std_error=se,
        ci_low=low,
        ci_high=high,
        p_value=p,
        baseline=m0,
        after=m1,
        n_pre=int(n0),
        n_post=int(n1),
        periods_pre=len(pre),
        periods_post=len(post),
        extra={"df": df},
    )


def _time_codes(t: pd.Series) -> np.ndarray:
    """Map period indices to 0..T-1 codes (Driscoll–Kraay wants consecutive integers)."""
    ordered = np.sort(t.unique())
    return np.searchsorted(ordered, t.to_numpy()).astype(int)


def _ar1_covariance(
    exog: np.ndarray, resid: np.ndarray, *, rho_margin: float = 0.0
) -> tuple[np.ndarray, float]:
    """OLS coefficient covariance under AR(1) errors, with ρ corrected for residual bias.

    The lag-1 autocorrelation of OLS residuals is biased towards zero in short series
    (more so the more regressors there are). ρ is therefore found by the method of moments
    on the residuals themselves: the value whose *expected* residual autocorrelation under
    this design, tr(2·L·M·R(ρ)·M) / tr(M·R(ρ)·M), equals the observed one (M the residual
    maker, L the half lag-1 adjacency, R(ρ)ᵢⱼ = ρ^|i−j|). σ² is then e'e / tr(M·R), and
    Var(β) = (X'X)⁻¹ X' σ²R X (X'X)⁻¹. Negative ρ is floored at 0 (never narrower than iid).
    """
    periods = len(resid)
    bread = np.linalg.pinv(exog.T @ exog)
    residual_maker = np.eye(periods) - exog @ bread @ exog.T
    idx = np.arange(periods)
    distance = np.abs(idx[:, None] - idx[None, :])
    half_lag = (distance == 1).astype(float) / 2
    energy = float(resid @ resid)
    if energy <= 0:
        return np.zeros((exog.shape[1], exog.shape[1])), 0.0
    observed = float(2 * resid @ half_lag @ resid / energy)

    def expected(rho: float) -> float:
        m_r_m = residual_maker @ rho**distance @ residual_maker
        return float(np.trace(2 * half_lag @ m_r_m) / np.trace(m_r_m))

    low, high = -0.95, 0.95
    if expected(high) <= observed:
        rho = high
    elif expected(low) >= observed:
        rho = low
    else:
        rho = float(optimize.brentq(lambda r: expected(r) - observed, low, high))
    # ρ is itself uncertain (its standard error is about √((1−ρ²)/T)); erring upwards by
    # ``rho_margin`` standard errors keeps short series from looking more certain than they are.
    rho = min(0.95, max(rho, 0.0) + rho_margin * math.sqrt(max(0.0, 1 - rho * rho) / periods))
    correlation = rho**distance
    sigma2 = energy / float(np.trace(residual_maker @ correlation))
    return bread @ exog.T @ (sigma2 * correlation) @ exog @ bread, rho


def _driscoll_kraay_fit(y: np.ndarray, exog: np.ndarray, time_codes: np.ndarray) -> Any:
    lags = newey_west_lags(int(time_codes.max()) + 1)
    return sm.OLS(y, exog).fit(
        cov_type="hac-groupsum",
        cov_kwds={"time": time_codes, "maxlags": lags, "use_correction": "hac"},
    )


def difference_in_differences(
    panel: pd.DataFrame, *, min_pre: int = 4, min_post: int = 4
) -> EffectEstimate:
    """Regression difference-in-differences on a treated/control period panel.

    ``panel`` has columns ``t``, ``treated`` (1 for the action's scope, 0 for control),
    ``n``, ``total`` and ``total_sq``. Only periods where *both* groups have data enter the
    regression, so the comparison is always like with like.
    """
    data = _period_means(panel)
    both = data.groupby("t")["treated"].nunique()
    common = both.index[both == 2]
    data = data.loc[data["t"].isin(common)].sort_values(["t", "treated"]).reset_index(drop=True)
    pre_periods = int((common < 0).sum())
    post_periods = int((common >= 0).sum())
    _require_periods(
        pre_periods,
        post_periods,
        min_pre=min_pre,
        min_post=min_post,
        what="periods with data in both the action's scope and the control scope",
    )
    treated = data["treated"].astype(float).to_numpy()
    post = (data["t"] >= 0).astype(float).to_numpy()
    exog = np.column_stack([np.ones(len(data)), treated, post, treated * post])
    fit = _driscoll_kraay_fit(data["y"].to_numpy(), exog, _time_codes(data["t"]))
    effect = float(fit.params[3])
    dk_se = float(fit.bse[3])
    # On the common periods the interaction equals the post-minus-pre change of the gap
    # d_t = treated_t − control_t; its AR(1) covariance guards against Driscoll–Kraay's
    # known understatement with few periods. The larger of the two is reported.
    wide = data.pivot(index="t", columns="treated", values="y").sort_index()
    gap = (wide[1] - wide[0]).to_numpy()
    gap_post = (wide.index.to_numpy() >= 0).astype(float)
    gap_exog = np.column_stack([np.ones(len(gap)), gap_post])
    gap_beta = np.linalg.lstsq(gap_exog, gap, rcond=None)[0]
    gap_cov, rho = _ar1_covariance(gap_exog, gap - gap_exog @ gap_beta, rho_margin=RHO_MARGIN)
    ar1_se = math.sqrt(max(0.0, float(gap_cov[1, 1])))
    se = max(dk_se, ar1_se)
    df = pre_periods + post_periods - 2
    low, high, p = _t_interval(effect, se, df)
    treated_rows = panel.loc[(panel["treated"] == 1) & panel["t"].isin(common)]
    control_rows = panel.loc[(panel["treated"] == 0) & panel["t"].isin(common)]
    trend_slope, trend_p = parallel_trend_check(data.loc[data["t"] < 0])
    return EffectEstimate(
        method=METHOD_DID,
        effect=effect,
        std_error=se,
        ci_low=low,
        ci_high=high,
        p_value=p,
        baseline=float(fit.params[0] + fit.params[1]),
        after=float(fit.params.sum()),
        n_pre=int(treated_rows.loc[treated_rows["t"] < 0, "n"].sum()),
        n_post=int(treated_rows.loc[treated_rows["t"] >= 0, "n"].sum()),
        periods_pre=pre_periods,
        periods_post=post_periods,
        extra={
            "control_n_pre": int(control_rows.loc[control_rows["t"] < 0, "n"].sum()),
            "control_n_post": int(control_rows.loc[control_rows["t"] >= 0, "n"].sum()),
            "control_change": float(fit.params[2]),
            "parallel_trend_slope": trend_slope,
            "parallel_trend_p_value": trend_p,
            "driscoll_kraay_se": dk_se,
            "ar1_se": ar1_se,
            "autocorrelation": rho,
            "df": df,
        },
    )


def parallel_trend_check(pre_panel: pd.DataFrame) -> tuple[float | None, float | None]:
    """Slope of (treated − control) over the pre window and its p-value.

    Fits ``y ~ treated + t + treated:t`` with Driscoll–Kraay errors; ``None`` when the
    pre window is too short (fewer than 3 common periods) to say anything.
    """
    data = pre_panel if "y" in pre_panel.columns else _period_means(pre_panel)
    periods = data["t"].nunique()
    if periods < 3 or data["treated"].nunique() < 2:
        return None, None
    treated = data["treated"].astype(float).to_numpy()
    t = data["t"].astype(float).to_numpy()
    exog = np.column_stack([np.ones(len(data)), treated, t, treated * t])
    fit = _driscoll_kraay_fit(data["y"].to_numpy(), exog, _time_codes(data["t"]))
    slope = float(fit.params[3])
    _, _, p = _t_interval(slope, float(fit.bse[3]), periods - 2)
    return slope, None if math.isnan(p) else p


def interrupted_time_series(
    series: pd.DataFrame, *, min_pre: int = 6, min_post: int = 4
) -> EffectEstimate:
    """Segmented regression with Newey–West errors on one scope's period series.

    ``series`` has columns ``t``, ``n``, ``total`` (and ``total_sq``, unused here).
    """
    data = _period_means(series).sort_values("t").reset_index(drop=True)
    pre_periods = int((data["t"] < 0).sum())
    post_periods = int((data["t"] >= 0).sum())
    _require_periods(
        pre_periods, post_periods, min_pre=min_pre, min_post=min_post, what="periods with data"
    )
    t = data["t"].astype(float).to_numpy()
    post = (t >= 0).astype(float)
    exog = np.column_stack([np.ones(len(data)), t, post, post * t])
    periods = len(data)
    lags = newey_west_lags(periods)
    fit = sm.OLS(data["y"].to_numpy(), exog).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}
    )
    ar1_cov, rho = _ar1_covariance(exog, np.asarray(fit.resid), rho_margin=RHO_MARGIN)
    # Newey–West understates the variance in short autocorrelated series (Kiefer &
    # Vogelsang 2005); each variance is the larger of Newey–West and the AR(1) one.
    covariance = np.maximum(np.asarray(fit.cov_params()), ar1_cov)
    mean_post_t = float(t[post == 1].mean())
    contrast = np.array([0.0, 0.0, 1.0, mean_post_t])
    effect = float(contrast @ fit.params)
    nw_se = float(math.sqrt(max(0.0, contrast @ fit.cov_params() @ contrast)))
    ar1_se = float(math.sqrt(max(0.0, contrast @ ar1_cov @ contrast)))
    se = max(nw_se, ar1_se)
    # Effective sample size under AR(1) noise, T·(1−ρ)/(1+ρ), sets the t degrees of freedom.
    df = max(2.0, periods * (1 - rho) / (1 + rho) - 4)
    low, high, p = _t_interval(effect, se, df)
    _, _, level_p = _t_interval(float(fit.params[2]), math.sqrt(covariance[2, 2]), df)
    _, _, trend_p = _t_interval(float(fit.params[3]), math.sqrt(covariance[3, 3]), df)
    baseline = float(fit.params[0] + fit.params[1] * mean_post_t)  # counterfactual after
    return EffectEstimate(
        method=METHOD_ITS,
        effect=effect,
        std_error=se,
        ci_low=low,
        ci_high=high,
        p_value=p,
        baseline=baseline,
        after=baseline + effect,
        n_pre=int(data.loc[data["t"] < 0, "n"].sum()),
        n_post=int(data.loc[data["t"] >= 0, "n"].sum()),
        periods_pre=pre_periods,
        periods_post=post_periods,
        extra={
            "level_change": float(fit.params[2]),
            "level_change_p_value": level_p,
            "trend_change": float(fit.params[3]),
            "trend_change_p_value": trend_p,
            "pre_trend": float(fit.params[1]),
            "newey_west_lags": lags,
            "newey_west_se": nw_se,
            "ar1_se": ar1_se,
            "autocorrelation": rho,
            "df": df,
        },
    )


@dataclass(frozen=True)
class MoneyValue:
    """An effect turned into money per year, and the ROI it gives against the cost."""

    annual_value: float
    ci_low: float
    ci_high: float
    std_error: float
    roi: float | None
    roi_ci_low: float | None
    roi_ci_high: float | None


def money_value(
    estimate: EffectEstimate,
    *,
    value_per_unit: float,
    units_per_year: float,
    higher_is_better: bool,
    cost: float | None,
) -> MoneyValue:
    """Annual money value of an effect and ROI = annual value ÷ cost, with intervals.

    ``value_per_unit`` converts one unit of the metric in one period into money (1 for a
    currency KPI, the value of one NPS point for NPS); ``units_per_year`` annualises it
    (52 weekly periods, 12 monthly ones, or 1 when the value is already per year). When
    lower is better (cost to serve) a fall is a gain, so the sign is turned. The interval is
    the effect's interval scaled by the same factor; the cost is taken as known and the
    value per unit as fixed, so their uncertainty is not in the interval.
    """
    factor = value_per_unit * units_per_year * (1.0 if higher_is_better else -1.0)
    low, high = sorted((estimate.ci_low * factor, estimate.ci_high * factor))
    annual = estimate.effect * factor
    roi = roi_low = roi_high = None
    if cost is not None and cost > 0:
        roi, roi_low, roi_high = annual / cost, low / cost, high / cost
    return MoneyValue(
        annual_value=annual,
        ci_low=low,
        ci_high=high,
        std_error=abs(estimate.std_error * factor),
        roi=roi,
        roi_ci_low=roi_low,
        roi_ci_high=roi_high,
    )


@dataclass(frozen=True)
class RollupItem:
    """One action's contribution to a roll-up: a value and its standard error."""

    key: str
    value: float
    std_error: float


@dataclass(frozen=True)
class Rollup:
    total: float
    std_error: float
    ci_low: float
    ci_high: float
    count: int


def rollup(items: Iterable[RollupItem] | Sequence[RollupItem]) -> Rollup:
    """Sum of independent estimates: variances add (covariances assumed zero).

    Actions in different scopes and periods are treated as independent; where scopes
    overlap this understates the uncertainty, which the product says next to the number.
    """
    values = list(items)
    total = float(sum(item.value for item in values))
    se = math.sqrt(float(sum(item.std_error**2 for item in values)))
    q = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    return Rollup(
        total=total, std_error=se, ci_low=total - q * se, ci_high=total + q * se, count=len(values)
    )
