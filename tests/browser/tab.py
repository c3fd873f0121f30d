"""A logged-in Chromium tab for the browser tests: console errors collected, screenshots named.

Each test file sets ``prefix`` (its screenshots' names, ``test-artifacts/<prefix>-*.png``) and
``landing`` (the page the login goes to) on a subclass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-battery"


class Tab:
    """A logged-in browser tab that collects console errors."""

    prefix = "actions"
    landing = "/actions/mine/"

    def __init__(self, browser: Any, base_url: str, username: str, password: str = PASSWORD):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base_url}/accounts/login/?next={self.landing}")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base_url}{self.landing}")

    def goto(self, path: str) -> Any:
        answer = self.page.goto(f"{self.base_url}{path}")
        self.page.wait_for_load_state("networkidle")
        return answer

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.prefix}-{name}.png"), full_page=True)

    def close(self, *, expected_errors: int = 0) -> None:
        errors = list(self.errors)
        self.context.close()
        assert len(errors) == expected_errors, errors
