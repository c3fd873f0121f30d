"""Alerts are raised set-wise: the same alerts and notifications as one by one, each once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions import services
from actions.models import Alert, AlertReason, Notification, alert_severity
from tests.actions.conftest import Org
from tests.feedback.factories import ResponseFactory


def _recent(org: Org, **kwargs: Any) -> Any:
    kwargs.setdefault("touchpoint", org.desk)
    kwargs.setdefault("submitted_at", timezone.now() - dt.timedelta(minutes=5))
    return ResponseFactory(**kwargs)


def _stored() -> dict[int, tuple[Any, ...]]:
    return {
        alert.response_id: (
            alert.reason,
            alert.nps,
            alert.sentiment,
            alert.severity,
            alert.department_id,
            alert.touchpoint_id,
        )
        for alert in Alert.objects.all()
    }


@pytest.mark.django_db
def test_a_mixed_batch_raises_each_alert_the_rules_give(org: Org) -> None:
    """One call with every kind of response: detractors, strongly negative comments, mild
    ones, promoters, old feedback, no touchpoint, an existing alert whose sentiment is
    new, and each gets exactly the alert (or update) the rules say."""
    detractor = _recent(org, nps=3)
    detractor_negative = _recent(org, nps=0)
    passive_negative = _recent(org, nps=8)
    passive_mild = _recent(org, nps=8)
    promoter = _recent(org, nps=10)
    old = _recent(org, nps=0, submitted_at=timezone.now() - dt.timedelta(days=60))
    nowhere = _recent(org, nps=5, touchpoint=None)
    known = _recent(org, nps=4)
    services.alerts_raise_for_responses(response_sentiments={known.pk: None})
    sentiments = {
        detractor.pk: 0.2,
        detractor_negative.pk: -0.75,
        passive_negative.pk: -0.5,
        passive_mild.pk: -0.49,
        promoter.pk: -0.9,
        old.pk: -0.9,
        nowhere.pk: None,
        known.pk: -0.6,
    }

    created = services.alerts_raise_for_responses(response_sentiments=sentiments)

    support, desk = org.support.pk, org.desk.pk
    both, detractor_only, negative = (
        AlertReason.BOTH,
        AlertReason.DETRACTOR,
        AlertReason.NEGATIVE_SENTIMENT,
    )
    assert created == 5
    assert _stored() == {
        detractor.pk: (detractor_only, 3, 0.2, alert_severity(reason=detractor_only, nps=3), support, desk),
        detractor_negative.pk: (both, 0, -0.75, alert_severity(reason=both, nps=0), support, desk),
        passive_negative.pk: (negative, 8, -0.5, alert_severity(reason=negative, nps=8), support, desk),
        promoter.pk: (negative, 10, -0.9, alert_severity(reason=negative, nps=10), support, desk),
        nowhere.pk: (detractor_only, 5, None, alert_severity(reason=detractor_only, nps=5), None, None),
        known.pk: (both, 4, -0.6, alert_severity(reason=both, nps=4), support, desk),
    }  # fmt: skip
    deadline = Alert.objects.get(response=detractor).deadline_at
    assert deadline is not None
    assert (
        dt.timedelta(0)
        < deadline - timezone.now()
        <= dt.timedelta(hours=org.support.alert_response_hours)
    )


@pytest.mark.django_db
def test_raising_again_stores_and_notifies_each_alert_once(org: Org) -> None:
    """A retried batch finds its alerts: nothing new is stored or sent, and a later
    sentiment only updates the alerts."""
    responses = [_recent(org, nps=2, comment=f"Bad {i}") for i in range(12)]
    detractors = dict.fromkeys(r.pk for r in responses)
    assert services.alerts_raise_for_responses(response_sentiments=detractors) == 12
    notifications = set(Notification.objects.values_list("pk", flat=True))

    assert services.alerts_raise_for_responses(response_sentiments=detractors) == 0
    scored = {r.pk: -0.8 for r in responses}
    assert services.alerts_raise_for_responses(response_sentiments=scored) == 0

    assert Alert.objects.count() == 12
    assert set(Alert.objects.values_list("reason", "sentiment").distinct()) == {
        (AlertReason.BOTH, -0.8)
    }
    assert set(Notification.objects.values_list("pk", flat=True)) == notifications
    assert len(notifications) == 2  # one summary each for liam and lena


@pytest.mark.django_db
def test_an_alert_stored_meanwhile_is_skipped_and_not_notified(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a concurrent call stores an alert between the read and the insert, the insert
    skips that response: it keeps one alert and only the caller who stored it notifies."""
    first, second = _recent(org, nps=1, comment="First"), _recent(org, nps=2, comment="Second")
    insert = services._alerts_insert_new

    def concurrent_call_first(alerts: list[Alert]) -> list[Alert]:
        Alert.objects.create(response=first, reason=AlertReason.DETRACTOR, nps=1, severity=109)
        return insert(alerts)

    monkeypatch.setattr(services, "_alerts_insert_new", concurrent_call_first)

    created = services.alerts_raise_for_responses(
        response_sentiments={first.pk: None, second.pk: None}
    )

    assert created == 1
    assert Alert.objects.filter(response=first).count() == 1
    notified = set(Notification.objects.values_list("alert__response_id", flat=True))
    assert notified == {second.pk}


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_batch(org: Org) -> None:
    """Raising 30 alerts takes as many queries as raising 6, and so does updating them."""

    def queries(count: int, sentiment: float | None) -> tuple[int, int]:
        responses = [_recent(org, nps=2) for _ in range(count)]
        with CaptureQueriesContext(connection) as raising:
            services.alerts_raise_for_responses(
                response_sentiments=dict.fromkeys(r.pk for r in responses)
            )
        with CaptureQueriesContext(connection) as updating:
            services.alerts_raise_for_responses(
                response_sentiments={r.pk: sentiment for r in responses}
            )
        return len(raising), len(updating)

    assert queries(6, -0.7) == queries(30, -0.8)
