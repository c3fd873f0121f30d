"""factory_boy factories for the actions app."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from actions.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    Alert,
    AlertContact,
    AlertReason,
    ContactChannel,
    ContactOutcome,
    InsightKind,
    alert_severity,
)
from tests.feedback.factories import (
    DepartmentFactory,
    ResponseFactory,
    UserFactory,
    line_manager,
)


class ActionFactory(DjangoModelFactory):
    """A proposed action from scratch; pass ``status=`` to start elsewhere in the lifecycle."""

    class Meta:
        model = Action
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Improvement {n}")
    description = "Shorten the queue."
    insight_kind = InsightKind.SCRATCH
    evidence = factory.LazyAttribute(
        lambda a: {
            "kind": "scratch",
            "reference": "",
            "label": a.title,
            "figures": [],
            "summary": a.title,
        }
    )
    department = factory.SubFactory(DepartmentFactory)
    owner = factory.LazyFunction(line_manager)
    created_by = factory.SubFactory(UserFactory)
    status = ActionStatus.PROPOSED
    implemented_at = factory.LazyAttribute(
        lambda a: (
            dt.date(2026, 1, 15)
            if a.status in {ActionStatus.IMPLEMENTED, ActionStatus.MEASURED}
            else None
        )
    )
    declined_reason = factory.LazyAttribute(
        lambda a: "Not ours to fix." if a.status == ActionStatus.DECLINED else ""
    )


class ActionUpdateFactory(DjangoModelFactory):
    class Meta:
        model = ActionUpdate

    action = factory.SubFactory(ActionFactory)
    author = factory.LazyAttribute(lambda u: u.action.owner)
    progress = 20
    text = "Rota changed."


class AlertFactory(DjangoModelFactory):
    class Meta:
        model = Alert

    response = factory.SubFactory(ResponseFactory, nps=2, comment="Awful.")
    touchpoint = factory.LazyAttribute(lambda a: a.response.touchpoint)
    department = factory.LazyAttribute(
        lambda a: a.response.touchpoint.department if a.response.touchpoint else None
    )
    reason = AlertReason.DETRACTOR
    nps = factory.LazyAttribute(lambda a: a.response.nps)
    severity = factory.LazyAttribute(lambda a: alert_severity(reason=a.reason, nps=a.nps))
    deadline_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=48))


class AlertContactFactory(DjangoModelFactory):
    """A phone call that resolved the customer's problem."""

    class Meta:
        model = AlertContact

    alert = factory.SubFactory(AlertFactory)
    contacted_by = factory.LazyFunction(line_manager)
    contacted_at = factory.LazyFunction(timezone.now)
    channel = ContactChannel.PHONE
    outcome = ContactOutcome.RESOLVED
    note = "Apologised; refund issued."
