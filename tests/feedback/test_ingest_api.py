"""POST /api/v1/feedback/: one response, with every status code of the contract."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from feedback.models import Customer, Response, Source
from tests.feedback.conftest import feedback_item
from tests.feedback.factories import SourceAPIKeyFactory

URL = "/api/v1/feedback/"

pytestmark = pytest.mark.usefixtures("organisation")


def test_first_receipt_is_created_with_its_stored_representation(
    key_client: APIClient, api_key: Any
) -> None:
    """A new response answers 201 with the stored response, including its id."""
    answer = key_client.post(URL, feedback_item(), format="json")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    stored = Response.objects.get()
    assert body["id"] == stored.id
    assert body["source"] == "survey-tool"
    assert body["nps_category"] == "detractor"
    assert body["touchpoint"] == "billing-call"
    assert body["customer_id"] == "C-42"
    assert body["ratings"] == {"staff_friendliness": 4, "wait_time": 1}
    assert stored.source == api_key.source
    assert stored.submitted_at == dt.datetime(2026, 3, 1, 10, 15, tzinfo=dt.UTC)
    assert stored.attributes == {"region": "north", "plan": "premium"}


def test_same_external_id_and_content_returns_the_first_response(key_client: APIClient) -> None:
    """A retry of the same item answers 200 with the same id and stores nothing new."""
    first = key_client.post(URL, feedback_item(), format="json")
    # the same content written differently (other zone, keys reordered, string score)
    again = key_client.post(
        URL,
        feedback_item(
            submitted_at="2026-03-01T11:15:00+01:00",
            nps="3",
            ratings={"wait_time": 1, "staff_friendliness": 4},
        ),
        format="json",
    )

    assert again.status_code == 200, again.json()
    assert again.json()["id"] == first.json()["id"]
    assert Response.objects.count() == 1


def test_same_external_id_with_other_content_is_a_conflict(key_client: APIClient) -> None:
    """Changed content under a known external id answers 409 and keeps the stored row."""
    key_client.post(URL, feedback_item(), format="json")

    answer = key_client.post(URL, feedback_item(nps=9), format="json")

    assert answer.status_code == 409
    assert "different content" in answer.json()["errors"]["external_id"][0]
    assert Response.objects.get().nps == 3


def test_the_same_external_id_from_another_source_is_another_response(
    key_client: APIClient,
) -> None:
    """Idempotency is per source: another source may use the same external id."""
    other = SourceAPIKeyFactory(source__name="crm")
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {other.plain_key}")

    assert key_client.post(URL, feedback_item(), format="json").status_code == 201
    assert other_client.post(URL, feedback_item(nps=10), format="json").status_code == 201
    assert Response.objects.count() == 2


def test_unknown_customer_is_created_bare_once(key_client: APIClient) -> None:
    """Responses for an unknown customer create it once, without attributes."""
    key_client.post(URL, feedback_item(external_id="a", customer_id="C-NEW"), format="json")
    key_client.post(URL, feedback_item(external_id="b", customer_id="C-NEW"), format="json")

    customer = Customer.objects.get(external_id="C-NEW")
    assert customer.segment == ""
    assert customer.responses.count() == 2


def test_comment_is_stored_exactly_as_given(key_client: APIClient) -> None:
    """Any Unicode, markup and surrounding whitespace in a comment survive unchanged."""
    comment = "  <script>alert('x')</script> naïve café 😀 中文\n\ttabbed \\ back\\slash  "
    answer = key_client.post(URL, feedback_item(comment=comment), format="json")

    assert answer.status_code == 201
    assert Response.objects.get().comment == comment
    assert answer.json()["comment"] == comment


def test_comment_only_response_is_accepted(key_client: APIClient) -> None:
    """A comment without any score is a valid response."""
    answer = key_client.post(
        URL,
        feedback_item(nps=..., csat=..., ces=..., ratings=..., comment="Just words"),
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["nps_category"] is None


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"external_id": ...}, "external_id", "required"),
        ({"external_id": "x" * 201}, "external_id", "at most 200"),
        ({"external_id": "   "}, "external_id", "blank"),
        ({"submitted_at": ...}, "submitted_at", "required"),
        ({"submitted_at": "2026-03-01T10:15:00"}, "submitted_at", "time zone"),
        ({"submitted_at": "yesterday"}, "submitted_at", "ISO 8601"),
        ({"nps": 11}, "nps", "0 to 10"),
        ({"nps": -1}, "nps", "0 to 10"),
        ({"nps": 7.5}, "nps", "whole number"),
        ({"nps": True}, "nps", "boolean"),
        ({"nps": "abc"}, "nps", "whole number"),
        ({"csat": 0}, "csat", "1 to 5"),
        ({"csat": 6}, "csat", "1 to 5"),
        ({"ces": 8}, "ces", "1 to 7"),
        (
            {"nps": ..., "csat": ..., "ces": ..., "comment": ...},
            "non_field_errors",
            "At least one of",
        ),
        (
            {"nps": ..., "csat": ..., "ces": ..., "comment": "   "},
            "non_field_errors",
            "At least one of",
        ),
        ({"ratings": {"speed": 3}}, "ratings", "Unknown rating attribute 'speed'"),
        ({"ratings": {"staff_friendliness": 6}}, "ratings", "staff_friendliness"),
        ({"ratings": {"wait_time": 2.5}}, "ratings", "wait_time"),
        ({"ratings": [1, 2]}, "ratings", "object"),
        ({"comment": "x" * 10_001}, "comment", "10,000"),
        ({"comment": 42}, "comment", "string"),
        ({"channel": "pigeon"}, "channel", "phone"),
        ({"touchpoint": "nowhere"}, "touchpoint", "billing-call"),
        ({"customer_id": {"id": 1}}, "customer_id", "string"),
        ({"attributes": {"nested": {"a": 1}}}, "attributes", "nested"),
        ({"attributes": ["a"]}, "attributes", "flat object"),
        ({"colour": "red"}, "non_field_errors", "Unknown field(s): colour"),
    ],
)
def test_invalid_items_are_400_naming_the_field(
    key_client: APIClient, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    """Each rule of the contract refuses its bad input with a 400 naming the field."""
    answer = key_client.post(URL, feedback_item(**overrides), format="json")

    assert answer.status_code == 400, answer.content
    messages = answer.json()["errors"][field]
    assert any(fragment in message for message in messages), messages
    assert Response.objects.count() == 0


def test_unknown_touchpoint_lists_the_valid_ones(key_client: APIClient) -> None:
    """The 400 for an unknown touchpoint tells the caller which ones exist."""
    answer = key_client.post(URL, feedback_item(touchpoint="nowhere"), format="json")
    message = answer.json()["errors"]["touchpoint"][0]
    assert "billing-call" in message and "web-checkout" in message


def test_comment_of_exactly_10000_characters_is_accepted(key_client: APIClient) -> None:
    """The comment limit is inclusive."""
    assert (
        key_client.post(URL, feedback_item(comment="é" * 10_000), format="json").status_code == 201
    )


def test_unauthenticated_post_is_refused_with_json(db: None) -> None:
    """No credentials: 401 with a JSON error body."""
    answer = APIClient().post(URL, feedback_item(), format="json")
    assert answer.status_code == 401
    assert "errors" in answer.json()


@pytest.mark.parametrize(
    "header",
    ["Api-Key nope", "Api-Key abc.def", "Api-Key ", "Token not-a-token"],
)
def test_unknown_credentials_are_401(db: None, header: str) -> None:
    """An unknown key or token is refused with 401 and a message."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    answer = client.post(URL, feedback_item(), format="json")
    assert answer.status_code == 401
    assert answer.json()["errors"]


def test_revoked_key_is_refused(api_key: Any, key_client: APIClient) -> None:
    """A revoked key no longer posts."""
    api_key.revoked = True
    api_key.save()
    answer = key_client.post(URL, feedback_item(), format="json")
    assert answer.status_code == 401
    assert "revoked" in answer.json()["errors"]["non_field_errors"][0]


def test_expired_key_is_refused(api_key: Any, key_client: APIClient) -> None:
    """An expired key no longer posts."""
    api_key.expiry_date = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    api_key.save()
    answer = key_client.post(URL, feedback_item(), format="json")
    assert answer.status_code == 401
    assert "expired" in answer.json()["errors"]["non_field_errors"][0]


def test_key_cannot_read(key_client: APIClient) -> None:
    """A source's key posts data but reads nothing: list and detail are 403."""
    created = key_client.post(URL, feedback_item(), format="json").json()
    assert key_client.get(URL).status_code == 403
    assert key_client.get(f"{URL}{created['id']}/").status_code == 403


def test_key_cannot_post_for_another_source(key_client: APIClient) -> None:
    """Naming another source with a key is 403; nothing is stored."""
    Source.objects.create(name="crm")
    answer = key_client.post(URL, {**feedback_item(), "source": "crm"}, format="json")
    assert answer.status_code == 403
    assert "survey-tool" in answer.json()["errors"]["source"][0]
    assert Response.objects.count() == 0


def test_key_may_name_its_own_source(key_client: APIClient) -> None:
    """Repeating the key's own source name is allowed."""
    answer = key_client.post(URL, {**feedback_item(), "source": "survey-tool"}, format="json")
    assert answer.status_code == 201


def test_cx_manager_posts_under_the_api_source_by_default(cx_client: APIClient) -> None:
    """A CX manager's post is recorded under the source 'api', created on demand."""
    answer = cx_client.post(URL, feedback_item(), format="json")
    assert answer.status_code == 201
    assert answer.json()["source"] == "api"


def test_cx_manager_may_name_an_existing_source(cx_client: APIClient) -> None:
    """A CX manager can record a response under a named source; an unknown name is a 400."""
    Source.objects.create(name="contact-centre")
    assert (
        cx_client.post(URL, {**feedback_item(), "source": "contact-centre"}, format="json").json()[
            "source"
        ]
        == "contact-centre"
    )
    answer = cx_client.post(
        URL, {**feedback_item(external_id="x"), "source": "nope"}, format="json"
    )
    assert answer.status_code == 400
    assert "contact-centre" in answer.json()["errors"]["source"][0]


@pytest.mark.parametrize("client_fixture", ["viewer_client", "line_manager_client"])
def test_readers_cannot_post(request: pytest.FixtureRequest, client_fixture: str) -> None:
    """Viewers and line managers read feedback but may not post it (403 with a message)."""
    client = request.getfixturevalue(client_fixture)
    answer = client.post(URL, feedback_item(), format="json")
    assert answer.status_code == 403
    assert "CX managers" in answer.json()["errors"]["non_field_errors"][0]
    assert client.get(URL).status_code == 200


def test_detail_of_unknown_id_is_404(viewer_client: APIClient) -> None:
    """A response id that does not exist is a 404 with a JSON body."""
    answer = viewer_client.get(f"{URL}999999/")
    assert answer.status_code == 404
    assert answer.json()["errors"]


def test_detail_shows_the_stored_response(key_client: APIClient, cx_client: APIClient) -> None:
    """Any signed-in user reads a response by id."""
    created = key_client.post(URL, feedback_item(), format="json").json()
    answer = cx_client.get(f"{URL}{created['id']}/")
    assert answer.status_code == 200
    assert answer.json() == created


def test_array_body_on_the_single_endpoint_is_400(key_client: APIClient) -> None:
    """Posting an array to the single endpoint points to /bulk/."""
    answer = key_client.post(URL, [feedback_item()], format="json")
    assert answer.status_code == 400
    assert "bulk" in answer.json()["errors"]["non_field_errors"][0]
