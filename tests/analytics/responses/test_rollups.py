"""The roll-up registry, refresh, rebuild and queueing (``analytics.responses.rollups``)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections, transaction

from analytics.responses import rollups
from analytics.responses.rollups import (
    QUEUED_KEY,
    day_ranges,
    rollup_days_split,
    rollup_register,
    rollups_rebuild,
    rollups_refresh,
    rollups_refresh_queue,
)
from analytics.responses.tasks import rollups_refresh_task
from feedback.filters import day_start
from feedback.models import Response, ResponseDayChange
from feedback.services import response_day, response_days_changed
from tests.feedback.factories import ResponseFactory

DAY = dt.date(2026, 3, 2)


def _marked() -> list[dt.date]:
    return list(ResponseDayChange.objects.order_by("day").values_list("day", flat=True))


class Recorder:
    """A roll-up that records the days it was asked to refresh and what it counted."""

    def __init__(self) -> None:
        self.calls: list[list[dt.date]] = []
        self.counted: dict[dt.date, int] = {}

    def __call__(self, days: list[dt.date]) -> None:
        self.calls.append(list(days))
        for day in days:
            self.counted[day] = Response.objects.filter(
                submitted_at__gte=day_start(day),
                submitted_at__lt=day_start(day + dt.timedelta(days=1)),
            ).count()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Only the recording roll-up is registered while the test runs."""
    saved = dict(rollups._rollups)
    rollups._rollups.clear()
    recording = Recorder()
    rollup_register("recorder", recording)
    yield recording
    rollups._rollups.clear()
    rollups._rollups.update(saved)


def test_refresh_recomputes_the_dirty_days_and_clears_them(db: None, recorder: Recorder) -> None:
    """Every registered roll-up is called once with the dirty days, oldest first."""
    response_days_changed(days=[DAY + dt.timedelta(days=2), DAY])

    refreshed = rollups_refresh()

    assert refreshed == 2
    assert recorder.calls == [[DAY, DAY + dt.timedelta(days=2)]]
    assert _marked() == []
    assert rollups_refresh() == 0
    assert len(recorder.calls) == 1


def test_refresh_takes_at_most_max_days_per_round(db: None, recorder: Recorder) -> None:
    """A long backlog goes in rounds of ``max_days``, oldest days first."""
    days = [DAY + dt.timedelta(days=n) for n in range(5)]
    response_days_changed(days=days)

    assert rollups_refresh(max_days=2) == 2
    assert _marked() == days[2:]
    assert rollups.rollups_refresh_all(max_days=2) == 3
    assert recorder.calls == [days[:2], days[2:4], days[4:]]


def test_a_failing_refresh_keeps_the_days_dirty(db: None, recorder: Recorder) -> None:
    """The markers go only with a successful recompute (one transaction)."""

    def broken(days: list[dt.date]) -> None:
        raise RuntimeError("boom")

    rollup_register("broken", broken)
    response_days_changed(days=[DAY])

    with pytest.raises(RuntimeError):
        rollups_refresh()

    assert _marked() == [DAY]


def test_rebuild_marks_every_day_with_responses_and_refreshes_them(
    db: None, recorder: Recorder
) -> None:
    """The rebuild covers each day with responses, plus the days a roll-up still holds."""
    ResponseFactory(submitted_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    ResponseFactory(submitted_at=dt.datetime(2026, 3, 5, 23, tzinfo=dt.UTC))
    ResponseDayChange.objects.all().delete()
    held = dt.date(2026, 1, 1)
    rollup_register("holder", lambda days: None, days_held=lambda: [held])

    refreshed = rollups_rebuild()

    assert refreshed == 3
    assert recorder.calls == [[held, DAY, dt.date(2026, 3, 5)]]
    assert recorder.counted == {held: 0, DAY: 1, dt.date(2026, 3, 5): 1}
    assert _marked() == []
    assert rollups_rebuild() == 3


def test_the_rebuild_command_reports_the_days(db: None, recorder: Recorder, capsys: Any) -> None:
    """``manage.py rollups_rebuild`` refreshes and says how many days."""
    ResponseFactory(submitted_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))

    call_command("rollups_rebuild")

    assert "Rebuilt the roll-ups for 1 days" in capsys.readouterr().out
    assert recorder.calls == [[DAY]]


def test_dirty_days_are_listed_within_the_window(db: None) -> None:
    """``rollup_days_split`` lists the marked days between the two ends (either open)."""
    days = [DAY, DAY + dt.timedelta(days=3), DAY + dt.timedelta(days=9)]
    response_days_changed(days=days)

    assert rollup_days_split(DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=9)) == days[1:]
    assert rollup_days_split(None, DAY) == days[:1]
    assert rollup_days_split(None, None) == days


def test_consecutive_days_merge_into_one_range(settings: Any) -> None:
    """Days become half-open intervals of local midnights, consecutive ones merged."""
    settings.TIME_ZONE = "Europe/Paris"
    days = [DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=5)]

    ranges = day_ranges(days)

    assert ranges == [
        (day_start(DAY), day_start(DAY + dt.timedelta(days=2))),
        (day_start(DAY + dt.timedelta(days=5)), day_start(DAY + dt.timedelta(days=6))),
    ]
    assert ranges[0][0].utcoffset() == dt.timedelta(hours=1)


def test_the_queue_runs_one_refresh_at_a_time(db: None, recorder: Recorder) -> None:
    """While a refresh is queued (the cache mark is set) another write queues nothing; the
    task clears the mark first, so a write during the refresh queues the next one."""
    response_days_changed(days=[DAY])
    cache.add(QUEUED_KEY, 1)

    rollups_refresh_queue()

    assert _marked() == [DAY]
    cache.delete(QUEUED_KEY)
    rollups_refresh_queue()  # Celery runs eagerly in unit tests

    assert _marked() == []
    assert cache.get(QUEUED_KEY) is None


def test_the_task_refreshes_every_dirty_day(db: None, recorder: Recorder) -> None:
    """The beat task clears the queued mark and refreshes until nothing is dirty."""
    cache.set(QUEUED_KEY, 1)
    response_days_changed(days=[DAY + dt.timedelta(days=n) for n in range(200)])

    assert rollups_refresh_task.delay().get() == 200

    assert _marked() == []
    assert cache.get(QUEUED_KEY) is None


def test_the_task_is_on_the_beat_schedule(settings: Any) -> None:
    """Beat runs the refresh every minute."""
    entry = settings.CELERY_BEAT_SCHEDULE["analytics-rollups-refresh"]
    assert entry["task"] == rollups_refresh_task.name
    assert float(entry["schedule"]) == 60


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_queues_the_refresh(recorder: Recorder) -> None:
    """After an ingest commits, the refresh runs (inline in tests) and the day is clean."""
    with transaction.atomic():
        ResponseFactory(submitted_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
        assert _marked() == [DAY]

    assert _marked() == []
    assert recorder.counted == {DAY: 1}


# --- concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.fixture
def no_queueing() -> Iterator[None]:
    """Writes do not queue the refresh (it would run inline, eagerly): the test runs it."""
    from feedback import processing

    saved = dict(processing._days_changed_listeners)
    processing._days_changed_listeners.clear()
    yield
    processing._days_changed_listeners.update(saved)


def _waiting_on_a_lock(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


def _ingest_in_thread(
    moment: dt.datetime, started: threading.Event, pid: list[int], errors: list[BaseException]
) -> threading.Thread:
    def work() -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            started.set()
            with transaction.atomic():
                response = ResponseFactory.build(submitted_at=moment)
                response.source.save()
                response.source_id = response.source.pk
                response.save()
                response_days_changed(days=[response_day(moment)])
        except BaseException as error:  # reported to the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    return threading.Thread(target=work)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_queueing")
def test_an_ingest_committing_during_a_refresh_leaves_its_day_dirty(recorder: Recorder) -> None:
    """The race: the refresh holds day D's marker and has counted D; an ingest into D
    commits meanwhile. Its marker upsert waits for the refresh, then inserts the marker
    again, so D is dirty (read raw) rather than clean with a stale count."""
    moment = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    ResponseFactory(submitted_at=moment)  # the factory commits its marker (autocommit)
    assert _marked() == [DAY]
    started, pid, errors = threading.Event(), [], []
    writer = _ingest_in_thread(moment + dt.timedelta(hours=1), started, pid, errors)

    def refresh_while_writing(days: list[dt.date]) -> None:
        recorder(days)  # counts D before the write commits
        writer.start()
        assert started.wait(10)
        assert _waiting_on_a_lock(pid[0]), "the ingest did not wait for the marker lock"

    rollups._rollups["recorder"] = rollups.Rollup("recorder", refresh_while_writing)
    assert rollups_refresh() == 1
    writer.join(20)
    rollups._rollups["recorder"] = rollups.Rollup("recorder", recorder)

    assert not errors
    assert recorder.counted == {DAY: 1}
    assert Response.objects.count() == 2
    assert _marked() == [DAY]
    assert rollups_refresh() == 1
    assert recorder.counted == {DAY: 2}
    assert _marked() == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_queueing")
def test_a_day_being_written_is_skipped_by_the_refresh(recorder: Recorder) -> None:
    """An open write transaction holding day D's marker: the refresh takes the other days
    and leaves D, without waiting, for the next round."""
    other = DAY + dt.timedelta(days=1)
    response_days_changed(days=[DAY, other])
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                response_days_changed(days=[DAY])
                holding.set()
                release.wait(20)
        finally:
            done.set()
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    try:
        assert rollups_refresh() == 1
        assert recorder.calls == [[other]]
    finally:
        release.set()
        thread.join(20)

    assert _marked() == [DAY]
