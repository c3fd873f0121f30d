"""The one score engine: NPS, CSAT and CES with 95% intervals, from counts and sums.

Every page, API answer, CSV export, printable report and narrative takes its scores from
here, so a figure reads the same wherever it is shown. The database aggregates responses
(see ``analytics.responses.counts.score_aggregates``); nothing here needs a row or Django.

- NPS = 100 · (p_P − p_D) of the raw counts. Its interval is the **adjusted-Wald**
  interval (Rocks 2016, "Using adjusted-Wald intervals for NPS"): add 3 to n and 0.75 to
  the promoters and to the detractors, ``p̂_P = (P + ¾)/(n + 3)``, ``p̂_D = (D + ¾)/(n + 3)``,
  ``var = (p̂_P + p̂_D − (p̂_P − p̂_D)²)/(n + 3)`` and the interval
  ``100 · (p̂_P − p̂_D) ± z · 100 · √var``, clipped to [−100, 100]. Unlike the plain Wald
  interval it never collapses to zero width at NPS ±100, and it covers close to 95% at
  small n.
- CSAT % satisfied (4–5 on 1–5): Wilson score interval for the proportion.
- Means (CSAT, CES): ``mean ± t_{n−1} · s / √n`` with ``s`` from the sum of squares.
- A change between two periods: difference of the estimates, ``se = √(se_a² + se_b²)``
  (independent samples), two-sided p-value from the normal distribution (Welch's t for
  means).
- **One minimum-n rule**: a figure resting on fewer than ``min_n`` answers (the setting
  ``CXHUB["MIN_RESPONSES"]``, read by ``analytics.responses.sample.min_responses``) is
  "insufficient": a message, never a number (``enough``). A mean needs at least 2.

``Score`` is the one result type; ``Score.as_dict`` is its JSON form for the API and for
stored runs. ``score_decimals`` chooses how many digits a figure is shown with from the
width of its interval.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats as st

Z95 = 1.959963984540054
NPS_ADJUSTMENT_N = 3.0
NPS_ADJUSTMENT_COUNT = 0.75

COUNT_KEYS = (
    "responses", "comments", "nps_n", "promoters", "detractors", "csat_n", "csat_satisfied",
    "csat_sum", "csat_sumsq", "ces_n", "ces_sum", "ces_sumsq",
)  # fmt: skip
"""The keys of one aggregated row (``score_aggregates``): counts and sums that add up."""


@functools.lru_cache(maxsize=16)
def _z(level: float) -> float:
    """The two-sided normal quantile of ``level``; a page asks for the same few levels
    hundreds of times (one interval per topic), and SciPy's ``ppf`` costs ~0.1 ms a call."""
    return float(st.norm.ppf(0.5 + level / 2.0))


@functools.lru_cache(maxsize=4096)
def _t(level: float, df: float) -> float:
    """The two-sided critical t: a page computes hundreds of intervals on a few levels and
    sample sizes, and SciPy's ``ppf`` costs tens of microseconds a call."""
    return float(st.t.ppf(0.5 + level / 2.0, df))


def enough(n: int, min_n: int, *, at_least: int = 1) -> bool:
    """The minimum-n rule: is a figure on ``n`` answers shown as a number?"""
    return n >= max(min_n, at_least)


@dataclass(frozen=True)
class Score:
    """A figure with its interval, or why there is none (``status == "insufficient"``).

    ``low``/``high`` are the interval's ends; ``se`` the standard error used for
    differences; ``details`` holds what belongs to one kind of figure (promoters, sd,
    p-value ...), shown by the API as extra keys.
    """

    status: str
    n: int
    value: float | None = None
    low: float | None = None
    high: float | None = None
    se: float | None = None
    message: str = ""
    details: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def half_width(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2

    @property
    def interval(self) -> list[float] | None:
        if self.low is None or self.high is None:
            return None
        return [self.low, self.high]

    def excludes(self, reference: float) -> bool:
        """Whether the whole interval lies on one side of ``reference`` (strictly)."""
        if not self.ok or self.low is None or self.high is None:
            return False
        if self.high - self.low <= 0:
            return False  # a collapsed interval says nothing about certainty
        return self.low > reference or self.high < reference

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Score:
        """The inverse of ``as_dict`` (stored runs and cached API answers hold dicts)."""
        if data.get("status") != "ok":
            return cls(
                status="insufficient", n=int(data.get("n") or 0), message=data.get("message", "")
            )
        low, high = data["interval"]
        known = {"status", "value", "se", "interval", "n"}
        return cls(
            status="ok",
            n=int(data["n"]),
            value=data["value"],
            low=low,
            high=high,
            se=data.get("se"),
            details={k: v for k, v in data.items() if k not in known},
        )

    def as_dict(self) -> dict[str, Any]:
        if not self.ok:
            return {"status": self.status, "n": self.n, "message": self.message}
        return {
            "status": "ok",
            "value": self.value,
            "se": self.se,
            "interval": self.interval,
            "n": self.n,
            **self.details,
        }


def insufficient(n: int, min_n: int, *, message: str = "") -> Score:
    return Score(
        status="insufficient",
        n=int(n),
        message=message or f"Not enough responses ({int(n)} of at least {int(min_n)}).",
    )


def nps_estimate(
    n: int, promoters: int, detractors: int, *, min_n: int, level: float = 0.95
) -> Score:
    """NPS of the raw counts with the adjusted-Wald interval (see the module docstring)."""
    if not enough(n, min_n):
        return insufficient(n, min_n)
    n_adj = n + NPS_ADJUSTMENT_N
    p_p = (promoters + NPS_ADJUSTMENT_COUNT) / n_adj
    p_d = (detractors + NPS_ADJUSTMENT_COUNT) / n_adj
    se = 100.0 * math.sqrt(max(p_p + p_d - (p_p - p_d) ** 2, 0.0) / n_adj)
    centre = 100.0 * (p_p - p_d)
    z = _z(level)
    return Score(
        status="ok",
        n=int(n),
        value=100.0 * (promoters - detractors) / n,
        low=max(centre - z * se, -100.0),
        high=min(centre + z * se, 100.0),
        se=se,
        details={
            "promoters": int(promoters),
            "passives": int(n - promoters - detractors),
            "detractors": int(detractors),
            "promoter_pct": 100.0 * promoters / n,
            "detractor_pct": 100.0 * detractors / n,
        },
    )


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


def proportion_estimate(successes: int, n: int, *, min_n: int, level: float = 0.95) -> Score:
    """A percentage with its Wilson interval (in percent)."""
    if not enough(n, min_n):
        return insufficient(n, min_n)
    low, high = wilson_interval(successes, n, level)
    p = successes / n
    return Score(
        status="ok",
        n=int(n),
        value=100.0 * p,
        low=100.0 * low,
        high=100.0 * high,
        se=100.0 * math.sqrt(p * (1 - p) / n),
        details={"successes": int(successes)},
    )


def mean_estimate(
    n: int, total: float, total_squares: float, *, min_n: int, level: float = 0.95
) -> Score:
    """Mean with a t interval (n − 1 degrees of freedom) from n, Σx and Σx²."""
    if not enough(n, min_n, at_least=2):
        return insufficient(n, max(min_n, 2))
    mean = total / n
    variance = max((total_squares - n * mean * mean) / (n - 1), 0.0)
    se = math.sqrt(variance / n)
    t = _t(level, n - 1)
    return Score(
        status="ok",
        n=int(n),
        value=mean,
        low=mean - t * se,
        high=mean + t * se,
        se=se,
        details={"sd": math.sqrt(variance)},
    )


def difference(later: Score, earlier: Score, *, kind: str = "normal", level: float = 0.95) -> Score:
    """Change ``later − earlier`` of two independent estimates, its interval and p-value.

    ``kind="normal"`` uses the normal distribution (NPS, proportions); ``kind="t"`` uses
    Welch's t with Welch–Satterthwaite degrees of freedom (means). ``n`` is the smaller of
    the two periods' answers.
    """
    if not (later.ok and earlier.ok):
        return insufficient(
            min(later.n, earlier.n), 0, message="Not enough responses in one of the periods."
        )
    assert later.value is not None and earlier.value is not None
    assert later.se is not None and earlier.se is not None
    diff = later.value - earlier.value
    var_a, var_b = later.se**2, earlier.se**2
    se = math.sqrt(var_a + var_b)
    if kind == "t":
        n_a, n_b = later.n, earlier.n
        denominator = (var_a**2) / (n_a - 1) + (var_b**2) / (n_b - 1)
        df = (var_a + var_b) ** 2 / denominator if denominator > 0 else float(n_a + n_b - 2)
        critical = _t(level, df)
        p_value = float(2 * st.t.sf(abs(diff) / se, df)) if se > 0 else (0.0 if diff else 1.0)
    else:
        critical = _z(level)
        p_value = float(2 * st.norm.sf(abs(diff) / se)) if se > 0 else (0.0 if diff else 1.0)
    return Score(
        status="ok",
        n=min(later.n, earlier.n),
        value=diff,
        low=diff - critical * se,
        high=diff + critical * se,
        se=se,
        details={"p_value": p_value, "significant": p_value < 1 - level},
    )


@dataclass(frozen=True)
class ScoreBlock:
    """All scores of one group (a department, touchpoint, week ...) from its counts."""

    responses: int
    comments: int
    nps: Score
    csat_pct: Score
    csat_mean: Score
    ces_mean: Score

    @property
    def promoters(self) -> int:
        return int(self.nps.details.get("promoters", 0))

    @property
    def detractors(self) -> int:
        return int(self.nps.details.get("detractors", 0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "responses": self.responses,
            "nps": self.nps.as_dict(),
            "csat_pct": self.csat_pct.as_dict(),
            "csat_mean": self.csat_mean.as_dict(),
            "ces_mean": self.ces_mean.as_dict(),
        }


def score_block(row: Mapping[str, Any], *, min_n: int, level: float = 0.95) -> ScoreBlock:
    """All scores of one group from one aggregated row (keys: ``COUNT_KEYS``)."""

    def integer(key: str) -> int:
        return int(row.get(key) or 0)

    def number(key: str) -> float:
        return float(row.get(key) or 0)

    return ScoreBlock(
        responses=integer("responses"),
        comments=integer("comments"),
        nps=nps_estimate(
            integer("nps_n"),
            integer("promoters"),
            integer("detractors"),
            min_n=min_n,
            level=level,
        ),
        csat_pct=proportion_estimate(
            integer("csat_satisfied"), integer("csat_n"), min_n=min_n, level=level
        ),
        csat_mean=mean_estimate(
            integer("csat_n"), number("csat_sum"), number("csat_sumsq"), min_n=min_n, level=level
        ),
        ces_mean=mean_estimate(
            integer("ces_n"), number("ces_sum"), number("ces_sumsq"), min_n=min_n, level=level
        ),
    )


def score_block_change(
    later: ScoreBlock, earlier: ScoreBlock, level: float = 0.95
) -> dict[str, Score]:
    """Changes of each score between two ``score_block`` results."""
    return {
        "nps": difference(later.nps, earlier.nps, level=level),
        "csat_pct": difference(later.csat_pct, earlier.csat_pct, level=level),
        "csat_mean": difference(later.csat_mean, earlier.csat_mean, kind="t", level=level),
        "ces_mean": difference(later.ces_mean, earlier.ces_mean, kind="t", level=level),
    }


def counts_add(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Sum several aggregated rows (touchpoints into their department, weeks into months)."""
    total: dict[str, float] = dict.fromkeys(COUNT_KEYS, 0.0)
    for row in rows:
        for key in COUNT_KEYS:
            total[key] += float(row.get(key) or 0)
    return total


# --- How many digits a figure is shown with -------------------------------------------------

MAX_DECIMALS = 3


def score_decimals(score: Score | None) -> int:
    """Decimals that the interval's width supports: the half-width to one significant digit.

    ±12 → 0 decimals, ±3 → 0, ±0.3 → 1, ±0.04 → 2 (at most ``MAX_DECIMALS``). A figure
    without an interval (or of zero width) is shown whole.
    """
    return interval_decimals(score.half_width if score is not None else None)


def interval_decimals(half_width: float | None) -> int:
    """Decimals that an interval of this half-width supports (one significant digit of it),
    for any estimate shown with its interval: driver shares, effects, scores."""
    if half_width is None or half_width <= 0 or not math.isfinite(half_width):
        return 0
    return max(0, min(MAX_DECIMALS, -math.floor(math.log10(half_width))))


def interval_places(half_width: float | None) -> int:
    """Where to round a figure of any size with this interval: ``interval_decimals`` below
    10, and two significant digits of the half-width from 10 on (a negative number of
    places, for ``round``): ±22,650 → hundreds are noise, thousands are shown (−3)."""
    if half_width is None or half_width <= 0 or not math.isfinite(half_width):
        return 0
    if half_width < 10:
        return interval_decimals(half_width)
    return 1 - math.floor(math.log10(half_width))


def figure_text(
    value: float, low: float | None, high: float | None, *, signed: bool = False
) -> dict[str, str]:
    """A value and its interval's ends as shown, rounded where the interval allows
    (``interval_places``): large money values to their thousands, small effects to the
    digit their interval supports, so no interval reads "−0.04 to −0.04". With ``signed``
    an increase carries "+"; minus signs are typographic (U+2212)."""
    half = (high - low) / 2 if low is not None and high is not None else None
    places = interval_places(half)

    def shown(number: float, sign: bool) -> str:
        rounded = round(number, places)
        if rounded == 0:
            rounded = 0.0  # never "−0"
        text = f"{rounded:,.{max(places, 0)}f}"
        if sign and rounded > 0:
            text = "+" + text
        return text.replace("-", "\u2212")

    return {
        "value": shown(value, signed),
        "low": shown(low, signed) if low is not None else "",
        "high": shown(high, signed) if high is not None else "",
    }


def p_value_text(p_value: float | None) -> str:
    """A p-value as read: "p < 0.001" when tiny (never "p = 0.000"), else three decimals."""
    if p_value is None or not math.isfinite(p_value):
        return ""
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3f}"


def score_text(score: Score, *, decimals: int | None = None) -> dict[str, str]:
    """The value and the interval's ends as shown, with digits from ``score_decimals``."""
    places = score_decimals(score) if decimals is None else decimals
    if not score.ok or score.value is None or score.low is None or score.high is None:
        return {"value": "", "low": "", "high": "", "half_width": ""}
    half = score.half_width or 0.0

    def shown(number: float) -> str:
        rounded = round(number, places)
        return f"{(rounded if rounded != 0 else 0.0):.{places}f}"  # never "-0"

    return {
        "value": shown(score.value),
        "low": shown(score.low),
        "high": shown(score.high),
        "half_width": shown(half),
    }
