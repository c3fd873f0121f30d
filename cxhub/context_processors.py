from __future__ import annotations

from django.http import HttpRequest

from cxhub.navigation import main_menu
from feedback.roles import user_is_cx_manager, user_is_line_manager


def navigation(request: HttpRequest) -> dict[str, object]:
    """Role flags and the main menu the base template shows: only the links a user can use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_cx_manager": False, "is_line_manager": False, "main_menu": []}
    is_cx_manager = user_is_cx_manager(user)
    is_line_manager = user_is_line_manager(user)
    return {
        "is_cx_manager": is_cx_manager,
        "is_line_manager": is_line_manager,
        "main_menu": main_menu(
            getattr(request, "resolver_match", None),
            is_cx_manager=is_cx_manager,
            is_line_manager=is_line_manager,
        ),
    }
