"""The figures each dashboard needs, read in a fixed number of SQL queries.

Every aggregate is computed by the database (conditional aggregation, GROUP BY touchpoint
and channel, GROUP BY week); Python only adds up a few hundred grouped rows. Score counts
come from the daily roll-up (``analytics.responses.score_days.score_counts_get``) and topic
counts from the topic roll-up (``analytics.text.rollup``), so their cost depends on the
days, touchpoints and channels shown, not on the responses behind them; only the days
changed since the last refresh are read raw. Heavy figures are cached per filter set for a
short time, with the newest response id they were computed at (``analytics.responses.cache``),
so new feedback shows at once while repeated views cost one cheap query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Func, Q, TextField
from django.utils import timezone

from actions.models import Action, ActionStatus
from actions.selectors import action_list
from analytics.impact.selectors import impact_estimates_by_action
from analytics.insights.selectors import scores_parameters_clean, scores_summary
from analytics.responses.cache import (
    DataVersion,
    cached_forget,
    cached_get,
    cached_set,
    figures_cached,
    figures_invalidate,
    memo_forget,
)
from analytics.responses.cache import data_version_get as data_version_get
from analytics.responses.sample import min_responses
from analytics.responses.score_days import score_counts_get
from analytics.stats.scores import (
    COUNT_KEYS,
    Score,
    ScoreBlock,
    counts_add,
    difference,
    insufficient,
    nps_estimate,
    score_block,
)
from analytics.stats.topic_impact import topic_nps_impact
from analytics.text import selectors as text_selectors
from analytics.text.choices import SentimentLabel
from dashboards.filters import DashboardFilters, FilterOptions
from feedback.filters import responses_in_scope
from feedback.models import Channel, Customer, Department, Response, Touchpoint
from feedback.privacy import ErasedCustomer

CATALOGUE_CACHE_KEY = "dashboards:catalogue:v1"
CATALOGUE_SECONDS = 300


def figures_forget() -> None:
    """Drop every cached figure of this process and the shared cache's catalogue."""
    memo_forget()
    cache.delete(CATALOGUE_CACHE_KEY)


def customer_figures_erase(erased: ErasedCustomer) -> None:
    """Customer erasure: cached figures may quote the customer; forget them once the
    erasure is committed (figures recomputed before the commit would still quote them)."""
    transaction.on_commit(figures_invalidate)


@dataclass(frozen=True)
class TouchpointInfo:
    id: int
    slug: str
    name: str
    department_id: int


@dataclass(frozen=True)
class DepartmentInfo:
    id: int
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class Catalogue:
    """Departments, touchpoints and customer attribute values: small, slow-changing lists."""

    departments: list[DepartmentInfo]
    touchpoints: list[TouchpointInfo]
    regions: list[str]
    segments: list[str]
    plans: list[str]

    def department_by_slug(self, slug: str) -> DepartmentInfo | None:
        return next((d for d in self.departments if d.slug == slug), None)

    def touchpoint_by_slug(self, slug: str) -> TouchpointInfo | None:
        return next((t for t in self.touchpoints if t.slug == slug), None)

    def options(self, *, department_slug: str = "") -> FilterOptions:
        department = self.department_by_slug(department_slug) if department_slug else None
        touchpoints = [
            t for t in self.touchpoints if department is None or t.department_id == department.id
        ]
        return FilterOptions(
            departments=[(d.slug, d.name) for d in self.departments],
            touchpoints=[(t.slug, t.name) for t in touchpoints],
            regions=self.regions,
            segments=self.segments,
            plans=self.plans,
        )


def catalogue_get() -> Catalogue:
    """The catalogue, cached for a few minutes (four small queries on a miss)."""
    cached = cached_get(CATALOGUE_CACHE_KEY)
    if isinstance(cached, Catalogue):
        return cached
    departments = [
        DepartmentInfo(id=pk, slug=slug, name=name, description=description)
        for pk, slug, name, description in Department.objects.order_by("name").values_list(
            "id", "slug", "name", "description"
        )
    ]
    touchpoints = [
        TouchpointInfo(id=pk, slug=slug, name=name, department_id=department_id)
        for pk, slug, name, department_id in Touchpoint.objects.order_by(
            "journey__position", "step_position", "name"
        ).values_list("id", "slug", "name", "department_id")
    ]
    values = {column: customer_values(column) for column in CUSTOMER_VALUE_COLUMNS}
    catalogue = Catalogue(
        departments, touchpoints, values["region"], values["segment"], values["plan"]
    )
    cached_set(CATALOGUE_CACHE_KEY, catalogue, CATALOGUE_SECONDS)
    return catalogue


CUSTOMER_VALUES_SHOWN = 200
CUSTOMER_VALUE_COLUMNS = ("region", "segment", "plan")


def customer_values(column: str) -> list[str]:
    """The distinct non-blank values of a customer column (``region``, ``segment``,
    ``plan``), in order, at most ``CUSTOMER_VALUES_SHOWN``: one query.

    On PostgreSQL it walks the column's index from one value to the next (a recursive
    query, one index probe per distinct value) instead of reading an entry per customer,
    so its cost does not grow with the number of customers."""
    if column not in CUSTOMER_VALUE_COLUMNS:
        raise ValueError(f"Not a customer value column: {column!r}")
    if connection.vendor != "postgresql":
        return list(
            Customer.objects.exclude(**{column: ""})
            .order_by(column)
            .values_list(column, flat=True)
            .distinct()[:CUSTOMER_VALUES_SHOWN]
        )
    name = connection.ops.quote_name(column)
    table = connection.ops.quote_name(Customer._meta.db_table)
    sql = (
        f"WITH RECURSIVE found(value) AS ("
        f"(SELECT {name} FROM {table} WHERE {name} > '' ORDER BY {name} LIMIT 1) "
        f"UNION ALL SELECT (SELECT {name} FROM {table} WHERE {name} > found.value "
        f"ORDER BY {name} LIMIT 1) FROM found WHERE found.value IS NOT NULL) "
        f"SELECT value FROM found WHERE value IS NOT NULL LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [CUSTOMER_VALUES_SHOWN])
        return [value for (value,) in cursor.fetchall()]


def catalogue_forget() -> None:
    cached_forget(CATALOGUE_CACHE_KEY)


@dataclass(frozen=True)
class ScoreRow:
    """One line of a score table: a department, touchpoint, channel or week."""

    key: str
    label: str
    summary: ScoreBlock
    link: str = ""


def _counts_only(row: dict[str, Any]) -> dict[str, float | int | None]:
    return {key: row.get(key) for key in COUNT_KEYS}


def _scores(counts: dict[str, Any]) -> ScoreBlock:
    return score_block(counts, min_n=min_responses())


@dataclass(frozen=True)
class ScoreBreakdown:
    total: ScoreBlock
    total_counts: dict[str, float]
    departments: list[ScoreRow]
    touchpoints: list[ScoreRow]
    channels: list[ScoreRow]


def score_breakdown_get(filters: DashboardFilters, catalogue: Catalogue) -> ScoreBreakdown:
    """Totals and per department/touchpoint/channel scores from the counts per touchpoint
    and channel (``score_counts_get``: the daily roll-up, two queries)."""
    rows = score_counts_get(filters.scope, by=("touchpoint_id", "channel"))
    by_touchpoint: dict[int | None, list[dict[str, Any]]] = {}
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_touchpoint.setdefault(row["touchpoint_id"], []).append(row)
        by_channel.setdefault(row["channel"] or "", []).append(row)
    touchpoint_department = {t.id: t.department_id for t in catalogue.touchpoints}
    by_department: dict[int, list[dict[str, Any]]] = {}
    for touchpoint_id, touchpoint_rows in by_touchpoint.items():
        department_id = touchpoint_department.get(touchpoint_id) if touchpoint_id else None
        if department_id is not None:
            by_department.setdefault(department_id, []).extend(touchpoint_rows)
    visible_departments = [
        d for d in catalogue.departments if not filters.departments or d.slug in filters.departments
    ]
    departments = [
        ScoreRow(
            key=d.slug,
            label=d.name,
            summary=_scores(counts_add([_counts_only(r) for r in by_department.get(d.id, [])])),
            link=f"/departments/{d.slug}/",
        )
        for d in visible_departments
    ]
    touchpoints = [
        ScoreRow(
            key=t.slug,
            label=t.name,
            summary=_scores(counts_add([_counts_only(r) for r in by_touchpoint[t.id]])),
        )
        for t in catalogue.touchpoints
        if t.id in by_touchpoint
    ]
    channel_labels = dict(Channel.choices)
    channels = [
        ScoreRow(
            key=channel or "none",
            label=channel_labels.get(channel, "Not given"),
            summary=_scores(counts_add([_counts_only(r) for r in channel_rows])),
        )
        for channel, channel_rows in sorted(by_channel.items())
    ]
    total_counts = counts_add([_counts_only(r) for r in rows])
    return ScoreBreakdown(
        total=_scores(total_counts),
        total_counts=total_counts,
        departments=departments,
        touchpoints=touchpoints,
        channels=channels,
    )


@dataclass(frozen=True)
class TrendPoint:
    week: dt.date
    counts: dict[str, float | int | None]
    summary: ScoreBlock


def score_trend_get(filters: DashboardFilters, catalogue: Catalogue) -> list[TrendPoint]:
    """Scores per ISO week (Monday, project time zone) over the window: the days' counts
    summed by week (``score_counts_get``: the daily roll-up, two queries)."""
    points = []
    for row in score_counts_get(filters.scope, period="week"):
        counts = _counts_only(row)
        points.append(TrendPoint(week=row["period"], counts=counts, summary=_scores(counts)))
    return points


@dataclass(frozen=True)
class NpsChange:
    """NPS of the last ``weeks`` weeks against the ``weeks`` before, and the change."""

    weeks: int
    before: Score
    after: Score
    change: Score


def nps_change_get(trend: list[TrendPoint], *, weeks: int = 4) -> NpsChange | None:
    """NPS of the last ``weeks`` weeks against the ``weeks`` before, with the interval of
    the difference (computed from the summed weekly counts, no extra query)."""
    if len(trend) < 2:
        return None
    weeks = min(weeks, len(trend) // 2)
    recent = _scores(counts_add([p.counts for p in trend[-weeks:]]))
    before = _scores(counts_add([p.counts for p in trend[-2 * weeks : -weeks]]))
    return NpsChange(
        weeks=weeks,
        before=before.nps,
        after=recent.nps,
        change=difference(recent.nps, before.nps),
    )


# --- Cached response figures ---------------------------------------------------------------


@dataclass(frozen=True)
class ResponseFigures:
    """Everything a dashboard aggregates over responses (the heavy, cached part)."""

    breakdown: ScoreBreakdown
    trend: list[TrendPoint]
    nps_change: NpsChange | None
    topics: list[dict[str, Any]]
    top_issue_id: int | None
    top_issue_quotes: list[str]


def response_figures_get(
    filters: DashboardFilters, catalogue: Catalogue, version: DataVersion
) -> ResponseFigures:
    """Up to eight queries on a miss (scores by touchpoint and channel, by week: two each;
    the topic counts unless cached, topic names, quotes), none on a hit.

    Cached per filter set together with the data version it was computed at
    (``analytics.responses.cache.figures_cached``): figures of an older version are still
    served for ``DASHBOARD_STALE_SECONDS`` after they were computed, so that under a steady
    stream of new feedback a busy dashboard recomputes at most that often; with no new
    feedback they live for the full ``DASHBOARD_CACHE_SECONDS``.
    """

    def compute() -> ResponseFigures:
        trend = score_trend_get(filters, catalogue)
        breakdown = score_breakdown_get(filters, catalogue)
        topics = topic_figures_get(filters, catalogue, breakdown.total_counts, version=version)
        top_issue = top_issue_pick(topics)
        return ResponseFigures(
            breakdown=breakdown,
            trend=trend,
            nps_change=nps_change_get(trend),
            topics=topics,
            top_issue_id=top_issue["id"] if top_issue else None,
            top_issue_quotes=topic_quotes_get(filters, catalogue, top_issue["id"], version=version)
            if top_issue
            else [],
        )

    return figures_cached("dashboards:figures:v4", filters.cache_key(), compute, version=version)


def insights_scores_get(department_slug: str, version: DataVersion) -> dict[str, Any]:
    """The insights page's scores: every response of the scope (one department's, or all)
    by week and by touchpoint, as ``analytics/scores/?period=week&by=touchpoint`` answers
    them without the touchpoints' weekly series, which the page does not show (one
    grouped query on a miss, cached like the dashboards' figures). Raises ``InvalidInput``
    for an unknown department."""
    data: dict[str, Any] = {"period": "week", "by": "touchpoint"}
    if department_slug:
        data["department"] = department_slug
    parameters = scores_parameters_clean(data)
    scores: dict[str, Any] = figures_cached(
        "dashboards:insights-scores:v1",
        department_slug or "*",
        lambda: scores_summary(parameters, group_periods=False),
        version=version,
    )
    return scores


# --- Actions ------------------------------------------------------------------------------

OPEN_ACTION_STATUSES = [
    ActionStatus.PROPOSED,
    ActionStatus.ACCEPTED,
    ActionStatus.IN_PROGRESS,
]


@dataclass(frozen=True)
class ActionLine:
    id: int
    title: str
    status: str
    status_label: str
    owner: str
    department: str
    due_date: dt.date | None
    implemented_on: dt.date | None
    progress: int
    overdue: bool
    cost: float | None = None


@dataclass(frozen=True)
class ActionSummary:
    status_counts: dict[str, int]
    overdue: int
    recent: list[ActionLine]
    implemented_in_window: list[ActionLine]

    @property
    def total(self) -> int:
        return sum(self.status_counts.values())


def _actions_in_scope(filters: DashboardFilters) -> Q:
    """The dashboard's departments' actions and the cross-department ones (all without)."""
    if filters.departments:
        return Q(department__slug__in=filters.departments) | Q(cross_department=True)
    return Q()


def _user_label(user: User | None) -> str:
    if user is None:
        return ""
    full_name = f"{user.first_name} {user.last_name}".strip()
    return full_name or user.username


def _action_line(action: Action, today: dt.date) -> ActionLine:
    return ActionLine(
        id=action.pk,
        title=action.title,
        status=action.status,
        status_label=action.get_status_display(),
        owner=_user_label(action.owner),
        department=action.department.name,
        due_date=action.due_date,
        implemented_on=action.implemented_at,
        progress=action.progress,
        cost=float(action.cost_estimate) if action.cost_estimate is not None else None,
        overdue=bool(
            action.due_date and action.due_date < today and action.status in OPEN_ACTION_STATUSES
        ),
    )


def action_summary_get(
    filters: DashboardFilters, catalogue: Catalogue, *, user: AbstractBaseUser | AnonymousUser
) -> ActionSummary:
    """Status counts and overdue (one query, counts only), and the actions ``user`` may
    read: recent ones and those implemented in the window (one query each)."""
    today = timezone.localdate()
    # Counts and lists come from one queryset: the board's selector under the access policy,
    # narrowed to the dashboard's departments, so a number never counts what is not listed.
    readable = action_list(user=user).filter(_actions_in_scope(filters)).order_by()
    counts = readable.aggregate(
        **{status: Count("id", filter=Q(status=status)) for status in ActionStatus.values},
        overdue=Count("id", filter=Q(due_date__lt=today, status__in=OPEN_ACTION_STATUSES)),
    )
    overdue = int(counts.pop("overdue") or 0)
    recent = [
        _action_line(action, today)
        for action in readable.exclude(status__in=[ActionStatus.DECLINED, ActionStatus.CANCELLED])
        .select_related("owner", "department")
        .order_by(F("implemented_at").desc(nulls_last=True), "-updated_at", "-id")[:12]
    ]
    implemented = [
        _action_line(action, today)
        for action in readable.filter(
            implemented_at__gte=filters.date_from, implemented_at__lte=filters.date_to
        )
        .select_related("owner", "department")
        .order_by("implemented_at", "id")[:60]
    ]
    return ActionSummary(
        status_counts={status: int(value or 0) for status, value in counts.items()},
        overdue=overdue,
        recent=recent,
        implemented_in_window=implemented,
    )


# --- Analytics results (topics, impacts, value) ---------------------------------------------


def topic_nps_points(
    *, topic: dict[str, Any], total_promoters: int, total_detractors: int, total_n: int
) -> Score:
    """NPS points a topic costs (negative) or earns: NPS of all − NPS without the topic,
    by the analysis engine's ``topic_nps_impact`` (delta-method interval), so the
    dashboards and the topic impact analysis give the same figure. Either group under the
    minimum gives "insufficient"."""
    impact = topic_nps_impact(
        total_n=total_n,
        total_promoters=total_promoters,
        total_detractors=total_detractors,
        topic_n=int(topic["nps_n"]),
        topic_promoters=int(topic["promoters"]),
        topic_detractors=int(topic["detractors"]),
        min_n=min_responses(),
    )
    if impact["status"] != "ok":
        return insufficient(int(topic["nps_n"]), min_responses(), message=impact["message"])
    low, high = impact["interval"]
    return Score(
        status="ok",
        n=int(topic["nps_n"]),
        value=impact["impact"],
        low=low,
        high=high,
        se=impact["se"],
    )


TOPICS_SHOWN = 15


def topic_figures_get(
    filters: DashboardFilters,
    catalogue: Catalogue,
    total_counts: dict[str, Any],
    *,
    version: DataVersion | None = None,
) -> list[dict[str, Any]]:
    """The most mentioned topics in the view with sentiment and NPS impact.

    Mentions are counted by ``analytics.text.selectors.topic_mention_stats`` (responses
    mentioning the topic or its sub-topics, in the filters' window; cached per scope): the
    same count as the Topics page. One query for the topics' names besides the counts.
    """
    stats = text_selectors.topic_mention_stats(scope=filters.scope, version=version)
    rows = sorted(stats.items(), key=lambda item: (-int(item[1]["responses"]), item[0]))
    rows = rows[:TOPICS_SHOWN]
    if not rows:
        return []
    labels = text_selectors.topic_labels(topic_ids=[pk for pk, _ in rows])
    return [
        _topic_figure(topic_id, row, labels.get(topic_id, ("", "?")), total_counts)
        for topic_id, row in rows
    ]


def _topic_figure(
    topic_id: int, row: dict[str, Any], label: tuple[str, str], total_counts: dict[str, Any]
) -> dict[str, Any]:
    """Shares of the responses mentioning the topic that mention it negatively or
    positively (each response once, so a parent's shares stay within 100%), and their NPS."""
    mentions = int(row["responses"])
    negative, positive = int(row["negative_responses"]), int(row["positive_responses"])
    return {
        "id": topic_id,
        "slug": label[0],
        "label": label[1],
        "mentions": mentions,
        "negative_share": 100.0 * negative / mentions if mentions else 0.0,
        "positive_share": 100.0 * positive / mentions if mentions else 0.0,
        "nps": nps_estimate(
            int(row["nps_n"]), int(row["promoters"]), int(row["detractors"]), min_n=min_responses()
        ),
        "impact": topic_nps_points(
            topic=row,
            total_promoters=int(total_counts.get("promoters") or 0),
            total_detractors=int(total_counts.get("detractors") or 0),
            total_n=int(total_counts.get("nps_n") or 0),
        ),
    }


def topic_figure_get(
    filters: DashboardFilters,
    topic_id: int,
    total_counts: dict[str, Any],
    *,
    version: DataVersion | None = None,
) -> dict[str, Any] | None:
    """One topic's figures in the view, as the overview's topic table computes them
    (``topic_figures_get``, from the same cached counts): mentions, negative share, NPS
    where mentioned and the NPS points it costs or earns, each with its interval."""
    row = text_selectors.topic_mention_stats(scope=filters.scope, version=version).get(topic_id)
    if row is None:
        return None
    return _topic_figure(topic_id, row, ("", ""), total_counts)


def topic_quotes_get(
    filters: DashboardFilters,
    catalogue: Catalogue,
    topic_id: int,
    *,
    limit: int = 3,
    version: DataVersion | None = None,
) -> list[str]:
    """The customers' own words for the top issue, which the narrative calls a cost
    ("… costs about 10 points of NPS"): negative mentions of the topic or its sub-topics in
    the view, chosen by ``analytics.text.selectors.topic_quotes_get``."""
    quotes = text_selectors.topic_quotes_get(
        scope=filters.scope,
        topic_id=topic_id,
        stance=SentimentLabel.NEGATIVE,
        limit=limit,
        version=version,
    )
    return [quote.text for quote in quotes]


def top_issue_pick(topics: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The topic that costs most NPS points; without NPS, the most negative one."""
    costly = [t for t in topics if t["impact"].ok and t["impact"].value < 0]
    if costly:
        return min(costly, key=lambda t: t["impact"].value)
    negative = [t for t in topics if t["negative_share"] > 0]
    if negative:
        return max(negative, key=lambda t: (t["negative_share"] * t["mentions"], -t["id"]))
    return None


# --- Verbatim explorer ----------------------------------------------------------------------

VERBATIMS_PER_PAGE = 25


@dataclass(frozen=True)
class VerbatimQuery:
    """The explorer's own inputs; topic, sentiment and NPS group are in the scope."""

    search: str = ""
    page: int = 1


def verbatims_get(
    filters: DashboardFilters,
    catalogue: Catalogue,
    query: VerbatimQuery,
    *,
    per_page: int = VERBATIMS_PER_PAGE,
) -> tuple[list[Response], bool]:
    """One page of comments with their tags (two queries), newest first; ``has_next``."""
    queryset = (
        responses_in_scope(filters.scope)
        .exclude(comment="")
        .select_related("touchpoint", "analysis")
    )
    if query.search:
        queryset = queryset.filter(comment__icontains=query.search)
    start = (query.page - 1) * per_page
    rows = list(
        queryset.order_by("-submitted_at", "-id").prefetch_related(
            text_selectors.topic_mentions_prefetch()
        )[start : start + per_page + 1]
    )
    return rows[:per_page], len(rows) > per_page


EXPORT_CHUNK = 5000
# Distinct sets of topics whose names a download remembers (comments share a few sets).
TOPIC_SETS_REMEMBERED = 10_000


class IsoDateTime(Func):
    """A stored time as ``datetime.isoformat()`` writes it in UTC
    (``2026-03-01T10:15:00+00:00``, with ``.ffffff`` only when there are microseconds), made
    by the database: a long download then parses no time and formats none per row."""

    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"TO_CHAR(({sql}) AT TIME ZONE 'UTC', CASE WHEN DATE_TRUNC('second', {sql}) = {sql} "
            """THEN 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"' """
            """ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"' END)""",
            (*params, *params, *params),
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # Django stores a time as str() of the naive UTC datetime: the same, with a space.
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(REPLACE({sql}, ' ', 'T') || '+00:00')", params


def verbatims_export_rows(
    filters: DashboardFilters, query: VerbatimQuery
) -> Iterator[tuple[Any, ...]]:
    """Every comment of the explorer's view, newest first, as ``(id, submitted_at,
    touchpoint, channel, nps, csat, ces, sentiment, topics, comment)``: one query read
    through a server-side cursor in chunks (PostgreSQL), so a download of any size holds one
    chunk in memory. Plain values, no model instances: a row's topics come in the same row
    as their ids and are named, like its touchpoint, from a map read once (two small
    queries), so nothing is looked up per row; its time comes as ISO 8601 text."""
    queryset = (
        responses_in_scope(filters.scope)
        .exclude(comment="")
        .annotate(
            submitted=IsoDateTime("submitted_at"),
            topic_ids=text_selectors.topic_ids_of_response(),
        )
    )
    if query.search:
        queryset = queryset.filter(comment__icontains=query.search)
    rows = queryset.order_by("-submitted_at", "-id").values_list(
        "pk",
        "submitted",
        "touchpoint_id",
        "channel",
        "nps",
        "csat",
        "ces",
        "analysis__sentiment_label",
        "topic_ids",
        "comment",
    )
    touchpoints = dict(Touchpoint.objects.values_list("id", "name"))
    topic_names = text_selectors.topic_names_by_key()
    topics_text: dict[str | None, str] = {}
    with every_row_planned():
        for (
            pk,
            submitted_at,
            touchpoint_id,
            channel,
            nps,
            csat,
            ces,
            sentiment,
            topic_ids,
            comment,
        ) in rows.iterator(chunk_size=EXPORT_CHUNK):
            topics = topics_text.get(topic_ids)
            if topics is None:
                topics = "; ".join(text_selectors.topic_names_listed(topic_ids, topic_names))
                if len(topics_text) < TOPIC_SETS_REMEMBERED:
                    topics_text[topic_ids] = topics
            yield (
                pk,
                submitted_at,
                touchpoints.get(touchpoint_id, ""),
                channel,
                nps,
                csat,
                ces,
                sentiment or "",
                topics,
                comment,
            )


@contextmanager
def every_row_planned() -> Iterator[None]:
    """Plan the next server-side cursor for all of its rows, not for the first tenth.

    Outside a transaction Django declares its chunked cursors ``WITH HOLD``, so PostgreSQL
    computes the whole result when the cursor is declared; ``cursor_tuple_fraction``'s
    default (0.1) would still have it choose a fast-start plan (an index walk in time order
    with a random read per row) over a scan and a sort. Nothing changes on other databases,
    nor inside a transaction, where the cursor does stream and a fast start is worth having.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 1.0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET cursor_tuple_fraction")


def action_lines_export(
    filters: DashboardFilters, catalogue: Catalogue, *, user: AbstractBaseUser | AnonymousUser
) -> Iterator[ActionLine]:
    """Every action of the view ``user`` may read, in every status (the dashboard's table
    shows the 12 most recent), streamed like ``verbatims_export_rows``."""
    today = timezone.localdate()
    readable = action_list(user=user).filter(_actions_in_scope(filters))
    for action in (
        readable.select_related("owner", "department")
        .order_by(F("implemented_at").desc(nulls_last=True), "-updated_at", "-id")
        .iterator(chunk_size=EXPORT_CHUNK)
    ):
        yield _action_line(action, today)


def topic_choices_get() -> list[tuple[str, str]]:
    return text_selectors.topic_choices()


# --- Measured impact ------------------------------------------------------------------------


def story_impacts_get(actions: list[ActionLine]) -> list[dict[str, Any]]:
    """The primary measured effects of the actions shown, for the narrative (one query)."""
    titles = {line.id: line.title for line in actions}
    costs = {line.id: line.cost for line in actions}
    impacts = []
    for action_id, estimates in impact_estimates_by_action(list(titles)).items():
        for estimate in estimates:
            if estimate["is_primary"] and estimate["ok"] and estimate["effect"] is not None:
                value = estimate["value"]
                impacts.append(
                    {
                        "action": titles[action_id],
                        "metric": estimate["metric"],
                        "effect": estimate["effect"],
                        "low": estimate["low"]
                        if estimate["low"] is not None
                        else estimate["effect"],
                        "high": estimate["high"]
                        if estimate["high"] is not None
                        else estimate["effect"],
                        "unit": estimate["unit"],
                        "higher_is_better": estimate["higher_is_better"],
                        "value": f"{estimate['currency']} {value:,.0f}" if value else None,
                        "value_amount": value,
                        "value_low": estimate["value_low"],
                        "value_high": estimate["value_high"],
                        "currency": estimate["currency"],
                        "cost": costs.get(action_id),
                    }
                )
    return impacts
