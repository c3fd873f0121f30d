"""Score counts over a response scope: the one grouped read, served from the daily roll-up.

``score_counts_get(scope, period=…, by=…)`` returns the ``COUNT_KEYS`` sums of
``analytics.responses.counts.score_aggregates`` over a cleaned response scope, grouped by
period (day, ISO week starting Monday, month; project time zone) and by touchpoint and/or
channel. Every score page, export, report and the scores API read their counts through it.

Served from the roll-up ``ScoreDay`` (grain: day × touchpoint × channel) when the scope's
filters are only whole-day dates, departments, journeys, touchpoints and channels (the
dashboards' scopes): ``roll_up_window`` says so. Departments and journeys select
touchpoints exactly as ``feedback.filters`` does, by applying the same conditions to the
roll-up's touchpoint. Any other filter (source, NPS group, segment, region, plan, topic,
sentiment) or a date-time bound reads raw responses with the same aggregates. Erased
responses count as they do raw: as responses with their scores and without a comment.

One statement reads the roll-up rows of the days taken as clean, the raw responses of the
days taken as dirty, and the markers themselves (``feedback.ResponseDayChange``). It sees
one snapshot: when a day it took as clean is marked in that snapshot, it is repeated with
that day read raw. The first statement takes every day as clean, so while the refresh keeps
up (it is queued after every write) a read is one query, and two when a day is dirty
(usually today). The answer is exactly the raw aggregate over the scope at the snapshot
of the last statement, in a number of rows that depends on days, touchpoints and channels
only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.dateparse import parse_date

from analytics.responses.counts import score_aggregates
from analytics.responses.models import ScoreDay
from analytics.responses.rollups import day_ranges, day_spans
from analytics.stats.scores import COUNT_KEYS
from feedback.filters import DATE_PARAMETERS, response_scope_q, responses_in_scope, scope_days
from feedback.models import Response, ResponseDayChange

PERIODS = ("day", "week", "month")
GROUPS = ("touchpoint_id", "channel")
ROLL_UP_FILTERS = ("department", "journey", "touchpoint", "channel")
"""Scope parameters the roll-up can answer besides whole-day dates."""

_ATTEMPTS = 3
# A NULL column of a UNION part needs its type on PostgreSQL (counts default to bigint).
_NULL_TYPES = {"day": "date", "touchpoint_id": "bigint", "channel": "varchar(16)"}


def roll_up_window(
    scope: Mapping[str, Any], *, filters: Sequence[str] = ROLL_UP_FILTERS
) -> tuple[dt.date | None, dt.date | None] | None:
    """The first and last day (either open) when the roll-up can answer ``scope``, else None.

    It can when every filter is a whole-day date or one of ``filters`` (the score roll-up's
    ``ROLL_UP_FILTERS`` by default; the topic roll-up answers fewer); a date-time bound, a
    source, an NPS group, a customer field or a text filter needs raw responses.
    """
    for name, value in scope.items():
        if value in (None, "", []):
            continue
        if name in DATE_PARAMETERS:
            if parse_date(str(value)) is None:
                return None
        elif name not in filters:
            return None
    return scope_days(scope)


def period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the period holding ``day``: itself, its ISO week's Monday, or the
    first of its month."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def local_date(value: Any) -> dt.date:
    """A day read from the database (a date, an ISO string, a date-time) as a date in the
    project's time zone."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            return timezone.localtime(value, timezone.get_default_timezone()).date()
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _check(period: str | None, by: Sequence[str]) -> None:
    if period is not None and period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    unknown = [key for key in by if key not in GROUPS]
    if unknown:
        raise ValueError(f"by must be among {GROUPS}, not {unknown}")


def score_counts_get(
    scope: Mapping[str, Any], *, period: str | None = None, by: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The score counts (``COUNT_KEYS``, integers) of a cleaned response scope, one dict per
    group: ``period`` (the period's first day) when ``period`` is given, and each key of
    ``by`` (``touchpoint_id``, ``channel``); groups without responses are left out.

    Without ``period`` and ``by`` there is exactly one row, zeros for an empty scope (as
    ``QuerySet.aggregate``). Rows are sorted by their keys (None first).
    """
    _check(period, by)
    window = roll_up_window(scope)
    if window is None:
        rows = _raw_rows(responses_in_scope(scope), period=period, by=by)
    else:
        rows = _rolled_up_rows(scope, window, period=period, by=by)
    return _merged(rows, period=period, by=by)


# --- the raw path ---------------------------------------------------------------------------


def _raw_rows(
    responses: QuerySet[Response], *, period: str | None, by: Sequence[str]
) -> list[dict[str, Any]]:
    """Aggregates of ``responses`` grouped by ``period`` (local time) and ``by``."""
    zone = timezone.get_default_timezone()
    keys: dict[str, Any] = {}
    if period is not None:
        if period == "day":
            keys["period"] = TruncDate("submitted_at", tzinfo=zone)
        else:
            truncate = TruncWeek if period == "week" else TruncMonth
            keys["period"] = truncate("submitted_at", tzinfo=zone)
    aggregates = score_aggregates()
    if not keys and not by:
        return [responses.order_by().aggregate(**aggregates)]
    return list(
        responses.order_by().annotate(**keys).values(*keys, *by).annotate(**aggregates).order_by()
    )


# --- the roll-up path -----------------------------------------------------------------------


def _outer(alias: str, columns: Mapping[str, str | None]) -> str:
    """``SELECT`` of one part: ``part``, ``day``, ``touchpoint_id``, ``channel`` and the counts,
    each a column of the inner query or NULL."""
    selected = [f"'{alias}' AS part"]
    selected += [
        f"inner_rows.{columns[name]} AS {name}"
        if columns.get(name)
        else f"CAST(NULL AS {_NULL_TYPES.get(name, 'bigint')}) AS {name}"
        for name in ("day", *GROUPS, *COUNT_KEYS)
    ]
    return f"SELECT {', '.join(selected)} FROM "


def _compiled(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, tuple(params)


def _rolled_up_rows(
    scope: Mapping[str, Any],
    window: tuple[dt.date | None, dt.date | None],
    *,
    period: str | None,
    by: Sequence[str],
) -> list[dict[str, Any]]:
    first, last = window
    lists = {name: scope[name] for name in ROLL_UP_FILTERS if scope.get(name)}
    dirty: set[dt.date] = set()  # a guess, corrected by the markers the statement sees
    for _ in range(_ATTEMPTS):
        rows, marked = _rolled_up_statement(lists, first, last, dirty, period=period, by=by)
        if marked <= dirty:
            return rows
        dirty |= marked
    # Days keep being marked under this read: aggregate the raw responses instead.
    return _raw_rows(responses_in_scope(scope), period=period, by=by)


def _rolled_up_statement(
    lists: Mapping[str, Any],
    first: dt.date | None,
    last: dt.date | None,
    dirty: set[dt.date],
    *,
    period: str | None,
    by: Sequence[str],
) -> tuple[list[dict[str, Any]], set[dt.date]]:
    """One statement: roll-up rows of the clean days, raw rows of ``dirty`` days, and the
    days marked dirty at this statement's snapshot."""
    days = Q()
    if first is not None:
        days &= Q(day__gte=first)
    if last is not None:
        days &= Q(day__lte=last)
    dirty_ranges = day_ranges(dirty)
    clean = days
    for start, end in day_spans(dirty):
        clean &= ~Q(day__gte=start, day__lt=end)
    keys = (["day"] if period is not None else []) + list(by)
    # Grouped by nothing: a constant key (Django leaves it out of GROUP BY), not values(),
    # which would group by every column.
    whole = {} if keys else {"whole": Value(1, output_field=IntegerField())}
    rolled = (
        ScoreDay.objects.filter(response_scope_q(lists))
        .filter(clean)
        .annotate(**whole)
        .values(*keys, *whole)
        .annotate(**{f"sum_{key}": Sum(key) for key in COUNT_KEYS})
        .order_by()
    )
    parts: list[tuple[str, tuple[Any, ...]]] = []
    sql, params = _compiled(rolled)
    columns = {key: key for key in keys} | {key: f"sum_{key}" for key in COUNT_KEYS}
    parts.append((_outer("r", columns) + f"({sql}) inner_rows", params))
    if dirty_ranges:
        in_ranges = Q()
        for start_at, end_at in dirty_ranges:
            in_ranges |= Q(submitted_at__gte=start_at, submitted_at__lt=end_at)
        raw_keys = {"day": TruncDate("submitted_at", tzinfo=timezone.get_default_timezone())}
        raw = (
            Response.objects.filter(response_scope_q(lists))
            .filter(in_ranges)
            .annotate(**(raw_keys if period is not None else {}), **whole)
            .values(*keys, *whole)
            .annotate(**{f"sum_{key}": value for key, value in score_aggregates().items()})
            .order_by()
        )
        sql, params = _compiled(raw)
        parts.append((_outer("x", columns) + f"({sql}) inner_rows", params))
    markers = ResponseDayChange.objects.filter(days).values("day").order_by()
    sql, params = _compiled(markers)
    parts.append((_outer("m", {"day": "day"}) + f"({sql}) inner_rows", params))
    statement = " UNION ALL ".join(part for part, _ in parts)
    arguments = tuple(value for _, values in parts for value in values)
    names = ["part", "day", *GROUPS, *COUNT_KEYS]
    with connection.cursor() as cursor:
        cursor.execute(statement, arguments)
        fetched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    marked = {local_date(row["day"]) for row in fetched if row["part"] == "m"}
    rows = []
    for row in fetched:
        if row["part"] == "m":
            continue
        item: dict[str, Any] = {key: row[key] for key in COUNT_KEYS}
        if period is not None:
            item["period"] = local_date(row["day"])
        for key in by:
            item[key] = row[key]
        rows.append(item)
    if not rows and period is None and not by:
        rows = [dict.fromkeys(COUNT_KEYS, 0)]
    return rows, marked


# --- merging ---------------------------------------------------------------------------------


def _merged(
    rows: Sequence[Mapping[str, Any]], *, period: str | None, by: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows with the same keys added up (roll-up and raw parts, days into periods), counts
    as integers, sorted by key."""
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key: list[Any] = []
        if period is not None:
            key.append(period_start(local_date(row["period"]), period))
        key.extend(row[name] for name in by)
        group = totals.get(tuple(key))
        if group is None:
            group = dict.fromkeys(COUNT_KEYS, 0)
            if period is not None:
                group["period"] = key[0]
            for name, value in zip(by, key[1 if period is not None else 0 :], strict=True):
                group[name] = value
            totals[tuple(key)] = group
        for name in COUNT_KEYS:
            group[name] += int(row.get(name) or 0)
    if not totals and period is None and not by:
        return [dict.fromkeys(COUNT_KEYS, 0)]
    return [
        totals[key]
        for key in sorted(
            totals, key=lambda k: tuple((v is not None, v if v is not None else 0) for v in k)
        )
    ]


# --- the refresh ----------------------------------------------------------------------------


def score_days_refresh(days: list[dt.date]) -> None:
    """Recompute ``ScoreDay`` for ``days`` from raw responses (``rollups_register``): delete
    their rows, then one ``INSERT ... SELECT ... GROUP BY day, touchpoint, channel`` with
    ``score_aggregates``, over index range scans of those days' responses."""
    if not days:
        return
    ScoreDay.objects.filter(day__in=days).delete()
    in_days = Q()
    for start_at, end_at in day_ranges(days):
        in_days |= Q(submitted_at__gte=start_at, submitted_at__lt=end_at)
    grouped = (
        Response.objects.filter(in_days)
        .annotate(day=TruncDate("submitted_at", tzinfo=timezone.get_default_timezone()))
        .values("day", "touchpoint_id", "channel")
        .annotate(**{f"sum_{key}": value for key, value in score_aggregates().items()})
        .order_by()
    )
    sql, params = _compiled(grouped)
    table = connection.ops.quote_name(ScoreDay._meta.db_table)
    columns = ["day", "touchpoint_id", "channel", *COUNT_KEYS]
    selected = ["day", "touchpoint_id", "channel"] + [
        f"COALESCE(sum_{key}, 0)" for key in COUNT_KEYS
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(selected)} FROM ({sql}) grouped_rows "
            # Rows of a day side by side: a window's rows are read from few pages.
            "ORDER BY day, touchpoint_id, channel",
            params,
        )


def score_days_held() -> list[dt.date]:
    """The days ``ScoreDay`` holds rows for (a rebuild also clears days emptied since)."""
    return list(ScoreDay.objects.order_by().values_list("day", flat=True).distinct())
