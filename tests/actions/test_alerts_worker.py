"""End to end on PostgreSQL, Redis and a real worker: a posted detractor alerts within a minute."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from actions.models import Alert, Notification
from tests.feedback.factories import (
    DepartmentFactory,
    SourceAPIKeyFactory,
    TouchpointFactory,
    line_manager,
)


@pytest.mark.services
def test_a_posted_detractor_alerts_the_department_within_a_minute(celery_worker: Any) -> None:
    """Ingest → worker runs the detractor processor → the line manager has an alert and its e-mail."""
    support = DepartmentFactory(slug="support-worker")
    TouchpointFactory(slug="billing-call", department=support)
    manager = line_manager(username="worker-lm")
    support.members.add(manager)
    key = SourceAPIKeyFactory(source__name="alerts-worker-test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.plain_key}")
    started = time.monotonic()
    answer = client.post(
        "/api/v1/feedback/",
        {
            "external_id": "angry-1",
            "submitted_at": timezone.now().isoformat(),
            "customer_id": "C-9",
            "touchpoint": "billing-call",
            "nps": 1,
            "comment": "Charged twice and nobody answers.",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    response_id = answer.json()["id"]

    notification = None
    while time.monotonic() - started < 60:
        notification = (
            Notification.objects.filter(recipient=manager, kind="alert", emailed_at__isnull=False)
            .select_related("alert")
            .first()
        )
        if notification is not None:
            break
        time.sleep(0.25)
    assert notification is not None, "no alert e-mail within 60 s"
    assert notification.alert.response_id == response_id
    assert "Charged twice and nobody answers." in notification.body and "C-9" in notification.body
    assert Alert.objects.filter(response_id=response_id).count() == 1
