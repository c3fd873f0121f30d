"""Helpers to plant dashboard data: responses with known scores, actions, topics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from actions.models import Action
from analytics.models import Topic, TopicMention
from feedback.models import Response
from feedback.services import response_day, response_days_changed
from tests.feedback.factories import ResponseFactory, SourceFactory, UserFactory


def plant_responses(
    *,
    touchpoint: Any,
    nps_values: list[int],
    days_ago: int = 3,
    comment: str = "",
    customer: Any = None,
    channel: str = "web",
) -> list[Response]:
    source = SourceFactory(name="dash-test-source")
    when = timezone.now() - dt.timedelta(days=days_ago)
    return [
        ResponseFactory(
            source=source,
            touchpoint=touchpoint,
            nps=value,
            submitted_at=when,
            comment=comment,
            customer=customer,
            channel=channel,
        )
        for value in nps_values
    ]


def plant_action(
    *,
    department: Any,
    owner: Any = None,
    status: str = "proposed",
    title: str = "Call back within a day",
    **kwargs: Any,
) -> Action:
    owner = owner or UserFactory()
    fields: dict[str, Any] = {"created_by": owner, **kwargs}
    if status in {"implemented", "measured"}:
        fields.setdefault("implemented_at", timezone.localdate() - dt.timedelta(days=7))
    if status == "declined":
        fields.setdefault("declined_reason", "Not now")
    return Action.objects.create(
        title=title, department=department, owner=owner, status=status, **fields
    )


def plant_topic(slug: str = "wait-time", name: str = "Wait time") -> Topic:
    topic, _ = Topic.objects.get_or_create(slug=slug, defaults={"name": name})
    return topic


def tag(response: Response, topic: Topic, sentiment: float) -> TopicMention:
    """A mention written as tagging writes it: its response's day is marked changed, so the
    topic roll-up recounts it."""
    label = "negative" if sentiment < -0.05 else "positive" if sentiment > 0.05 else "neutral"
    mention = TopicMention.objects.create(
        response=response, topic=topic, sentiment=sentiment, sentiment_label=label
    )
    response_days_changed(days=[response_day(response.submitted_at)])
    return mention
