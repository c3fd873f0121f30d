"""Masking e-mail addresses and phone numbers in comments at ingest (CXHUB_MASK_PII)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from analytics.text.models import TopicMention
from feedback.models import Response
from feedback.privacy import pii_mask
from tests.feedback.conftest import feedback_item


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Write to jane.doe@example.co.uk please", "Write to [email] please"),
        ("j.o.doe+cx@mail.example.com answered", "[email] answered"),
        ("Mail JOSÉ.García@correo.es or o'neil@x.ie", "Mail [email] or [email]"),
        ("Call me on +44 20 7946 0958.", "Call me on [phone]."),
        ("my mobile is 07911 123456", "my mobile is [phone]"),
        ("ring +1 (415) 555-2671 after six", "ring [phone] after six"),
        ("Berlin office +49 30 12345678", "Berlin office [phone]"),
        ("or 0049 30 12345678", "or [phone]"),
        ("Paris +33 1 42 68 53 00 / +33142685300", "Paris [phone] / [phone]"),
        ("India +91 98765 43210", "India [phone]"),
        ("reach me at 020 7946 0958 or me@home.org", "reach me at [phone] or [email]"),
    ],
)
def test_contact_details_are_masked(text: str, masked: str) -> None:
    """Dotted, tagged and accented e-mails and international and national phones are masked."""
    assert pii_mask(text, region="GB") == masked


@pytest.mark.parametrize(
    "text",
    [
        "Order #12345678 arrived late",
        "order number 1234567890123 is wrong",
        "invoice INV-2024-000123 was doubled",
        "ticket 20240301-0042 still open",
        "on 2024-03-01 at 10:15 the line dropped",
        "since 01.03.2024 and 03/01/2024",
        "paid £129.99 for 2 items, then $1,299.00",
        "I was charged 1,299.00 EUR on 12/03",
        "follow @cxhub on social, rated it 10/10",
        "call 555-2671",
        "mail me at home",
    ],
)
def test_order_numbers_dates_and_prices_are_not_masked(text: str) -> None:
    """Numbers that are no phone numbers, and text without an address, stay as they are."""
    assert pii_mask(text, region="GB") == text


def test_national_formats_follow_the_region() -> None:
    """A US national number is masked with region US, not GB; international form always."""
    assert pii_mask("(415) 555-2671", region="US") == "[phone]"
    assert pii_mask("(415) 555-2671", region="GB") == "(415) 555-2671"
    assert pii_mask("+1 415 555 2671", region="GB") == "[phone]"


COMMENT = "Bill wrong again. Call me on +44 20 7946 0958 or mail jane.doe@example.co.uk."
MASKED = "Bill wrong again. Call me on [phone] or mail [email]."


@pytest.fixture
def masking(settings: Any) -> None:
    settings.CXHUB = {**settings.CXHUB, "MASK_PII": True, "MASK_PII_REGION": "GB"}


def test_masking_is_off_by_default(key_client: APIClient, organisation: Any) -> None:
    """Without CXHUB_MASK_PII the comment is stored exactly as posted."""
    key_client.post("/api/v1/feedback/", feedback_item(comment=COMMENT), format="json")
    assert Response.objects.get().comment == COMMENT


def test_every_ingest_path_stores_the_masked_comment(
    masking: None,
    key_client: APIClient,
    organisation: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Single, bulk JSON, bulk CSV and import_feedback all mask before storage, and tagging
    (which runs on the stored text) sees the masked comment; a retry is still a duplicate."""
    with django_capture_on_commit_callbacks(execute=True):
        single = key_client.post(
            "/api/v1/feedback/", feedback_item(external_id="r-1", comment=COMMENT), format="json"
        )
    assert single.status_code == 201
    assert single.json()["comment"] == MASKED
    retry = key_client.post(
        "/api/v1/feedback/", feedback_item(external_id="r-1", comment=COMMENT), format="json"
    )
    assert retry.status_code == 200
    key_client.post(
        "/api/v1/feedback/bulk/", [feedback_item(external_id="r-2", comment=COMMENT)], format="json"
    )
    key_client.post(
        "/api/v1/feedback/bulk/",
        f'external_id,submitted_at,nps,comment\nr-3,2026-03-01T10:00:00Z,2,"{COMMENT}"\n',
        content_type="text/csv",
    )
    csv_file = tmp_path / "responses.csv"
    csv_file.write_text(
        f'external_id,submitted_at,nps,comment\nr-4,2026-03-01T10:00:00Z,2,"{COMMENT}"\n',
        encoding="utf-8",
    )
    call_command("import_feedback", str(csv_file), "--source", "legacy", "--no-progress")

    stored = dict(Response.objects.values_list("external_id", "comment"))
    assert stored == {f"r-{n}": MASKED for n in range(1, 5)}
    sentences = list(TopicMention.objects.values_list("sentence", flat=True))
    assert sentences, "the billing comment is tagged"
    assert not any("7946" in s or "jane.doe" in s for s in sentences)
