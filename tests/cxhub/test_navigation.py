"""The main menu comes from one definition of URL names, resolved, role-filtered, and marks
the section of the current page with ``aria-current``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, resolve, reverse

from cxhub.navigation import MAIN_MENU
from tests.dashboards.factories import plant_action
from tests.feedback.factories import DepartmentFactory, cx_manager, line_manager, viewer

pytestmark = pytest.mark.django_db

NAV = re.compile(r'<nav[^>]*aria-label="Main"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def _menu(user: Any, path: str) -> list[tuple[str, bool, str]]:
    """(href, current, label) of each main-menu link on the page at ``path``."""
    client = Client()
    client.force_login(user)
    page = client.get(path)
    assert page.status_code == 200, path
    match = NAV.search(page.content.decode())
    assert match, "no main menu"
    return [(href, bool(current), label) for href, current, label in LINK.findall(match[1])]


def test_every_menu_item_and_section_name_resolves() -> None:
    """Each item's URL name and the names of its section are routes of the project."""
    for item in MAIN_MENU:
        assert resolve(reverse(item.url_name)).view_name == item.url_name
        for name in item.section:
            assert resolve(_reverse_any(name)).view_name == name


def _reverse_any(name: str) -> str:
    """The URL of a route name with sample arguments, whatever its parameters are."""
    for args in ((), (1,), ("sample",)):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    raise AssertionError(f"{name} is not a route")


def test_each_role_sees_its_items_with_resolved_hrefs() -> None:
    """Suggestions for CX managers, My actions for line managers, Alerts for both."""
    labels = {
        "cx": [label for _, _, label in _menu(cx_manager(), "/")],
        "line": [label for _, _, label in _menu(line_manager(), "/")],
        "viewer": [label for _, _, label in _menu(viewer(), "/")],
    }
    assert "Suggestions" in labels["cx"] and "Suggestions" not in labels["line"]
    assert "My actions" in labels["line"] and "My actions" not in labels["cx"]
    assert "Alerts" in labels["cx"] and "Alerts" in labels["line"]
    assert "Alerts" not in labels["viewer"] and "Suggestions" not in labels["viewer"]
    assert labels["viewer"] == ["Overview", "Insights", "Verbatims", "Topics", "Impact", "Actions", "Notifications"]  # fmt: skip
    hrefs = {href for href, _, _ in _menu(viewer(), "/")}
    assert hrefs == {reverse(i.url_name) for i in MAIN_MENU if i.audience == "everyone"}


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/", "Overview"),
        ("/insights/?outcome=csat", "Insights"),
        ("/topics/themes/", "Topics"),
        ("/impact/", "Impact"),
        ("/actions/", "Actions"),
        ("/notifications/preferences/", "Notifications"),
    ],
)
def test_aria_current_marks_the_section_of_the_page(path: str, current: str) -> None:
    """Exactly one item is current: the one whose section the page belongs to."""
    marked = [label for _, is_current, label in _menu(cx_manager(), path) if is_current]
    assert marked == [current]


def test_an_action_impact_page_belongs_to_impact() -> None:
    action = plant_action(department=DepartmentFactory(), status="implemented")
    marked = [label for _, c, label in _menu(cx_manager(), f"/impact/{action.pk}/") if c]
    assert marked == ["Impact"]
