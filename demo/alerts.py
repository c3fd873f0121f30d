"""The demo's alert queue: alerts dated as if raised live, some taken, some closed, some late.

Processing the demo responses raises the alerts at seed time; here they get the time they
would have been raised (their response's) and the deadline that follows from it, each
department a response time and the CX manager as CX owner, and then the queue is worked
through the services, as people would: every third alert is given to the department's line
manager, every fifth is closed after a call (and most of those older than a week, closed
when the call was made), and the escalation task is run as of four days
ago, so alerts overdue since then are escalated. What is left open past its deadline is the
queue's overdue part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from actions import services as action_services
from actions.models import Alert, AlertStatus, ContactChannel, ContactOutcome
from demo import generator
from feedback.models import Department

# Hours each demo department has to call a customer back (the default is 48).
RESPONSE_HOURS = {"customer-service": 24, "billing-payments": 48, "digital": 72}
OUTCOMES = (ContactOutcome.RESOLVED, ContactOutcome.RESOLVED, ContactOutcome.NOT_RESOLVED)
CHANNELS = (ContactChannel.PHONE, ContactChannel.PHONE, ContactChannel.EMAIL)


def demo_alerts_work(*, users: dict[str, Any], say: Callable[[str], None]) -> int:
    """Date, assign, close and escalate the demo's alerts; returns how many were worked."""
    cx = users["cx"]
    line_managers = {
        slug: users[spec["username"]]
        for spec in generator.USERS
        if spec["role"] == "line_manager"
        for slug in spec["departments"]
    }
    for department in Department.objects.all():
        department.alert_response_hours = RESPONSE_HOURS.get(department.slug, 48)
        department.cx_owner = cx
        department.save(update_fields=["alert_response_hours", "cx_owner"])
    alerts = list(
        Alert.objects.filter(status=AlertStatus.OPEN)
        .select_related("response", "department")
        .order_by("response__submitted_at", "pk")
    )
    for alert in alerts:
        raised = alert.response.submitted_at
        alert.created_at = raised
        alert.deadline_at = action_services.alert_deadline(
            department=alert.department, raised_at=raised
        )
    Alert.objects.bulk_update(alerts, ["created_at", "deadline_at"])
    now = timezone.now()
    worked = 0
    for index, alert in enumerate(alerts):
        manager = line_managers.get(alert.department.slug) if alert.department else None
        if manager is None:
            continue
        if index % 3 == 0:
            action_services.alert_assign(alert=alert, assignee=manager, by=cx)
            worked += 1
        # Most alerts older than a week were dealt with; of the recent ones, every fifth.
        old = alert.response.submitted_at < now - dt.timedelta(days=7)
        if index % 5 == 0 or (old and index % 4 != 3):
            called = min(alert.response.submitted_at + dt.timedelta(hours=3 + index % 40), now)
            contact = action_services.AlertContactRecord(
                contacted_at=called,
                channel=CHANNELS[index % len(CHANNELS)],
                outcome=OUTCOMES[index % len(OUTCOMES)],
                note="Called back; apologised and explained the next step.",
            )
            action_services.alert_handle(
                alert=alert, by=manager, note="Loop closed with the customer.", contact=contact
            )
            Alert.objects.filter(pk=alert.pk).update(handled_at=called)
            worked += 1
    escalated = action_services.alerts_escalate_overdue(now=now - dt.timedelta(days=4))
    say(
        f"Alert queue: {len(alerts):,} alerts dated as raised, {worked:,} assigned or closed, "
        f"{escalated:,} escalated to the CX owner."
    )
    return worked
