"""Score summaries with 95% intervals from counts that SQL aggregated (no Django here).

The dashboards never pull rows into Python: the database returns, per group, how many
answered, how many were promoters/detractors, and sums and sums of squares of CSAT and
CES. These functions turn those counts into the numbers on the page.

- NPS = 100 (p_P − p_D), var = (p_P + p_D − (p_P − p_D)²) / n (the multinomial variance
  of the difference of two proportions), interval = NPS ± 1.96·100·√var.
- CSAT % (share of 4–5) with a Wilson score interval, which behaves at 0% and 100%.
- Means (CSAT, CES) with a normal interval from the sample variance.
- A change between two periods: the difference with var = var₁ + var₂ (independent samples).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95% interval; ``n`` is how many answers it rests on."""

    value: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def nps_estimate(*, promoters: int, detractors: int, n: int) -> Estimate | None:
    if n <= 0:
        return None
    p_p, p_d = promoters / n, detractors / n
    value = 100.0 * (p_p - p_d)
    variance = max(p_p + p_d - (p_p - p_d) ** 2, 0.0) / n
    half = Z95 * 100.0 * math.sqrt(variance)
    return Estimate(value, max(value - half, -100.0), min(value + half, 100.0), n)


def share_estimate(*, hits: int, n: int) -> Estimate | None:
    """A percentage with the Wilson score interval."""
    if n <= 0:
        return None
    p = hits / n
    z2 = Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(100.0 * p, 100.0 * max(centre - half, 0.0), 100.0 * min(centre + half, 1.0), n)


def mean_estimate(*, total: float, total_sq: float, n: int) -> Estimate | None:
    """A mean with mean ± 1.96·s/√n (s the sample standard deviation)."""
    if n <= 0:
        return None
    mean = total / n
    if n == 1:
        return Estimate(mean, mean, mean, n)
    variance = max((total_sq - n * mean * mean) / (n - 1), 0.0)
    half = Z95 * math.sqrt(variance / n)
    return Estimate(mean, mean - half, mean + half, n)


def difference_estimate(after: Estimate, before: Estimate) -> Estimate:
    """``after − before`` with the interval of a difference of independent estimates."""
    half = math.hypot(after.half_width, before.half_width)
    value = after.value - before.value
    return Estimate(value, value - half, value + half, min(after.n, before.n))


@dataclass(frozen=True)
class ScoreSummary:
    responses: int
    comments: int
    nps: Estimate | None
    csat_share: Estimate | None
    csat_mean: Estimate | None
    ces_mean: Estimate | None
    promoters: int
    detractors: int


def score_summary(counts: Mapping[str, float | int | None]) -> ScoreSummary:
    """Turn one row of ``SCORE_AGGREGATES`` (see selectors) into estimates."""

    def integer(key: str) -> int:
        return int(counts.get(key) or 0)

    def number(key: str) -> float:
        return float(counts.get(key) or 0)

    return ScoreSummary(
        responses=integer("n"),
        comments=integer("comments"),
        nps=nps_estimate(
            promoters=integer("promoters"), detractors=integer("detractors"), n=integer("nps_n")
        ),
        csat_share=share_estimate(hits=integer("csat_top2"), n=integer("csat_n")),
        csat_mean=mean_estimate(
            total=number("csat_sum"), total_sq=number("csat_sumsq"), n=integer("csat_n")
        ),
        ces_mean=mean_estimate(
            total=number("ces_sum"), total_sq=number("ces_sumsq"), n=integer("ces_n")
        ),
        promoters=integer("promoters"),
        detractors=integer("detractors"),
    )


COUNT_KEYS = (
    "n", "comments", "nps_n", "promoters", "detractors", "csat_n", "csat_top2", "csat_sum",
    "csat_sumsq", "ces_n", "ces_sum", "ces_sumsq",
)  # fmt: skip


def counts_add(rows: Sequence[Mapping[str, float | int | None]]) -> dict[str, float | int]:
    """Sum several count rows (e.g. touchpoints into their department)."""
    total: dict[str, float | int] = dict.fromkeys(COUNT_KEYS, 0)
    for row in rows:
        for key in COUNT_KEYS:
            total[key] += row.get(key) or 0
    return total
