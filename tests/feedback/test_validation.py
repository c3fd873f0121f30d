"""The shared rule set: normalisation and the content hash that drives idempotency."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from feedback.validation import (
    ValidationContext,
    parse_aware_datetime,
    validate_customer,
    validate_response,
)

CONTEXT = ValidationContext(
    touchpoint_ids={"billing-call": 1}, attribute_scales={"wait_time": (0, 10), "staff": (1, 5)}
)


def _valid(**item: object) -> object:
    normalised, errors = validate_response(
        {"external_id": "x", "submitted_at": "2026-03-01T10:15:00Z", **item}, CONTEXT
    )
    assert not errors, errors
    assert normalised is not None
    return normalised


def test_content_hash_is_sha256_of_the_documented_canonical_json() -> None:
    """The hash is SHA-256 of [time, customer, channel, touchpoint, nps, csat, ces, comment, ratings, attributes]."""
    normalised = _valid(
        nps=3,
        comment="Zoë",
        ratings={"wait_time": 2, "staff": 4},
        attributes={"b": 1, "a": True},
        touchpoint="billing-call",
    )
    canonical = json.dumps(
        [
            "2026-03-01T10:15:00+00:00",
            None,
            "",
            "billing-call",
            3,
            None,
            None,
            "Zoë",
            {"staff": 4, "wait_time": 2},
            {"a": True, "b": 1},
        ],
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=True,
    )
    assert normalised.content_hash == hashlib.sha256(canonical.encode()).hexdigest()  # type: ignore[attr-defined]


def test_equivalent_spellings_hash_alike_and_changes_do_not() -> None:
    """Zone, key order and "7" vs 7 do not change the hash; any content change does; external_id does not count."""
    base = _valid(nps=7, ratings={"wait_time": 2, "staff": 4}).content_hash  # type: ignore[attr-defined]
    assert (
        _valid(
            nps="7",
            ratings={"staff": "4", "wait_time": 2},
            submitted_at="2026-03-01T12:15:00+02:00",
        ).content_hash
        == base
    )  # type: ignore[attr-defined]
    assert (
        _valid(nps=7.0, ratings={"wait_time": 2, "staff": 4}, external_id="other").content_hash
        == base
    )  # type: ignore[attr-defined]
    assert _valid(nps=8, ratings={"wait_time": 2, "staff": 4}).content_hash != base  # type: ignore[attr-defined]
    assert _valid(nps=7, ratings={"wait_time": 2, "staff": 4}, comment=" ").content_hash != base  # type: ignore[attr-defined]


def test_times_are_normalised_to_utc() -> None:
    """Offsets are kept as instants and stored in UTC."""
    assert parse_aware_datetime("2026-03-01T10:15:00-05:00") == dt.datetime(
        2026, 3, 1, 15, 15, tzinfo=dt.UTC
    )


def test_channel_is_case_insensitive_and_blank_fields_are_absent() -> None:
    """'Phone' is the phone channel; empty strings (as from CSV) mean absent."""
    normalised = _valid(channel="Phone", nps="", csat=4, touchpoint="", customer_id="")
    assert (
        normalised.channel,
        normalised.nps,
        normalised.touchpoint_id,
        normalised.customer_external_id,
    ) == ("phone", None, None, None)  # type: ignore[attr-defined]


def test_rating_on_the_scale_edges() -> None:
    """Both ends of an attribute's scale are valid; one beyond is not."""
    assert _valid(nps=1, ratings={"wait_time": 0, "staff": 5}).ratings == {
        "wait_time": 0,
        "staff": 5,
    }  # type: ignore[attr-defined]
    _, errors = validate_response(
        {
            "external_id": "x",
            "submitted_at": "2026-03-01T10:15:00Z",
            "nps": 1,
            "ratings": {"staff": 0},
        },
        CONTEXT,
    )
    assert "staff" in errors["ratings"][0]


def test_customer_money_is_rounded_to_cents() -> None:
    """Revenue is stored to the cent."""
    values, errors = validate_customer(
        {"external_id": "C", "annual_revenue": "10.005", "cost_to_serve": 3}
    )
    assert not errors
    assert str(values["annual_revenue"]) == "10.01"  # type: ignore[index]
    assert str(values["cost_to_serve"]) == "3.00"  # type: ignore[index]
