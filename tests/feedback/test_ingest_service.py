"""responses_ingest_bulk, the service behind the API, the CLI and the benchmark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from feedback.models import Response
from feedback.services import BulkIngestResult, responses_ingest_bulk
from tests.feedback.conftest import feedback_item
from tests.feedback.factories import SourceFactory

pytestmark = pytest.mark.usefixtures("organisation")


def test_bulk_service_reports_ids_of_what_it_created(organisation: dict[str, Any]) -> None:
    """The result lists the new rows' ids in item order, and counts every item once."""
    source = SourceFactory()
    items = [feedback_item(external_id=f"s{i}") for i in range(5)] + [{"external_id": "bad"}]

    result = responses_ingest_bulk(source=source, items=items, queue_processing=False)

    assert isinstance(result, BulkIngestResult)
    assert (result.created, result.duplicates, result.rejected) == (5, 0, 1)
    stored = dict(Response.objects.values_list("external_id", "id"))
    assert result.created_ids == [stored[f"s{i}"] for i in range(5)]
    assert Response.objects.filter(processing_queued_at__isnull=False).count() == 0


@pytest.mark.parametrize(
    ("batch_size", "one_stored_before"),
    [(1, False), (25, False), (25, True)],
    ids=["insert", "copy", "copy-after-conflict"],
)
def test_stored_rows_read_back_equal_to_what_was_posted(
    organisation: dict[str, Any], batch_size: int, one_stored_before: bool
) -> None:
    """Every field survives each write path unchanged: INSERT for small batches, COPY for
    large ones, and COPY into the staging table when an item of the batch is already stored.
    Times are written to COPY as text; they read back to the microsecond, in UTC."""
    source = SourceFactory()
    item = feedback_item(
        external_id="tab\there",
        submitted_at="2026-03-01T10:15:00.123456+01:00",
        comment='Line 1\nLine 2\r\n\ttabbed \\N not null \\ "quoted" ✓',
        attributes={"note": "a\tb\\c", "vip": True, "score": 2.5, "count": 3},
        customer_id="C\\1",
    )
    others = [feedback_item(external_id=f"other-{i}") for i in range(batch_size - 1)]
    if one_stored_before:
        responses_ingest_bulk(source=source, items=others[:1], queue_processing=False)
    before = timezone.now()

    result = responses_ingest_bulk(source=source, items=[*others, item], queue_processing=True)

    assert result.created == (batch_size - 1 if one_stored_before else batch_size)

    stored = Response.objects.select_related("customer", "touchpoint").get(external_id="tab\there")
    assert stored.external_id == "tab\there"
    assert stored.comment == item["comment"]
    assert stored.attributes == item["attributes"]
    assert stored.ratings == item["ratings"]
    assert stored.customer.external_id == "C\\1"
    assert stored.touchpoint.slug == "billing-call"
    assert (stored.nps, stored.csat, stored.ces, stored.channel) == (3, 2, 6, "phone")
    assert stored.submitted_at == dt.datetime(2026, 3, 1, 9, 15, 0, 123456, tzinfo=dt.UTC)
    assert before <= stored.created_at == stored.updated_at <= timezone.now()
    assert stored.processing_queued_at is not None
    assert before <= stored.processing_queued_at <= timezone.now()
