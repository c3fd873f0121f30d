"""Scores aggregated in the database against the planted data, and the scores API (the
formulas themselves are tested in ``test_score_engine``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from rest_framework.test import APIClient

from analytics.insights.selectors import scores_parameters_clean, scores_summary
from cxhub.errors import InvalidInput
from tests.analytics.insights.data import START, store_responses
from tests.feedback.factories import (
    CustomerFactory,
    SourceAPIKeyFactory,
    TouchpointFactory,
    viewer,
)


def _planted_rows() -> list[dict]:
    rng = np.random.default_rng(42)
    tp_a = TouchpointFactory(slug="billing-call", name="Billing call")
    tp_b = TouchpointFactory(slug="delivery", name="Delivery")
    north = CustomerFactory(region="north", plan="basic", attributes={"tier": "gold"})
    rows = []
    for i in range(600):
        week = i // 200  # three weeks of 200 answers
        touchpoint = tp_a if i % 3 else tp_b
        rows.append(
            {
                "submitted_at": START + dt.timedelta(days=7 * week, minutes=i),
                "touchpoint": touchpoint,
                "nps": int(rng.integers(0, 11)),
                "csat": int(rng.integers(1, 6)),
                "ces": int(rng.integers(1, 8)) if i % 5 else None,
                "channel": "phone" if i % 2 else "web",
                "customer": north if i % 10 == 0 else None,
                "attributes": {"plan": "premium" if i % 4 == 0 else "basic"},
            }
        )
    return rows


def _expected(rows: list[dict]) -> dict:
    nps = np.array([r["nps"] for r in rows])
    csat = np.array([r["csat"] for r in rows])
    return {
        "nps": 100 * (np.mean(nps >= 9) - np.mean(nps <= 6)),
        "csat_pct": 100 * np.mean(csat >= 4),
        "csat_mean": csat.mean(),
        "n": len(rows),
    }


def test_scores_by_week_and_touchpoint_equal_the_planted_data(db: None) -> None:
    """Grouped database aggregates equal NumPy on the same rows, for every week × touchpoint."""
    rows = _planted_rows()
    store_responses(rows)
    params = scores_parameters_clean({"period": "week", "by": "touchpoint"})
    result = scores_summary(params)
    overall = _expected(rows)
    assert result["overall"]["nps"]["value"] == pytest.approx(overall["nps"])
    assert result["overall"]["csat_pct"]["value"] == pytest.approx(overall["csat_pct"])
    assert result["overall"]["csat_mean"]["value"] == pytest.approx(overall["csat_mean"])
    ces = [r["ces"] for r in rows if r["ces"] is not None]
    assert result["overall"]["ces_mean"]["n"] == len(ces)
    assert result["overall"]["ces_mean"]["value"] == pytest.approx(np.mean(ces))
    assert len(result["periods"]) == 3
    assert result["periods"][1]["change_from_previous"]["nps"]["status"] == "ok"
    groups = {g["key"]: g for g in result["groups"]}
    assert set(groups) == {"billing-call", "delivery"}
    assert groups["billing-call"]["label"] == "Billing call"
    for key, group in groups.items():
        mine = [r for r in rows if r["touchpoint"].slug == key]
        assert group["nps"]["value"] == pytest.approx(_expected(mine)["nps"])
        for period in group["periods"]:
            start = dt.datetime.fromisoformat(period["period_start"])
            in_week = [r for r in mine if start <= r["submitted_at"] < start + dt.timedelta(days=7)]
            assert period["responses"] == len(in_week)


def test_scores_by_customer_or_response_attribute(db: None) -> None:
    """Region comes from the customer (others have none); plan from the response attributes
    unless the customer has one."""
    rows = _planted_rows()
    store_responses(rows)
    by_region = scores_summary(scores_parameters_clean({"by": "region"}))
    regions = {g["key"]: g["responses"] for g in by_region["groups"]}
    assert regions == {"north": 60, None: 540}
    by_tier = scores_summary(scores_parameters_clean({"by": "customer_attribute:tier"}))
    assert {g["key"]: g["responses"] for g in by_tier["groups"]} == {"gold": 60, None: 540}
    by_plan = scores_summary(scores_parameters_clean({"by": "attribute:plan"}))
    assert {g["key"]: g["responses"] for g in by_plan["groups"]} == {"basic": 450, "premium": 150}
    # a customer's own plan wins over the response attribute: the 30 "premium" answers of
    # the customer on the basic plan are not premium
    filtered = scores_summary(scores_parameters_clean({"plan": "premium", "channel": "web"}))
    assert filtered["overall"]["responses"] == 120


def test_minimum_responses_rule_applies_per_group(db: None, settings: object) -> None:
    """A group under CXHUB['MIN_RESPONSES'] shows 'not enough responses'."""
    settings.CXHUB = {**settings.CXHUB, "MIN_RESPONSES": 100}  # type: ignore[attr-defined]
    store_responses(_planted_rows()[:150])
    result = scores_summary(scores_parameters_clean({"by": "touchpoint"}))
    groups = {g["key"]: g for g in result["groups"]}
    assert groups["billing-call"]["nps"]["status"] == "ok"
    assert groups["delivery"]["nps"]["status"] == "insufficient"
    assert result["min_responses"] == 100


def test_comparison_window_gives_change_with_interval(db: None) -> None:
    """Week 3 against week 1: the change equals the difference of the two windows' NPS."""
    rows = _planted_rows()
    store_responses(rows)
    params = scores_parameters_clean(
        {
            "date_from": "2026-03-16",
            "date_to": "2026-03-22",
            "compare_from": "2026-03-02",
            "compare_to": "2026-03-08",
        }
    )
    result = scores_summary(params)
    later = _expected(rows[400:])["nps"]
    earlier = _expected(rows[:200])["nps"]
    assert result["change"]["nps"]["value"] == pytest.approx(later - earlier)
    low, high = result["change"]["nps"]["interval"]
    assert low < later - earlier < high


def test_scores_api_answers_with_intervals_and_rejects_bad_parameters(db: None) -> None:
    """GET scores/ works for any signed-in user; bad parameters are 400 with field messages;
    API keys and anonymous callers are refused."""
    store_responses(_planted_rows())
    client = APIClient()
    assert client.get("/api/v1/analytics/scores/").status_code in (401, 403)
    client.force_authenticate(viewer())
    answer = client.get("/api/v1/analytics/scores/?period=month&by=department")
    assert answer.status_code == 200
    body = answer.json()
    assert body["overall"]["responses"] == 600
    assert len(body["overall"]["nps"]["interval"]) == 2
    bad = client.get(
        "/api/v1/analytics/scores/?period=year&by=colour&touchpoint=nowhere&date_from=x"
    )
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert {"period", "by", "touchpoint", "date_from"} <= set(errors)
    assert "billing-call" in errors["touchpoint"][0]
    key = SourceAPIKeyFactory()
    keyed = APIClient()
    keyed.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.plain_key}")
    refused = keyed.get("/api/v1/analytics/scores/")
    assert refused.status_code == 403
    assert "API key" in refused.json()["errors"]["non_field_errors"][0]


def test_scores_api_uses_a_constant_number_of_queries(
    db: None, django_assert_max_num_queries: object
) -> None:
    """The scores endpoint aggregates in the database: the query count does not grow with data."""
    store_responses(_planted_rows())
    client = APIClient()
    client.force_authenticate(viewer())
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        assert client.get("/api/v1/analytics/scores/?period=week&by=touchpoint").status_code == 200


def test_compare_needs_both_ends(db: None) -> None:
    with pytest.raises(InvalidInput) as caught:
        scores_parameters_clean({"compare_from": "2026-01-01"})
    assert "compare_from" in caught.value.field_errors


def test_a_date_to_includes_its_whole_day(db: None) -> None:
    """``date_to=2026-03-09`` counts the 200 answers given on 9 March, as the dashboards do
    (a plain date used to be read as midnight, dropping its own day)."""
    store_responses(_planted_rows())
    one_day = scores_summary(
        scores_parameters_clean({"date_from": "2026-03-09", "date_to": "2026-03-09"})
    )
    assert one_day["overall"]["responses"] == 200


@pytest.mark.django_db
def test_a_comparison_window_includes_its_whole_last_day() -> None:
    """compare_from = compare_to is a valid one-day window holding that whole day."""
    touchpoint = TouchpointFactory(slug="web-checkout")
    store_responses(
        [
            {
                "nps": 10,
                "touchpoint": touchpoint,
                "submitted_at": dt.datetime(2026, 3, 2, 23, 59, 59, tzinfo=dt.UTC),
            },
            {
                "nps": 0,
                "touchpoint": touchpoint,
                "submitted_at": dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
            },
        ]
    )
    parameters = scores_parameters_clean({"compare_from": "2026-03-02", "compare_to": "2026-03-02"})

    result = scores_summary(parameters)

    assert result["overall"]["responses"] == 2
    assert result["comparison"]["responses"] == 1
    assert result["comparison"]["nps"]["n"] == 1
