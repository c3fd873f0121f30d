"""Hand-made nasty payloads: every one is a 4xx with JSON errors, never a 5xx, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from feedback.models import Response
from tests.feedback.conftest import feedback_item

pytestmark = pytest.mark.usefixtures("organisation")

NASTY_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    10**30,
    -(10**30),
    1e308,
    -0.0,
    3.0000001,
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800" if False else "\u202e",
    "😀" * 300,
    "9" * 400,
    "NaN",
    "Infinity",
    "1e3",
    "0x10",
    "７",  # full-width digit
    [],
    [1, 2],
    {},
    {"a": {"b": {"c": []}}},
    "2026-02-30T10:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
]
FIELDS = [
    "external_id",
    "submitted_at",
    "nps",
    "csat",
    "ces",
    "ratings",
    "comment",
    "channel",
    "touchpoint",
    "customer_id",
    "attributes",
    "source",
]


@pytest.mark.parametrize("field", FIELDS)
def test_nasty_values_in_every_field_never_give_a_5xx(key_client: APIClient, field: str) -> None:
    """Wrong types, nulls, huge numbers and odd strings in any field give 2xx or 4xx with JSON."""
    for number, value in enumerate(NASTY_VALUES):
        item = feedback_item(external_id=f"n-{field}-{number}")
        item[field] = value
        answer = key_client.post("/api/v1/feedback/", item, format="json")
        assert answer.status_code < 500, (field, value, answer.content[:300])
        if answer.status_code >= 400:
            assert "errors" in answer.json(), (field, value)
        bulk = key_client.post("/api/v1/feedback/bulk/", [item], format="json")
        assert bulk.status_code < 500, (field, value, bulk.content[:300])


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"[",
        b"nul",
        b'{"external_id": "x", "nps": NaN}',
        b'{"external_id": "x", "nps": Infinity}',
        b"\xff\xfe\x00",
        b'"just a string"',
        b"[[[[[[[[[[]]]]]]]]]]",
        json.dumps(
            {
                "external_id": "x",
                "submitted_at": "2026-03-01T10:15:00Z",
                "nps": 1,
                "ratings": {"wait_time": [1]},
            }
        ).encode(),
        b'{"external_id": "a\\u0000b", "submitted_at": "2026-03-01T10:15:00Z", "nps": 1}',
        b'{"external_id": "x", "submitted_at": "2026-03-01T10:15:00Z", "comment": "\\ud800"}',
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/feedback/",
        "/api/v1/feedback/bulk/",
        "/api/v1/customers/",
        "/api/v1/customers/bulk/",
    ],
)
def test_malformed_bodies_are_4xx(key_client: APIClient, raw: bytes, url: str) -> None:
    """Broken JSON, invalid encodings and NUL characters are 4xx, or a bulk report of rejections."""
    answer = key_client.generic("POST", url, raw, content_type="application/json")
    assert answer.status_code < 500, (raw, answer.status_code, answer.content[:300])
    body = answer.json()
    if answer.status_code < 400:
        assert url.endswith("/bulk/") and body["rejected"] >= 1 and body["created"] == 0, body
    assert body["errors"]
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\n\n",
        b"\xff\xfe",
        b"external_id\n",
        b'external_id,submitted_at,nps\n"unterminated,2026-03-01T10:15:00Z,7\n',
        b"external_id,submitted_at,nps,nps\nx,2026-03-01T10:15:00Z,1,2\n",
        b"external_id,submitted_at,nps\nx\x00y,2026-03-01T10:15:00Z,7\n",
        b"external_id,submitted_at,rating_\nx,2026-03-01T10:15:00Z,7\n",
        "external_id,submitted_at,comment\nx,2026-03-01T10:15:00Z,\u0000\n".encode(),
    ],
)
def test_malformed_csv_never_gives_a_5xx(key_client: APIClient, raw: bytes) -> None:
    """Broken CSV is a 4xx (whole file) or a per-row error, never a 5xx."""
    answer = key_client.generic("POST", "/api/v1/feedback/bulk/", raw, content_type="text/csv")
    assert answer.status_code < 500, (raw, answer.content[:300])
    assert answer.json()


def test_wrong_content_type_is_415(key_client: APIClient) -> None:
    """A form post is not understood: 415 with a JSON body."""
    answer = key_client.post("/api/v1/feedback/", {"external_id": "x"})
    assert answer.status_code == 415
    assert answer.json()["errors"]


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "customer=a%00b",
        "touchpoint=%00",
        "department=%00",
        "source=%00",
        "cursor=garbage",
        "cursor=%00",
        "page_size=abc",
        "page_size=-5",
        "page_size=99999999999999999999",
        "date_from=2026-13-01",
        "date_from=%00",
        "date_to=99999-01-01T00:00:00Z",
        "date_to=9998-12-31T23:59:59.999999-12:00",
        "date_from=1900-01-01T00:00:00+14:00",
        "segment=%00",
        "channel=" + ",".join(["web"] * 5000),
        "nps_category=%00",
        "q=" + "x" * 5000,
    ],
)
def test_nasty_list_parameters_never_give_a_5xx(cx_client: APIClient, query: str) -> None:
    """Odd filter and paging parameters give 200 or a 4xx with JSON, never a 5xx."""
    answer = cx_client.get(f"/api/v1/feedback/?{query}")
    assert answer.status_code < 500, (query, answer.content[:300])
    customers = cx_client.get(f"/api/v1/customers/?{query}")
    assert customers.status_code < 500, (query, customers.content[:300])


@pytest.mark.parametrize(
    "query", ["external_id=%00", "segment=a%00", "churned=maybe", "plan=" + "p" * 3000]
)
def test_nasty_customer_parameters_never_give_a_5xx(cx_client: APIClient, query: str) -> None:
    """Odd customer filters give 200 or a 4xx, never a 5xx."""
    assert cx_client.get(f"/api/v1/customers/?{query}").status_code < 500


@pytest.mark.parametrize(
    "url",
    ["/api/v1/feedback/99999999999999999999999/", "/api/v1/customers/99999999999999999999999/"],
)
def test_out_of_range_ids_are_404(cx_client: APIClient, url: str) -> None:
    """An id beyond the database's integer range is simply not found."""
    assert cx_client.get(url).status_code == 404
