"""The counts behind every topic figure: one definition, aggregated from raw mentions.

Per topic, two kinds of rows:

- **own**: the topic's own mentions. A mention is unique per response and topic, so every
  count over them is also a count of responses, without ``DISTINCT``.
- **with sub-topics** (parent topics only): the mentions of the topic or of any of its
  sub-topics, each response counted once however many sub-topics it mentions, as the
  Topics page's parent figures and the overview's topic table count them.

Each row holds (``TOPIC_COUNT_KEYS``):

- over the responses mentioning the topic, each once: the score counts and sums
  (``analytics.stats.scores.COUNT_KEYS``, defined by ``score_aggregates``: responses,
  comments, NPS, CSAT and CES counts and sums), and ``positive_responses`` /
  ``negative_responses`` (responses with at least one positive / negative mention);
- over the mentions: ``mentions``, ``positive`` / ``neutral`` / ``negative`` (mentions by
  sentiment label) and ``sentiment_n`` / ``sentiment_sum`` / ``sentiment_sumsq`` (the
  mentions' sentiments, for the mean and its interval).

Every count adds up across days and departments (a response has one day and at most one
department), which is what lets the topic roll-up (``analytics.text.rollup``) store them
per day and department and sum them back. Sentiment sums are exact decimals (each sentiment
to 8 places), so a sum read from the roll-up equals the raw sum to the last digit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    ExpressionWrapper,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Coalesce

from analytics.responses.counts import score_aggregates
from analytics.stats.scores import COUNT_KEYS
from analytics.text.choices import SentimentLabel
from analytics.text.models import TopicMention

MENTION_KEYS = (
    "mentions",
    "positive",
    "neutral",
    "negative",
    "sentiment_n",
    "sentiment_sum",
    "sentiment_sumsq",
)
"""Counts and sums over a topic's mentions."""

RESPONSE_LABEL_KEYS = ("positive_responses", "negative_responses")
"""Responses with at least one positive / negative mention of the topic."""

TOPIC_COUNT_KEYS = (*COUNT_KEYS, *RESPONSE_LABEL_KEYS, *MENTION_KEYS)
"""The keys of one topic row (see the module docstring)."""

DECIMAL_KEYS = {"sentiment_sum": Decimal("1e-8"), "sentiment_sumsq": Decimal("1e-16")}
"""The sentiment sums, exact decimals with these many places (the rest are integers)."""

SENTIMENT_DECIMAL: DecimalField[Decimal, Decimal] = DecimalField(max_digits=12, decimal_places=8)
SENTIMENT_SQUARE_DECIMAL: DecimalField[Decimal, Decimal] = DecimalField(
    max_digits=20, decimal_places=16
)

TopicRowKey = tuple[int, bool]
"""``(topic id, with sub-topics)``."""


def _mention_aggregates() -> dict[str, Aggregate]:
    sentiment = Cast("sentiment", output_field=SENTIMENT_DECIMAL)

    def labelled(label: str) -> Count:
        return Count("pk", filter=Q(sentiment_label=label))

    return {
        "mentions": Count("pk"),
        "positive": labelled(SentimentLabel.POSITIVE),
        "neutral": labelled(SentimentLabel.NEUTRAL),
        "negative": labelled(SentimentLabel.NEGATIVE),
        "sentiment_n": Count("sentiment"),
        "sentiment_sum": Sum(sentiment),
        "sentiment_sumsq": Sum(
            ExpressionWrapper(sentiment * sentiment, output_field=SENTIMENT_SQUARE_DECIMAL)
        ),
    }


def _own(mentions: QuerySet[TopicMention], keys: Mapping[str, Any]) -> QuerySet[Any]:
    """The own rows: one grouped query (each mention is one response)."""
    labelled = _mention_aggregates()
    return (
        mentions.order_by()
        .annotate(**keys)
        .values("topic_id", *keys)
        .annotate(
            **score_aggregates(prefix="response__", count="pk"),
            positive_responses=labelled["positive"],
            negative_responses=labelled["negative"],
            **labelled,
        )
    )


def _per_response(aggregates: Mapping[str, Aggregate]) -> dict[str, Aggregate]:
    """Score aggregates over one response's mentions of a parent topic's group: a count
    stays a count (at least 1 when the response counts), a sum of the response's value
    becomes that value (the maximum of equal values), so the outer query can count each
    response once and add each value once."""
    return {
        key: Max(aggregate.get_source_expressions()[0]) if isinstance(aggregate, Sum) else aggregate
        for key, aggregate in aggregates.items()
    }


def _with_subtopics_sql(
    mentions: QuerySet[TopicMention], keys: Mapping[str, Any]
) -> tuple[str, list[Any]]:
    """The rows of parent topics with their sub-topics: per response and parent first (one
    row each, ``score_aggregates`` over its mentions), then per parent, adding each
    response once. Two hash aggregations instead of ``COUNT(DISTINCT)``; the same SQL on
    PostgreSQL and SQLite."""
    scores = score_aggregates(prefix="response__", count="pk")
    per_response = (
        mentions.order_by()
        .annotate(**keys, root=Coalesce("topic__parent_id", "topic_id"))
        .values("response_id", *keys, "root")
        .annotate(**_per_response(scores), **_mention_aggregates())
    )
    inner, params = per_response.query.sql_with_params()
    qn = connection.ops.quote_name

    def at_least_one(column: str) -> str:
        return f"SUM(CASE WHEN {qn(column)} > 0 THEN 1 ELSE 0 END)"

    columns = [f"{qn(key)}" for key in keys]
    columns.append(f"{qn('root')} AS {qn('topic_id')}")
    for key in COUNT_KEYS:
        total = f"SUM({qn(key)})" if isinstance(scores[key], Sum) else at_least_one(key)
        columns.append(f"{total} AS {qn(key)}")
    columns.append(f"{at_least_one('positive')} AS {qn('positive_responses')}")
    columns.append(f"{at_least_one('negative')} AS {qn('negative_responses')}")
    columns.extend(f"SUM({qn(key)}) AS {qn(key)}" for key in MENTION_KEYS)
    group = ", ".join([*(qn(key) for key in keys), qn("root")])
    sql = f"SELECT {', '.join(columns)} FROM ({inner}) per_response GROUP BY {group}"
    return sql, list(params)


def topic_row_clean(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row's counts as ints and its sentiment sums as exact decimals (None, a float from
    SQLite or a database decimal all become the same value)."""
    clean: dict[str, Any] = {}
    for key in TOPIC_COUNT_KEYS:
        value = row.get(key)
        places = DECIMAL_KEYS.get(key)
        if places is None:
            clean[key] = int(value or 0)
        else:
            number = value if isinstance(value, Decimal) else Decimal(repr(float(value or 0)))
            clean[key] = number.quantize(places)
    return clean


def topic_rows_sql(
    mentions: QuerySet[TopicMention], *, keys: Mapping[str, Any] | None = None
) -> list[tuple[bool, tuple[str, list[Any]]]]:
    """The SQL of the own rows (``False``) and of the with-sub-topics rows (``True``) of
    ``mentions`` (a filtered queryset), grouped by ``keys`` (name → expression on a mention,
    e.g. the response's day) and the topic: columns ``topic_id``, the keys and
    ``TOPIC_COUNT_KEYS``, for reading or for ``INSERT ... SELECT``."""
    keys = dict(keys or {})
    own = _own(mentions, keys)
    own_sql, own_params = own.query.get_compiler(using=own.db).as_sql()
    return [(False, (own_sql, list(own_params))), (True, _with_subtopics_sql(mentions, keys))]


def topic_rows_raw(
    mentions: QuerySet[TopicMention], *, keys: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Own and with-sub-topics rows of ``mentions`` grouped by ``keys`` as well
    (``topic_rows_sql``): each row holds the keys, ``topic_id``, ``with_subtopics`` and
    ``TOPIC_COUNT_KEYS``. Two queries."""
    keys = dict(keys or {})
    rows: list[dict[str, Any]] = []
    with connection.cursor() as cursor:
        for with_subtopics, (sql, params) in topic_rows_sql(mentions, keys=keys):
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                rows.append(
                    {
                        **{key: row[key] for key in keys},
                        "topic_id": int(row["topic_id"]),
                        "with_subtopics": with_subtopics,
                        **topic_row_clean(row),
                    }
                )
    return rows


def topic_rows_add(rows: Iterable[Mapping[str, Any]]) -> dict[TopicRowKey, dict[str, Any]]:
    """Rows added up per ``(topic id, with sub-topics)``."""
    totals: dict[TopicRowKey, dict[str, Any]] = {}
    for row in rows:
        key = (int(row["topic_id"]), bool(row["with_subtopics"]))
        counts = topic_row_clean(row)
        total = totals.setdefault(key, dict.fromkeys(TOPIC_COUNT_KEYS, 0))
        for name in TOPIC_COUNT_KEYS:
            total[name] += counts[name]
    return totals
