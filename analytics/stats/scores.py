"""NPS, CSAT and CES with 95% intervals, from counts and sums (no rows needed).

- NPS = 100 · (p_P − p_D). Each answer scores +1 (promoter), 0 (passive) or −1
  (detractor); NPS/100 is the mean of that score, whose variance is
  ``p_P + p_D − (p_P − p_D)²``, so ``se = 100 · sqrt((p_P + p_D − (p_P − p_D)²) / n)``
  and the interval is ``NPS ± z · se`` (normal approximation), clipped to [−100, 100].
- CSAT % satisfied (4–5 on 1–5): Wilson score interval for the proportion.
- Means (CSAT, CES): ``mean ± t_{n−1} · s / sqrt(n)`` with ``s`` from the sum of squares.
- A change between two periods: difference of the estimates, ``se = sqrt(se_a² + se_b²)``
  (independent samples), two-sided p-value from the normal distribution (Welch's t for
  means).
- Fewer than ``min_n`` answers gives ``{"status": "insufficient"}`` instead of a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from scipy import stats as st

Z95 = 1.959963984540054


def _z(level: float) -> float:
    return float(st.norm.ppf(0.5 + level / 2.0))


def insufficient(n: int, min_n: int) -> dict[str, Any]:
    return {
        "status": "insufficient",
        "n": int(n),
        "message": f"Not enough responses ({n} of at least {min_n}).",
    }


def nps_estimate(
    n: int, promoters: int, detractors: int, *, min_n: int = 1, level: float = 0.95
) -> dict[str, Any]:
    """NPS in points with its normal-approximation interval (see module docstring)."""
    if n < max(min_n, 1):
        return insufficient(n, min_n)
    p_p = promoters / n
    p_d = detractors / n
    variance = max(p_p + p_d - (p_p - p_d) ** 2, 0.0)
    se = 100.0 * math.sqrt(variance / n)
    value = 100.0 * (p_p - p_d)
    z = _z(level)
    return {
        "status": "ok",
        "value": value,
        "se": se,
        "interval": [max(value - z * se, -100.0), min(value + z * se, 100.0)],
        "n": int(n),
        "promoters": int(promoters),
        "passives": int(n - promoters - detractors),
        "detractors": int(detractors),
        "promoter_pct": 100.0 * p_p,
        "detractor_pct": 100.0 * p_d,
    }


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = _z(level)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(centre - half, 0.0), min(centre + half, 1.0))


def proportion_estimate(
    successes: int, n: int, *, min_n: int = 1, level: float = 0.95
) -> dict[str, Any]:
    """A percentage with its Wilson interval (in percent)."""
    if n < max(min_n, 1):
        return insufficient(n, min_n)
    low, high = wilson_interval(successes, n, level)
    p = successes / n
    return {
        "status": "ok",
        "value": 100.0 * p,
        "se": 100.0 * math.sqrt(p * (1 - p) / n),
        "interval": [100.0 * low, 100.0 * high],
        "n": int(n),
        "successes": int(successes),
    }


def mean_estimate(
    n: int, total: float, total_squares: float, *, min_n: int = 1, level: float = 0.95
) -> dict[str, Any]:
    """Mean with a t interval from n, Σx and Σx²."""
    if n < max(min_n, 2):
        return insufficient(n, max(min_n, 2))
    mean = total / n
    variance = max((total_squares - n * mean * mean) / (n - 1), 0.0)
    se = math.sqrt(variance / n)
    t = float(st.t.ppf(0.5 + level / 2.0, n - 1))
    return {
        "status": "ok",
        "value": mean,
        "se": se,
        "sd": math.sqrt(variance),
        "interval": [mean - t * se, mean + t * se],
        "n": int(n),
    }


def difference(
    later: dict[str, Any], earlier: dict[str, Any], *, kind: str = "normal", level: float = 0.95
) -> dict[str, Any]:
    """Change ``later − earlier`` of two independent estimates, its interval and p-value.

    ``kind="normal"`` uses the normal distribution (NPS, proportions); ``kind="t"`` uses
    Welch's t with Welch–Satterthwaite degrees of freedom (means).
    """
    if later.get("status") != "ok" or earlier.get("status") != "ok":
        return {"status": "insufficient", "message": "Not enough responses in one of the periods."}
    diff = later["value"] - earlier["value"]
    var_a, var_b = later["se"] ** 2, earlier["se"] ** 2
    se = math.sqrt(var_a + var_b)
    if kind == "t":
        n_a, n_b = later["n"], earlier["n"]
        denominator = (var_a**2) / (n_a - 1) + (var_b**2) / (n_b - 1)
        df = (var_a + var_b) ** 2 / denominator if denominator > 0 else float(n_a + n_b - 2)
        critical = float(st.t.ppf(0.5 + level / 2.0, df))
        p_value = float(2 * st.t.sf(abs(diff) / se, df)) if se > 0 else (0.0 if diff else 1.0)
    else:
        critical = _z(level)
        p_value = float(2 * st.norm.sf(abs(diff) / se)) if se > 0 else (0.0 if diff else 1.0)
    return {
        "status": "ok",
        "value": diff,
        "se": se,
        "interval": [diff - critical * se, diff + critical * se],
        "p_value": p_value,
        "significant": p_value < 1 - level,
    }


def score_block(row: Mapping[str, Any], *, min_n: int, level: float = 0.95) -> dict[str, Any]:
    """All scores of one group from its aggregated counts and sums.

    ``row`` holds ``nps_n, promoters, detractors, csat_n, csat_satisfied, csat_sum,
    csat_sumsq, ces_n, ces_sum, ces_sumsq`` (as produced by one GROUP BY query).
    """
    return {
        "nps": nps_estimate(
            int(row["nps_n"]),
            int(row["promoters"]),
            int(row["detractors"]),
            min_n=min_n,
            level=level,
        ),
        "csat_pct": proportion_estimate(
            int(row["csat_satisfied"]), int(row["csat_n"]), min_n=min_n, level=level
        ),
        "csat_mean": mean_estimate(
            int(row["csat_n"]),
            float(row["csat_sum"] or 0),
            float(row["csat_sumsq"] or 0),
            min_n=min_n,
            level=level,
        ),
        "ces_mean": mean_estimate(
            int(row["ces_n"]),
            float(row["ces_sum"] or 0),
            float(row["ces_sumsq"] or 0),
            min_n=min_n,
            level=level,
        ),
    }


def score_block_change(
    later: dict[str, Any], earlier: dict[str, Any], level: float = 0.95
) -> dict[str, Any]:
    """Changes of each score between two ``score_block`` results."""
    return {
        "nps": difference(later["nps"], earlier["nps"], level=level),
        "csat_pct": difference(later["csat_pct"], earlier["csat_pct"], level=level),
        "csat_mean": difference(later["csat_mean"], earlier["csat_mean"], kind="t", level=level),
        "ces_mean": difference(later["ces_mean"], earlier["ces_mean"], kind="t", level=level),
    }
