"""A customer with a story to erase or export: contact details, an angry comment that was
tagged, alerted and turned into an action, and every copy of it those steps made."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from actions import services as action_services
from actions.models import Action, ActionUpdate, Alert, Notification, NotificationKind
from analytics.text.models import TagCorrection, TopicMention
from feedback.models import Response
from tests.feedback.conftest import feedback_item
from tests.feedback.factories import cx_manager, line_manager

CUSTOMER_ID = "C-PLANT-7Q9X"
COMMENT = (
    "The Zorblaxian invoice was wrong again and I waited 40 minutes on the phone for the "
    "agent, who could not fix my bill. Quxfiddle!"
)
NAME = "Plantina Uniqueson"
EMAIL = "plantina.uniqueson@example.org"
PHONE = "+44 20 7946 0958"
RECENT = (timezone.now() - dt.timedelta(hours=1)).isoformat()
PLANTED = ("Zorblax", "Quxfiddle", CUSTOMER_ID, "Plantina", "uniqueson", "7946 0958")


def customer_story_build(
    key_client: APIClient, organisation: Any, capture_on_commit: Any
) -> dict[str, Any]:
    """A customer posted by a source with contact details, an angry tagged comment, the alert
    it raised (notified, handled with a note), an action from it with a pasted quote, an
    update, a tag correction and an alert digest; and another customer's response."""
    billing = organisation["billing"]
    cx = cx_manager(username="cara")
    manager = line_manager(username="liam")
    billing.department.members.add(cx, manager)
    key_client.post(
        "/api/v1/customers/",
        {
            "external_id": CUSTOMER_ID,
            "segment": "smb",
            "region": "north",
            "plan": "premium",
            "annual_revenue": "1200.00",
            "cost_to_serve": "180.50",
            "attributes": {
                "full_name": NAME,
                "email": EMAIL,
                "contact": PHONE,
                "note": f"Reach {NAME.split()[0]} on {PHONE}",
                "tenure_months": 26,
                "tier": "gold",
            },
        },
        format="json",
    )
    with capture_on_commit(execute=True):
        answer = key_client.post(
            "/api/v1/feedback/",
            feedback_item(
                external_id="resp-plant",
                submitted_at=RECENT,
                customer_id=CUSTOMER_ID,
                nps=2,
                comment=COMMENT,
                attributes={"region": "north", "email": EMAIL},
            ),
            format="json",
        )
        other = key_client.post(
            "/api/v1/feedback/",
            feedback_item(
                external_id="resp-other",
                customer_id="C-OTHER",
                nps=9,
                comment="The agent fixed my bill quickly.",
            ),
            format="json",
        )
    assert answer.status_code == 201 and other.status_code == 201
    response = Response.objects.get(external_id="resp-plant")
    alert = Alert.objects.get(response=response)
    assert Notification.objects.filter(alert=alert, body__contains="Zorblaxian").exists()
    assert TopicMention.objects.filter(response=response, sentence__contains="Zorblax").exists()
    mention = TopicMention.objects.filter(response=response).first()
    assert mention is not None
    TagCorrection.objects.create(
        response=response,
        topic=mention.topic,
        action=TagCorrection.Action.ADD,
        corrected_by=cx,
        note="Zorblaxian is their word for the bill",
    )
    action = action_services.action_create(
        created_by=cx,
        title=f"Call back {CUSTOMER_ID}",
        department=billing.department,
        owner=manager,
        description=f"Customer said: “{COMMENT}”",
        alert=alert,
    )
    action_services.action_edit(
        action=action, by=cx, changes={"description": f"Customer {CUSTOMER_ID} said: “{COMMENT}”"}
    )
    ActionUpdate.objects.create(action=action, author=manager, text=f"Rang {NAME}; no answer.")
    Alert.objects.filter(pk=alert.pk).update(handled_note=f"Left a message for {NAME}")
    Notification.objects.create(
        recipient=cx,
        kind=NotificationKind.ALERT,
        title="3 unhappy customers need a call back",
        body=(
            "• C-OTHER at Billing call (NPS 3): “Slow.”\n"
            f"• {CUSTOMER_ID} at Billing call (NPS 2): “{COMMENT[:157]}…”"
        ),
    )
    assert any("Zorblax" in str(record.evidence) for record in Action.history.filter(id=action.pk))
    return {"cx": cx, "response": response, "action": action, "mention_topic": mention.topic}
