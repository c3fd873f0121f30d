"""The demo's alert queue: dated as raised, some assigned, some closed with a call, some late."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from actions import services
from actions.models import Alert, AlertContact, AlertStatus
from demo import generator
from demo.alerts import demo_alerts_work
from demo.services import demo_seed
from feedback.models import Department, Response

pytestmark = pytest.mark.django_db


def test_demo_alerts_exercise_the_queue() -> None:
    """Assigned, overdue and closed-with-a-contact alerts; deadlines follow the raise time."""
    demo_seed(seed=3, responses=3_000, analyse=False, end=timezone.now())
    ids = list(Response.objects.values_list("id", flat=True))
    services.alerts_raise_for_responses(response_sentiments=dict.fromkeys(ids))
    users = {
        spec["username"]: get_user_model().objects.get(username=spec["username"])
        for spec in generator.USERS
    }
    lines: list[str] = []
    demo_alerts_work(users=users, say=lines.append)
    now = timezone.now()
    alerts = Alert.objects.select_related("response", "department")
    assert alerts.filter(status=AlertStatus.OPEN, assignee__isnull=False).exists()
    assert alerts.filter(status=AlertStatus.OPEN, deadline_at__lt=now).exists()
    closed = alerts.filter(status=AlertStatus.HANDLED)
    assert closed.exists()
    assert AlertContact.objects.filter(alert__in=closed).count() == closed.count()
    for alert in alerts:
        assert alert.created_at == alert.response.submitted_at
        hours = alert.department.alert_response_hours if alert.department else 48
        assert alert.deadline_at is not None
        assert (alert.deadline_at - alert.created_at).total_seconds() == hours * 3600
    assert set(Department.objects.values_list("cx_owner__username", flat=True)) == {"cx"}
    assert lines and lines[0].startswith("Alert queue:")
