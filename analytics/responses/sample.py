"""The minimum sample: how many answers a figure needs before it is reported."""

from __future__ import annotations

from django.conf import settings


def min_responses() -> int:
    return int(settings.CXHUB.get("MIN_RESPONSES", 30))
