"""Who may see which dashboard and act on its comments, in one place."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from feedback.models import Department
from feedback.roles import user_is_cx_manager

User = AbstractBaseUser | AnonymousUser


def user_department_ids(user: User) -> set[int]:
    """The departments a user belongs to (cached on the user object for the request)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_cxhub_department_ids", None)
    if cached is None:
        cached = set(Department.objects.filter(members__id=user.pk).values_list("id", flat=True))
        setattr(user, "_cxhub_department_ids", cached)  # noqa: B010 - a per-request cache
    return cached


def user_sees_all_departments(user: User) -> bool:
    return user_is_cx_manager(user)


def user_can_view_department(user: User, department_id: int) -> bool:
    """CX managers see every department's dashboard; others see their own departments'."""
    if not user.is_authenticated:
        return False
    return user_sees_all_departments(user) or department_id in user_department_ids(user)


def user_can_view_dashboard(user: User, department_id: int | None) -> bool:
    """The cross-department overview (``None``) is open to every signed-in user."""
    if department_id is None:
        return bool(user.is_authenticated)
    return user_can_view_department(user, department_id)


def user_can_manage_comments(user: User) -> bool:
    """Only CX managers read every comment in one list and turn suggestions into actions."""
    return user_is_cx_manager(user)
