"""Who may see and do what with actions and alerts — the one place these rules live.

* CX managers (and superusers) see and do everything, except accepting or declining an
  action on its owner's behalf: that decision belongs to the owner.
* Line managers and viewers see the actions of the departments they are members of, the
  cross-department actions, and any action they own or created.
* A line manager changes only the actions they own: accept, decline, start, implement,
  post updates, edit the description and progress.
* A viewer changes nothing. A user with no CXHub role sees nothing.
* Alerts are seen by CX managers and by line managers of the alert's department; the same
  people may handle them.

What a user may not see answers 404 (guessing ids reveals nothing); what they may see
but not change answers 403 with a message.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from actions.models import Action, ActionStatus, Alert
from cxhub import access
from cxhub.errors import Forbidden
from feedback.roles import user_is_cx_manager, user_is_line_manager

AnyUser = AbstractBaseUser | AnonymousUser

OWNER_EDITABLE_FIELDS = frozenset({"description", "progress"})


def user_has_role(user: AnyUser) -> bool:
    return access.access_for(user).has_role


def actions_visible_to(user: AnyUser, queryset: QuerySet[Action] | None = None) -> QuerySet[Action]:
    """The actions ``user`` may read (``cxhub.access`` rule for actions)."""
    return access.visible(user, Action.objects.all() if queryset is None else queryset)


def alerts_visible_to(user: AnyUser, queryset: QuerySet[Alert] | None = None) -> QuerySet[Alert]:
    """The alerts ``user`` may read: CX managers all, line managers their departments'."""
    return access.visible(user, Alert.objects.all() if queryset is None else queryset)


def _is_owner(user: AnyUser, action: Action) -> bool:
    return bool(user.is_authenticated and action.owner_id == user.pk)


def can_create_action(user: AnyUser) -> bool:
    return user.is_authenticated and user_is_cx_manager(user)


def can_edit_fields(user: AnyUser, action: Action, fields: set[str]) -> bool:
    if user_is_cx_manager(user):
        return True
    return (
        _is_owner(user, action) and user_is_line_manager(user) and fields <= OWNER_EDITABLE_FIELDS
    )


def can_transition(user: AnyUser, action: Action, transition: str) -> bool:
    """Whether ``user`` may perform ``transition`` (the state table is checked elsewhere)."""
    if not user.is_authenticated:
        return False
    owner = _is_owner(user, action)
    if transition in {"accept", "decline"}:
        return owner
    if transition in {"start", "implement"}:
        return owner or user_is_cx_manager(user)
    if transition in {"cancel", "reassign", "mark_measured"}:
        return user_is_cx_manager(user)
    return False


def can_post_update(user: AnyUser, action: Action) -> bool:
    return _is_owner(user, action) or user_is_cx_manager(user)


def can_handle_alert(user: AnyUser, alert: Alert) -> bool:
    return alerts_visible_to(user, Alert.objects.filter(pk=alert.pk)).exists()


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def transition_refusal(action: Action, transition: str) -> str:
    if transition in {"accept", "decline"}:
        return f"Only the owner of this action can {transition} it."
    if transition in {"cancel", "reassign"}:
        return f"Only a CX manager can {transition} an action."
    return f"Only the owner or a CX manager can {transition.replace('_', ' ')} this action."


def is_open(action: Action) -> bool:
    return action.status in {
        ActionStatus.PROPOSED,
        ActionStatus.ACCEPTED,
        ActionStatus.IN_PROGRESS,
    }
