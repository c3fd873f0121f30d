"""The minimum sample: how many answers a figure needs before it is reported."""

from __future__ import annotations

from django.conf import settings


def min_responses() -> int:
    """The one minimum-n setting (``CXHUB["MIN_RESPONSES"]``); the score engine's
    ``enough`` applies it: fewer answers than this give no number, on every surface."""
    return int(getattr(settings, "CXHUB", {}).get("MIN_RESPONSES", 30))
