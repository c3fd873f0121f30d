from __future__ import annotations

import datetime as dt

from analytics.stats.scores import Score, nps_estimate
from dashboards.narrative import TOO_EARLY, certainty, narrative_build


def _score(value: float, low: float, high: float, n: int = 200) -> Score:
    return Score(status="ok", n=n, value=value, low=low, high=high, se=(high - low) / 3.92)


def test_an_interval_crossing_zero_is_too_early_to_tell() -> None:
    """A change whose interval contains zero is never called a change."""
    assert certainty(_score(3.0, -1.0, 7.0)) == TOO_EARLY
    assert certainty(_score(-3.0, -7.0, 0.0)) == TOO_EARLY


def test_an_interval_clear_of_zero_is_likely_and_far_from_zero_very_likely() -> None:
    """One side of zero is 'likely'; with the near end at least half the estimate, 'very likely'."""
    assert certainty(_score(5.0, 1.0, 9.0)) == "likely"
    assert certainty(_score(5.0, 3.0, 7.0)) == "very likely"
    assert certainty(_score(-5.0, -7.0, -3.0)) == "very likely"


def test_a_collapsed_interval_is_never_read_as_certainty() -> None:
    """An interval of zero width (the plain Wald interval of 30 promoters of 30) says
    nothing about certainty: 'too early to tell', never 'very likely'."""
    assert certainty(_score(100.0, 100.0, 100.0)) == TOO_EARLY
    assert certainty(_score(20.0, 20.0, 20.0)) == TOO_EARLY


def test_all_promoters_are_certain_only_against_values_outside_the_interval() -> None:
    """30 of 30 promoters: NPS 100 with adjusted-Wald interval about 79 to 100, so it is
    clearly above 50 but not clearly above 90."""
    all_promoters = nps_estimate(30, 30, 0, min_n=30)
    assert certainty(all_promoters, reference=50.0) == "very likely"
    assert certainty(all_promoters, reference=90.0) == TOO_EARLY


def test_score_change_crossing_zero_reads_too_early_to_tell() -> None:
    """Planted: NPS +4 with interval −2..+10 over 4 weeks → 'too early to tell', not 'rose'."""
    story = narrative_build(
        {
            "audience": "Billing",
            "responses": 400,
            "nps": _score(12, 4, 20),
            "nps_change": {"change": _score(4.0, -2.0, 10.0), "weeks": 4},
        }
    )
    text = " ".join(story.what_changed)
    assert TOO_EARLY in text
    assert "likely" not in text


def test_clear_score_change_is_called_likely_real() -> None:
    """Planted: NPS +8 with interval +2..+14 → 'likely a real change'."""
    story = narrative_build(
        {
            "responses": 400,
            "nps": _score(12, 4, 20),
            "nps_change": {"change": _score(8.0, 2.0, 14.0), "weeks": 4},
        }
    )
    assert any("NPS rose 8 points" in s and "likely a real change" in s for s in story.what_changed)


def test_too_few_responses_give_no_score() -> None:
    """Below the minimum, the story says there are not enough responses instead of a number."""
    story = narrative_build(
        {
            "audience": "Stores",
            "responses": 12,
            "min_responses": 30,
            "nps": nps_estimate(12, 8, 2, min_n=30),
        }
    )
    assert "not enough responses" in story.you_said[0]
    assert "+50" not in story.you_said[0]


def test_you_said_names_top_issues_and_quotes_customers() -> None:
    """The top issue, its share negative, its NPS cost and the customers' words are told."""
    story = narrative_build(
        {
            "responses": 900,
            "nps": _score(-5, -10, 0),
            "top_issues": [
                {
                    "topic": "Wait time",
                    "mentions": 210,
                    "negative_share": 0.81,
                    "nps_cost": -6.2,
                    "quotes": ["Waited 40 minutes."],
                },
                {
                    "topic": "Billing",
                    "mentions": 120,
                    "negative_share": 0.5,
                    "nps_cost": -2.0,
                    "quotes": [],
                },
            ],
        }
    )
    joined = " ".join(story.you_said)
    assert "wait time (210 mentions, 81% negative)" in joined
    assert "Wait time costs about 6.2 points of NPS" in joined
    assert story.quotes == ["Waited 40 minutes."]


def test_we_did_tells_who_did_what() -> None:
    """Implemented actions name their owner and date; open ones are counted with owners."""
    story = narrative_build(
        {
            "actions": [
                {
                    "title": "Call-back service",
                    "owner": "Dana Line",
                    "status": "implemented",
                    "implemented_on": dt.date(2026, 3, 2),
                },
                {"title": "Fix invoice PDF", "owner": "Sam Ops", "status": "in_progress"},
            ],
            "overdue": 1,
        }
    )
    assert "Dana Line put in place “Call-back service” on 02 Mar 2026." in story.we_did
    assert any("1 more action under way, owned by Sam Ops" in s for s in story.we_did)
    assert "1 action past its due date." in story.we_did


def test_impact_of_an_action_is_judged_by_direction_and_interval() -> None:
    """A fall in churn (lower is better) clear of zero is 'likely an improvement'."""
    story = narrative_build(
        {
            "impacts": [
                {
                    "action": "Call-back service",
                    "metric": "Churn rate",
                    "effect": -0.8,
                    "low": -1.5,
                    "high": -0.1,
                    "unit": "pp",
                    "higher_is_better": False,
                },
                {
                    "action": "New IVR",
                    "metric": "NPS",
                    "effect": 2.0,
                    "low": -3.0,
                    "high": 7.0,
                    "unit": "points",
                    "higher_is_better": True,
                },
            ]
        }
    )
    assert any(
        "Churn rate fell by 0.8 percentage points: likely an improvement" in s
        for s in story.what_changed
    )
    assert any("New IVR" in s and TOO_EARLY in s for s in story.what_changed)


def test_nothing_measured_is_too_early_to_tell() -> None:
    """Without figures the story says so instead of inventing a change."""
    story = narrative_build({})
    assert story.what_changed == [f"Nothing measured yet: {TOO_EARLY}."]
    assert story.you_said == ["No feedback for customers in this period yet."]


def test_small_effects_keep_two_significant_figures() -> None:
    """A churn fall of 0.035 points is written as 0.035, never rounded to 0.0."""
    story = narrative_build(
        {
            "impacts": [
                {
                    "action": "Callback",
                    "metric": "Churn rate",
                    "effect": -0.035,
                    "low": -0.04,
                    "high": -0.03,
                    "unit": "pp",
                    "higher_is_better": False,
                }
            ]
        }
    )
    assert "fell by 0.035 percentage points" in story.what_changed[0]
