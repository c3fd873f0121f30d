"""Planted-truth data for the scores, drivers and value tests, stored with bulk inserts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from feedback.models import Response, Source
from feedback.services import response_day, response_days_changed

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


def store_responses(
    rows: Sequence[dict[str, Any]], *, source: Source | None = None
) -> list[Response]:
    """Bulk-store responses given as field dicts (``submitted_at`` defaults to START + i min)."""
    source = source or Source.objects.get_or_create(name="planted")[0]
    objects = []
    for i, row in enumerate(rows):
        fields = {
            "submitted_at": START + dt.timedelta(minutes=i),
            "external_id": f"planted-{source.pk}-{i}",
            "content_hash": f"hash-{i}",
            **row,
        }
        objects.append(Response(source=source, **fields))
    stored = Response.objects.bulk_create(objects, batch_size=2000)
    response_days_changed(days={response_day(response.submitted_at) for response in stored})
    return stored
