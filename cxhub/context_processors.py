from __future__ import annotations

from django.http import HttpRequest

from cxhub.health import processing_lag_get
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


def processing_lag(request: HttpRequest) -> dict[str, object]:
    """The lag banner of the layout, for CX managers only (``cxhub.health``): when the oldest
    unprocessed response is older than ``CXHUB_LAG_BANNER_MINUTES``. The figure is cached
    briefly, so most pages pay no query for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user_is_cx_manager(user):
        return {"processing_lag": None}
    return {"processing_lag": processing_lag_get()}
