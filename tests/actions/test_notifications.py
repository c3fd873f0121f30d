"""Notifications: on assignment and decisions, reminders, the weekly digest, preferences."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from actions import services
from actions.models import ActionStatus, Notification, NotificationKind, NotificationPreference
from actions.tasks import (
    actions_remind_due_soon_task,
    actions_remind_overdue_task,
    digests_send_task,
)
from tests.actions.conftest import Org
from tests.actions.factories import ActionFactory

TODAY = dt.date(2026, 6, 1)  # a Monday


@pytest.mark.django_db
def test_assignment_notifies_the_owner_in_app_and_by_email_after_commit(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    """Creating an action writes the owner a notification; the e-mail leaves only on commit."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        action = services.action_create(
            created_by=org.cx,
            title="Call back within a day",
            department=org.support,
            owner=org.owner,
        )
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    notification = Notification.objects.get(recipient=org.owner)
    assert notification.kind == NotificationKind.ASSIGNED
    assert notification.url == f"/actions/{action.pk}/"
    assert [m.to for m in mail.outbox] == [[org.owner.email]]
    assert "Call back within a day" in mail.outbox[0].subject
    notification.refresh_from_db()
    assert notification.emailed_at is not None


@pytest.mark.django_db
def test_sending_an_email_twice_sends_it_once(org: Org) -> None:
    """A retried e-mail task finds ``emailed_at`` set and does nothing."""
    from actions.notifications import notification_email_send

    note = Notification.objects.create(recipient=org.owner, kind="assigned", title="Hello")
    assert notification_email_send(notification_id=note.pk) is True
    assert notification_email_send(notification_id=note.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_accept_and_decline_notify_the_creator(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    """The CX manager who created the action hears of the owner's decision, with the reason."""
    second = ActionFactory(department=org.support, owner=org.owner, created_by=org.cx)
    with django_capture_on_commit_callbacks(execute=True):
        services.action_accept(action=org.own_action, by=org.owner)
        services.action_decline(action=second, by=org.owner, reason="Billing owns this.")
    kinds = list(Notification.objects.filter(recipient=org.cx).values_list("kind", "body"))
    assert {k for k, _ in kinds} == {"accepted", "declined"}
    assert any("Billing owns this." in body for _, body in kinds)
    assert {m.to[0] for m in mail.outbox} == {org.cx.email}


@pytest.mark.django_db
def test_preferences_turn_a_kind_off_entirely(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    """With 'assigned' off the owner gets neither the row nor the mail; other kinds still arrive."""
    NotificationPreference.objects.create(user=org.owner, assigned=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.action_create(
            created_by=org.cx, title="x", department=org.support, owner=org.owner
        )
    assert not Notification.objects.filter(recipient=org.owner).exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_email_off_keeps_in_app_notifications(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    """Turning e-mail off leaves the in-app row."""
    NotificationPreference.objects.create(user=org.owner, email=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.action_create(
            created_by=org.cx, title="x", department=org.support, owner=org.owner
        )
    assert Notification.objects.filter(recipient=org.owner).count() == 1
    assert mail.outbox == []


@pytest.mark.django_db
def test_due_soon_reminds_open_actions_due_in_three_days_once(org: Org) -> None:
    """Only open actions due exactly in 3 days are reminded, and a second run adds nothing."""
    due = TODAY + dt.timedelta(days=3)
    soon = ActionFactory(owner=org.owner, due_date=due, status=ActionStatus.IN_PROGRESS)
    ActionFactory(owner=org.owner, due_date=due + dt.timedelta(days=1))
    ActionFactory(owner=org.owner, due_date=due, status=ActionStatus.IMPLEMENTED)
    assert services.actions_remind_due_soon(today=TODAY) == 1
    assert services.actions_remind_due_soon(today=TODAY) == 0
    reminder = Notification.objects.get(kind="due_soon")
    assert reminder.action == soon and reminder.recipient == org.owner


@pytest.mark.django_db
def test_overdue_reminds_daily_until_done(org: Org) -> None:
    """An open past-due action is reminded once per day; a finished one never."""
    late = ActionFactory(owner=org.owner, due_date=TODAY - dt.timedelta(days=2))
    ActionFactory(
        owner=org.owner, due_date=TODAY - dt.timedelta(days=2), status=ActionStatus.CANCELLED
    )
    due_today = ActionFactory(owner=org.owner, due_date=TODAY)
    assert services.actions_remind_overdue(today=TODAY) == 1
    assert services.actions_remind_overdue(today=TODAY) == 0
    # The next day both the late one and the one due today are overdue.
    assert services.actions_remind_overdue(today=TODAY + dt.timedelta(days=1)) == 2
    assert Notification.objects.filter(kind="overdue", action=due_today).count() == 1
    titles = list(
        Notification.objects.filter(kind="overdue", action=late).values_list("title", flat=True)
    )
    assert sorted(titles) == [
        f"Overdue by 2 days: {late.title}",
        f"Overdue by 3 days: {late.title}",
    ]


@pytest.mark.django_db
def test_weekly_digest_goes_to_each_owner_with_open_actions(org: Org) -> None:
    """One digest per owner per ISO week, listing their open actions; opted-out owners get none."""
    ActionFactory(owner=org.owner, title="Late one", due_date=TODAY - dt.timedelta(days=1))
    NotificationPreference.objects.create(user=org.outsider, digest=False)
    sent = services.digests_send(today=TODAY)
    assert sent == 1  # owner yes; outsider opted out
    digest = Notification.objects.get(kind="digest")
    assert digest.recipient == org.owner
    assert "Shorter queues" in digest.body and "Late one: proposed" in digest.body
    assert "OVERDUE" in digest.body
    assert "2 open actions, 2 awaiting your decision, 1 overdue" in digest.title
    assert services.digests_send(today=TODAY + dt.timedelta(days=2)) == 0
    assert services.digests_send(today=TODAY + dt.timedelta(days=7)) == 1


@pytest.mark.django_db
def test_beat_tasks_run_the_reminders(org: Org) -> None:
    """The scheduled tasks call the services (inline here) and return counts."""
    assert actions_remind_due_soon_task.delay().get() == 0
    assert actions_remind_overdue_task.delay().get() == 0
    assert digests_send_task.delay().get() == 2  # owner and outsider have open actions


def test_reminders_are_scheduled_with_beat() -> None:
    """The three reminder tasks and the escalation of overdue alerts are in the beat schedule."""
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "actions.tasks.actions_remind_due_soon_task",
        "actions.tasks.actions_remind_overdue_task",
        "actions.tasks.digests_send_task",
        "actions.tasks.alerts_escalate_overdue_task",
    } <= tasks


@pytest.mark.django_db
def test_notification_api_lists_marks_read_and_sets_preferences(org: Org, api: Any) -> None:
    """A user sees only their notifications, can mark them read and switch kinds off."""
    Notification.objects.create(recipient=org.owner, kind="assigned", title="Mine")
    Notification.objects.create(recipient=org.cx, kind="assigned", title="Not mine")
    client = api(org.owner)
    rows = client.get("/api/v1/notifications/").json()["results"]
    assert [r["title"] for r in rows] == ["Mine"]
    assert client.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 1}
    answer = client.patch("/api/v1/notifications/preferences/", {"digest": False}, format="json")
    assert answer.status_code == 200 and answer.json()["digest"] is False
    assert NotificationPreference.objects.get(user=org.owner).digest is False
    bad = client.patch(
        "/api/v1/notifications/preferences/", {"carrier_pigeon": True}, format="json"
    )
    assert bad.status_code == 400


@pytest.mark.django_db
def test_email_links_point_at_the_configured_base_url(org: Org, settings: Any) -> None:
    """The link in a notification e-mail starts with CXHUB_BASE_URL, not a development host."""
    from actions.notifications import notification_email_send

    settings.CXHUB_BASE_URL = "https://cx.example.com"
    note = Notification.objects.create(
        recipient=org.owner, kind="assigned", title="Yours", body="An action.", url="/actions/7/"
    )

    assert notification_email_send(notification_id=note.pk) is True
    assert mail.outbox[-1].body.endswith("Open in CXHub: https://cx.example.com/actions/7/")
