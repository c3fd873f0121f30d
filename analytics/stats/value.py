"""Value of experience: churn and revenue by score, the threshold, and its money value.

Inputs are aggregated counts per score level (one row per NPS score 0–10): customers,
churned customers and revenue sums, so nothing here needs rows.

- Churn rates carry Wilson intervals; mean revenue a t interval.
- Threshold: a two-level (step) model of churn on score, ``P(churn) = p_low`` below the
  breakpoint ``t`` and ``p_high`` at or above it. The breakpoint maximises the binomial
  log-likelihood over ``t = 1 … 10`` (each side needs ``min_side`` customers). The
  likelihood-ratio statistic against a constant rate is reported (its chi-square p-value
  ignores the search over ``t`` and is therefore optimistic), and a parametric bootstrap
  of the per-score counts gives how often each breakpoint is chosen.
- Money value of moving one customer from category A to B:
  ``(churn_A − churn_B) × mean revenue of A`` with a delta-method interval, treating the
  two churn rates and the mean revenue as independent estimates:
  ``Var(Δp·R) = R² Var(Δp) + Δp² Var(R) + Var(Δp) Var(R)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as st

from analytics.stats.scores import insufficient, mean_estimate, proportion_estimate

CATEGORY_LEVELS = {"detractor": range(0, 7), "passive": range(7, 9), "promoter": range(9, 11)}


def level_summary(row: Mapping[str, Any], *, min_n: int, level: float = 0.95) -> dict[str, Any]:
    """Churn % (Wilson) and mean revenue (t) for one group of customers."""
    n = int(row["n"])
    return {
        "n": n,
        "churn_pct": proportion_estimate(
            int(row["churned"]), n, min_n=min_n, level=level
        ).as_dict(),
        "revenue_mean": mean_estimate(
            int(row["revenue_n"]),
            float(row["revenue_sum"] or 0),
            float(row["revenue_sumsq"] or 0),
            min_n=min_n,
            level=level,
        ).as_dict(),
    }


def _combine(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    keys = ("n", "churned", "revenue_n", "revenue_sum", "revenue_sumsq")
    return {key: float(sum(float(r[key] or 0) for r in rows)) for key in keys}


def category_rows(by_score: Mapping[int, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per-score aggregates pooled into detractor / passive / promoter."""
    return {
        name: _combine([by_score[s] for s in levels if s in by_score])
        for name, levels in CATEGORY_LEVELS.items()
    }


def _binomial_loglik(churned: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Maximised binomial log-likelihood of groups (0·log 0 taken as 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = churned / n
        ll = churned * np.log(np.where(p > 0, p, 1.0)) + (n - churned) * np.log(
            np.where(p < 1, 1 - p, 1.0)
        )
    return np.where(n > 0, ll, 0.0)


def _best_breakpoint(
    n: np.ndarray, churned: np.ndarray, min_side: int
) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood of each breakpoint 1…10 (−inf when a side is too small): ``(..., 10)``."""
    cum_n = np.cumsum(n, axis=-1)
    cum_c = np.cumsum(churned, axis=-1)
    total_n = cum_n[..., -1:]
    total_c = cum_c[..., -1:]
    low_n, low_c = cum_n[..., :-1], cum_c[..., :-1]  # scores < t for t = 1 … 10
    high_n, high_c = total_n - low_n, total_c - low_c
    ll = _binomial_loglik(low_c, low_n) + _binomial_loglik(high_c, high_n)
    ok = (low_n >= min_side) & (high_n >= min_side)
    return np.where(ok, ll, -np.inf), np.arange(1, 11)


def churn_threshold(
    by_score: Mapping[int, Mapping[str, Any]],
    *,
    min_side: int = 30,
    replicates: int = 500,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """The NPS score where churn steps (see the module docstring)."""
    n = np.array([float(by_score.get(s, {}).get("n", 0) or 0) for s in range(11)])
    churned = np.array([float(by_score.get(s, {}).get("churned", 0) or 0) for s in range(11)])
    ll, candidates = _best_breakpoint(n, churned, min_side)
    if not np.isfinite(ll).any():
        return {
            "status": "insufficient",
            "message": f"Need at least {min_side} customers on each side of a breakpoint.",
        }
    best = int(np.argmax(ll))
    breakpoint_score = int(candidates[best])
    null_ll = float(_binomial_loglik(np.array([churned.sum()]), np.array([n.sum()]))[0])
    lr = max(2.0 * (float(ll[best]) - null_ll), 0.0)
    low_n, low_c = n[:breakpoint_score].sum(), churned[:breakpoint_score].sum()
    high_n, high_c = n[breakpoint_score:].sum(), churned[breakpoint_score:].sum()
    below = proportion_estimate(int(low_c), int(low_n), min_n=1, level=level).as_dict()
    above = proportion_estimate(int(high_c), int(high_n), min_n=1, level=level).as_dict()

    rng = np.random.default_rng(seed)
    rates = np.divide(churned, n, out=np.zeros_like(n), where=n > 0)
    simulated = rng.binomial(n.astype(np.int64), rates, size=(replicates, 11)).astype(float)
    ll_b, _ = _best_breakpoint(np.broadcast_to(n, simulated.shape), simulated, min_side)
    chosen = candidates[np.argmax(ll_b, axis=1)]
    support = {int(t): float(np.mean(chosen == t)) for t in np.unique(chosen)}
    return {
        "status": "ok",
        "breakpoint": breakpoint_score,
        "description": f"Churn changes between score {breakpoint_score - 1} and {breakpoint_score}.",
        "churn_below": below,
        "churn_at_or_above": above,
        "log_likelihood": {
            int(t): float(v) for t, v in zip(candidates, ll, strict=True) if np.isfinite(v)
        },
        "likelihood_ratio": lr,
        "p_value_naive": float(st.chi2.sf(lr, 1)),
        "bootstrap_support": support,
        "method": "two-level step model of churn on score, breakpoint by maximum binomial "
        "likelihood; support from a parametric bootstrap of the per-score counts",
    }


def churn_segmented_linear(
    by_score: Mapping[int, Mapping[str, Any]], *, min_side: int = 30
) -> dict[str, Any]:
    """Continuous two-slope (hinge) fit of churn rate on score, breakpoint by least squares.

    ``churn(s) = a + b·s + c·max(0, s − t)`` fitted by least squares weighted by the number
    of customers at each score, for every ``t`` with ``min_side`` customers on each side;
    the ``t`` with the smallest weighted residual sum of squares is reported with the slopes
    below (``b``) and above (``b + c``) it, in percentage points per score point. It finds
    where a gradual decline levels off, which the step model cannot describe.
    """
    n = np.array([float(by_score.get(s, {}).get("n", 0) or 0) for s in range(11)])
    churned = np.array([float(by_score.get(s, {}).get("churned", 0) or 0) for s in range(11)])
    scores = np.arange(11, dtype=float)
    observed = n > 0
    rate = np.divide(churned, n, out=np.zeros_like(n), where=observed)
    best: tuple[float, int, np.ndarray] | None = None
    for t in range(1, 10):
        if n[:t].sum() < min_side or n[t:].sum() < min_side:
            continue
        design = np.column_stack([np.ones(11), scores, np.maximum(0.0, scores - t)])[observed]
        weights = np.sqrt(n[observed])
        coef, *_ = np.linalg.lstsq(design * weights[:, None], rate[observed] * weights, rcond=None)
        sse = float((((design @ coef) - rate[observed]) ** 2 * n[observed]).sum())
        if best is None or sse < best[0] - 1e-15:
            best = (sse, t, coef)
    if best is None:
        return {
            "status": "insufficient",
            "message": f"Need at least {min_side} customers on each side of a breakpoint.",
        }
    _, t, coef = best
    return {
        "status": "ok",
        "breakpoint": t,
        "slope_below_pct": 100.0 * float(coef[1]),
        "slope_above_pct": 100.0 * float(coef[1] + coef[2]),
        "method": "continuous two-slope fit of churn rate on score, breakpoint by weighted "
        "least squares",
    }


def move_value(
    from_row: Mapping[str, Any],
    to_row: Mapping[str, Any],
    *,
    min_n: int,
    level: float = 0.95,
) -> dict[str, Any]:
    """Expected revenue kept by moving one customer from one group to another."""
    n_a, n_b = int(from_row["n"]), int(to_row["n"])
    rev_n = int(from_row["revenue_n"])
    if min(n_a, n_b) < max(min_n, 1) or rev_n < max(min_n, 2):
        return insufficient(min(n_a, n_b, rev_n), min_n).as_dict()
    p_a = float(from_row["churned"]) / n_a
    p_b = float(to_row["churned"]) / n_b
    delta = p_a - p_b
    var_delta = p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b
    revenue = mean_estimate(
        rev_n, float(from_row["revenue_sum"]), float(from_row["revenue_sumsq"]), min_n=2
    )
    assert revenue.value is not None and revenue.se is not None  # rev_n >= 2 checked above
    mean_revenue = revenue.value
    var_revenue = revenue.se**2
    value = delta * mean_revenue
    variance = mean_revenue**2 * var_delta + delta**2 * var_revenue + var_delta * var_revenue
    z = float(st.norm.ppf(0.5 + level / 2.0))
    se = math.sqrt(variance)
    return {
        "status": "ok",
        "value": value,
        "se": se,
        "interval": [value - z * se, value + z * se],
        "churn_reduction_pct": 100.0 * delta,
        "mean_revenue": mean_revenue,
    }


def value_of_experience(
    by_score: Mapping[int, Mapping[str, Any]],
    *,
    min_n: int,
    min_side: int | None = None,
    replicates: int = 500,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Churn and revenue by score and category, the churn threshold, and money values."""
    categories = category_rows(by_score)
    return {
        "by_score": [
            {"score": s, **level_summary(by_score[s], min_n=min_n, level=level)}
            for s in range(11)
            if s in by_score and int(by_score[s]["n"]) > 0
        ],
        "by_category": [
            {"category": name, **level_summary(row, min_n=min_n, level=level)}
            for name, row in categories.items()
        ],
        "segmented_linear": churn_segmented_linear(
            by_score, min_side=min_side if min_side is not None else min_n
        ),
        "threshold": churn_threshold(
            by_score,
            min_side=min_side if min_side is not None else min_n,
            replicates=replicates,
            seed=seed,
            level=level,
        ),
        "move_value": {
            "detractor_to_passive": move_value(
                categories["detractor"], categories["passive"], min_n=min_n, level=level
            ),
            "detractor_to_promoter": move_value(
                categories["detractor"], categories["promoter"], min_n=min_n, level=level
            ),
            "passive_to_promoter": move_value(
                categories["passive"], categories["promoter"], min_n=min_n, level=level
            ),
        },
        "customers": int(sum(float(r["n"]) for r in categories.values())),
    }
