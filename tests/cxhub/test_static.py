"""Static files as production serves them: content-hashed names, compressed, cached a year;
and the Plotly partial bundle the pages load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.feedback.factories import cx_manager

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "static" / "vendor" / "plotly" / "plotly.min.js"
MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_the_pages_load_the_basic_plotly_bundle_of_the_python_plotlys_major_version() -> None:
    """The vendored bundle is plotly.js's basic partial bundle (scatter, bar, pie), under a
    quarter of the full 4.85 MB one, with its licence beside it."""
    header = BUNDLE.read_text(encoding="utf-8")[:200]

    assert re.search(r"plotly\.js \(basic - minified\) v3\.\d+\.\d+", header)
    assert BUNDLE.stat().st_size < 1_300_000
    assert "MIT" in (BUNDLE.parent / "LICENSE").read_text(encoding="utf-8")


@pytest.fixture
def collected(tmp_path: Path) -> Path:
    """collectstatic as the Dockerfile runs it: hashed names and compressed copies."""
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=MANIFEST_STORAGE):
        call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


@pytest.mark.django_db
def test_production_pages_reference_hashed_files_served_compressed_and_cached_a_year(
    collected: Path,
) -> None:
    """With the manifest storage a page names plotly.min.<hash>.js; whitenoise answers it
    gzip-compressed with a far-future immutable Cache-Control, and the unhashed name briefly."""
    with override_settings(STATIC_ROOT=collected, STORAGES=MANIFEST_STORAGE, DEBUG=False):
        client = Client()
        client.force_login(cx_manager())
        html = client.get("/").content.decode()
        script = re.search(r'src="(/static/vendor/plotly/plotly\.min\.[0-9a-f]{12}\.js)"', html)
        assert script is not None, "the overview loads the hashed bundle"

        hashed = client.get(script.group(1), HTTP_ACCEPT_ENCODING="gzip, br")
        plain = client.get("/static/vendor/plotly/plotly.min.js")

        assert hashed.status_code == 200
        assert hashed["Content-Encoding"] in {"gzip", "br"}
        assert int(hashed["Content-Length"]) < BUNDLE.stat().st_size / 3
        max_age = int(re.search(r"max-age=(\d+)", hashed["Cache-Control"]).group(1))  # type: ignore[union-attr]
        assert max_age >= 365 * 24 * 3600
        assert "immutable" in hashed["Cache-Control"]
        assert plain.status_code == 200
        assert "immutable" not in plain["Cache-Control"]
        assert re.search(r'href="/static/css/cxhub\.[0-9a-f]{12}\.css"', html)


@pytest.mark.django_db
def test_pages_show_no_template_comment_as_text(client: Any) -> None:
    """Django's {# #} comments are one line only; none leaks into a page as text."""
    client.force_login(cx_manager())

    html = client.get("/").content.decode()

    assert "{#" not in html and "#}" not in html
    assert "{% comment" not in html
