"""What "responses", "comments" and the score counts are: the one definition every surface
aggregates.

The overview's "12,224 responses, 9,870 with comments" (through ``score_aggregates``) and the
Topics pages' "9,870 comments in the window" (``analytics.text.selectors.comments_count``)
both use ``response_count_aggregates`` over the same response scope, so the two figures
cannot drift apart. ``score_aggregates`` adds the counts and sums behind NPS, CSAT and CES;
the daily score roll-up (``analytics.responses.score_days``) and the topic counts
(``analytics.text.topic_counts``) are computed with it too.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, Sum


def response_count_aggregates(*, prefix: str = "", count: str = "pk") -> dict[str, Count]:
    """``responses`` and ``comments`` (responses with a non-empty comment) as aggregates;
    ``prefix``/``count`` as in ``score_aggregates`` for a related model."""
    distinct = count != "pk"
    return {
        "responses": Count(count, distinct=distinct),
        "comments": Count(count, filter=~Q(**{f"{prefix}comment": ""}), distinct=distinct),
    }


def score_aggregates(*, prefix: str = "", count: str = "pk") -> dict[str, Any]:
    """Counts and sums behind every score (keys ``analytics.stats.scores.COUNT_KEYS``).

    Over responses by default. For a related model (topic mentions) ``prefix`` is the path
    to the response (``"response__"``) and ``count`` the response's id column
    (``"response_id"``), counted distinct so that each response counts once. Over rows that
    are one per response already (a topic's own mentions: one per response and topic)
    ``count="pk"`` counts them without the cost of DISTINCT.
    """
    distinct = count != "pk"

    def counted(condition: Q | None = None) -> Count:
        return Count(count, filter=condition, distinct=distinct)

    def column(name: str) -> str:
        return f"{prefix}{name}"

    return {
        **response_count_aggregates(prefix=prefix, count=count),
        "nps_n": counted(Q(**{column("nps__isnull"): False})),
        "promoters": counted(Q(**{column("nps__gte"): 9})),
        "detractors": counted(Q(**{column("nps__lte"): 6})),
        "csat_n": counted(Q(**{column("csat__isnull"): False})),
        "csat_satisfied": counted(Q(**{column("csat__gte"): 4})),
        "csat_sum": Sum(column("csat")),
        "csat_sumsq": Sum(F(column("csat")) * F(column("csat"))),
        "ces_n": counted(Q(**{column("ces__isnull"): False})),
        "ces_sum": Sum(column("ces")),
        "ces_sumsq": Sum(F(column("ces")) * F(column("ces"))),
    }
