"""POST /api/v1/feedback/bulk/: JSON arrays and CSV, partial success, nothing silently dropped."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from feedback.models import Response
from tests.feedback.conftest import feedback_item

URL = "/api/v1/feedback/bulk/"

pytestmark = pytest.mark.usefixtures("organisation")


def test_valid_items_are_stored_and_invalid_ones_reported(key_client: APIClient) -> None:
    """A mixed batch stores the valid items and lists every invalid one with its index."""
    items = [feedback_item(external_id=f"r{i}", nps=i % 11) for i in range(20)]
    items[3]["nps"] = 11
    items[7] = "not an object"
    items[12].pop("submitted_at")

    answer = key_client.post(URL, items, format="json")

    assert answer.status_code == 201
    body = answer.json()
    assert (body["created"], body["duplicates"], body["rejected"], body["conflicts"]) == (
        17,
        0,
        3,
        0,
    )
    assert [error["index"] for error in body["errors"]] == [3, 7, 12]
    assert body["errors"][0] == {
        "index": 3,
        "external_id": "r3",
        "errors": {"nps": ["Must be a whole number from 0 to 10; got 11."]},
    }
    assert "submitted_at" in body["errors"][2]["errors"]
    assert Response.objects.count() == 17
    assert not Response.objects.filter(external_id__in=["r3", "r12"]).exists()


def test_reposting_a_batch_counts_duplicates_and_conflicts(key_client: APIClient) -> None:
    """A repeated batch creates nothing; changed items are conflicts reported as errors."""
    items = [feedback_item(external_id=f"r{i}") for i in range(5)]
    key_client.post(URL, items, format="json")
    items[2]["nps"] = 10

    answer = key_client.post(URL, items, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["created"], body["duplicates"], body["rejected"], body["conflicts"]) == (
        0,
        4,
        1,
        1,
    )
    assert body["errors"][0]["index"] == 2
    assert "different content" in body["errors"][0]["errors"]["external_id"][0]
    assert Response.objects.count() == 5


def test_repeats_inside_one_batch(key_client: APIClient) -> None:
    """Inside one batch the first occurrence wins; an exact repeat is a duplicate, a changed one a conflict."""
    items = [
        feedback_item(external_id="a"),
        feedback_item(external_id="a"),
        feedback_item(external_id="a", nps=9),
    ]

    body = key_client.post(URL, items, format="json").json()

    assert (body["created"], body["duplicates"], body["rejected"], body["conflicts"]) == (
        1,
        1,
        1,
        1,
    )
    assert body["errors"][0]["index"] == 2
    assert Response.objects.get().nps == 3


@override_settings(
    CXHUB={"BULK_MAX_ITEMS": 10_000, "COMMENT_MAX_LENGTH": 10_000, "MIN_RESPONSES": 30}
)
def test_more_than_10000_items_is_400(key_client: APIClient) -> None:
    """A batch above 10,000 items is refused as a whole, and nothing is stored."""
    items = [
        {"external_id": f"r{i}", "submitted_at": "2026-03-01T10:15:00Z", "nps": 5}
        for i in range(10_001)
    ]
    answer = key_client.post(URL, items, format="json")
    assert answer.status_code == 400
    assert "10,000" in answer.json()["errors"]["non_field_errors"][0]
    assert Response.objects.count() == 0


def test_exactly_10000_items_are_accepted(key_client: APIClient) -> None:
    """The limit is inclusive: 10,000 items are stored in one request."""
    items = [
        {"external_id": f"r{i}", "submitted_at": "2026-03-01T10:15:00Z", "nps": i % 11}
        for i in range(10_000)
    ]
    answer = key_client.post(URL, items, format="json")
    assert answer.status_code == 201
    assert answer.json()["created"] == 10_000
    assert Response.objects.count() == 10_000


def test_csv_body_is_ingested_with_rating_and_attribute_columns(key_client: APIClient) -> None:
    """CSV: rating_<slug> and attr_<name> columns, empty cells absent, strings as numbers."""
    body = (
        "external_id,submitted_at,nps,csat,touchpoint,channel,rating_wait_time,rating_staff_friendliness,attr_region,comment,customer_id\n"
        'c1,2026-03-01T10:15:00Z,7,,billing-call,phone,3,,north,"Line one\nline two, with comma",C-1\n'
        "c2,2026-03-01T10:15:00+02:00,,4,,,,5,,,\n"
        "c3,2026-03-01T10:15:00,9,,,,,,,,\n"
        "c4,2026-03-01T10:15:00Z,12,,,,,,,,\n"
    )
    answer = key_client.post(URL, body, content_type="text/csv")

    assert answer.status_code == 201, answer.content
    result = answer.json()
    assert (result["created"], result["rejected"]) == (2, 2)
    assert [
        (e["index"], e["line"], e["external_id"], sorted(e["errors"])) for e in result["errors"]
    ] == [
        (2, 5, "c3", ["submitted_at"]),
        (3, 6, "c4", ["nps"]),
    ]
    first = Response.objects.get(external_id="c1")
    assert first.ratings == {"wait_time": 3}
    assert first.attributes == {"region": "north"}
    assert first.comment == "Line one\nline two, with comma"
    assert first.customer.external_id == "C-1"
    second = Response.objects.get(external_id="c2")
    assert (second.nps, second.csat, second.ratings, second.channel) == (
        None,
        4,
        {"staff_friendliness": 5},
        "",
    )


def test_csv_and_json_of_the_same_item_are_duplicates(key_client: APIClient) -> None:
    """Content hashing sees through the format: the same item as CSV then JSON is a retry."""
    key_client.post(
        URL,
        "external_id,submitted_at,nps,rating_wait_time\nx,2026-03-01T10:15:00Z,7,3\n",
        content_type="text/csv",
    )
    body = key_client.post(
        URL,
        [
            {
                "external_id": "x",
                "submitted_at": "2026-03-01T10:15:00Z",
                "nps": 7,
                "ratings": {"wait_time": 3},
            }
        ],
        format="json",
    ).json()
    assert body["duplicates"] == 1


def test_csv_with_unknown_column_is_400(key_client: APIClient) -> None:
    """A header with an unknown column is refused as a whole, naming the column."""
    answer = key_client.post(
        URL, "external_id,submitted_at,score\nx,2026-03-01T10:15:00Z,7\n", content_type="text/csv"
    )
    assert answer.status_code == 400
    assert "score" in answer.json()["errors"]["non_field_errors"][0]


def test_csv_rows_with_invalid_utf8_are_rejected_alone(key_client: APIClient) -> None:
    """Undecodable bytes reject their row only; the other rows are stored."""
    body = b"external_id,submitted_at,nps,comment\nok,2026-03-01T10:15:00Z,7,fine\nbad,2026-03-01T10:15:00Z,7,caf\xe9 \xff\n"
    answer = key_client.post(URL, body, content_type="text/csv")
    assert answer.status_code == 201
    result = answer.json()
    assert (result["created"], result["rejected"]) == (1, 1)
    assert "UTF-8" in result["errors"][0]["errors"]["comment"][0]


def test_csv_row_longer_than_the_header_is_rejected(key_client: APIClient) -> None:
    """Extra cells are not silently dropped."""
    body = "external_id,submitted_at,nps\nx,2026-03-01T10:15:00Z,7,surprise\n"
    result = key_client.post(URL, body, content_type="text/csv").json()
    assert result["rejected"] == 1
    assert "more cells" in result["errors"][0]["errors"]["non_field_errors"][0]


def test_bulk_items_may_not_name_another_source(key_client: APIClient) -> None:
    """Every item of a bulk post belongs to the posting source."""
    items = [
        {**feedback_item(external_id="a"), "source": "survey-tool"},
        {**feedback_item(external_id="b"), "source": "crm"},
    ]
    body = key_client.post(URL, items, format="json").json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert "source" in body["errors"][0]["errors"]


def test_key_cannot_choose_another_source_for_a_bulk_post(key_client: APIClient) -> None:
    """?source= naming another source is 403 for an API key."""
    answer = key_client.post(f"{URL}?source=crm", [feedback_item()], format="json")
    assert answer.status_code == 403


def test_cx_manager_bulk_posts_into_a_named_source(cx_client: APIClient) -> None:
    """A CX manager chooses the source of a bulk post with ?source=."""
    from feedback.models import Source

    Source.objects.create(name="legacy")
    answer = cx_client.post(f"{URL}?source=legacy", [feedback_item()], format="json")
    assert answer.status_code == 201
    assert Response.objects.get().source.name == "legacy"


def test_viewers_cannot_bulk_post(viewer_client: APIClient) -> None:
    """Bulk posting needs a key or the CX manager role."""
    assert viewer_client.post(URL, [feedback_item()], format="json").status_code == 403


@pytest.mark.parametrize("body", [{}, {"items": []}, "null", 5, []])
def test_non_array_bodies_are_400(key_client: APIClient, body: object) -> None:
    """A bulk body must be a non-empty JSON array."""
    answer = key_client.post(URL, body, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"]


def test_body_over_the_upload_limit_is_413(key_client: APIClient, settings: object) -> None:
    """A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is refused before parsing."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000  # type: ignore[attr-defined]
    items = [feedback_item(external_id=f"r{i}") for i in range(20)]
    answer = key_client.post(URL, items, format="json")
    assert answer.status_code == 413
    assert "Split the batch" in answer.json()["errors"]["non_field_errors"][0]
    assert Response.objects.count() == 0


def test_a_bulk_body_nested_past_the_limit_is_400_naming_the_depth(
    key_client: APIClient,
) -> None:
    """Depth is measured on every body with more brackets than the limit: one item nested 33
    levels deep among plain ones refuses the post, as before the quick depth test."""
    nested: object = 1
    for _ in range(31):
        nested = [nested]
    items = [feedback_item(external_id=f"r{i}") for i in range(50)]
    items[20]["attributes"] = {"deep": nested}  # array, item, attributes, 31 lists: 34 levels

    answer = key_client.post(URL, items, format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "non_field_errors": ["The JSON body is nested more than 32 levels deep."]
    }
    assert not Response.objects.exists()
    items[20]["attributes"] = {"deep": nested[0]}  # type: ignore[index]  # 33 levels: too deep
    assert key_client.post(URL, items, format="json").status_code == 400
    items[20]["attributes"] = {"deep": nested[0][0]}  # type: ignore[index]  # 32 levels
    answer = key_client.post(URL, items, format="json")
    assert answer.status_code == 201
    assert answer.json()["rejected"] == 1  # the item itself: attributes must be flat
