from __future__ import annotations

from django.http import HttpRequest

from feedback.roles import user_is_cx_manager, user_is_line_manager


def navigation(request: HttpRequest) -> dict[str, bool]:
    """Role flags the base template needs to show only the links a user can use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_cx_manager": False, "is_line_manager": False}
    return {
        "is_cx_manager": user_is_cx_manager(user),
        "is_line_manager": user_is_line_manager(user),
    }
