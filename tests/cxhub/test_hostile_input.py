"""Hostile input is a 400 naming the field, on every route (``cxhub.input_guard``).

The route-wide tests walk the permission matrix, so a new route is covered the day it gets
its row there.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from cxhub.input_guard import json_deeper_than, json_problem, printable, text_problem
from feedback.models import Response
from tests.cxhub.test_permission_matrix import MATRIX, _client, _fill, world  # noqa: F401
from tests.feedback.factories import SourceAPIKeyFactory, TouchpointFactory, cx_manager

DEEP = "[" * 1000 + "]" * 1000  # 2 KB that Python's json module cannot parse
HOSTILE_QUERIES = {
    "nul": "department=a%00b",
    "surrogate-bytes": "department=%ED%A0%80",
    "not-utf8": "q=%FF%FE",
}


def _read_paths() -> list[str]:
    return [spec.read[0].path for spec in MATRIX.values() if spec.read]


def _json_writes() -> list[Any]:
    return [
        case
        for spec in MATRIX.values()
        for case in spec.write
        if case.path.startswith("/api/") and case.method in ("post", "patch", "put")
    ]


# --- the checks themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [("fine, naïve ☕", None), ("a\x00b", "NUL"), ("\ud800", "lone surrogate"), ("", None)],
)
def test_text_problem_names_what_cannot_be_stored(text: str, problem: str | None) -> None:
    found = text_problem(text)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_printable_escapes_and_bounds() -> None:
    assert printable("a\x00b") == "a\\x00b"
    assert printable("\ud800x") == "\\ud800x"
    assert len(printable("x" * 500)) == 60


def test_json_problem_is_iterative_and_names_the_path() -> None:
    deep: Any = []
    for _ in range(5_000):  # deeper than the interpreter's recursion limit
        deep = [deep]
    assert json_problem(deep, depth_limit=32) is not None
    assert json_problem({"items": [{"comment": "ok"}, {"comment": "a\x00"}]}, depth_limit=32) == (
        "items[1].comment",
        "This value must not contain NUL characters (U+0000).",
    )
    assert json_problem({"a": [[1, 2], {"b": "c"}]}, depth_limit=32) is None


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=2), children, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(json_values, st.integers(1, 6))
def test_the_quick_depth_test_agrees_with_the_path_naming_walk(data: Any, limit: int) -> None:
    """The parser measures depth without paths first; its verdict is the walk's."""
    assert json_deeper_than(data, limit) == (
        json_problem(data, depth_limit=limit, check_text=False) is not None
    )


def test_the_quick_depth_test_counts_levels_as_the_limit_does() -> None:
    nested: Any = {"a": 1}
    for _ in range(31):
        nested = [nested]
    assert not json_deeper_than(nested, 32)
    assert json_deeper_than([nested], 32)
    assert not json_deeper_than("[[[[", 1)


# --- every route ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(HOSTILE_QUERIES))
def test_hostile_query_parameters_are_a_400_on_every_route(
    world: dict[str, Any],  # noqa: F811
    kind: str,
) -> None:
    """A NUL, surrogate bytes or bytes that are not UTF-8 in a query parameter: a 400 that
    names the parameter, JSON for the API and a page otherwise, before any view runs."""
    pages, api_client = _client("cx", world, api=False), _client("cx", world, api=True)
    wrong = []
    for path in _read_paths():
        url = _fill(path, world)
        url += ("&" if "?" in url else "?") + HOSTILE_QUERIES[kind]
        api = url.startswith("/api/")
        answer = (api_client if api else pages).get(url)
        if answer.status_code != 400:
            wrong.append((url, answer.status_code))
        elif api and list(answer.json()["errors"]) not in (["department"], ["q"]):
            wrong.append((url, answer.json()))
        elif not api and b"Request not understood" not in answer.content:
            wrong.append((url, "no error page"))
    assert not wrong
    assert len(_read_paths()) > 75  # the walk covers the URL configuration


@pytest.mark.django_db
def test_json_nested_1000_deep_is_a_400_on_every_json_endpoint(
    world: dict[str, Any],  # noqa: F811
) -> None:
    """A 2 KB body nested 1,000 deep never reaches a RecursionError: every endpoint that reads
    a body refuses it with a 400 naming the depth; none answers 5xx."""
    principals = ("anonymous", "no_role", "viewer", "lm_a", "lm_b", "cx", "key_x", "key_y")
    wrong = []
    for case in _json_writes():
        path = _fill(case.path, world)
        expected = dict(zip(principals, case.expected.split(), strict=True))
        allowed = [p for p in ("cx", "key_x", "lm_a") if expected[p] == "ok"]
        principal = allowed[0] if allowed else "cx"
        client = _client(principal, world, api=True)
        with transaction.atomic():
            answer = getattr(client, case.method)(path, DEEP, content_type="application/json")
            transaction.set_rollback(True)
        reads_body = case.body is not None and bool(allowed)
        if answer.status_code >= 500 or (
            reads_body
            and (
                answer.status_code != 400
                or "nested more than 32 levels" not in json.dumps(answer.json())
            )
        ):
            wrong.append((case.method, path, principal, answer.status_code))
    assert not wrong
    assert sum(case.body is not None for case in _json_writes()) > 20


# --- bodies ---------------------------------------------------------------------------------


@pytest.fixture
def key_client(db: None) -> APIClient:
    TouchpointFactory(slug="desk")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {SourceAPIKeyFactory().plain_key}")
    return client


@pytest.fixture
def cx_client(db: None) -> APIClient:
    client = APIClient()
    client.force_authenticate(cx_manager())
    return client


ITEM = {"external_id": "h-1", "submitted_at": "2026-03-01T10:00:00Z", "nps": 7}


@pytest.mark.parametrize(
    ("escape", "words"), [("\\u0000", "NUL"), ("\\ud800", "lone surrogate"), ("\\uDFFF", "lone")]
)
def test_unstorable_text_in_a_json_body_names_the_field(
    key_client: APIClient, escape: str, words: str
) -> None:
    """NUL or a lone surrogate in a source name or a comment: a 400 on that field; the same
    body without it is stored."""
    for field in ("source", "comment"):
        body = json.dumps(ITEM).replace("}", f', "{field}": "x{escape}y"}}')
        answer = key_client.post("/api/v1/feedback/", body, content_type="application/json")
        assert answer.status_code == 400
        assert words in answer.json()["errors"][field][0]
    assert not Response.objects.exists()
    answer = key_client.post("/api/v1/feedback/", ITEM, format="json")
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("url", "good", "bad"),
    [
        ("/api/v1/feedback/bulk/", ITEM, {**ITEM, "external_id": "h-2", "comment": "x\u0000"}),
        (
            "/api/v1/customers/bulk/",
            {"external_id": "C-1", "segment": "smb"},
            {"external_id": "C-2", "segment": "s\ud800"},
        ),
        (
            "/api/v1/kpis/revenue/observations/bulk/",
            {"period_start": "2026-03-02", "value": 1},
            {"period_start": "2026-03-09", "value": 2, "region": "n\u0000"},
        ),
    ],
)
def test_a_bulk_item_with_unstorable_text_is_rejected_alone(
    cx_client: APIClient, url: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    """In a bulk array the bad item is reported on its own and the valid one is stored."""
    TouchpointFactory(slug="desk")
    body = json.dumps([good, bad])  # ASCII JSON: NUL and the surrogate travel as escapes
    assert "\\u" in body
    answer = cx_client.post(url, body, content_type="application/json")
    assert answer.status_code in (200, 201), answer.content
    result = answer.json()
    assert result["rejected"] == 1 and result["created"] == 1, result
    (error,) = result["errors"]
    assert error["index"] == 1
    assert any(
        "NUL" in message or "surrogate" in message or "control characters" in message
        for messages in error["errors"].values()
        for message in messages
    ), error


def test_a_pair_of_surrogates_is_one_character_and_welcome(key_client: APIClient) -> None:
    body = json.dumps({**ITEM, "comment": "Great 😀"})  # ASCII JSON: \ud83d\ude00
    assert "\\ud83d" in body
    answer = key_client.post("/api/v1/feedback/", body, content_type="application/json")
    assert answer.status_code == 201
    assert Response.objects.get().comment == "Great 😀"


@pytest.mark.parametrize(
    "body", [b'{"external_id": "\xff"}', b"\xed\xa0\x80", b'{"nps": NaN}', b'{"nps": Infinity}']
)
def test_bodies_that_are_not_json_text_are_a_400(key_client: APIClient, body: bytes) -> None:
    answer = key_client.post("/api/v1/feedback/", body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["errors"]


@pytest.mark.parametrize("body", ["5", "null", "[]", '"on"', "true"])
def test_notification_preferences_refuse_what_is_not_an_object(
    cx_client: APIClient, body: str
) -> None:
    answer = cx_client.patch(
        "/api/v1/notifications/preferences/", body, content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.json()["errors"]


def test_a_form_field_with_nul_is_a_400_for_the_api(cx_client: APIClient) -> None:
    """Form and multipart bodies are checked by the API's parsers, per field."""
    answer = cx_client.post("/api/v1/analytics/topics/", {"name": "Park\x00ing"})
    assert answer.status_code == 400
    assert "NUL" in answer.json()["errors"]["name"][0]


def test_a_json_only_endpoint_still_answers_a_form_with_415(key_client: APIClient) -> None:
    assert key_client.post("/api/v1/feedback/", {"external_id": "x"}).status_code == 415


@pytest.mark.django_db
def test_a_page_form_with_nul_is_a_400_page(client: Any) -> None:
    client.force_login(cx_manager())
    answer = client.post("/topics/", {"name": "Park\x00ing"})
    assert answer.status_code == 400
    assert b"Request not understood" in answer.content
    assert b"name" in answer.content


# --- CSV ------------------------------------------------------------------------------------

CSV_HEADER = "external_id,submitted_at,nps,comment\n"


def test_an_unterminated_csv_quote_is_an_error_on_its_line_and_the_rest_is_read(
    key_client: APIClient,
) -> None:
    """The quote opened on line 5 never closes: line 5 is reported, line 6 is stored, and a
    real multi-line comment before it is one cell."""
    body = (
        CSV_HEADER
        + "c1,2026-03-01T10:00:00Z,7,fine\n"
        + 'c4,2026-03-01T10:00:00Z,8,"a real\nmulti-line comment"\n'
        + 'c2,2026-03-01T10:00:00Z,3,"never closed\n'
        + "c3,2026-03-01T10:00:00Z,9,also fine\n"
    )
    answer = key_client.post("/api/v1/feedback/bulk/", body, content_type="text/csv")

    assert answer.status_code == 201, answer.content
    result = answer.json()
    assert (result["created"], result["rejected"]) == (3, 1)
    (error,) = result["errors"]
    assert error["line"] == 5
    assert "never closed" in error["errors"]["non_field_errors"][0]
    stored = dict(Response.objects.values_list("external_id", "comment"))
    assert stored == {"c1": "fine", "c3": "also fine", "c4": "a real\nmulti-line comment"}


def test_a_csv_quote_closed_in_the_wrong_place_is_reported(key_client: APIClient) -> None:
    body = (
        CSV_HEADER
        + 'c1,2026-03-01T10:00:00Z,7,"open\n'
        + 'c2,2026-03-01T10:00:00Z,3,"x"y\n'
        + "c3,2026-03-01T10:00:00Z,9,fine\n"
    )
    result = key_client.post("/api/v1/feedback/bulk/", body, content_type="text/csv").json()
    # Line 2's quote swallows line 3 up to its first quote: line 2 is the accident; line 3,
    # read again on its own, is the lenient reading of a one-line "x"y (as before).
    assert [error["line"] for error in result["errors"]] == [2]
    assert "wrong place" in result["errors"][0]["errors"]["non_field_errors"][0]
    assert sorted(Response.objects.values_list("external_id", flat=True)) == ["c2", "c3"]
