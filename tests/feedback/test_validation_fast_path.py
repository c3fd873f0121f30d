"""The bulk path's quick look (``_normalised_fast``) agrees with the full rule set.

It may only ever answer what the full checks answer: for any item it takes, the same
``NormalisedResponse`` (content hash included); for everything else it steps aside, and the
full checks write the messages. Items are generated across valid and invalid values of every
field, so an item the quick look wrongly accepts, or normalises differently, fails here.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.validation import (
    ValidationContext,
    _normalised_fast,
    _validate_response_checked,
    validate_response,
)

CONTEXT = ValidationContext(
    touchpoint_ids={"billing-call": 1, "app-login": 2},
    attribute_scales={"wait_time": (0, 10), "staff": (1, 5)},
    comment_max_length=40,
)
MASKING = ValidationContext(
    touchpoint_ids=CONTEXT.touchpoint_ids,
    attribute_scales=CONTEXT.attribute_scales,
    comment_max_length=200,
    mask_pii_region="GB",
)

unstorable = st.sampled_from(["a\x00b", "\ud800", "x\udfff"])
plain_text = st.text(st.characters(codec="utf-8"), max_size=12)
odd_text = st.one_of(st.text(max_size=12), unstorable, st.sampled_from(["", "  ", " id-1 "]))
# Per field: values that are plainly valid, and edges (valid in other spellings, or invalid).
PLAIN_ID = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(str.strip)
EDGE_ID = st.one_of(
    odd_text,
    st.integers(-5, 10**6),
    st.text(min_size=199, max_size=203),
    st.booleans(),
    st.floats(),
)
PLAIN_TIME = st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())
EDGE_TIME = st.one_of(
    st.sampled_from(
        [
            " 2026-03-01T10:15:00+01:00 ",
            "2026-03-01T10:15:00",
            "2026-03-01",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "yesterday",
            "",
            "2026-03-01T10:15:00.123456+05:30" + " " * 40,
            "2026-03-01T10:15:00." + "1" * 40 + "+05:30",
        ]
    ),
    st.integers(),
    st.none(),
)
EDGE_SCORE = st.one_of(
    st.integers(-2, 12),
    st.sampled_from(["7", " 3 ", "", "x", "1e1"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
PLAIN_COMMENT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["Call me on 07700 900123", "mail a@example.com", "   "]),
)
EDGE_COMMENT = st.one_of(odd_text, st.text(min_size=38, max_size=42), st.integers())
rating_values = st.one_of(
    st.integers(-1, 11), st.none(), st.sampled_from(["", "3", "x"]), st.booleans(), st.floats()
)
PLAIN_RATINGS = st.dictionaries(
    st.sampled_from(["wait_time", "staff"]), st.integers(1, 5), max_size=2
)
EDGE_RATINGS = st.one_of(
    st.dictionaries(st.sampled_from(["wait_time", "staff", "unknown"]), rating_values, max_size=3),
    st.sampled_from(["", "x", 3]),
    st.lists(st.integers(), max_size=2),
)
PLAIN_ATTRIBUTES = st.dictionaries(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
    st.one_of(
        st.text(st.characters(codec="utf-8"), max_size=8),
        st.integers(-(2**62), 2**62),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
    ),
    max_size=3,
)
EDGE_ATTRIBUTES = st.one_of(
    st.dictionaries(
        st.one_of(odd_text, st.text(min_size=99, max_size=101)),
        st.one_of(
            odd_text,
            st.text(min_size=999, max_size=1001),
            st.integers(-(2**64), 2**64),
            st.sampled_from([2**63, -(2**63), 2**63 - 1]),
            st.floats(allow_nan=True, allow_infinity=True),
            st.none(),
            st.lists(st.integers(), max_size=1),
        ),
        min_size=1,
        max_size=3,
    ),
    st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=1),
    st.just({f"k{i}": i for i in range(101)}),
    st.sampled_from(["", "x"]),
)
# field: (plainly valid values, edge values, whether the field may be absent)
FIELDS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any], bool]] = {
    "external_id": (PLAIN_ID, EDGE_ID, False),
    "submitted_at": (PLAIN_TIME, EDGE_TIME, False),
    "customer_id": (PLAIN_ID, EDGE_ID, True),
    "channel": (
        st.sampled_from(["phone", "web", "in_person"]),
        st.one_of(st.sampled_from(["PHONE", " web ", "fax", ""]), st.integers()),
        True,
    ),
    "touchpoint": (
        st.sampled_from(["billing-call", "app-login"]),
        st.one_of(st.sampled_from(["nope", "", "Billing-call"]), st.integers()),
        True,
    ),
    "nps": (st.integers(0, 10), EDGE_SCORE, True),
    "csat": (st.integers(1, 5), EDGE_SCORE, True),
    "ces": (st.integers(1, 7), EDGE_SCORE, True),
    "ratings": (PLAIN_RATINGS, EDGE_RATINGS, True),
    "comment": (PLAIN_COMMENT, EDGE_COMMENT, True),
    "attributes": (PLAIN_ATTRIBUTES, EDGE_ATTRIBUTES, True),
    "source": (st.nothing(), st.sampled_from(["survey", "other", ""]), True),
    "unknown_field": (st.nothing(), st.integers(), True),
}


@st.composite
def items(draw: st.DrawFn) -> Any:
    """A plainly valid item (optional fields present or not) with up to two fields given an
    edge value (valid in another spelling, or invalid) or null; now and then not an object."""
    if draw(st.integers(0, 40)) == 0:
        return draw(st.one_of(st.none(), st.lists(st.integers(), max_size=2), st.text()))
    item: dict[str, Any] = {}
    for name, (plain, _, optional) in FIELDS.items():
        if not plain.is_empty and not (optional and draw(st.booleans())):
            item[name] = draw(plain)
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=2, unique=True)):
        item[name] = draw(st.one_of(FIELDS[name][1], st.none()))
    return item


def _agrees(item: Any, context: ValidationContext) -> bool:
    """True when the quick look took the item (it must then equal the full checks)."""
    fast = _normalised_fast(item, context)
    checked, errors = _validate_response_checked(item, context, source_name="survey")
    if fast is None:
        return False
    assert errors == {}, (item, errors)
    assert fast == checked, item
    return True


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items())
def test_what_the_quick_look_takes_the_full_checks_take_alike(item: Any) -> None:
    _agrees(item, CONTEXT)


@settings(max_examples=300, deadline=None)
@given(items())
def test_the_quick_look_masks_contact_details_as_the_full_checks_do(item: Any) -> None:
    _agrees(item, MASKING)


PLAIN = {
    "external_id": "r-1",
    "submitted_at": "2026-03-01T10:15:00Z",
    "customer_id": "C-1",
    "channel": "phone",
    "touchpoint": "billing-call",
    "nps": 9,
    "csat": 5,
    "ces": 2,
    "ratings": {"wait_time": 7, "staff": 4},
    "comment": "Quick and friendly.",
    "attributes": {"region": "north", "tenure": 3, "vip": True, "score": 0.5},
}
IDENTIFIER_EDGES = [17, "", "  ", " x ", "x" * 200, "x" * 201, " " + "x" * 200 + " ", "a\x00"]
IDENTIFIER_EDGES += ["\ud800", True, 1.5, None, ["x"]]
EDGES: dict[str, list[Any]] = {
    "external_id": IDENTIFIER_EDGES,
    "customer_id": IDENTIFIER_EDGES,
    "submitted_at": [
        "2026-03-01T10:15:00",
        "2026-03-01",
        " 2026-03-01T10:15:00+01:00 ",
        "2026-03-01T10:15:00." + "1" * 40 + "+05:30",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "x",
        "",
        5,
        None,
    ],
    "nps": [-1, 0, 10, 11, "7", 7.0, 7.5, True, "", math.nan, math.inf, None],
    "csat": [0, 1, 5, 6, "3", None],
    "ces": [0, 1, 7, 8, "3", None],
    "comment": ["", "   ", "x" * 40, "x" * 41, "a\x00", "\ud800", 5, "07700 900123", None],
    "channel": ["PHONE", " web ", "fax", "", 3, None],
    "touchpoint": ["nope", "", 3, "Billing-call", None],
    "ratings": [
        {"unknown": 3},
        {"wait_time": 11},
        {"wait_time": -1},
        {"wait_time": 0},
        {"staff": 0},
        {"staff": None},
        {"staff": ""},
        {"staff": "3"},
        {"staff": True},
        {"staff": 3.0},
        {},
        [],
        "x",
        "",
        None,
    ],
    "attributes": [
        {"": 1},
        {"k" * 100: 1},
        {"k" * 101: 1},
        {"k": "v" * 1000},
        {"k": "v" * 1001},
        {"k": 2**63},
        {"k": -(2**63)},
        {"k": 2**63 - 1},
        {"k": -(2**63) + 1},
        {"k": math.nan},
        {"k": math.inf},
        {"k": None},
        {"k": [1]},
        {"k": {"a": 1}},
        {1: 1},
        {f"k{i}": i for i in range(100)},
        {f"k{i}": i for i in range(101)},
        {"a\x00": 1},
        {"k": "\ud800"},
        {},
        "x",
        "",
        None,
    ],
    "source": ["survey", "other", ""],
    "unknown_field": [1],
}


@pytest.mark.parametrize("context", [CONTEXT, MASKING], ids=["plain", "masking"])
@pytest.mark.parametrize(
    ("field", "value"),
    [(field, value) for field, values in EDGES.items() for value in values],
    ids=lambda value: repr(value)[:30],
)
def test_each_edge_of_each_field_is_answered_as_the_full_checks_answer(
    context: ValidationContext, field: str, value: Any
) -> None:
    """One field at its edge (boundaries, other spellings, wrong types), the rest plain."""
    item = {**PLAIN, field: value}
    if _normalised_fast(item, context) is None:
        assert validate_response(item, context, source_name="survey") == (
            _validate_response_checked(item, context, source_name="survey")
        )
    else:
        assert _agrees(item, context)


def test_plain_items_take_the_quick_look_and_others_do_not() -> None:
    """A typical posted item goes the quick way; each unusual field sends it the full way,
    where it is still accepted when valid."""
    plain = PLAIN
    assert _agrees(plain, CONTEXT)
    assert _agrees(
        {"external_id": "r-2", "submitted_at": "2026-03-01T10:15:00Z", "nps": 0}, CONTEXT
    )
    unusual = [
        {"nps": "9"},  # a number as text
        {"external_id": 17},  # an integer id, echoed as text
        {"channel": ""},  # blank: absent
        {"ratings": {"wait_time": None, "staff": ""}},
        {"source": "survey"},  # the posting source repeated
    ]
    for change in unusual:
        item = {**plain, **change}
        assert _normalised_fast(item, CONTEXT) is None, change
        normalised, errors = validate_response(item, CONTEXT, source_name="survey")
        assert errors == {} and normalised is not None, change


def test_an_invalid_item_still_gets_every_message() -> None:
    """The quick look steps aside and the full checks name each field."""
    normalised, errors = validate_response(
        {
            "external_id": "r-1",
            "submitted_at": "2026-03-01T10:15:00",
            "nps": 11,
            "attributes": {"ratio": math.inf},
        },
        CONTEXT,
    )
    assert normalised is None
    assert set(errors) == {"submitted_at", "nps", "attributes"}
    assert errors["nps"] == ["Must be a whole number from 0 to 10; got 11."]
