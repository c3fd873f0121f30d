"""The topic roll-up (``analytics.text.rollup``) reads exactly what the raw mentions count:
on random scopes, with dirty days, after re-tagging, corrections and a new parent."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from analytics.models import Topic, TopicDay, TopicDepartmentDay, TopicMention
from analytics.responses.rollups import rollups_rebuild, rollups_refresh_all
from analytics.text import rollup
from analytics.text import services as text_services
from analytics.text.topic_counts import TOPIC_COUNT_KEYS, topic_rows_add, topic_rows_raw
from feedback.filters import response_scope_q, responses_in_scope
from feedback.models import Channel, Response, ResponseDayChange, Touchpoint
from feedback.services import response_day
from tests.dashboards.factories import tag
from tests.feedback.factories import (
    DepartmentFactory,
    ResponseFactory,
    TouchpointFactory,
    cx_manager,
)

pytestmark = pytest.mark.django_db

FIRST_DAY = dt.date(2026, 3, 1)
DAYS = 20
# Sentiments that binary floating point holds exactly, so every sum is exact on SQLite too.
SENTIMENTS = [None, -0.75, -0.5, -0.125, 0.0, 0.25, 0.625, 1.0]


def _label(sentiment: float | None) -> str | None:
    if sentiment is None:
        return None
    return "negative" if sentiment < -0.05 else "positive" if sentiment > 0.05 else "neutral"


def _world(seed: int, *, responses: int = 150) -> dict[str, Any]:
    """Three departments of two touchpoints, two parent topics with two sub-topics each,
    and responses over ``DAYS`` days mentioning up to four topics each."""
    rng = random.Random(seed)
    departments = [DepartmentFactory(slug=f"dept-{i}") for i in range(3)]
    touchpoints = [
        TouchpointFactory(slug=f"tp-{d.slug}-{i}", department=d)
        for d in departments
        for i in (0, 1)
    ]
    parents = [Topic.objects.create(slug=f"parent-{i}", name=f"Parent {i}") for i in (0, 1)]
    children = [
        Topic.objects.create(slug=f"child-{i}", name=f"Child {i}", parent=parents[i % 2])
        for i in range(4)
    ]
    topics = [*parents, *children]
    _responses_add(rng, touchpoints, topics, responses)
    return {"rng": rng, "departments": departments, "touchpoints": touchpoints, "topics": topics}


def _responses_add(
    rng: random.Random, touchpoints: list[Touchpoint], topics: list[Topic], count: int
) -> list[Response]:
    made = []
    start = dt.datetime.combine(FIRST_DAY, dt.time(0, 30), tzinfo=dt.UTC)
    for _ in range(count):
        response = ResponseFactory(
            touchpoint=rng.choice([*touchpoints, None]),
            submitted_at=start + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60)),
            channel=rng.choice(Channel.values),
            nps=rng.choice([None, 0, 3, 6, 7, 8, 9, 10]),
            csat=rng.choice([None, 1, 2, 3, 4, 5]),
            ces=rng.choice([None, 1, 4, 7]),
            comment=rng.choice(["", "Words about it.", "More words."]),
        )
        for topic in rng.sample(topics, rng.randint(0, 4)):
            sentiment = rng.choice(SENTIMENTS)
            TopicMention.objects.create(
                response=response,
                topic=topic,
                sentiment=sentiment,
                sentiment_label=_label(sentiment),
            )
        made.append(response)
    return made


def _by_hand(scope: dict[str, Any]) -> dict[tuple[int, bool], dict[str, Any]]:
    """The topic rows counted in Python from the responses and mentions themselves."""
    parents = dict(Topic.objects.values_list("id", "parent_id"))
    responses = {r.pk: r for r in responses_in_scope(scope)}
    mentions: dict[int, list[TopicMention]] = defaultdict(list)
    for mention in TopicMention.objects.filter(response_id__in=list(responses)):
        mentions[mention.response_id].append(mention)
    rows: dict[tuple[int, bool], dict[str, Any]] = {}
    for response_id, response_mentions in mentions.items():
        response = responses[response_id]
        groups: dict[tuple[int, bool], list[TopicMention]] = defaultdict(list)
        for mention in response_mentions:
            groups[(mention.topic_id, False)].append(mention)
            groups[(parents[mention.topic_id] or mention.topic_id, True)].append(mention)
        for key, group in groups.items():
            row = rows.setdefault(key, dict.fromkeys(TOPIC_COUNT_KEYS, 0))
            labels = [m.sentiment_label for m in group]
            sentiments = [
                Decimal(str(m.sentiment)).quantize(Decimal("1e-8"))
                for m in group
                if m.sentiment is not None
            ]
            nps, csat, ces = response.nps, response.csat, response.ces
            row["responses"] += 1
            row["comments"] += response.comment != ""
            row["nps_n"] += nps is not None
            row["promoters"] += nps is not None and nps >= 9
            row["detractors"] += nps is not None and nps <= 6
            row["csat_n"] += csat is not None
            row["csat_satisfied"] += csat is not None and csat >= 4
            row["csat_sum"] += csat or 0
            row["csat_sumsq"] += (csat or 0) ** 2
            row["ces_n"] += ces is not None
            row["ces_sum"] += ces or 0
            row["ces_sumsq"] += (ces or 0) ** 2
            row["positive_responses"] += "positive" in labels
            row["negative_responses"] += "negative" in labels
            row["mentions"] += len(group)
            for label in ("positive", "neutral", "negative"):
                row[label] += labels.count(label)
            row["sentiment_n"] += len(sentiments)
            row["sentiment_sum"] += sum(sentiments, Decimal(0))
            row["sentiment_sumsq"] += sum((s * s for s in sentiments), Decimal(0))
    for row in rows.values():
        row["sentiment_sum"] = Decimal(row["sentiment_sum"]).quantize(Decimal("1e-8"))
        row["sentiment_sumsq"] = Decimal(row["sentiment_sumsq"]).quantize(Decimal("1e-16"))
    return rows


def _same(counted: dict[Any, dict[str, Any]], expected: dict[Any, dict[str, Any]]) -> bool:
    """Equal rows. PostgreSQL adds the sentiments as exact decimals (8 places each); SQLite
    has only floating point, so there the sentiment sums of values that binary fractions do
    not hold (a tagger's) agree to 1e-6."""
    if connection.vendor == "postgresql" or counted == expected:
        return counted == expected
    if counted.keys() != expected.keys():
        return False
    for key, row in counted.items():
        for name in TOPIC_COUNT_KEYS:
            if name.startswith("sentiment_s"):
                if abs(row[name] - expected[key][name]) > Decimal("1e-6"):
                    return False
            elif row[name] != expected[key][name]:
                return False
    return True


def _raw(scope: dict[str, Any]) -> dict[tuple[int, bool], dict[str, Any]]:
    mentions = TopicMention.objects.filter(response_scope_q(scope, prefix="response__"))
    return topic_rows_add(topic_rows_raw(mentions))


def _random_scope(rng: random.Random, world: dict[str, Any]) -> dict[str, Any]:
    first = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    last = first + dt.timedelta(days=rng.randrange(DAYS))
    scope: dict[str, Any] = {}
    if rng.random() < 0.8:
        scope["date_from"] = first.isoformat()
    if rng.random() < 0.8:
        scope["date_to"] = last.isoformat()
    if rng.random() < 0.5:
        chosen = rng.sample(world["departments"], rng.randint(1, 2))
        scope["department"] = sorted(d.slug for d in chosen)
    return scope


def _marked() -> set[dt.date]:
    return set(ResponseDayChange.objects.values_list("day", flat=True))


def test_topic_counts_are_those_counted_by_hand() -> None:
    """Own rows, parents' rows with their sub-topics (each response once), the score counts
    and the sentiment sums: raw mentions aggregated in SQL equal a count made in Python,
    for scopes the roll-up serves and for those it does not (a channel, a touchpoint)."""
    world = _world(1)
    rng = world["rng"]
    for _ in range(6):
        scope = _random_scope(rng, world)
        assert _raw(scope) == _by_hand(scope), scope
    for scope in (
        {"channel": ["phone", "web"]},
        {"touchpoint": [world["touchpoints"][0].slug], "date_from": "2026-03-05"},
    ):
        assert rollup.topic_rows_read(scope=scope) == _by_hand(scope), scope


@pytest.mark.parametrize("seed", [2, 3])
def test_the_roll_up_reads_what_raw_mentions_count_on_random_scopes(seed: int) -> None:
    """Once refreshed, every day is read from the roll-up, and the figures of any window of
    days and any departments are those of the raw mentions."""
    world = _world(seed)
    rollups_refresh_all()
    assert not _marked() and TopicDay.objects.exists() and TopicDepartmentDay.objects.exists()
    rng = world["rng"]
    for _ in range(12):
        scope = _random_scope(rng, world)
        assert rollup.topic_rows_read(scope=scope) == _by_hand(scope), scope


def test_clean_days_come_from_the_roll_up_in_one_statement() -> None:
    """A clean window is read from the roll-up (a row changed there shows), in one query
    whatever the number of responses."""
    world = _world(4, responses=40)
    rollups_refresh_all()
    scope = {"date_from": FIRST_DAY.isoformat(), "date_to": "2026-03-31"}
    with CaptureQueriesContext(connection) as small:
        rollup.topic_rows_read(scope=scope)
    _responses_add(world["rng"], world["touchpoints"], world["topics"], 200)
    rollups_refresh_all()
    with CaptureQueriesContext(connection) as large:
        expected = rollup.topic_rows_read(scope=scope)
    assert len(large.captured_queries) == len(small.captured_queries) == 1
    assert expected == _by_hand(scope)
    parent = world["topics"][0]
    TopicDay.objects.filter(topic=parent, with_subtopics=True).update(responses=10_000)
    assert rollup.topic_rows_read(scope=scope)[(parent.pk, True)]["responses"] > 10_000


def test_dirty_days_are_read_raw_until_refreshed() -> None:
    """New mentions and responses mark their days; those days are read raw (whatever the
    roll-up still holds for them) until the refresh recounts them."""
    world = _world(5)
    rollups_refresh_all()
    response = Response.objects.filter(touchpoint__isnull=False).order_by("pk").first()
    assert response is not None
    day = response_day(response.submitted_at)
    topic = world["topics"][-1]
    TopicMention.objects.filter(response=response, topic=topic).delete()
    tag(response, topic, -0.5)
    _responses_add(world["rng"], world["touchpoints"], world["topics"], 10)
    assert day in _marked()
    TopicDay.objects.filter(day=day).update(responses=10_000)
    TopicDepartmentDay.objects.filter(day=day).update(mentions=10_000)
    for scope in (
        {},
        {"date_from": day.isoformat(), "date_to": day.isoformat()},
        {"department": [response.touchpoint.department.slug]},  # type: ignore[union-attr]
    ):
        assert rollup.topic_rows_read(scope=scope) == _by_hand(scope), scope
    rollups_refresh_all()
    assert not _marked()
    assert rollup.topic_rows_read(scope={}) == _by_hand({})


def test_retagging_and_corrections_mark_their_days_and_stay_exact() -> None:
    """Tagging writes and a person's corrections mark the responses' days in their own
    transaction: the figures are exact before and after the refresh."""
    text_services.topics_load_defaults()
    responses = [
        ResponseFactory(
            comment=comment,
            submitted_at=dt.datetime(2026, 4, day, 12, tzinfo=dt.UTC),
            touchpoint=TouchpointFactory(),
        )
        for day, comment in (
            (2, "The staff were lovely but the wait was awful."),
            (3, "I waited an hour on the phone."),
            (5, "Friendly staff, quick answer."),
        )
    ]
    text_services.responses_tag(response_ids=[r.pk for r in responses])
    rollups_refresh_all()
    before = rollup.topic_rows_read(scope={})
    assert _same(before, _by_hand({})) and before
    text_services.responses_tag(response_ids=[responses[0].pk])
    assert _marked() == {dt.date(2026, 4, 2)}
    rollups_refresh_all()
    wait = Topic.objects.get(slug="wait-time")
    text_services.tag_correct(
        response=responses[2], topic=wait, action="add", sentiment=-0.6, corrected_by=cx_manager()
    )
    text_services.tag_correct(
        response=responses[1], topic=wait, action="remove", corrected_by=cx_manager()
    )
    assert _marked() == {dt.date(2026, 4, 3), dt.date(2026, 4, 5)}
    for scope in ({}, {"date_from": "2026-04-03", "date_to": "2026-04-05"}):
        assert _same(rollup.topic_rows_read(scope=scope), _by_hand(scope))
    rollups_refresh_all()
    after = rollup.topic_rows_read(scope={})
    assert _same(after, _by_hand({})) and after != before


def test_a_topic_moved_under_another_parent_is_recounted() -> None:
    """A parent's figures count its sub-topics: moving a sub-topic marks the days it was
    mentioned on, and the parents' rows follow."""
    world = _world(6)
    rollups_refresh_all()
    moved = world["topics"][2]  # a child of parent-0
    other = world["topics"][1]
    text_services.topic_update(topic=moved, parent=other)
    assert _marked()
    assert rollup.topic_rows_read(scope={}) == _by_hand({})
    rollups_refresh_all()
    assert rollup.topic_rows_read(scope={}) == _by_hand({})


def test_a_touchpoint_moved_to_another_department_is_recounted() -> None:
    """The admin's move of a touchpoint marks the days of its responses: department
    figures count them where the touchpoint now belongs."""
    world = _world(7)
    rollups_refresh_all()
    touchpoint = world["touchpoints"][0]
    touchpoint.department = world["departments"][2]
    admin = site._registry[Touchpoint]
    request = RequestFactory().post("/admin/")
    request.user = cx_manager()
    admin.save_model(request, touchpoint, form=None, change=True)  # type: ignore[arg-type]
    days = {response_day(r.submitted_at) for r in Response.objects.filter(touchpoint=touchpoint)}
    assert days and _marked() == days
    scope = {"department": [world["departments"][2].slug]}
    assert rollup.topic_rows_read(scope=scope) == _by_hand(scope)
    rollups_refresh_all()
    assert rollup.topic_rows_read(scope=scope) == _by_hand(scope)


def test_a_topic_per_day_is_read_as_counted() -> None:
    """A topic's rows per day (the topic page's trend) are the day-by-day counts, for a
    parent with its sub-topics and for a sub-topic alone."""
    world = _world(8)
    rollups_refresh_all()
    _responses_add(world["rng"], world["touchpoints"], world["topics"], 5)  # dirty days
    scope = {"date_from": "2026-03-04", "date_to": "2026-03-15", "department": ["dept-1"]}
    for topic, with_subtopics in ((world["topics"][0], True), (world["topics"][3], False)):
        days = rollup.topic_days_read(topic_id=topic.pk, with_subtopics=with_subtopics, scope=scope)
        expected = {}
        for offset in range(12):
            day = dt.date(2026, 3, 4) + dt.timedelta(days=offset)
            one_day = {**scope, "date_from": day.isoformat(), "date_to": day.isoformat()}
            row = _by_hand(one_day).get((topic.pk, with_subtopics))
            if row:
                expected[day] = row
        assert days == expected


@override_settings(TIME_ZONE="Pacific/Auckland")
def test_days_are_the_project_time_zones() -> None:
    """A response at 13:30 UTC belongs to the next day in Auckland: the roll-up and a date
    filter agree on it."""
    _world(9, responses=60)
    rollups_rebuild()
    for day in ("2026-03-03", "2026-03-10"):
        scope = {"date_from": day, "date_to": day}
        assert rollup.topic_rows_read(scope=scope) == _by_hand(scope)
