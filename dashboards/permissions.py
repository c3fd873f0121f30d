"""Dashboard questions asked of the one access policy (``cxhub.access``)."""

from __future__ import annotations

from cxhub import access


def user_department_ids(user: access.AnyUser) -> frozenset[int]:
    """The departments a user belongs to."""
    return access.access_for(user).department_ids


def user_sees_all_departments(user: access.AnyUser) -> bool:
    return access.access_for(user).sees_all


def user_can_view_department(user: access.AnyUser, department_id: int) -> bool:
    """CX managers see every department's dashboard; others see their own departments'."""
    return access.access_for(user).may_see_department(department_id)


def user_can_view_dashboard(user: access.AnyUser, department_id: int | None) -> bool:
    """The cross-department overview (``None``) is open to every role, in aggregate."""
    return access.access_for(user).may_see_department(department_id)


def user_can_manage_comments(user: access.AnyUser) -> bool:
    """Only CX managers read every comment in one list and turn suggestions into actions."""
    return access.access_for(user).is_cx_manager
