"""Roll-ups: per-day aggregates of responses, kept exact by day markers.

A roll-up holds, per local calendar day (project time zone), what a page would otherwise
aggregate from raw responses (the score counts per touchpoint and channel, the topic
counts, …). It is registered here with the function that recomputes its rows for some
days from raw data (``rollup_register``).

Which days are stale is kept by ``feedback``: every write that changes what a response
counts as (ingest, erasure, deletion, tagging) upserts a ``ResponseDayChange`` row for the
response's day in its own transaction (``feedback.services.response_days_changed``).

``rollups_refresh`` takes up to ``max_days`` markers with ``SELECT ... FOR UPDATE SKIP
LOCKED`` (a marker an open ingest transaction has just upserted is locked by it and left
for the next round), recomputes every registered roll-up for those days, and deletes the
markers, all in one transaction. Under READ COMMITTED each recompute statement sees every
transaction committed before it started, that is after the markers were locked. An ingest
that commits during the refresh upserts its day's marker: if the refresh holds that marker,
the upsert waits for the refresh to commit and then inserts the marker again (the refresh
deleted it), so its rows are never both unmarked and missing from the roll-up.

Readers (``rollup_days_split``) sum roll-up rows for clean days and aggregate raw responses
for the dirty ones (usually none, or today), so a figure read through a roll-up is exactly
the raw aggregate. ``rollups_refresh_queue`` queues the refresh task after a write commits
(at most one queued at a time); beat runs it every minute as well; ``rollups_rebuild``
(the ``rollups_rebuild`` command) recomputes every day.

This module imports no analytics feature: features register their roll-ups in
``AnalyticsConfig.ready``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

from feedback.filters import day_start
from feedback.models import Response, ResponseDayChange
from feedback.services import response_days_changed, response_days_of

logger = logging.getLogger(__name__)

DEFAULT_MAX_DAYS = 31
"""Days recomputed per refresh transaction. A write marking a day the refresh holds waits
for the refresh to commit, so a transaction stays short: a month of days is about 40,000
responses at 1M a year, scanned through the date index in a second or two."""

QUEUED_KEY = "analytics:rollups:refresh-queued"
QUEUED_SECONDS = 300
"""At most one refresh task waits in the queue; if it is lost, the mark expires and the
next write queues another (and beat runs one every minute anyway)."""

RollupRefresh = Callable[[list[dt.date]], None]
RollupDays = Callable[[], Iterable[dt.date]]


@dataclass(frozen=True)
class Rollup:
    """A registered roll-up: how to recompute its rows for some days, and (optionally)
    which days it holds rows for, so a rebuild also clears days whose responses are gone."""

    name: str
    refresh: RollupRefresh
    days_held: RollupDays | None = None


_rollups: dict[str, Rollup] = {}


def rollup_register(
    name: str, refresh: RollupRefresh, *, days_held: RollupDays | None = None
) -> None:
    """Register (or replace) the roll-up ``name``.

    ``refresh(days)`` runs inside the refresh transaction and must recompute the roll-up's
    rows for exactly those days from raw data (DELETE them, INSERT ... SELECT ... GROUP BY);
    a day without responses ends with no rows.
    """
    _rollups[name] = Rollup(name=name, refresh=refresh, days_held=days_held)


def rollups_registered() -> list[Rollup]:
    return list(_rollups.values())


def rollups_refresh(*, max_days: int = DEFAULT_MAX_DAYS) -> int:
    """Recompute every roll-up for up to ``max_days`` dirty days (oldest first) and clear
    their markers, in one transaction; returns how many days were refreshed.

    Markers locked by open write transactions are skipped (PostgreSQL ``SKIP LOCKED``):
    their days stay dirty and are read raw until a later round.
    """
    with transaction.atomic():
        taken = list(
            ResponseDayChange.objects.select_for_update(skip_locked=True)
            .order_by("day")
            .values_list("pk", "day")[:max_days]
        )
        if not taken:
            return 0
        days = [day for _, day in taken]
        for rollup in rollups_registered():
            rollup.refresh(days)
        ResponseDayChange.objects.filter(pk__in=[pk for pk, _ in taken]).delete()
    return len(days)


def rollups_refresh_all(*, max_days: int = DEFAULT_MAX_DAYS) -> int:
    """Refresh until no marker can be taken; returns how many days were refreshed.

    A marker that stays locked (a write transaction left open) is not waited for.
    """
    total = 0
    while True:
        done = rollups_refresh(max_days=max_days)
        if not done:
            return total
        total += done


def rollups_rebuild(*, max_days: int = DEFAULT_MAX_DAYS) -> int:
    """Mark every day that has responses, or rows in any roll-up, and refresh them all:
    after a migration that adds a roll-up, and after a bulk load. Idempotent; returns how
    many days were marked.

    The refresh queued by the marking (a worker, or inline when Celery runs eagerly) may
    take some of the days; the two share them through ``SKIP LOCKED``.
    """
    days = set(response_days_of(Response.objects.all()))
    for rollup in rollups_registered():
        if rollup.days_held is not None:
            days.update(rollup.days_held())
    with transaction.atomic():
        response_days_changed(days=days)
    rollups_refresh_all(max_days=max_days)
    return len(days)


# --- reading --------------------------------------------------------------------------------


def rollup_days_split(date_from: dt.date | None, date_to: dt.date | None) -> list[dt.date]:
    """The dirty days (marked, not yet refreshed) within ``[date_from, date_to]`` (either end
    open): a reader sums roll-up rows for the other days and reads these days raw."""
    markers = ResponseDayChange.objects.order_by("day")
    if date_from is not None:
        markers = markers.filter(day__gte=date_from)
    if date_to is not None:
        markers = markers.filter(day__lte=date_to)
    return list(markers.values_list("day", flat=True))


def day_spans(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive ``days`` merged into half-open ``[first, after_last)`` ranges of days."""
    spans: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if spans and spans[-1][1] == day:
            spans[-1] = (spans[-1][0], day + dt.timedelta(days=1))
        else:
            spans.append((day, day + dt.timedelta(days=1)))
    return spans


def day_ranges(days: Iterable[dt.date]) -> list[tuple[dt.datetime, dt.datetime]]:
    """``day_spans`` as half-open ``[start, end)`` intervals of ``submitted_at`` (midnights
    in the project's time zone), for index range scans of those days' responses."""
    return [(day_start(first), day_start(end)) for first, end in day_spans(days)]


# --- queueing -------------------------------------------------------------------------------


def rollups_refresh_queue() -> None:
    """Queue the refresh task unless one is already waiting (a cache ``add`` is the lock).

    Called after the commit of every write that marked days (``feedback.processing``
    listener). A cache or broker outage is logged, never raised: the beat entry runs the
    refresh every minute, and readers read dirty days raw meanwhile.
    """
    from analytics.responses.tasks import rollups_refresh_task

    try:
        if not cache.add(QUEUED_KEY, 1, timeout=QUEUED_SECONDS):
            return
    except Exception:
        logger.warning(
            "Could not check the roll-up refresh mark; beat will refresh.", exc_info=True
        )
        return
    try:
        rollups_refresh_task.apply_async(retry=False)
    except Exception:
        logger.warning("Could not queue the roll-up refresh; beat will refresh.", exc_info=True)
        cache.delete(QUEUED_KEY)


def rollups_refresh_unqueue() -> None:
    """The refresh task has started: the next write may queue another one."""
    try:
        cache.delete(QUEUED_KEY)
    except Exception:
        logger.warning("Could not clear the roll-up refresh mark.", exc_info=True)
