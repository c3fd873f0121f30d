"""Concurrent decisions and alerts on PostgreSQL: row locks and the unique key keep one outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from actions import services
from actions.models import Action, ActionStatus, Alert, Notification
from cxhub.errors import InvalidTransition
from tests.actions.factories import ActionFactory
from tests.feedback.factories import (
    DepartmentFactory,
    ResponseFactory,
    TouchpointFactory,
    line_manager,
)


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; return each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # collected for the assertions
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_accept_and_decline_at_once_leave_exactly_one_decision() -> None:
    """Both clicks arrive together: one wins, the other is an invalid transition."""
    action = ActionFactory()
    owner = action.owner
    results = _race(
        lambda: services.action_accept(action=Action.objects.get(pk=action.pk), by=owner),
        lambda: services.action_decline(
            action=Action.objects.get(pk=action.pk), by=owner, reason="Not mine"
        ),
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], InvalidTransition)
    action.refresh_from_db()
    assert action.status in {ActionStatus.ACCEPTED, ActionStatus.DECLINED}
    assert action.history.count() == 2  # created + the one decision


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_alerting_of_one_response_stores_one_alert_and_notifies_once() -> None:
    """The detractor processor and the tagger racing on one response: one alert, one notification."""
    department = DepartmentFactory()
    manager = line_manager()
    department.members.add(manager)
    response = ResponseFactory(
        touchpoint=TouchpointFactory(department=department), nps=0, submitted_at=timezone.now()
    )
    results = _race(
        lambda: services.alerts_raise_for_responses(response_sentiments={response.pk: None}),
        lambda: services.alerts_raise_for_responses(response_sentiments={response.pk: -0.9}),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == [0, 1]
    assert Alert.objects.filter(response=response).count() == 1
    assert Notification.objects.filter(recipient=manager, kind="alert").count() == 1
