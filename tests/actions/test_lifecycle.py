"""The lifecycle table, checked for every state × every transition, and the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from actions import services
from actions.models import ActionStatus
from cxhub.errors import Forbidden, InvalidInput, InvalidTransition
from tests.actions.factories import ActionFactory
from tests.feedback.factories import cx_manager, line_manager

S = ActionStatus
TODAY = dt.date(2026, 3, 10)

# Written out independently of actions.services.TRANSITIONS: (from, transition) -> to.
EXPECTED = {
    (S.PROPOSED, "accept"): S.ACCEPTED,
    (S.PROPOSED, "decline"): S.DECLINED,
    (S.ACCEPTED, "start"): S.IN_PROGRESS,
    (S.IN_PROGRESS, "implement"): S.IMPLEMENTED,
    (S.IMPLEMENTED, "mark_measured"): S.MEASURED,
    (S.PROPOSED, "cancel"): S.CANCELLED,
    (S.ACCEPTED, "cancel"): S.CANCELLED,
    (S.IN_PROGRESS, "cancel"): S.CANCELLED,
    (S.PROPOSED, "reassign"): S.PROPOSED,
    (S.ACCEPTED, "reassign"): S.PROPOSED,
    (S.IN_PROGRESS, "reassign"): S.PROPOSED,
    (S.DECLINED, "reassign"): S.PROPOSED,
}
TRANSITION_NAMES = [
    "accept",
    "decline",
    "start",
    "implement",
    "mark_measured",
    "cancel",
    "reassign",
]


def _run(name: str, action: Any, cx: Any, new_owner: Any) -> None:
    owner = action.owner
    calls = {
        "accept": lambda: services.action_accept(action=action, by=owner),
        "decline": lambda: services.action_decline(action=action, by=owner, reason="No budget."),
        "start": lambda: services.action_start(action=action, by=owner),
        "implement": lambda: services.action_implement(
            action=action, by=owner, implemented_at=TODAY, today=TODAY
        ),
        "mark_measured": lambda: services.action_mark_measured(action=action),
        "cancel": lambda: services.action_cancel(action=action, by=cx, reason="Superseded."),
        "reassign": lambda: services.action_reassign(action=action, by=cx, owner=new_owner),
    }
    calls[name]()


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("name", TRANSITION_NAMES)
def test_every_state_and_transition_follows_the_table(status: str, name: str) -> None:
    """Allowed pairs move to the expected state; every other pair is refused and lists the allowed steps."""
    cx = cx_manager()
    new_owner = line_manager()
    action = ActionFactory(status=status, created_by=cx)
    expected = EXPECTED.get((status, name))
    if expected is not None:
        _run(name, action, cx, new_owner)
        action.refresh_from_db()
        assert action.status == expected
        if name == "reassign":
            assert action.owner == new_owner
    else:
        with pytest.raises(InvalidTransition) as refusal:
            _run(name, action, cx, new_owner)
        action.refresh_from_db()
        assert action.status == status
        allowed = [t for (s, t) in EXPECTED if s == status]
        message = refusal.value.message
        assert f"Allowed from {S(status).label.lower()}:" in message
        for transition in allowed:
            assert transition in message.split("Allowed from")[1]
        if not allowed:
            assert message.endswith("none.")


def test_the_code_table_matches_the_expected_table() -> None:
    """Every transition in code is one of the expected pairs, and none is missing."""
    in_code = {
        (source, name): t.target for name, t in services.TRANSITIONS.items() for source in t.sources
    }
    assert in_code == EXPECTED


@pytest.mark.django_db
def test_decline_needs_a_reason() -> None:
    """Declining without a reason is refused and leaves the action proposed."""
    action = ActionFactory()
    with pytest.raises(InvalidInput) as refusal:
        services.action_decline(action=action, by=action.owner, reason="  ")
    assert "reason" in refusal.value.field_errors
    action.refresh_from_db()
    assert action.status == S.PROPOSED


@pytest.mark.django_db
def test_only_the_owner_accepts_even_over_a_cx_manager() -> None:
    """A CX manager cannot accept on the owner's behalf; another line manager neither."""
    action = ActionFactory()
    for someone in (cx_manager(), line_manager()):
        with pytest.raises(Forbidden):
            services.action_accept(action=action, by=someone)
    services.action_accept(action=action, by=action.owner)
    assert action.status == S.ACCEPTED


@pytest.mark.django_db
def test_owner_cannot_cancel_or_reassign() -> None:
    """Cancelling and reassigning are the CX manager's."""
    action = ActionFactory(status=S.ACCEPTED)
    with pytest.raises(Forbidden):
        services.action_cancel(action=action, by=action.owner)
    with pytest.raises(Forbidden):
        services.action_reassign(action=action, by=action.owner, owner=line_manager())


@pytest.mark.django_db
def test_implement_needs_a_date_not_in_the_future() -> None:
    """The implementation date is required and cannot lie ahead; progress becomes 100%."""
    action = ActionFactory(status=S.IN_PROGRESS)
    with pytest.raises(InvalidInput):
        services.action_implement(action=action, by=action.owner, implemented_at=None, today=TODAY)
    with pytest.raises(InvalidInput):
        services.action_implement(
            action=action, by=action.owner, implemented_at=TODAY + dt.timedelta(days=1), today=TODAY
        )
    services.action_implement(action=action, by=action.owner, implemented_at=TODAY, today=TODAY)
    action.refresh_from_db()
    assert (action.status, action.implemented_at, action.progress) == (S.IMPLEMENTED, TODAY, 100)


@pytest.mark.django_db
def test_reassign_returns_a_declined_action_to_proposed_for_the_new_owner() -> None:
    """The decline reason is cleared and the new owner decides afresh."""
    cx = cx_manager()
    action = ActionFactory(status=S.DECLINED, created_by=cx)
    new_owner = line_manager()
    services.action_reassign(action=action, by=cx, owner=new_owner)
    action.refresh_from_db()
    assert (action.status, action.owner, action.declined_reason) == (S.PROPOSED, new_owner, "")


@pytest.mark.django_db
def test_reassign_to_someone_who_is_not_a_line_manager_is_refused() -> None:
    """Only line managers own actions."""
    cx = cx_manager()
    action = ActionFactory(created_by=cx)
    with pytest.raises(InvalidInput) as refusal:
        services.action_reassign(action=action, by=cx, owner=cx_manager())
    assert "owner" in refusal.value.field_errors


@pytest.mark.django_db
def test_progress_update_on_an_accepted_action_starts_it() -> None:
    """Posting progress moves accepted → in progress and records the percentage."""
    action = ActionFactory(status=S.ACCEPTED)
    update = services.action_update_post(
        action=action, by=action.owner, text="Rota done", progress=30
    )
    action.refresh_from_db()
    assert (action.status, action.progress) == (S.IN_PROGRESS, 30)
    assert (update.progress, update.text, update.author) == (30, "Rota done", action.owner)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.PROPOSED, S.DECLINED, S.CANCELLED, S.MEASURED])
def test_updates_are_refused_on_actions_not_being_worked_on(status: str) -> None:
    """A proposed, declined, cancelled or measured action takes no progress update."""
    action = ActionFactory(status=status)
    with pytest.raises(InvalidTransition):
        services.action_update_post(action=action, by=action.owner, text="x")


@pytest.mark.django_db
def test_history_records_who_changed_what() -> None:
    """Each transition leaves a history row with the user and the changed fields."""
    from actions.selectors import action_history

    action = ActionFactory()
    services.action_accept(action=action, by=action.owner)
    entries = action_history(action=action)
    assert entries[0]["user"] == action.owner.username
    assert {"field": "status", "old": "proposed", "new": "accepted"} in entries[0]["changes"]
    assert entries[-1]["type"] == "created"


@pytest.mark.django_db
def test_history_records_scope_changes_too() -> None:
    """Changing the scope touchpoints leaves a history entry with the old and new slugs."""
    from actions.selectors import action_history
    from tests.feedback.factories import TouchpointFactory

    cx = cx_manager()
    action = ActionFactory(created_by=cx)
    desk = TouchpointFactory(slug="help-desk")
    services.action_edit(action=action, by=cx, changes={"scope_touchpoints": [desk]})
    services.action_edit(action=action, by=cx, changes={"scope_touchpoints": [desk]})  # no change
    entries = action_history(action=action)
    assert len(entries) == 2
    assert entries[0]["user"] == cx.username
    assert entries[0]["changes"] == [
        {"field": "scope_touchpoints", "old": None, "new": "help-desk"}
    ]
