"""The topic pages in a real browser: taxonomy → a topic's comments → correct a tag → themes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from analytics.models import ThemeProposal, Topic, TopicMention
from analytics.text import services as text_services
from tests.feedback.factories import ResponseFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
PASSWORD = "correct-horse-battery"


def test_a_cx_manager_corrects_a_tag_and_accepts_a_theme(browser: Any, live_server: Any) -> None:
    """Topics list → staff comments (markup shown as text) → remove a tag → accept a theme."""
    text_services.topics_load_defaults()
    hostile = ResponseFactory(comment='<img src=x onerror="window.hacked=1"> The staff were rude.')
    ResponseFactory(comment="Lovely staff, quick service.")
    text_services.responses_retag_all()
    example = ResponseFactory(comment="Loyalty points expired again.")
    theme = ThemeProposal.objects.create(
        label="loyalty / points",
        top_terms=["loyalty points"],
        example_response_ids=[example.pk],
        size=9,
    )
    UserFactory(username="cx", roles=["cx_manager"])

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "cx")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/topics/")
    assert page.locator("h1").inner_text() == "Topics"
    page.get_by_role("link", name="Staff attitude").click()
    page.wait_for_url(f"{live_server.url}/topics/staff-attitude/")
    card = page.locator(f"#response-{hostile.pk}")
    assert "<img src=x" in card.locator(".verbatim").inner_text()  # shown as text, not run
    assert page.evaluate("window.hacked") is None
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "topic-verbatims.png"), full_page=True)
    card.get_by_role("button", name=f"Remove Staff attitude from response {hostile.pk}").click()
    page.wait_for_load_state("networkidle")
    assert "'Staff attitude' removed" in page.locator(".messages").inner_text()
    assert not TopicMention.objects.filter(response=hostile, topic__slug="staff-attitude").exists()

    page.goto(f"{live_server.url}/topics/themes/")
    page.fill(f"#name-{theme.pk}", "Loyalty scheme")
    page.get_by_role("button", name="Accept").click()
    page.wait_for_load_state("networkidle")
    assert "added to the taxonomy" in page.locator(".messages").inner_text()
    assert Topic.objects.filter(name="Loyalty scheme", origin="discovered").exists()
    assert errors == []
    context.close()
