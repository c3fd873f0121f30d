"""The main menu, defined once: label, URL name, who sees it, and which pages are its section.

``templates/base.html`` renders ``main_menu`` (built by the ``navigation`` context processor)
with hrefs resolved from the URL names, so a route that moves moves its menu item too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.urls import ResolverMatch, reverse

Audience = Literal["everyone", "cx_manager", "line_manager", "manager"]


@dataclass(frozen=True)
class NavItem:
    """One menu entry. ``section`` lists the URL names (``app:name`` when namespaced) whose
    pages count as this entry's, for ``aria-current``; the entry's own URL name always does."""

    label: str
    url_name: str
    audience: Audience = "everyone"
    section: tuple[str, ...] = ()

    def is_current(self, match: ResolverMatch | None) -> bool:
        return match is not None and match.view_name in {self.url_name, *self.section}

    def visible_to(self, *, is_cx_manager: bool, is_line_manager: bool) -> bool:
        return {
            "everyone": True,
            "cx_manager": is_cx_manager,
            "line_manager": is_line_manager,
            "manager": is_cx_manager or is_line_manager,
        }[self.audience]


MAIN_MENU: tuple[NavItem, ...] = (
    NavItem(
        "Overview", "dashboards:overview", section=("dashboards:department", "dashboards:report")
    ),
    NavItem("Insights", "dashboards:insights"),
    NavItem("Verbatims", "dashboards:verbatims"),
    NavItem(
        "Topics",
        "analytics-topics-page",
        section=("analytics-themes-page", "analytics-topic-verbatims-page"),
    ),
    NavItem("Impact", "dashboards:impact", section=("dashboards:impact-detail",)),
    NavItem("Suggestions", "dashboards:comments", audience="cx_manager"),
    NavItem("My actions", "actions:mine", audience="line_manager"),
    NavItem(
        "Actions",
        "actions:board",
        section=("actions:create", "actions:detail", "actions:edit"),
    ),
    NavItem("Alerts", "actions:alerts", audience="manager"),
    NavItem("Notifications", "actions:notifications", section=("actions:preferences",)),
)


def main_menu(
    match: ResolverMatch | None, *, is_cx_manager: bool, is_line_manager: bool
) -> list[dict[str, object]]:
    """The menu entries a user sees, each with its href and whether it is the current one."""
    return [
        {"label": item.label, "href": reverse(item.url_name), "current": item.is_current(match)}
        for item in MAIN_MENU
        if item.visible_to(is_cx_manager=is_cx_manager, is_line_manager=is_line_manager)
    ]
