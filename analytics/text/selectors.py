"""Text analytics reads: the taxonomy with counts, a response's tags, verbatims, themes,
and the NPS counts per topic behind topic impact."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Cast
from django.utils import timezone

from analytics.responses.cache import DataVersion, figures_cached
from analytics.responses.sample import min_responses
from analytics.responses.score_days import period_start, score_counts_get
from analytics.responses.window import window_days
from analytics.stats.scores import Score
from analytics.stats.topic_trend import (
    TopicPeriod,
    TopicPeriodCounts,
    share_change,
    topic_trend,
)
from analytics.text.engine.sentiment import SentimentScorer, label_for
from analytics.text.models import (
    ResponseAnalysis,
    SentimentLabel,
    TagCorrection,
    ThemeProposal,
    Topic,
    TopicMention,
)
from analytics.text.rollup import topic_days_read, topic_rows_read
from cxhub import access
from cxhub.errors import InvalidInput, NotFound
from feedback.filters import response_scope_q, responses_in_scope, window_label
from feedback.models import Channel, Department, Response, Touchpoint


def topic_row(topic: Topic) -> dict[str, Any]:
    """A topic as the API and the Topics page describe it (without counts)."""
    return {
        "id": topic.pk,
        "slug": topic.slug,
        "name": topic.name,
        "parent": topic.parent.slug if topic.parent else None,
        "description": topic.description,
        "keywords": topic.keywords,
        "origin": topic.origin,
        "is_active": topic.is_active,
    }


def topic_get(*, slug: str) -> Topic:
    topic = Topic.objects.select_related("parent").filter(slug=slug).first()
    if topic is None:
        raise NotFound(f"Topic '{slug}' does not exist.")
    return topic


def response_topic_q(slugs: list[str]) -> Q:
    """Responses with a mention of any of the topics ``slugs`` or of their children (the
    scope's ``topic`` filter, registered with ``feedback.filters``)."""
    ids = Topic.objects.filter(Q(slug__in=slugs) | Q(parent__slug__in=slugs)).values("id")
    return Q(pk__in=TopicMention.objects.filter(topic_id__in=ids).values("response_id"))


def topic_slugs() -> list[str]:
    return list(Topic.objects.values_list("slug", flat=True))


def response_sentiment_q(labels: list[str]) -> Q:
    """Responses whose comment sentiment is one of ``labels`` (the scope's ``sentiment``)."""
    return Q(analysis__sentiment_label__in=labels)


def sentiment_labels() -> list[str]:
    return list(SentimentLabel.values)


@dataclass(frozen=True)
class TopicFilters:
    """Which mentions the taxonomy counts: those of responses in a cleaned response scope
    (``feedback.filters.response_scope_clean``)."""

    scope: Mapping[str, Any] = field(default_factory=dict)

    def mention_q(self) -> Q:
        return response_scope_q(self.scope, prefix="response__")


def _mean_sentiment(row: Mapping[str, Any]) -> float | None:
    """The mean of the mentions' sentiments (None without one), from the exact sums."""
    n = int(row.get("sentiment_n") or 0)
    return float(Decimal(row["sentiment_sum"]) / n) if n else None


def _stats(row: Mapping[str, Any]) -> dict[str, Any]:
    mean = _mean_sentiment(row)
    return {
        "responses": int(row.get("responses") or 0),
        "mean_sentiment": round(mean, 4) if mean is not None else None,
        "positive": int(row.get("positive") or 0),
        "neutral": int(row.get("neutral") or 0),
        "negative": int(row.get("negative") or 0),
    }


_EMPTY = {"responses": 0, "mean_sentiment": None, "positive": 0, "neutral": 0, "negative": 0}


@dataclass(frozen=True)
class TopicCounts:
    """The topic counts of one response scope (``analytics.text.topic_counts``).

    ``own``: per topic id, its own mentions; ``with_subtopics``: per parent topic id, its
    mentions and its sub-topics', each response once.
    """

    own: dict[int, dict[str, Any]]
    with_subtopics: dict[int, dict[str, Any]]

    def total(self, topic_id: int) -> dict[str, Any] | None:
        """A topic's row as every figure counts it: a parent with its sub-topics."""
        return self.with_subtopics.get(topic_id) or self.own.get(topic_id)


TOPIC_COUNTS_CACHE = "text:topic-counts:v1"


def _scope_key(scope: Mapping[str, Any]) -> str:
    return json.dumps(dict(scope), sort_keys=True, separators=(",", ":"))


def topic_counts_get(
    *, scope: Mapping[str, Any], version: DataVersion | None = None
) -> TopicCounts:
    """The topic counts of a cleaned response scope, cached per scope as the dashboards'
    figures are (``analytics.responses.cache``): on a miss the roll-up's rows plus the raw
    mentions of the days it does not hold yet (``analytics.text.rollup``); on a hit nothing
    but the data version."""

    def compute() -> TopicCounts:
        rows = topic_rows_read(scope=scope)
        return TopicCounts(
            own={topic_id: row for (topic_id, rolled), row in rows.items() if not rolled},
            with_subtopics={topic_id: row for (topic_id, rolled), row in rows.items() if rolled},
        )

    return figures_cached(TOPIC_COUNTS_CACHE, _scope_key(scope), compute, version=version)


@dataclass(frozen=True)
class TopicWindow:
    """Calendar days ``date_from`` … ``date_to`` (inclusive); ``default`` if nobody chose."""

    date_from: dt.date
    date_to: dt.date
    default: bool

    @property
    def label(self) -> str:
        return window_label(self.date_from, self.date_to, default=self.default)

    def filters(self, *, scope: Mapping[str, Any] | None = None) -> TopicFilters:
        """The mentions of a cleaned response scope's other filters in this window."""
        return TopicFilters(
            scope={
                **(scope or {}),
                "date_from": self.date_from.isoformat(),
                "date_to": self.date_to.isoformat(),
            }
        )


def topic_window_get(*, date_from: str = "", date_to: str = "") -> TopicWindow:
    """The window of ISO dates given, or the default one ending on the newest response's
    day; a bad date is a 400 on its field."""
    errors: dict[str, list[str]] = {}
    days: dict[str, dt.date | None] = {}
    for name, raw in (("date_from", date_from), ("date_to", date_to)):
        try:
            days[name] = dt.date.fromisoformat(raw.strip()) if raw.strip() else None
        except ValueError:
            errors[name] = ["Enter a date as YYYY-MM-DD."]
    if errors:
        raise InvalidInput(field_errors=errors)
    last = Response.objects.order_by().aggregate(last=Max("submitted_at"))["last"]
    latest_day = timezone.localdate(last) if last else timezone.localdate()
    begin, end = window_days(days["date_from"], days["date_to"], latest_day=latest_day)
    if begin > end:
        raise InvalidInput(
            field_errors={"date_from": ["The start date must be on or before the end date."]}
        )
    return TopicWindow(begin, end, default=not (days["date_from"] or days["date_to"]))


def topic_mention_stats(
    *, scope: Mapping[str, Any], version: DataVersion | None = None
) -> dict[int, dict[str, Any]]:
    """The one count of a topic's mentions, per topic id, in a cleaned response scope:
    responses mentioning the topic or, for a parent topic, any of its sub-topics, each
    response once (key ``responses``), with the other ``TOPIC_COUNT_KEYS`` over the same
    responses and mentions and their ``mean_sentiment`` (``topic_counts_get``, cached)."""
    counts = topic_counts_get(scope=scope, version=version)
    return {
        topic_id: {**row, "mean_sentiment": _mean_sentiment(row)}
        for topic_id, row in {**counts.own, **counts.with_subtopics}.items()
    }


def topics_with_stats(
    *,
    filters: TopicFilters | None = None,
    include_inactive: bool = False,
    counts: TopicCounts | None = None,
) -> list[dict[str, Any]]:
    """The taxonomy (parents first, then their children) with counts and mean sentiment.

    ``own`` counts mentions of the topic itself; ``total`` counts responses mentioning the
    topic or any of its children, each response once (``topic_counts_get``, or ``counts``
    when the caller has them). One query for the taxonomy besides the counts.
    """
    filters = filters or TopicFilters()
    if counts is None:
        counts = topic_counts_get(scope=filters.scope)
    topics = Topic.objects.select_related("parent").order_by("name")
    if not include_inactive:
        topics = topics.filter(is_active=True)
    own, rolled = counts.own, counts.with_subtopics
    result: list[dict[str, Any]] = []
    children: dict[int, list[Topic]] = {}
    roots: list[Topic] = []
    topic_list = list(topics)
    for topic in topic_list:
        if topic.parent_id is None:
            roots.append(topic)
        else:
            children.setdefault(topic.parent_id, []).append(topic)
    root_ids = {t.pk for t in roots}
    orphans = [t for t in topic_list if t.parent_id is not None and t.parent_id not in root_ids]

    def row(topic: Topic) -> dict[str, Any]:
        own_stats = _stats(own[topic.pk]) if topic.pk in own else dict(_EMPTY)
        total_stats = (
            _stats(rolled[topic.pk])
            if topic.parent_id is None and topic.pk in rolled
            else own_stats
        )
        return {
            **topic_row(topic),
            "own": own_stats,
            "total": total_stats,
        }

    for topic in roots:
        result.append(row(topic))
        result.extend(row(child) for child in children.get(topic.pk, []))
    result.extend(row(topic) for topic in orphans)
    return result


COMMENTS_COUNT_CACHE = "text:comments-count:v1"


def comments_count(
    *, scope: Mapping[str, Any], version: DataVersion | None = None
) -> dict[str, int]:
    """Responses and comments in a cleaned response scope, counted as the overview counts
    them (``score_counts_get``: the daily score roll-up), cached per scope like the figures."""

    def compute() -> dict[str, int]:
        (counts,) = score_counts_get(scope)
        return {key: int(counts[key]) for key in ("responses", "comments")}

    return figures_cached(COMMENTS_COUNT_CACHE, _scope_key(scope), compute, version=version)


TREND_WEEKS_UP_TO_DAYS = 92
"""A window of up to 13 weeks is shown week by week, a longer one month by month."""


def trend_period(*, date_from: dt.date, date_to: dt.date) -> str:
    """ "week" or "month": the period a topic's trend over this window is shown in."""
    return "week" if (date_to - date_from).days < TREND_WEEKS_UP_TO_DAYS else "month"


@dataclass(frozen=True)
class TopicTrend:
    """A topic per week or month of a window: counts and estimates with 95% intervals."""

    period: str
    periods: list[TopicPeriod]


TOPIC_TREND_CACHE = "text:topic-trend:v1"


def topic_trend_get(
    *,
    topic: Topic,
    scope: Mapping[str, Any],
    period: str,
    version: DataVersion | None = None,
) -> TopicTrend:
    """Per ``period`` ("week" or "month", in the project's time zone) of a cleaned scope:
    the comments, those mentioning the topic or a sub-topic (each response once, as
    ``topic_mention_stats`` counts), the negative ones and the mentions' sentiment, with
    their intervals (``analytics.stats.topic_trend``). The topic's counts per day
    (``topic_days_read``: the topic roll-up and the raw days it does not hold) added up per
    period, and the comments per period (``score_counts_get``); cached per topic, period
    and scope."""
    if period not in ("week", "month"):
        raise InvalidInput(field_errors={"period": ["Must be week or month."]})

    def compute() -> TopicTrend:
        comments = {
            row["period"]: int(row["comments"])
            for row in score_counts_get(scope, period=period)
            if row["comments"]
        }
        mentioned: dict[dt.date, dict[str, Any]] = {}
        days = topic_days_read(
            topic_id=topic.pk, with_subtopics=topic.parent_id is None, scope=scope
        )
        for day, row in days.items():
            total = mentioned.setdefault(period_start(day, period), dict.fromkeys(row, 0))
            for key, value in row.items():
                total[key] += value
        counts = []
        for start in sorted(comments):
            row = mentioned.get(start, {})
            counts.append(
                TopicPeriodCounts(
                    start=start,
                    comments=comments[start],
                    mentions=int(row.get("responses") or 0),
                    negative=int(row.get("negative_responses") or 0),
                    sentiment_n=int(row.get("sentiment_n") or 0),
                    sentiment_sum=float(row.get("sentiment_sum") or 0),
                    sentiment_sumsq=float(row.get("sentiment_sumsq") or 0),
                )
            )
        return TopicTrend(period=period, periods=topic_trend(counts, min_n=min_responses()))

    return figures_cached(
        TOPIC_TREND_CACHE, f"{topic.pk}:{period}:{_scope_key(scope)}", compute, version=version
    )


def topic_share_changes(
    *,
    window: TopicWindow,
    scope: Mapping[str, Any] | None = None,
    version: DataVersion | None = None,
) -> dict[int, Score]:
    """Per topic id, the change (percentage points, with its interval) of the share of
    comments mentioning it from the first half of the window to the second: the trend the
    Topics page shows. The topic counts of each half (``topic_counts_get``, cached)."""
    middle = window.date_from + (window.date_to - window.date_from) // 2
    halves = (
        TopicWindow(window.date_from, middle, default=False),
        TopicWindow(middle + dt.timedelta(days=1), window.date_to, default=False),
    )
    counted = []
    for half in halves:
        half_scope = half.filters(scope=scope).scope
        counts = topic_counts_get(scope=half_scope, version=version)
        comments = comments_count(scope=half_scope, version=version)["comments"]
        counted.append(({**counts.own, **counts.with_subtopics}, comments))
    (early, early_comments), (late, late_comments) = counted
    minimum = min_responses()
    return {
        topic_id: share_change(
            (int(early.get(topic_id, {}).get("responses") or 0), early_comments),
            (int(late.get(topic_id, {}).get("responses") or 0), late_comments),
            min_n=minimum,
        )
        for topic_id in {*early, *late}
    }


@dataclass(frozen=True)
class TopicFilterChoices:
    """The values the Topics page offers as choices (the scope validates what is sent)."""

    departments: list[tuple[str, str]]
    touchpoints: list[tuple[str, str]]
    channels: list[tuple[str, str]]


def topic_filter_choices(*, user: access.AnyUser) -> TopicFilterChoices:
    """Departments and touchpoints ``user`` may see, and the channels (two queries)."""
    rights = access.access_for(user)
    departments = [
        (slug, name)
        for pk, slug, name in Department.objects.order_by("name").values_list("id", "slug", "name")
        if rights.may_see_department(pk)
    ]
    touchpoints = [
        (slug, name)
        for slug, name, department_id in Touchpoint.objects.order_by(
            "journey__position", "step_position", "name"
        ).values_list("slug", "name", "department_id")
        if rights.may_see_department(department_id)
    ]
    return TopicFilterChoices(departments, touchpoints, list(Channel.choices))


def response_tags(*, response: Response) -> dict[str, Any]:
    """A response's comment analysis, its topics and the corrections people made."""
    analysis = ResponseAnalysis.objects.filter(response=response).first()
    mentions = (
        TopicMention.objects.filter(response=response)
        .select_related("topic")
        .order_by("topic__name")
    )
    corrections = (
        TagCorrection.objects.filter(response=response)
        .select_related("topic", "corrected_by")
        .order_by("-created_at", "-id")
    )
    return {
        "response_id": response.pk,
        "comment": response.comment,
        "analysis": None
        if analysis is None
        else {
            "language": analysis.language,
            "language_supported": analysis.language_supported,
            "sentiment": analysis.sentiment,
            "sentiment_label": analysis.sentiment_label,
            "analysed_at": analysis.analysed_at,
            "taxonomy_version": analysis.taxonomy_version,
        },
        "topics": [
            {
                "topic": m.topic.slug,
                "name": m.topic.name,
                "sentiment": m.sentiment,
                "sentiment_label": m.sentiment_label,
                "origin": m.origin,
                "sentence": m.sentence,
                "start": m.start,
                "end": m.end,
            }
            for m in mentions
        ],
        "corrections": [
            {
                "id": c.pk,
                "topic": c.topic.slug,
                "action": c.action,
                "sentiment": c.sentiment,
                "note": c.note,
                "corrected_by": c.corrected_by.get_username(),
                "created_at": c.created_at,
            }
            for c in corrections
        ],
    }


def topic_verbatims(
    *, topic: Topic, user: access.AnyUser, sentiment: str | None = None, limit: int = 50
) -> list[TopicMention]:
    """The latest mentions of a topic (or its children) with their responses, newest first,
    among the comments ``user`` may read (``cxhub.access``)."""
    ids = [topic.pk, *Topic.objects.filter(parent=topic).values_list("id", flat=True)]
    mentions = access.visible(user, TopicMention.objects.filter(topic_id__in=ids))
    if sentiment:
        if sentiment not in SentimentLabel.values:
            raise InvalidInput(
                field_errors={"sentiment": ["Must be one of: positive, neutral, negative."]}
            )
        mentions = mentions.filter(sentiment_label=sentiment)
    return list(
        mentions.select_related("topic", "response", "response__touchpoint").order_by(
            "-response__submitted_at", "-response_id"
        )[:limit]
    )


@dataclass(frozen=True)
class ResponseTag:
    """One tag of a comment as a list of comments shows it."""

    topic_slug: str
    topic_name: str
    sentiment: float | None
    sentiment_label: str | None
    origin_label: str


def response_topics_map(*, response_ids: list[int]) -> dict[int, list[ResponseTag]]:
    """All tags of these responses, grouped by response, by topic name (one query of plain
    values: a page of comments with a dozen tags each would otherwise build thousands of
    model instances)."""
    origins = dict(TopicMention.Origin.choices)
    grouped: dict[int, list[ResponseTag]] = {}
    for response_id, slug, name, sentiment, label, origin in (
        TopicMention.objects.filter(response_id__in=response_ids)
        .order_by("topic__name")
        .values_list(
            "response_id", "topic__slug", "topic__name", "sentiment", "sentiment_label", "origin"
        )
    ):
        grouped.setdefault(response_id, []).append(
            ResponseTag(slug, name, sentiment, label, str(origins.get(origin, origin)))
        )
    return grouped


def themes_list(*, status: str | None = ThemeProposal.Status.PROPOSED) -> QuerySet[ThemeProposal]:
    themes = ThemeProposal.objects.select_related("accepted_topic", "run").order_by(
        "-created_at", "-size"
    )
    if status:
        if status not in ThemeProposal.Status.values:
            raise InvalidInput(
                field_errors={"status": ["Must be one of: proposed, accepted, dismissed."]}
            )
        themes = themes.filter(status=status)
    return themes


def theme_examples(*, proposals: list[ThemeProposal]) -> dict[int, str]:
    """The comments of all proposals' example responses (one query)."""
    ids = {pk for proposal in proposals for pk in proposal.example_response_ids}
    return dict(Response.objects.filter(pk__in=ids).values_list("id", "comment"))


def topic_nps_counts(
    filters: Mapping[str, Any],
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """NPS counts of all filtered answers and, per topic, of the answers mentioning it.

    Two aggregate queries; a response counts once per topic (mentions are unique per
    response and topic).
    """
    answers = responses_in_scope(filters).filter(nps__isnull=False).order_by()
    totals = answers.aggregate(
        n=Count("pk"),
        promoters=Count("pk", filter=Q(nps__gte=9)),
        detractors=Count("pk", filter=Q(nps__lte=6)),
    )
    per_topic = list(
        TopicMention.objects.filter(response__in=answers.values("pk"))
        .values("topic__slug", "topic__name")
        .annotate(
            n=Count("response", distinct=True),
            promoters=Count("response", distinct=True, filter=Q(response__nps__gte=9)),
            detractors=Count("response", distinct=True, filter=Q(response__nps__lte=6)),
        )
        .order_by("topic__slug")
    )
    return {k: int(v or 0) for k, v in totals.items()}, per_topic


# --- reads the dashboards make (they never query text models themselves) -----------------


def topic_labels(*, topic_ids: list[int]) -> dict[int, tuple[str, str]]:
    """``{topic id: (slug, name)}`` for these topics (one query)."""
    return {
        pk: (slug, name)
        for pk, slug, name in Topic.objects.filter(id__in=topic_ids).values_list(
            "id", "slug", "name"
        )
    }


@dataclass(frozen=True)
class Quote:
    """A customer's sentence that mentions a topic, chosen to illustrate a claim about it."""

    response_id: int
    text: str
    sentiment: float
    submitted_at: dt.datetime


QUOTE_STANCES = (SentimentLabel.NEGATIVE, SentimentLabel.POSITIVE)
QUOTE_CANDIDATES = 80


@functools.lru_cache(maxsize=1)
def _quote_scorer() -> SentimentScorer:
    return SentimentScorer()


def _quote_sentiment(comment: str, start: int | None, mention_sentiment: float) -> float:
    """What the words next to the mention say: the clause around it (``span_sentiment``);
    a tag a person added has no position and keeps the sentiment they gave it."""
    if start is None:
        return mention_sentiment
    return _quote_scorer().span_sentiment(comment, start)


def _quote_key(text: str) -> str:
    """Sentences that differ only by an opening word ("Honestly, …"), case or punctuation
    are the same quote."""
    return re.sub(r"\W+", " ", re.sub(r"^\w+,\s*", "", text.casefold())).strip()


TOPIC_QUOTES_CACHE = "text:topic-quotes:v1"


def _reader_key(user: access.AnyUser | None) -> str:
    """Whose comments a cached choice of quotes may show: everyone's, or some departments'."""
    if user is None:
        return "*"
    rights = access.access_for(user)
    if not rights.has_role:
        return "-"
    return "all" if rights.sees_all else ",".join(str(pk) for pk in sorted(rights.department_ids))


def _quote_candidates(
    *,
    topic_id: int,
    stance: str,
    scope: Mapping[str, Any] | None,
    user: access.AnyUser | None,
) -> list[tuple[Any, ...]]:
    """The ``QUOTE_CANDIDATES`` strongest mentions of the topic or its sub-topics: per topic
    an index-backed ``ORDER BY sentiment LIMIT n`` (``mention_topic_sentiment``), the
    branches joined by ``UNION ALL`` and cut to the strongest again (one query, and one
    for the sub-topics' ids)."""
    ids = [
        topic_id,
        *Topic.objects.filter(parent_id=topic_id).order_by("pk").values_list("id", flat=True),
    ]
    mentions = TopicMention.objects.filter(sentiment_label=stance, sentiment__isnull=False).exclude(
        response__comment=""
    )
    if scope:
        mentions = mentions.filter(response_scope_q(scope, prefix="response__"))
    if user is not None:
        mentions = access.visible(user, mentions)
    strongest = "sentiment" if stance == SentimentLabel.NEGATIVE else "-sentiment"
    order = (strongest, "-submitted_at", "-response_id")
    columns = ("response_id", "comment", "sentence", "start", "sentiment", "submitted_at")
    mentions = mentions.annotate(
        comment=F("response__comment"), submitted_at=F("response__submitted_at")
    )

    def strongest_of(of: QuerySet[TopicMention]) -> QuerySet[Any]:
        return of.order_by(*order).values_list(*columns)[:QUOTE_CANDIDATES]

    if len(ids) == 1:
        return list(strongest_of(mentions.filter(topic_id=topic_id)))
    if not connection.features.supports_slicing_ordering_in_compound:  # SQLite
        return list(strongest_of(mentions.filter(topic_id__in=ids)))
    branches = [strongest_of(mentions.filter(topic_id=pk)) for pk in ids]
    return list(branches[0].union(*branches[1:], all=True).order_by(*order)[:QUOTE_CANDIDATES])


def topic_quotes_get(
    *,
    topic_id: int,
    stance: str,
    scope: Mapping[str, Any] | None = None,
    user: access.AnyUser | None = None,
    limit: int = 3,
    version: DataVersion | None = None,
) -> list[Quote]:
    """The one choice of customers' words that illustrate a claim about a topic: the
    report's and the narrative's quotes, the topic page's and the verbatim explorer's.

    A negative claim ("Wait time costs 10 points of NPS") is illustrated only by negative
    mentions of the topic or its sub-topics, a positive one only by positive mentions, and
    a mention qualifies only if the clause that mentions the topic says so itself: "I got
    through in under a minute, although the advisor was rude" is a negative comment but
    says nothing bad about waiting, so it never illustrates a wait-time complaint. The
    sentence that mentions the topic is quoted, strongest first, newest first among equals,
    each sentence once. ``scope`` (a cleaned response scope) narrows the mentions; with
    ``user`` only comments that user may read are quoted. Cached per topic, scope and
    readable departments like the figures (erasures and tag corrections drop them).
    """
    if stance not in QUOTE_STANCES:
        raise InvalidInput(field_errors={"stance": ["Must be negative or positive."]})

    def compute() -> list[Quote]:
        quotes: list[Quote] = []
        seen: set[str] = set()
        for response_id, comment, sentence, start, sentiment, submitted_at in _quote_candidates(
            topic_id=topic_id, stance=stance, scope=scope, user=user
        ):
            local = _quote_sentiment(comment, start, float(sentiment or 0.0))
            text = (sentence or comment).strip()
            key = _quote_key(text)
            if label_for(local) != stance or key in seen:
                continue
            seen.add(key)
            quotes.append(Quote(response_id, text, round(local, 4), submitted_at))
            if len(quotes) >= limit:
                break
        return quotes

    key = f"{topic_id}:{stance}:{limit}:{_reader_key(user)}:{_scope_key(scope or {})}"
    return figures_cached(TOPIC_QUOTES_CACHE, key, compute, version=version)


def topic_mentions_prefetch() -> Prefetch:
    """Prefetch of a response queryset's topic mentions with their topics, by topic name."""
    return Prefetch(
        "topic_mentions",
        queryset=TopicMention.objects.select_related("topic").order_by("topic__name"),
    )


def topic_choices() -> list[tuple[str, str]]:
    """``(slug, name)`` of the active topics, by name: the choices of a tag correction."""
    return list(Topic.objects.filter(is_active=True).order_by("name").values_list("slug", "name"))


def response_with_tags(*, response_id: int) -> Response:
    """One response with its touchpoint, analysis and topic mentions, as a verbatim shows it."""
    return (
        Response.objects.filter(pk=response_id)
        .select_related("touchpoint", "analysis")
        .prefetch_related(topic_mentions_prefetch())
        .get()
    )


def customer_text_export(customer_id: int, response_ids: Sequence[int]) -> dict[str, Any]:
    """Customer export: the text analysis, topics and tag corrections of their responses."""
    analyses = ResponseAnalysis.objects.filter(response_id__in=response_ids).order_by("response_id")
    mentions = (
        TopicMention.objects.filter(response_id__in=response_ids)
        .select_related("topic")
        .order_by("response_id", "topic__name")
    )
    corrections = (
        TagCorrection.objects.filter(response_id__in=response_ids)
        .select_related("topic", "corrected_by")
        .order_by("response_id", "created_at", "id")
    )
    return {
        "text_analysis": [
            {
                "response_id": a.response_id,
                "language": a.language,
                "sentiment": a.sentiment,
                "sentiment_label": a.sentiment_label,
                "analysed_at": a.analysed_at,
            }
            for a in analyses
        ],
        "topics": [
            {
                "response_id": m.response_id,
                "topic": m.topic.slug,
                "name": m.topic.name,
                "sentence": m.sentence,
                "sentiment": m.sentiment,
                "sentiment_label": m.sentiment_label,
                "origin": m.origin,
            }
            for m in mentions
        ],
        "tag_corrections": [
            {
                "response_id": c.response_id,
                "topic": c.topic.slug,
                "action": c.action,
                "note": c.note,
                "corrected_by": c.corrected_by.get_username(),
                "created_at": c.created_at,
            }
            for c in corrections
        ],
    }


# Topics of many responses in one column: a CSV of every comment streams with no query per
# row. The column holds the topics' ids, not their names: the correlated subquery then reads
# only the (response, topic) unique index, whatever the planner knows of the topics table,
# and the names come from one small map (``topic_names_by_key``). Ids are joined by the ASCII
# unit separator.
TOPIC_ID_SEPARATOR = "\x1f"


class _IdsJoined(Aggregate):
    """``STRING_AGG(id::text, CHR(31))`` on PostgreSQL, ``GROUP_CONCAT(id, CHAR(31))`` on
    SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, CHR(31))"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(
            compiler,
            connection,
            function="GROUP_CONCAT",
            template="%(function)s(%(expressions)s, CHAR(31))",
            **extra_context,
        )


def topic_ids_of_response() -> Subquery:
    """The ids of the outer response's topics (``OuterRef("pk")``) in one text column, joined
    by ``TOPIC_ID_SEPARATOR`` in no particular order (``topic_names_listed`` names them)."""
    ids = (
        TopicMention.objects.filter(response=OuterRef("pk"))
        .order_by()
        .values("response")
        .annotate(ids=_IdsJoined(Cast("topic_id", TextField())))
        .values("ids")
    )
    return Subquery(ids, output_field=TextField())


def topic_names_by_key() -> dict[str, str]:
    """Every topic's name (active or not) by its id as text: the names of
    ``topic_ids_of_response`` (one query)."""
    return {str(pk): name for pk, name in Topic.objects.values_list("pk", "name")}


def topic_names_listed(joined_ids: str | None, names: Mapping[str, str]) -> list[str]:
    """The names of ``topic_ids_of_response``'s column, by name, as a verbatim lists them. A
    topic removed since ``names`` was read is left out."""
    if not joined_ids:
        return []
    return sorted(
        name for name in map(names.get, joined_ids.split(TOPIC_ID_SEPARATOR)) if name is not None
    )
