"""Action impact through the service: planted effects recovered from stored responses and KPIs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from actions.models import Action, ActionStatus
from analytics.impact.services import action_impact_estimate, impact_estimate_due
from analytics.models import AnalysisRun, ImpactEstimate, Kpi, KpiObservation
from feedback.models import Response
from feedback.services import response_day, response_days_changed
from tests.actions.factories import ActionFactory
from tests.feedback.factories import SourceFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

IMPLEMENTED = dt.date(2026, 3, 4)  # a Wednesday: its week (from 2026-03-02) is left out
FIRST_POST_WEEK = dt.date(2026, 3, 9)
NPS_EFFECT = 20.0  # north: promoters +10 pp, detractors −10 pp after implementation
REVENUE_EFFECT = 1_000.0  # EUR per week, north only


def _nps_draws(rng: np.random.Generator, n: int, promoters: float, detractors: float) -> list[int]:
    kind = rng.choice(3, size=n, p=[promoters, 1 - promoters - detractors, detractors])
    return [
        int(rng.choice([9, 10]))
        if k == 0
        else int(rng.choice([7, 8]))
        if k == 1
        else int(rng.integers(0, 7))
        for k in kind
    ]


def _plant_responses(
    *, weeks_before: int = 26, weeks_after: int = 12, per_week: int = 80, seed: int = 7
) -> list[Response]:
    """Weekly responses in north (treated) and south (control) with known NPS truths."""
    rng = np.random.default_rng(seed)
    source = SourceFactory()
    rows = []
    implemented_week = IMPLEMENTED - dt.timedelta(days=IMPLEMENTED.weekday())
    for offset in range(-weeks_before, weeks_after + 1):
        week = implemented_week + dt.timedelta(weeks=offset)
        after = offset >= 1
        for region, promoters, detractors in (("north", 0.35, 0.25), ("south", 0.30, 0.30)):
            shift = 0.04 if after else 0.0
            treated_shift = 0.10 if (after and region == "north") else 0.0
            scores = _nps_draws(
                rng, per_week, promoters + shift + treated_shift, detractors - shift - treated_shift
            )
            for i, nps in enumerate(scores):
                submitted = dt.datetime.combine(week, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(
                    minutes=97 * i
                )
                rows.append(
                    Response(
                        source=source,
                        external_id=f"{region}-{week}-{i}",
                        submitted_at=submitted,
                        nps=nps,
                        csat=int(rng.integers(3, 6)),
                        attributes={"region": region},
                        content_hash=f"{region}-{week}-{i}",
                    )
                )
    Response.objects.bulk_create(rows, batch_size=2000)
    response_days_changed(days={response_day(row.submitted_at) for row in rows})
    return rows


def _plant_revenue(*, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    revenue = Kpi.objects.get(slug="revenue")
    implemented_week = IMPLEMENTED - dt.timedelta(days=IMPLEMENTED.weekday())
    rows = []
    for offset in range(-26, 13):
        week = implemented_week + dt.timedelta(weeks=offset)
        common = 300.0 * np.sin(offset / 4.0)
        for region, level in (("north", 50_000.0), ("south", 42_000.0)):
            value = level + common + rng.normal(0, 400.0)
            if region == "north" and offset >= 1:
                value += REVENUE_EFFECT
            rows.append(
                KpiObservation(
                    kpi=revenue,
                    granularity="week",
                    period_start=week,
                    region=region,
                    scope_key=f"region={region}",
                    value=Decimal(str(round(value, 2))),
                )
            )
    KpiObservation.objects.bulk_create(rows)


def _action(**kwargs: object) -> Action:
    defaults: dict[str, object] = {
        "status": ActionStatus.IMPLEMENTED,
        "implemented_at": IMPLEMENTED,
        "scope_attributes": {"region": ["north"]},
        "control_attributes": {"region": ["south"]},
        "target_kpis": [{"kpi": "revenue", "expected_change": 800, "unit": "EUR"}],
        "cost_estimate": Decimal("26000"),
        "currency": "EUR",
    }
    defaults.update(kwargs)
    return ActionFactory(**defaults)


def _current(action: Action, metric: str, method: str) -> ImpactEstimate:
    return ImpactEstimate.objects.get(action=action, metric=metric, method=method, is_current=True)


def test_planted_nps_and_revenue_effects_are_recovered_by_difference_in_differences() -> None:
    """North got +20 NPS and +1,000 EUR a week; south only the season; DiD finds both."""
    responses = _plant_responses()
    _plant_revenue()
    action = _action(
        target_kpis=[
            {"kpi": "nps", "expected_change": 15, "unit": "points"},  # a score, not a KPI
            {"kpi": "revenue", "expected_change": 800, "unit": "EUR"},
        ]
    )

    action_impact_estimate(action=action, today=dt.date(2026, 6, 15))

    nps = _current(action, "nps", "did")
    assert nps.status == "ok" and nps.is_primary
    assert nps.ci_low <= NPS_EFFECT <= nps.ci_high
    assert nps.ci_low > 0 and nps.p_value < 0.05
    assert nps.n_pre == 26 * 80 and nps.n_post == 12 * 80
    assert (nps.periods_pre, nps.periods_post) == (26, 12)
    assert nps.post_start == FIRST_POST_WEEK
    assert nps.parallel_trend_p_value is not None and nps.parallel_trend_p_value > 0.01
    plain = _current(action, "nps", "before_after")
    # The plain comparison is the raw change of north's NPS, season included.
    implemented_week = IMPLEMENTED - dt.timedelta(days=IMPLEMENTED.weekday())

    def nps_of(rows: list[Response]) -> float:
        return 100.0 * np.mean([(r.nps >= 9) - (r.nps <= 6) for r in rows])

    north = [r for r in responses if r.attributes["region"] == "north"]
    before = [r for r in north if r.submitted_at.date() < implemented_week]
    after = [r for r in north if r.submitted_at.date() >= FIRST_POST_WEEK]
    assert plain.effect == pytest.approx(nps_of(after) - nps_of(before), abs=1e-9)
    assert (plain.n_pre, plain.n_post) == (len(before), len(after))
    assert plain.ci_low <= plain.effect <= plain.ci_high

    ces = _current(action, "ces", "did")  # nobody was asked the effort question
    assert ces.status == "insufficient_data"
    assert "no data in the action's scope" in ces.message

    revenue = _current(action, "revenue", "did")
    assert revenue.ci_low <= REVENUE_EFFECT <= revenue.ci_high
    assert revenue.currency == "EUR"
    assert revenue.annual_value == pytest.approx(revenue.effect * 52)
    assert revenue.roi == pytest.approx(revenue.effect * 52 / 26_000)
    assert revenue.roi_ci_low <= revenue.roi <= revenue.roi_ci_high

    action.refresh_from_db()
    assert action.status == ActionStatus.MEASURED


def test_re_estimating_keeps_the_history() -> None:
    """A second estimation supersedes the first; the old rows stay, linked to the new."""
    _plant_responses(weeks_after=12)
    action = _action(target_kpis=[])
    action_impact_estimate(action=action, today=dt.date(2026, 5, 25))
    first = _current(action, "nps", "did")
    assert first.message.startswith("Preliminary")
    action.refresh_from_db()
    assert action.status == ActionStatus.IMPLEMENTED  # the after-window is not over

    action_impact_estimate(action=action, today=dt.date(2026, 6, 15))

    first.refresh_from_db()
    second = _current(action, "nps", "did")
    assert first.is_current is False and first.superseded_by == second
    assert second.periods_post == 12 and first.periods_post < 12
    assert ImpactEstimate.objects.filter(action=action, metric="nps", method="did").count() == 2


def test_too_early_says_what_is_missing_and_does_not_measure() -> None:
    """Three weeks after implementation the answer is 'needs 8 weeks after, has 3'."""
    _plant_responses(weeks_after=3)
    action = _action(target_kpis=[{"kpi": "churn-rate", "expected_change": -1, "unit": "pp"}])

    action_impact_estimate(action=action, today=FIRST_POST_WEEK + dt.timedelta(weeks=3))

    nps = _current(action, "nps", "did")
    assert nps.status == "insufficient_data" and nps.effect is None
    assert "needs 8 weeks" in nps.message and "has 3" in nps.message
    churn = _current(action, "churn-rate", "did")
    assert churn.status == "insufficient_data"
    assert "No Churn rate observations" in churn.message
    assert _current(action, "nps", "before_after").status == "ok"
    action.refresh_from_db()
    assert action.status == ActionStatus.IMPLEMENTED


def test_without_a_control_scope_the_interrupted_time_series_is_used() -> None:
    """A touchpoint-scoped action without control is estimated by segmented regression."""
    touchpoint = TouchpointFactory()
    rng = np.random.default_rng(5)
    source = SourceFactory()
    implemented_week = IMPLEMENTED - dt.timedelta(days=IMPLEMENTED.weekday())
    rows = []
    for offset in range(-26, 13):
        week = implemented_week + dt.timedelta(weeks=offset)
        shift = 0.12 if offset >= 1 else 0.0
        for i, nps in enumerate(_nps_draws(rng, 60, 0.30 + shift, 0.30 - shift)):
            rows.append(
                Response(
                    source=source,
                    external_id=f"tp-{week}-{i}",
                    submitted_at=dt.datetime.combine(week, dt.time(9), tzinfo=dt.UTC)
                    + dt.timedelta(minutes=60 * i),
                    nps=nps,
                    touchpoint=touchpoint,
                    content_hash=f"tp-{week}-{i}",
                )
            )
    Response.objects.bulk_create(rows)
    response_days_changed(days={response_day(row.submitted_at) for row in rows})
    action = _action(scope_attributes={}, control_attributes={}, target_kpis=[])
    action.scope_touchpoints.add(touchpoint)

    action_impact_estimate(action=action, today=dt.date(2026, 6, 15))

    nps = _current(action, "nps", "its")
    assert nps.status == "ok"
    assert nps.ci_low <= 24.0 <= nps.ci_high
    assert not ImpactEstimate.objects.filter(action=action, method="did").exists()
    assert "level_change" in nps.details["statistics"]


def test_the_daily_job_records_a_run_per_implemented_action() -> None:
    """Each implemented action gets an impact run; proposed ones are left alone."""
    _plant_responses(weeks_after=12, per_week=20)
    measured_later = _action(target_kpis=[])
    _action(status=ActionStatus.PROPOSED, implemented_at=None)

    run_ids = impact_estimate_due(today=dt.date(2026, 6, 15))

    assert len(run_ids) == 1
    run = AnalysisRun.objects.get(pk=run_ids[0])
    assert run.kind == "impact" and run.status == "succeeded", run.error
    assert run.result["action_id"] == measured_later.pk
    assert ImpactEstimate.objects.filter(action=measured_later, run=run).count() == 6


def test_an_action_that_is_not_implemented_is_refused() -> None:
    """Estimating a proposed action is a clear error, not an empty result."""
    from cxhub.errors import InvalidInput

    action = _action(status=ActionStatus.PROPOSED, implemented_at=None)
    with pytest.raises(InvalidInput, match="once it is implemented"):
        action_impact_estimate(action=action)


def test_nps_is_valued_through_the_latest_value_of_experience_run() -> None:
    """Annual value = NPS effect × 1% of the scope's customers × revenue kept per detractor→passive move."""
    from tests.feedback.factories import CustomerFactory

    _plant_responses(per_week=40)
    customers = [CustomerFactory() for _ in range(25)]
    post_north = Response.objects.filter(
        attributes__region="north", submitted_at__date__gte=FIRST_POST_WEEK
    ).order_by("id")
    for index, response_id in enumerate(post_north.values_list("id", flat=True)[:100]):
        Response.objects.filter(pk=response_id).update(customer=customers[index % 25])
    AnalysisRun.objects.create(
        kind="value",
        status="succeeded",
        finished_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        result={"move_value": {"detractor_to_passive": {"status": "ok", "value": 120.0}}},
    )
    action = _action(target_kpis=[], cost_estimate=Decimal("100"))

    action_impact_estimate(action=action, today=dt.date(2026, 6, 15))

    nps = _current(action, "nps", "did")
    per_point = 0.01 * 25 * 120.0
    assert nps.annual_value == pytest.approx(nps.effect * per_point)
    assert nps.annual_value_ci_low == pytest.approx(nps.ci_low * per_point)
    assert nps.roi == pytest.approx(nps.effect * per_point / 100)
    assert nps.currency == "EUR"
    assert "value-of-experience run" in nps.details["money_basis"]
    assert _current(action, "csat", "did").annual_value is None


def test_a_monthly_kpi_without_control_uses_its_on_months() -> None:
    """Monthly churn falling by 1.5 pp after implementation is found by segmented regression."""
    rng = np.random.default_rng(2)
    churn = Kpi.objects.get(slug="churn-rate")
    rows = []
    for offset in range(-12, 7):
        month = dt.date(2026 + (2 + offset) // 12, (2 + offset) % 12 + 1, 1)
        value = 6.0 + 0.02 * offset - (1.5 if offset >= 1 else 0.0) + rng.normal(0, 0.15)
        rows.append(
            KpiObservation(
                kpi=churn,
                granularity="month",
                period_start=month,
                scope_key="",
                value=Decimal(str(round(value, 4))),
            )
        )
    KpiObservation.objects.bulk_create(rows)
    action = _action(
        scope_attributes={},
        control_attributes={},
        target_kpis=[{"kpi": "churn-rate", "expected_change": -1, "unit": "pp"}],
    )

    action_impact_estimate(action=action, today=dt.date(2026, 11, 2))

    estimate = _current(action, "churn-rate", "its")
    assert estimate.status == "ok", estimate.message
    assert estimate.granularity == "month"
    assert estimate.post_start == dt.date(2026, 4, 1)
    assert estimate.ci_low <= -1.5 <= estimate.ci_high
    assert estimate.improvement is not None and estimate.improvement > 0
    assert estimate.annual_value is None  # a percentage has no money value of its own


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_simultaneous_estimations_of_one_action_leave_one_current_row_per_metric() -> None:
    """The daily job and an on-demand run racing on one action both succeed, in turn."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    _plant_responses(per_week=20, weeks_after=12)
    action = _action(target_kpis=[])

    def estimate(_: int) -> int:
        try:
            return len(
                action_impact_estimate(
                    action=Action.objects.get(pk=action.pk), today=dt.date(2026, 6, 15)
                )
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(estimate, range(3))) == [6, 6, 6]

    assert ImpactEstimate.objects.filter(action=action).count() == 18
    assert ImpactEstimate.objects.filter(action=action, is_current=True).count() == 6
    assert (
        ImpactEstimate.objects.filter(
            action=action, is_current=False, superseded_by__isnull=True
        ).count()
        == 0
    )
