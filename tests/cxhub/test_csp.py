"""The Content-Security-Policy header, and the templates it relies on having no inline code."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for pattern in ("templates/**/*.html", "*/templates/**/*.html")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def _directives(header: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/docs/"])
def test_pages_send_the_policy(path: str) -> None:
    """Scripts only from CXHub itself, no plugins, no framing, forms and base URL kept home."""
    response = Client().get(path)

    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.django_db
def test_the_api_responses_carry_the_policy_too() -> None:
    """JSON answers get the header as well (it costs nothing and guards a browser that renders)."""
    response = Client().get("/api/v1/feedback/")

    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_inline_script_or_style(template: Path) -> None:
    """Every <script> loads a file; no <style> block, style= or on…= attribute in markup."""
    text = template.read_text(encoding="utf-8")
    if template.parts[-2] == "drf_spectacular":
        return  # overrides of drf-spectacular's pages, which load files only (checked in a browser)

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text) == []
    assert "<style" not in text
    assert re.findall(r"\sstyle=", text) == []
    assert re.findall(r"\son[a-z]+=", text) == []


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_plotly_style_hashes_match_the_installed_plotly() -> None:
    """The hashes in style-src are those of the style elements the vendored plotly.min.js
    inserts; a Plotly upgrade that changes them fails here, not silently in users' browsers."""
    bundle = (ROOT / "static" / "vendor" / "plotly" / "plotly.min.js").read_text()
    maplibre = re.search(r'\.id="[0-9a-f]{64}",\w\.textContent=`([^`]*)`', bundle)
    assert maplibre is not None, "plotly.min.js no longer injects MapLibre's styles this way"

    assert [_sha256(""), _sha256(maplibre.group(1))] == settings.PLOTLY_STYLE_HASHES
    style_src = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]
    assert set(settings.PLOTLY_STYLE_HASHES) <= set(style_src)
