"""A topic over time: how often it comes up and how customers feel about it, per period.

From counts only (no rows, no Django), so one grouped query per surface suffices:

- **share of comments** mentioning the topic: ``mentions / comments`` of the period, with
  the Wilson score interval (``scores.proportion_estimate``);
- **share negative**: of the responses mentioning the topic, those whose mention is
  negative, with the Wilson interval;
- **mean sentiment** of the mentions (−1 … 1) with a t interval from n, Σx and Σx²
  (``scores.mean_estimate``);
- the **change** of the share between the first and the second half of the periods
  (``scores.difference``, independent samples), the trend a list of topics shows.

Every figure follows the one minimum-n rule: fewer answers than ``min_n`` give
"insufficient", never a number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from analytics.stats.scores import Score, difference, mean_estimate, proportion_estimate


@dataclass(frozen=True)
class TopicPeriodCounts:
    """One period's counts: comments in scope, and of them those mentioning the topic."""

    start: dt.date
    comments: int
    mentions: int
    negative: int = 0
    sentiment_n: int = 0
    sentiment_sum: float = 0.0
    sentiment_sumsq: float = 0.0


@dataclass(frozen=True)
class TopicPeriod:
    """One period's estimates, each a ``Score`` (percentages for the shares)."""

    start: dt.date
    comments: int
    mentions: int
    share: Score
    negative_share: Score
    sentiment: Score


def topic_period(counts: TopicPeriodCounts, *, min_n: int) -> TopicPeriod:
    """The estimates of one period (see the module docstring)."""
    return TopicPeriod(
        start=counts.start,
        comments=counts.comments,
        mentions=counts.mentions,
        share=proportion_estimate(counts.mentions, counts.comments, min_n=min_n),
        negative_share=proportion_estimate(counts.negative, counts.mentions, min_n=min_n),
        sentiment=mean_estimate(
            counts.sentiment_n, counts.sentiment_sum, counts.sentiment_sumsq, min_n=min_n
        ),
    )


def topic_trend(periods: Sequence[TopicPeriodCounts], *, min_n: int) -> list[TopicPeriod]:
    """The estimates of every period, in the order given."""
    return [topic_period(counts, min_n=min_n) for counts in periods]


def share_change(
    earlier: tuple[int, int], later: tuple[int, int], *, min_n: int, level: float = 0.95
) -> Score:
    """Change in percentage points of the share ``mentions / comments`` from ``earlier`` to
    ``later`` (each ``(mentions, comments)``), with its interval; "insufficient" when either
    part has fewer than ``min_n`` comments."""
    return difference(
        proportion_estimate(later[0], later[1], min_n=min_n, level=level),
        proportion_estimate(earlier[0], earlier[1], min_n=min_n, level=level),
        level=level,
    )
