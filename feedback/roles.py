"""The three roles of CXHub, kept as Django groups, and the questions asked about them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models


class Role(models.TextChoices):
    CX_MANAGER = "cx_manager", "CX manager"
    LINE_MANAGER = "line_manager", "Line manager"
    VIEWER = "viewer", "Viewer"


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    """The role names a user holds; cached on the user object for the request."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_cxhub_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        user._cxhub_roles = cached  # type: ignore[union-attr,attr-defined]
    return cached


def user_is_cx_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_superuser", False)) or Role.CX_MANAGER in user_roles(user)


def user_is_line_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return Role.LINE_MANAGER in user_roles(user)
