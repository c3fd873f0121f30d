"""Value of experience and topic impact: planted churn step recovered, intervals against
references, money value against its definition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from analytics.insights.services import value_analysis_compute, value_parameters_clean
from analytics.stats.topic_impact import topic_nps_impact
from analytics.stats.value import (
    churn_segmented_linear,
    churn_threshold,
    move_value,
    value_of_experience,
)
from cxhub.errors import InvalidInput
from feedback.models import Customer
from tests.analytics.insights.data import START, store_responses


def _by_score(rng: np.random.Generator, n_per_score: int, churn: dict[int, float]) -> dict:
    out = {}
    for score in range(11):
        churned = rng.binomial(n_per_score, churn[score])
        revenue = rng.gamma(4.0, 250.0, size=n_per_score)
        out[score] = {
            "n": n_per_score,
            "churned": churned,
            "revenue_n": n_per_score,
            "revenue_sum": revenue.sum(),
            "revenue_sumsq": (revenue**2).sum(),
        }
    return out


@pytest.mark.parametrize("step", [5, 7, 9])
def test_planted_churn_step_is_found(step: int) -> None:
    """Churn 30% below the planted score and 10% from it on: the breakpoint is that score."""
    rng = np.random.default_rng(step)
    churn = {s: (0.30 if s < step else 0.10) for s in range(11)}
    result = churn_threshold(_by_score(rng, 400, churn), replicates=200)
    assert result["breakpoint"] == step
    assert result["bootstrap_support"][step] > 0.8
    assert result["churn_below"]["interval"][0] < 30 < result["churn_below"]["interval"][1]
    assert result["likelihood_ratio"] > 20


def test_churn_rates_by_score_carry_wilson_intervals() -> None:
    """Each score's churn interval equals statsmodels' Wilson interval."""
    rng = np.random.default_rng(3)
    by_score = _by_score(rng, 120, dict.fromkeys(range(11), 0.2))
    result = value_of_experience(by_score, min_n=30, replicates=50)
    for row in result["by_score"]:
        source = by_score[row["score"]]
        low, high = proportion_confint(source["churned"], source["n"], method="wilson")
        assert row["churn_pct"]["interval"] == pytest.approx([100 * low, 100 * high])
    categories = {c["category"]: c for c in result["by_category"]}
    assert categories["detractor"]["n"] == 7 * 120
    assert categories["promoter"]["n"] == 2 * 120


def test_move_value_is_churn_difference_times_revenue_and_covers_the_truth() -> None:
    """Detractors churn 30%, passives 10%, detractor revenue averages 1,000: moving one is
    worth 200 on average; over repeated samples the 95% interval covers 200 about 95% of
    the time."""
    rng = np.random.default_rng(8)
    covered = 0
    trials = 300
    for _ in range(trials):
        n_d, n_p = 800, 600
        revenue = rng.gamma(4.0, 250.0, size=n_d)  # mean 1,000
        detractors = {
            "n": n_d,
            "churned": rng.binomial(n_d, 0.3),
            "revenue_n": n_d,
            "revenue_sum": revenue.sum(),
            "revenue_sumsq": (revenue**2).sum(),
        }
        passives = {
            "n": n_p,
            "churned": rng.binomial(n_p, 0.1),
            "revenue_n": 0,
            "revenue_sum": 0,
            "revenue_sumsq": 0,
        }
        result = move_value(detractors, passives, min_n=30)
        expected = (detractors["churned"] / n_d - passives["churned"] / n_p) * revenue.mean()
        assert result["value"] == pytest.approx(expected)
        low, high = result["interval"]
        covered += low <= 200.0 <= high
    assert 0.91 <= covered / trials <= 0.985


def test_value_analysis_from_the_database_finds_the_planted_step(db: None) -> None:
    """Customers' latest NPS drives planted churn (35% below 7, 8% from 7): the stored
    analysis reports breakpoint 7 and a positive detractor→promoter value."""
    rng = np.random.default_rng(21)
    customers = []
    scores = []
    for i in range(2200):
        score = int(rng.integers(0, 11))
        churned = rng.random() < (0.35 if score < 7 else 0.08)
        customers.append(
            Customer(
                external_id=f"V-{i}",
                annual_revenue=Decimal(str(round(float(rng.gamma(4.0, 250.0)), 2))),
                churned_at=START + dt.timedelta(days=60) if churned else None,
            )
        )
        scores.append(score)
    Customer.objects.bulk_create(customers)
    stored = {c.external_id: c for c in Customer.objects.all()}
    rows = []
    for i, score in enumerate(scores):
        customer = stored[f"V-{i}"]
        # an older answer with another score must not count: only the latest does
        rows.append({"customer": customer, "nps": (score + 5) % 11, "submitted_at": START})
        rows.append(
            {"customer": customer, "nps": score, "submitted_at": START + dt.timedelta(days=1)}
        )
    store_responses(rows)
    result = value_analysis_compute(parameters=value_parameters_clean({"replicates": 100}))
    assert result["customers"] == 2200
    assert result["threshold"]["breakpoint"] == 7
    move = result["move_value"]["detractor_to_promoter"]
    assert move["status"] == "ok" and move["interval"][0] > 0


def test_value_analysis_without_customers_is_a_readable_error(db: None) -> None:
    store_responses([{"nps": 5}] * 3)
    with pytest.raises(InvalidInput, match="No customers with an NPS answer"):
        value_analysis_compute(parameters=value_parameters_clean({}))


def test_topic_impact_matches_its_definition_and_the_bootstrap() -> None:
    """impact = NPS(all) − NPS(without topic); the delta-method se agrees with a bootstrap
    of the answers to within 10%."""
    rng = np.random.default_rng(5)
    n = 4000
    mentions = rng.random(n) < 0.2
    scores = np.where(
        mentions,
        rng.choice([-1, 0, 1], size=n, p=[0.6, 0.25, 0.15]),
        rng.choice([-1, 0, 1], size=n, p=[0.2, 0.3, 0.5]),
    )
    result = topic_nps_impact(
        total_n=n,
        total_promoters=int((scores == 1).sum()),
        total_detractors=int((scores == -1).sum()),
        topic_n=int(mentions.sum()),
        topic_promoters=int((scores[mentions] == 1).sum()),
        topic_detractors=int((scores[mentions] == -1).sum()),
    )
    expected = 100 * (scores.mean() - scores[~mentions].mean())
    assert result["impact"] == pytest.approx(expected)
    assert result["impact"] < 0  # the topic costs points
    draws = []
    for _ in range(2000):
        idx = rng.integers(0, n, size=n)
        s, m = scores[idx], mentions[idx]
        draws.append(100 * (s.mean() - s[~m].mean()))
    assert result["se"] == pytest.approx(np.std(draws), rel=0.1)


def test_topic_impact_needs_answers_on_both_sides() -> None:
    result = topic_nps_impact(
        total_n=50,
        total_promoters=10,
        total_detractors=10,
        topic_n=50,
        topic_promoters=10,
        topic_detractors=10,
        min_n=5,
    )
    assert result["status"] == "insufficient"
    assert result["mentions"] == 50  # the same key as an estimate, so a table row reads it


def test_topic_impact_run_reads_topic_mentions_from_the_database(db: None) -> None:
    """Answers mentioning a planted 'wait time' topic are mostly detractors: the stored run
    says the topic costs NPS points, equal to NPS(all) − NPS(without it)."""
    from analytics.models import Topic, TopicMention
    from analytics.runs.services import run_execute_now

    topic = Topic.objects.create(slug="planted-wait", name="Planted wait")
    rows = [{"nps": 2} for _ in range(120)] + [{"nps": 10} for _ in range(200)] + [{"nps": 8}] * 80
    stored = store_responses(rows)
    TopicMention.objects.bulk_create(
        [TopicMention(response=r, topic=topic) for r in stored[:100]]
        + [TopicMention(response=r, topic=topic) for r in stored[300:310]]
    )
    run = run_execute_now(kind="topic_impact", parameters={})
    assert run.status == "succeeded", run.error
    (wait,) = run.result["topics"]
    # mentioned: 100 detractors (nps 2) and 10 promoters (nps 10); 290 answers remain with
    # 190 promoters and 20 detractors
    everyone = 100 * (200 - 120) / 400
    without = 100 * (190 - 20) / 290
    assert wait["impact"] == pytest.approx(everyone - without)
    assert wait["interval"][1] < 0


def test_segmented_linear_fit_finds_where_a_gradual_decline_levels_off() -> None:
    """Churn falls 4 points per score point up to 6, then stays at 12%: breakpoint 6 with the
    planted slopes (exact rates, so the fit is exact)."""
    churn = {s: (0.36 - 0.04 * s if s < 6 else 0.12) for s in range(11)}
    by_score = {s: {"n": 1000, "churned": round(1000 * churn[s])} for s in range(11)}
    result = churn_segmented_linear(by_score)
    assert result["breakpoint"] == 6
    assert result["slope_below_pct"] == pytest.approx(-4.0, abs=1e-6)
    assert result["slope_above_pct"] == pytest.approx(0.0, abs=1e-6)
