"""The score counts read through the daily roll-up equal the raw aggregate, for any scope.

The reference is computed here in Python from the responses the scope selects
(``responses_in_scope``), independently of the SQL aggregates and of the roll-up.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from analytics.models import ScoreDay
from analytics.responses.rollups import rollups_rebuild, rollups_refresh_all
from analytics.responses.score_days import (
    period_start,
    roll_up_window,
    score_counts_get,
)
from analytics.stats.scores import COUNT_KEYS
from feedback.filters import response_scope_clean, responses_in_scope
from feedback.models import Channel, Response, ResponseDayChange
from feedback.services import customer_erase, response_day, response_days_changed, responses_delete
from tests.feedback.factories import (
    CustomerFactory,
    DepartmentFactory,
    JourneyFactory,
    ResponseFactory,
    SourceFactory,
    TouchpointFactory,
    UserFactory,
)

START = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)
DAYS = 40
CHANNELS = [Channel.WEB, Channel.PHONE, Channel.EMAIL, ""]
PERIODS = [None, "day", "week", "month"]
GROUPINGS: list[tuple[str, ...]] = [
    (),
    ("touchpoint_id",),
    ("channel",),
    ("touchpoint_id", "channel"),
]


@pytest.fixture(params=["UTC", "Europe/Paris"])
def zone(request: Any, settings: Any) -> str:
    """Days are local days: the tests run in UTC and in a zone an hour or two ahead."""
    settings.TIME_ZONE = request.param
    return str(request.param)


def _organisation() -> list[Any]:
    departments = [DepartmentFactory(slug=f"dept-{n}") for n in range(3)]
    journeys = [JourneyFactory(slug=f"journey-{n}") for n in range(2)]
    return [
        TouchpointFactory(slug=f"tp-{n}", department=departments[n % 3], journey=journeys[n % 2])
        for n in range(6)
    ]


def _store(rng: random.Random, touchpoints: list[Any], count: int, *, source: Any) -> list[Any]:
    """Responses at random moments (many near midnight), touchpoints (some none), channels
    (some none), scores (some missing) and comments (some empty)."""
    customers = [CustomerFactory() for _ in range(8)]
    stored = []
    for _ in range(count):
        minutes = rng.randrange(DAYS * 24 * 60)
        if rng.random() < 0.3:  # around midnight in UTC and in Paris
            minutes = (minutes // 1440) * 1440 + rng.choice([-90, -61, -59, -1, 0, 1, 59, 61])
        stored.append(
            ResponseFactory(
                source=source,
                submitted_at=START + dt.timedelta(minutes=minutes, seconds=rng.randrange(60)),
                touchpoint=rng.choice([*touchpoints, None]),
                channel=rng.choice(CHANNELS),
                nps=rng.choice([None, *range(11)]),
                csat=rng.choice([None, *range(1, 6)]),
                ces=rng.choice([None, *range(1, 8)]),
                comment=rng.choice(["", "", "slow", "great service"]),
                customer=rng.choice([*customers, None]),
            )
        )
    return stored


def _expected(
    scope: dict[str, Any], period: str | None, by: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The reference: each response of the scope counted in Python."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: dict.fromkeys(COUNT_KEYS, 0)
    )
    for r in responses_in_scope(scope).values(
        "submitted_at", "touchpoint_id", "channel", "nps", "csat", "ces", "comment"
    ):
        key: list[Any] = []
        if period is not None:
            key.append(period_start(response_day(r["submitted_at"]), period))
        key.extend(r[name] for name in by)
        counts = groups[tuple(key)]
        counts["responses"] += 1
        counts["comments"] += r["comment"] != ""
        if r["nps"] is not None:
            counts["nps_n"] += 1
            counts["promoters"] += r["nps"] >= 9
            counts["detractors"] += r["nps"] <= 6
        if r["csat"] is not None:
            counts["csat_n"] += 1
            counts["csat_satisfied"] += r["csat"] >= 4
            counts["csat_sum"] += r["csat"]
            counts["csat_sumsq"] += r["csat"] ** 2
        if r["ces"] is not None:
            counts["ces_n"] += 1
            counts["ces_sum"] += r["ces"]
            counts["ces_sumsq"] += r["ces"] ** 2
    rows = []
    for key, counts in groups.items():
        row = dict(counts)
        values = list(key)
        if period is not None:
            row["period"] = values.pop(0)
        row.update(zip(by, values, strict=True))
        rows.append(row)
    if not rows and period is None and not by:
        rows = [dict.fromkeys(COUNT_KEYS, 0)]
    return rows


def _canonical(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows), key=str)


def _random_scope(rng: random.Random, *, roll_up: bool = True) -> dict[str, Any]:
    """Cleaned scope parameters: dates (either end open), departments, journeys,
    touchpoints, channels; with ``roll_up=False`` also a filter the roll-up cannot serve."""
    parameters: dict[str, Any] = {}
    first = START.date() + dt.timedelta(days=rng.randrange(-3, DAYS))
    if rng.random() < 0.8:
        parameters["date_from"] = first.isoformat()
    if rng.random() < 0.8:
        parameters["date_to"] = (first + dt.timedelta(days=rng.randrange(0, 25))).isoformat()
    if rng.random() < 0.3:
        parameters["department"] = ",".join(
            rng.sample([f"dept-{n}" for n in range(3)], rng.randint(1, 2))
        )
    if rng.random() < 0.2:
        parameters["journey"] = rng.choice(["journey-0", "journey-1"])
    if rng.random() < 0.3:
        parameters["touchpoint"] = ",".join(
            rng.sample([f"tp-{n}" for n in range(6)], rng.randint(1, 3))
        )
    if rng.random() < 0.3:
        parameters["channel"] = ",".join(rng.sample(["web", "phone", "email"], rng.randint(1, 2)))
    if not roll_up:
        choice = rng.choice(["nps_category", "segment", "date_time", "source"])
        if choice == "nps_category":
            parameters["nps_category"] = "promoter,detractor"
        elif choice == "segment":
            parameters["segment"] = "smb"
        elif choice == "source":
            parameters["source"] = "rollup-test"
        else:
            parameters["date_from"] = f"{first.isoformat()}T06:30:00"
    return response_scope_clean(parameters)


def _assert_equal_on_random_scopes(
    rng: random.Random, *, scopes: int, roll_up: bool = True
) -> None:
    for _ in range(scopes):
        scope = _random_scope(rng, roll_up=roll_up)
        assert (roll_up_window(scope) is not None) == roll_up, scope
        period = rng.choice(PERIODS)
        by = rng.choice(GROUPINGS)
        got = score_counts_get(scope, period=period, by=by)
        assert _canonical(got) == _canonical(_expected(scope, period, by)), (scope, period, by)


@pytest.fixture
def stored(db: None, zone: str) -> Iterator[tuple[random.Random, list[Any], Any]]:
    rng = random.Random(20260301)
    touchpoints = _organisation()
    source = SourceFactory(name="rollup-test")
    _store(rng, touchpoints, 400, source=source)
    yield rng, touchpoints, source


def test_dirty_days_read_raw_equal_the_raw_aggregate(stored: Any) -> None:
    """Before any refresh every day is dirty: the answer is the raw aggregate."""
    rng, _, _ = stored
    assert ResponseDayChange.objects.exists()
    assert not ScoreDay.objects.exists()

    _assert_equal_on_random_scopes(rng, scopes=40)


def test_refreshed_days_read_from_the_roll_up_equal_the_raw_aggregate(stored: Any) -> None:
    """After the refresh no day is dirty and every answer comes from the roll-up."""
    rng, _, _ = stored
    rollups_refresh_all()
    assert not ResponseDayChange.objects.exists()
    assert ScoreDay.objects.exists()

    _assert_equal_on_random_scopes(rng, scopes=60)


def test_a_mix_of_clean_and_dirty_days_equals_the_raw_aggregate(stored: Any) -> None:
    """New responses, an erasure and a deletion after the refresh: their days are dirty,
    the others clean; every answer still equals the raw aggregate."""
    rng, touchpoints, source = stored
    rollups_refresh_all()
    _store(rng, touchpoints, 30, source=source)
    erased = Response.objects.filter(customer__isnull=False).exclude(comment="").first()
    assert erased is not None and erased.customer is not None
    customer_erase(customer=erased.customer, by=UserFactory())
    responses_delete(
        responses=Response.objects.filter(
            pk__in=list(Response.objects.values_list("pk", flat=True)[:15])
        )
    )
    dirty = set(ResponseDayChange.objects.values_list("day", flat=True))
    assert 0 < len(dirty) < DAYS

    _assert_equal_on_random_scopes(rng, scopes=60)
    rollups_refresh_all()
    _assert_equal_on_random_scopes(rng, scopes=30)


def test_scopes_the_roll_up_cannot_serve_read_raw_responses(stored: Any) -> None:
    """Source, NPS group, segment and date-time bounds go to raw responses, equally exact."""
    rng, _, _ = stored
    rollups_refresh_all()

    _assert_equal_on_random_scopes(rng, scopes=30, roll_up=False)


def test_a_rebuild_gives_the_same_answers_and_is_idempotent(stored: Any) -> None:
    """Rebuilding twice leaves the same rows; answers equal the raw aggregate."""
    rng, _, _ = stored
    rollups_refresh_all()
    before = list(ScoreDay.objects.order_by("day", "touchpoint_id", "channel").values())

    rollups_rebuild()
    rollups_rebuild()

    after = list(ScoreDay.objects.order_by("day", "touchpoint_id", "channel").values())
    strip = [{k: v for k, v in row.items() if k != "id"} for row in before]
    assert [{k: v for k, v in row.items() if k != "id"} for row in after] == strip
    _assert_equal_on_random_scopes(rng, scopes=20)


def test_clean_days_are_read_from_the_roll_up_not_from_responses(stored: Any) -> None:
    """A change made behind the markers' back is not seen on a clean day (the answer comes
    from the roll-up); once its day is marked it is."""
    rollups_refresh_all()
    response = Response.objects.filter(nps__lte=6).first()
    assert response is not None
    scope = response_scope_clean({"date_from": "2026-01-01", "date_to": "2026-12-31"})
    before = score_counts_get(scope)[0]

    Response.objects.filter(pk=response.pk).update(nps=10)  # no marker: unseen

    assert score_counts_get(scope)[0] == before
    response_days_changed(days=[response_day(response.submitted_at)])
    after = score_counts_get(scope)[0]
    assert after["promoters"] == before["promoters"] + 1
    assert after["detractors"] == before["detractors"] - 1


def test_an_empty_scope_has_one_row_of_zeros(db: None) -> None:
    """No responses: one row of zeros without grouping, no rows with grouping."""
    scope = response_scope_clean({"date_from": "2026-03-01", "date_to": "2026-03-31"})

    assert score_counts_get(scope) == [dict.fromkeys(COUNT_KEYS, 0)]
    assert score_counts_get(scope, period="week", by=("channel",)) == []


def test_a_read_is_one_query_when_clean_and_two_with_a_dirty_day(
    stored: Any, django_assert_num_queries: Any
) -> None:
    """One statement while every day is clean; a second one reads a dirty day raw."""
    rollups_refresh_all()
    scope = response_scope_clean(
        {"date_from": "2026-02-01", "date_to": "2026-03-31", "department": "dept-1"}
    )

    with django_assert_num_queries(1):
        score_counts_get(scope, period="week", by=("touchpoint_id", "channel"))
    response_days_changed(days=[dt.date(2026, 3, 3)])
    with django_assert_num_queries(2):
        score_counts_get(scope, period="week", by=("touchpoint_id", "channel"))


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    """The period of a day is its ISO week's Monday, or the first of its month."""
    sunday = dt.date(2026, 3, 8)

    assert period_start(sunday, "week") == dt.date(2026, 3, 2)
    assert period_start(sunday, "month") == dt.date(2026, 3, 1)
    assert period_start(sunday, "day") == sunday


def test_only_whole_day_scopes_of_the_roll_up_dimensions_use_it() -> None:
    """Dates, departments, journeys, touchpoints and channels: the roll-up; anything else:
    raw responses."""
    assert roll_up_window({"date_from": "2026-03-01", "channel": ["web"]}) == (
        dt.date(2026, 3, 1),
        None,
    )
    assert roll_up_window({}) == (None, None)
    assert roll_up_window({"date_from": "2026-03-01T10:00:00+00:00"}) is None
    assert roll_up_window({"segment": ["smb"]}) is None
    assert roll_up_window({"topic": ["billing"]}) is None


def test_the_roll_up_rows_do_not_grow_with_responses_per_day(db: None) -> None:
    """A hundred responses of one day, touchpoint and channel are one roll-up row."""
    touchpoint = TouchpointFactory()
    for minute in range(100):
        ResponseFactory(
            submitted_at=START + dt.timedelta(minutes=minute), touchpoint=touchpoint, channel="web"
        )

    rollups_refresh_all()

    assert ScoreDay.objects.count() == 1
    assert ScoreDay.objects.get().responses == 100
    assert connection.vendor in ("sqlite", "postgresql")


def test_the_statement_returns_grouped_rows_not_one_per_roll_up_row(stored: Any) -> None:
    """Without grouping, the roll-up part and the raw part each return one row; grouped by
    channel, one per channel: the rows read into Python do not grow with the data."""
    from analytics.responses.score_days import _rolled_up_statement

    rollups_refresh_all()
    dirty = {dt.date(2026, 3, 3)}
    assert ScoreDay.objects.count() > 50

    whole, _ = _rolled_up_statement({}, None, None, dirty, period=None, by=())
    by_channel, _ = _rolled_up_statement({}, None, None, dirty, period=None, by=("channel",))

    assert len(whole) <= 2
    assert len(by_channel) <= 2 * len(CHANNELS)
