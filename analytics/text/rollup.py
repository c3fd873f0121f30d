"""The topic roll-up: topic counts per day, read for any window of whole days.

``TopicDay`` holds the counts of ``analytics.text.topic_counts`` per local day (project time
zone) and topic, over every response; ``TopicDepartmentDay`` the same per department (null:
responses without one). A topic has two rows a day when it is a parent: its own mentions and
those with its sub-topics, each response once. Counts add up across days and departments,
so a window's figures are sums of at most days × (topics + parents) rows, whatever the
number of responses and mentions.

The grain is chosen for the pages that read it: the Topics page, the topics API, the
overview, a topic's page and the CSV export show the organisation or departments (a line
manager's filter, a department page). Per touchpoint or channel the table would hold nearly
one row per mention (a day's comments at one touchpoint mention most topics once), so those
filters, and every other scope filter (source, NPS group, customer fields, topic,
sentiment) or a date-time bound, read raw mentions with the same aggregates.

Kept exact by the day markers of ``analytics.responses.rollups``: tagging and tag
corrections mark the days of the responses whose mentions they wrote, in their transaction
(``feedback.services.response_days_changed``), as ingest and erasure do. A read is one
statement: the roll-up's rows of the days it takes as clean, the raw mentions of the days it
takes as dirty, and the markers seen by the same snapshot; when the snapshot shows a day
marked that was taken as clean, the statement is repeated with that day read raw (as
``analytics.responses.score_days`` reads scores). The answer equals the raw aggregate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.responses.rollups import day_ranges
from analytics.responses.score_days import local_date, roll_up_window
from analytics.text.models import TopicDay, TopicDepartmentDay, TopicMention
from analytics.text.topic_counts import (
    DECIMAL_KEYS,
    TOPIC_COUNT_KEYS,
    TopicRowKey,
    topic_row_clean,
    topic_rows_add,
    topic_rows_raw,
    topic_rows_sql,
)
from feedback.filters import response_scope_q
from feedback.models import ResponseDayChange

ROLL_UP_FILTERS = ("department",)
"""Scope parameters the roll-up answers besides whole-day dates."""

_ATTEMPTS = 3
_ROW_KEYS = ("day", "topic_id", "with_subtopics")


def _local_day() -> TruncDate:
    return TruncDate("response__submitted_at", tzinfo=timezone.get_default_timezone())


def _in_days(days: Sequence[dt.date]) -> Q:
    """Mentions of responses submitted on ``days`` (index range scans on the responses)."""
    condition = Q()
    for start, end in day_ranges(days):
        condition |= Q(response__submitted_at__gte=start, response__submitted_at__lt=end)
    return condition


def _sql_of(queryset: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, list(params)


# --- the refresh ----------------------------------------------------------------------------


def topic_days_refresh(days: list[dt.date]) -> None:
    """Recompute both tables for ``days`` from raw mentions (``rollup_register``): delete
    their rows, insert the department rows (``topic_rows_sql`` grouped by day and
    department: two ``INSERT ... SELECT``), then the day rows as their sums (one more)."""
    if not days:
        return
    TopicDepartmentDay.objects.filter(day__in=days).delete()
    TopicDay.objects.filter(day__in=days).delete()
    keys = {"day": _local_day(), "department_id": F("response__touchpoint__department_id")}
    mentions = TopicMention.objects.filter(_in_days(days))
    qn = connection.ops.quote_name
    department_table = qn(TopicDepartmentDay._meta.db_table)
    counts = ", ".join(qn(key) for key in TOPIC_COUNT_KEYS)
    with connection.cursor() as cursor:
        for with_subtopics, (sql, params) in topic_rows_sql(mentions, keys=keys):
            cursor.execute(
                f"INSERT INTO {department_table} (day, department_id, topic_id, with_subtopics, "
                f"{counts}) SELECT day, department_id, topic_id, %s, "
                + ", ".join(f"COALESCE({qn(key)}, 0)" for key in TOPIC_COUNT_KEYS)
                + f" FROM ({sql}) department_rows",
                [with_subtopics, *params],
            )
        day_rows = (
            TopicDepartmentDay.objects.filter(day__in=days)
            .values("day", "topic_id", "with_subtopics")
            .annotate(**{f"sum_{key}": Sum(key) for key in TOPIC_COUNT_KEYS})
            .order_by()
        )
        sql, params = _sql_of(day_rows)
        cursor.execute(
            f"INSERT INTO {qn(TopicDay._meta.db_table)} (day, topic_id, with_subtopics, {counts}) "
            "SELECT day, topic_id, with_subtopics, "
            + ", ".join(f"sum_{key}" for key in TOPIC_COUNT_KEYS)
            + f" FROM ({sql}) day_rows",
            params,
        )


def topic_days_held() -> list[dt.date]:
    """The days the roll-up holds rows for (a rebuild also clears days emptied since)."""
    return list(TopicDay.objects.order_by().values_list("day", flat=True).distinct())


# --- reading --------------------------------------------------------------------------------


def _outer(part: str, sql: str, *, by_day: bool, with_subtopics: str) -> str:
    """The ``SELECT`` of one part of the read: ``part``, ``day``, ``topic_id``,
    ``with_subtopics`` (0 or 1) and the counts, each a column of ``sql`` or NULL."""
    qn = connection.ops.quote_name
    columns = [
        f"'{part}' AS part",
        "inner_rows.day AS day" if by_day else "CAST(NULL AS date) AS day",
        "inner_rows.topic_id AS topic_id",
        f"{with_subtopics} AS with_subtopics",
        *(f"inner_rows.{qn(key)} AS {qn(key)}" for key in TOPIC_COUNT_KEYS),
    ]
    return f"SELECT {', '.join(columns)} FROM ({sql}) inner_rows"


def _markers_part(first: dt.date | None, last: dt.date | None) -> tuple[str, list[Any]]:
    markers = ResponseDayChange.objects.order_by()
    if first is not None:
        markers = markers.filter(day__gte=first)
    if last is not None:
        markers = markers.filter(day__lte=last)
    sql, params = _sql_of(markers.values("day"))
    nulls = ", ".join(
        f"CAST(NULL AS {'numeric' if key in DECIMAL_KEYS else 'bigint'}) AS {key}"
        for key in TOPIC_COUNT_KEYS
    )
    return (
        f"SELECT 'm' AS part, inner_rows.day AS day, CAST(NULL AS bigint) AS topic_id, "
        f"CAST(NULL AS integer) AS with_subtopics, {nulls} FROM ({sql}) inner_rows",
        params,
    )


def _rolled_up_statement(
    departments: list[str],
    first: dt.date | None,
    last: dt.date | None,
    dirty: set[dt.date],
    *,
    topic: TopicRowKey | None,
    by_day: bool,
) -> tuple[list[dict[str, Any]], set[dt.date]]:
    """One statement: roll-up rows of the clean days, raw rows of the ``dirty`` days, and
    the days marked at this statement's snapshot."""
    days = Q()
    if first is not None:
        days &= Q(day__gte=first)
    if last is not None:
        days &= Q(day__lte=last)
    clean = days & ~Q(day__in=sorted(dirty)) if dirty else days
    if departments:
        rolled: QuerySet[Any] = TopicDepartmentDay.objects.filter(department__slug__in=departments)
    else:
        rolled = TopicDay.objects.all()
    if topic is not None:
        rolled = rolled.filter(topic_id=topic[0], with_subtopics=topic[1])
    keys = ["day"] if by_day else []
    rolled = (
        rolled.filter(clean)
        .values(*keys, "topic_id", "with_subtopics")
        .annotate(**{key: Sum(key) for key in TOPIC_COUNT_KEYS})
        .order_by()
    )
    sql, params = _sql_of(rolled)
    parts = [
        (
            _outer(
                "r", sql, by_day=by_day, with_subtopics="CAST(inner_rows.with_subtopics AS integer)"
            ),
            params,
        )
    ]
    if dirty:
        mentions = TopicMention.objects.filter(_in_days(sorted(dirty)))
        if departments:
            mentions = mentions.filter(
                response_scope_q({"department": departments}, prefix="response__")
            )
        if topic is not None:
            mentions = mentions.filter(Q(topic_id=topic[0]) | Q(topic__parent_id=topic[0]))
        raw_keys = {"day": _local_day()} if by_day else {}
        for with_subtopics, (sql, params) in topic_rows_sql(mentions, keys=raw_keys):
            parts.append(
                (_outer("x", sql, by_day=by_day, with_subtopics=str(int(with_subtopics))), params)
            )
    parts.append(_markers_part(first, last))
    statement = " UNION ALL ".join(part for part, _ in parts)
    arguments = [value for _, values in parts for value in values]
    names = ["part", *_ROW_KEYS, *TOPIC_COUNT_KEYS]
    with connection.cursor() as cursor:
        cursor.execute(statement, arguments)
        fetched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    marked = {local_date(row["day"]) for row in fetched if row["part"] == "m"}
    rows = []
    for row in fetched:
        if row["part"] == "m":
            continue
        if topic is not None and (row["topic_id"], bool(row["with_subtopics"])) != topic:
            continue
        rows.append(
            {
                "day": local_date(row["day"]) if by_day else None,
                "topic_id": int(row["topic_id"]),
                "with_subtopics": bool(row["with_subtopics"]),
                **topic_row_clean(row),
            }
        )
    return rows, marked


def _rows_read(
    scope: Mapping[str, Any], *, topic: TopicRowKey | None = None, by_day: bool = False
) -> list[dict[str, Any]]:
    window = roll_up_window(scope, filters=ROLL_UP_FILTERS)
    if window is not None:
        first, last = window
        departments = list(scope.get("department") or [])
        dirty: set[dt.date] = set()  # a guess, corrected by the markers the statement sees
        for _ in range(_ATTEMPTS):
            rows, marked = _rolled_up_statement(
                departments, first, last, dirty, topic=topic, by_day=by_day
            )
            if marked <= dirty:
                return rows
            dirty |= marked
    # A filter the roll-up cannot answer, or days marked faster than read: raw mentions.
    mentions = TopicMention.objects.filter(response_scope_q(scope, prefix="response__"))
    if topic is not None:
        mentions = mentions.filter(Q(topic_id=topic[0]) | Q(topic__parent_id=topic[0]))
    rows = topic_rows_raw(mentions, keys={"day": _local_day()} if by_day else None)
    return [
        {**row, "day": local_date(row["day"]) if by_day else None}
        for row in rows
        if topic is None or (row["topic_id"], row["with_subtopics"]) == topic
    ]


def topic_rows_read(*, scope: Mapping[str, Any]) -> dict[TopicRowKey, dict[str, Any]]:
    """Own and with-sub-topics rows of a cleaned response scope, per ``(topic id, with
    sub-topics)``: from the roll-up where the scope allows (one statement, two when a day is
    dirty), else from raw mentions (two queries)."""
    return topic_rows_add(_rows_read(scope))


def topic_days_read(
    *, topic_id: int, with_subtopics: bool, scope: Mapping[str, Any]
) -> dict[dt.date, dict[str, Any]]:
    """One topic's row per day of a cleaned scope (``with_subtopics`` for a parent topic,
    its own row for a sub-topic), read as ``topic_rows_read`` reads."""
    days: dict[dt.date, dict[str, Any]] = {}
    for row in _rows_read(scope, topic=(topic_id, with_subtopics), by_day=True):
        counts = topic_row_clean(row)
        total = days.setdefault(row["day"], dict.fromkeys(TOPIC_COUNT_KEYS, 0))
        for key in TOPIC_COUNT_KEYS:
            total[key] += counts[key]
    return days
