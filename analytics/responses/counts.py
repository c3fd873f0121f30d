"""What "responses" and "comments" count, the one definition every surface aggregates.

The overview's "12,224 responses, 9,870 with comments" (through
``analytics.insights.selectors.score_aggregates``) and the Topics pages' "9,870 comments in
the window" (``analytics.text.selectors.comments_count``) both use ``response_count_aggregates``
over the same response scope, so the two figures cannot drift apart.
"""

from __future__ import annotations

from django.db.models import Count, Q


def response_count_aggregates(*, prefix: str = "", count: str = "pk") -> dict[str, Count]:
    """``responses`` and ``comments`` (responses with a non-empty comment) as aggregates;
    ``prefix``/``count`` as in ``score_aggregates`` for a related model."""
    distinct = count != "pk"
    return {
        "responses": Count(count, distinct=distinct),
        "comments": Count(count, filter=~Q(**{f"{prefix}comment": ""}), distinct=distinct),
    }
