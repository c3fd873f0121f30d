"""Closed-loop alerts: unhappy customers reach the touchpoint's department managers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from actions import services
from actions.models import Alert, AlertReason, Notification
from cxhub.errors import InvalidTransition
from feedback.processing import response_processors
from tests.actions.conftest import Org
from tests.feedback.factories import CustomerFactory, ResponseFactory, cx_manager


def _recent(org: Org, **kwargs: Any) -> Any:
    kwargs.setdefault("touchpoint", org.desk)
    kwargs.setdefault("submitted_at", timezone.now() - dt.timedelta(minutes=5))
    return ResponseFactory(**kwargs)


@pytest.mark.django_db
def test_a_detractor_alerts_the_departments_managers_with_verbatim_and_customer(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    """Line and CX managers who are members of the owning department get a notification and mail."""
    org.support.members.add(org.cx)
    customer = CustomerFactory(external_id="C-777")
    response = _recent(org, nps=3, comment="Nobody called me back.", customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        created = services.alerts_raise_for_responses(response_sentiments={response.pk: None})
    assert created == 1
    alert = Alert.objects.get(response=response)
    assert (alert.reason, alert.department, alert.touchpoint) == (
        AlertReason.DETRACTOR,
        org.support,
        org.desk,
    )
    recipients = set(
        Notification.objects.filter(kind="alert").values_list("recipient__username", flat=True)
    )
    assert recipients == {"liam", "lena", "cara"}  # the viewer vera is a member but no manager
    assert {m.to[0] for m in mail.outbox} == {
        "liam@example.com",
        "lena@example.com",
        "cara@example.com",
    }
    assert all("Nobody called me back." in m.body and "C-777" in m.body for m in mail.outbox)


@pytest.mark.django_db
def test_strongly_negative_sentiment_alerts_a_passive_customer(org: Org) -> None:
    """Sentiment ≤ −0.5 alerts even without a detractor score; −0.4 does not."""
    angry = _recent(org, nps=8, comment="Terrible, rude, awful.")
    mild = _recent(org, nps=8, comment="Could be better.")
    created = services.alerts_raise_for_responses(
        response_sentiments={angry.pk: -0.8, mild.pk: -0.4}
    )
    assert created == 1
    assert Alert.objects.get().reason == AlertReason.NEGATIVE_SENTIMENT


@pytest.mark.django_db
def test_detractor_processor_and_tagging_together_raise_one_alert(org: Org) -> None:
    """The feedback processor fires first, tagging adds the sentiment later: one alert, one round of notifications."""
    response = _recent(org, nps=2, comment="Awful")
    processors = dict(response_processors())
    processors["actions.detractor_alerts"]([response.pk])
    processors["actions.detractor_alerts"]([response.pk])
    assert services.alerts_raise_for_responses(response_sentiments={response.pk: -0.9}) == 0
    alert = Alert.objects.get()
    assert (alert.reason, alert.sentiment) == (AlertReason.BOTH, -0.9)
    assert Notification.objects.filter(kind="alert").count() == 2  # liam and lena, once each


@pytest.mark.django_db
def test_promoters_and_old_feedback_raise_nothing(org: Org) -> None:
    """Happy customers and historical imports (older than the alert window) are not alerted."""
    happy = _recent(org, nps=10, comment="Great")
    old = _recent(org, nps=0, submitted_at=timezone.now() - dt.timedelta(days=60))
    no_score = _recent(org, nps=None, comment="ok")
    sentiments = {happy.pk: 0.9, old.pk: -0.9, no_score.pk: None}
    assert services.alerts_raise_for_responses(response_sentiments=sentiments) == 0
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_without_a_touchpoint_the_cx_team_is_alerted(org: Org) -> None:
    """No owning department: every CX manager hears of it."""
    other_cx = cx_manager(username="cleo")
    response = _recent(org, nps=1, touchpoint=None)
    assert services.alerts_raise_for_responses(response_sentiments={response.pk: None}) == 1
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"cara", other_cx.username}


@pytest.mark.django_db
def test_handling_records_who_when_and_a_note_once(org: Org) -> None:
    """Closing stores the handler, time, note and the contact; a second time is refused."""
    response = _recent(org, nps=1)
    services.alerts_raise_for_responses(response_sentiments={response.pk: None})
    alert = Alert.objects.get()
    call = services.AlertContactRecord(
        contacted_at=timezone.now(), channel="phone", outcome="resolved"
    )
    services.alert_handle(alert=alert, by=org.owner, note="Called, refunded the fee.", contact=call)
    alert.refresh_from_db()
    assert (alert.status, alert.handled_by, alert.handled_note) == (
        "handled",
        org.owner,
        "Called, refunded the fee.",
    )
    assert alert.handled_at is not None
    assert list(alert.contacts.values_list("channel", "outcome")) == [("phone", "resolved")]
    with pytest.raises(InvalidTransition):
        services.alert_handle(alert=alert, by=org.owner, contact=call)


@pytest.mark.django_db
def test_a_large_batch_sends_each_manager_one_summary(org: Org) -> None:
    """Twelve detractors in one batch: twelve alerts, but one notification per manager."""
    responses = [_recent(org, nps=2, comment=f"Bad {i}") for i in range(12)]
    created = services.alerts_raise_for_responses(
        response_sentiments=dict.fromkeys(r.pk for r in responses)
    )
    assert created == 12 and Alert.objects.count() == 12
    notes = list(Notification.objects.filter(kind="alert"))
    assert sorted(n.recipient.username for n in notes) == ["lena", "liam"]
    assert notes[0].title == "12 unhappy customers need a call back"
    assert "… and 2 more" in notes[0].body
