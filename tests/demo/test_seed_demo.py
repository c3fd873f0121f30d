"""``seed_demo`` and ``demo_logins``: what lands in the database and how re-runs behave."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from actions.models import Action
from analytics.models import KpiObservation
from demo import generator
from demo.services import demo_seed
from feedback.models import Attribute, Customer, Department, Response, Touchpoint

pytestmark = pytest.mark.django_db

END = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _first_responses(count: int = 25) -> list[tuple[object, ...]]:
    return list(
        Response.objects.order_by("external_id").values_list(
            "external_id",
            "source__name",
            "touchpoint__slug",
            "customer__external_id",
            "channel",
            "nps",
            "csat",
            "ces",
            "ratings",
            "comment",
            "submitted_at",
        )[:count]
    )


def test_seed_writes_the_generated_organisation() -> None:
    """Counts and the first responses in the database equal the generator's output."""
    summary = demo_seed(seed=5, responses=3_000, analyse=False, end=END)
    data = generator.generate(seed=5, responses=3_000, end=END)

    assert summary.responses == Response.objects.count() == 3_000
    assert Customer.objects.count() == len(data.customers) == 720
    assert Department.objects.count() == 6
    assert Touchpoint.objects.count() == len(generator.TOUCHPOINTS)
    assert Attribute.objects.count() == 10
    stored = _first_responses(5)
    expected = data.responses.head(5)
    assert [row[0] for row in stored] == list(expected["external_id"])
    assert [row[5] for row in stored] == list(expected["nps"])
    assert [row[8] for row in stored] == list(expected["ratings"])
    assert [row[9] for row in stored] == list(expected["comment"])
    assert [row[10] for row in stored] == [t.to_pydatetime() for t in expected["submitted_at"]]
    assert Response.objects.filter(processed_at__isnull=True).count() == 3_000
    assert Response.objects.exclude(content_hash="").count() == 3_000


def test_customers_carry_attributes_and_outcomes() -> None:
    """Customers have segment, region, plan, revenue, cost to serve and some churn dates."""
    demo_seed(seed=5, responses=3_000, analyse=False, end=END)

    assert set(Customer.objects.values_list("region", flat=True)) == set(generator.REGIONS)
    assert Customer.objects.filter(annual_revenue__isnull=True).count() == 0
    assert Customer.objects.filter(churned_at__isnull=False).count() > 15
    assert Response.objects.filter(customer__region="north").count() > 300


def test_same_seed_after_reset_gives_the_same_responses() -> None:
    """Seeding, resetting and seeding again with the same seed stores the same responses."""
    _seed("--seed", "9", "--responses", "3000", "--no-analysis")
    first = _first_responses()

    output = _seed("--seed", "9", "--responses", "3000", "--no-analysis", "--reset")

    assert "Reset" in output
    assert Response.objects.count() == 3_000
    assert _first_responses() == first


def test_if_empty_is_a_no_op_the_second_time() -> None:
    """`--if-empty` on a seeded database leaves it exactly as it was and says so."""
    _seed("--responses", "2000", "--no-analysis", "--if-empty")
    before = (Response.objects.count(), Customer.objects.count(), Action.objects.count())
    first = _first_responses(5)

    output = _seed("--responses", "2000", "--no-analysis", "--if-empty", "--seed", "99")

    assert "nothing to do" in output
    assert (Response.objects.count(), Customer.objects.count(), Action.objects.count()) == before
    assert _first_responses(5) == first


def test_seeding_a_non_empty_database_needs_reset() -> None:
    """Without --reset or --if-empty a second seed is refused with a readable error."""
    _seed("--responses", "500", "--no-analysis")

    with pytest.raises(
        CommandError, match=r"already holds 500 responses and 200 customers.*--reset"
    ):
        _seed("--responses", "500", "--no-analysis")
    assert Response.objects.count() == 500


def test_an_empty_demo_still_counts_as_seeded() -> None:
    """`--responses 0` writes customers only; a second `--if-empty` run leaves them alone."""
    _seed("--responses", "0", "--no-analysis")
    customers = Customer.objects.count()

    output = _seed("--responses", "0", "--no-analysis", "--if-empty")

    assert "nothing to do" in output
    assert Response.objects.count() == 0
    assert Customer.objects.count() == customers == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--responses", "-5"], "must be 0 or more"),
        (["--responses", "many"], "must be a whole number"),
        (["--seed", "-1"], "must be from 0"),
        (["--if-empty", "--reset"], "contradict"),
    ],
)
def test_bad_arguments_are_readable_errors(args: list[str], message: str) -> None:
    """Bad arguments stop the command with a CommandError naming the problem."""
    with pytest.raises(CommandError, match=message):
        _seed(*args)
    assert Response.objects.count() == 0


def test_demo_users_have_their_roles_and_departments() -> None:
    """admin is a superuser; cx, line managers and viewer hold their groups and departments."""
    demo_seed(seed=1, responses=300, analyse=False, end=END)
    users = {user.username: user for user in get_user_model().objects.all()}

    assert users["admin"].is_superuser and users["admin"].check_password("demo1234")
    assert list(users["cx"].groups.values_list("name", flat=True)) == ["cx_manager"]
    assert list(users["viewer"].groups.values_list("name", flat=True)) == ["viewer"]
    for name, department in [
        ("lm.service", "customer-service"),
        ("lm.billing", "billing-payments"),
    ]:
        assert list(users[name].groups.values_list("name", flat=True)) == ["line_manager"]
        assert users[name].departments.filter(slug=department).exists()
        assert users[name].check_password("demo1234")


def test_demo_logins_prints_the_table() -> None:
    """`demo_logins` lists every login with password, role and the local URL."""
    demo_seed(seed=1, responses=300, analyse=False, end=END)
    out = StringIO()

    call_command("demo_logins", stdout=out)

    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text
    for spec in generator.USERS:
        assert spec["username"] in text
    assert "CX manager" in text and "line manager" in text and "viewer" in text
    assert "Customer Service" in text and "demo1234" in text


def test_demo_logins_before_seeding_says_so() -> None:
    """Before seeding the table says the users do not exist yet instead of failing."""
    out = StringIO()

    call_command("demo_logins", stdout=out)

    assert "not created yet" in out.getvalue()


def test_actions_cover_the_lifecycle_and_the_planted_one() -> None:
    """Actions exist in six states; the planted one is scoped north with south as control."""
    demo_seed(seed=2, responses=1_000, analyse=False, end=END)
    data = generator.generate(seed=2, responses=1_000, end=END)
    planted = Action.objects.get(title=generator.PLANTED_ACTION_TITLE)

    assert set(Action.objects.values_list("status", flat=True)) >= {
        "proposed",
        "accepted",
        "in_progress",
        "implemented",
        "measured",
        "declined",
    }
    assert planted.status == "implemented"
    assert planted.implemented_at == data.implemented_on
    assert planted.scope_attributes == {"region": ["north"]}
    assert planted.control_attributes == {"region": ["south"]}
    assert planted.cost_estimate is not None and planted.cost_estimate > 0
    assert {kpi["kpi"] for kpi in planted.target_kpis} == {"nps", "churn-rate"}
    assert set(planted.scope_touchpoints.values_list("slug", flat=True)) == set(
        generator.CONTACT_CENTRE_TOUCHPOINTS
    )
    assert planted.owner.username == "lm.service"


def test_weekly_kpis_are_stored_per_region_and_department() -> None:
    """Churn rate, revenue and cost to serve are stored weekly per region (and department)."""
    demo_seed(seed=2, responses=500, analyse=False, end=END)
    north = KpiObservation.objects.filter(
        kpi__slug="churn-rate", region="north", touchpoint__isnull=True
    )
    callers = KpiObservation.objects.filter(
        kpi__slug="churn-rate", region="north", touchpoint__slug="support-call"
    )

    assert north.count() == callers.count() == 78
    assert callers.first() is not None
    assert callers.first().scope_key == "touchpoint=support-call|region=north"  # type: ignore[union-attr]
    assert set(north.values_list("granularity", flat=True)) == {"week"}
    assert all(day.weekday() == 0 for day in north.values_list("period_start", flat=True))
    assert (
        KpiObservation.objects.filter(kpi__slug="cost-to-serve", department__slug="digital").count()
        == 78
    )
    assert (
        KpiObservation.objects.filter(kpi__slug="revenue", touchpoint__isnull=True).count()
        == 78 * 5
    )
    # The series planted effects act on: billing calls (one), deliveries and cancellation
    # calls (one per region).
    assert (
        KpiObservation.objects.filter(kpi__slug="cost-to-serve", touchpoint__slug="billing-call")
        .values("scope_key")
        .distinct()
        .count()
        == 1
    )
    assert (
        KpiObservation.objects.filter(kpi__slug="revenue", touchpoint__slug="cancellation-call")
        .values_list("region", flat=True)
        .distinct()
        .count()
        == 5
    )


def test_reset_removes_what_hangs_on_the_old_responses() -> None:
    """Reset deletes alerts and notifications tied to old responses before re-seeding."""
    from actions.models import Alert, AlertReason

    demo_seed(seed=3, responses=400, analyse=False, end=END)
    response = Response.objects.filter(nps__lte=6).first()
    assert response is not None
    Alert.objects.create(response=response, reason=AlertReason.values[0], nps=response.nps)

    summary = demo_seed(seed=4, responses=300, reset=True, analyse=False, end=END)

    assert summary.responses == Response.objects.count() == 300
    assert Alert.objects.count() == 0
    assert Action.objects.count() == len(generator.ACTIONS)
    assert Customer.objects.count() == 200
    assert KpiObservation.objects.filter(kpi__slug="revenue").count() == 78 * 10


def test_the_seeded_demo_is_served_from_refreshed_roll_ups() -> None:
    """After seeding no day is left dirty, and the overview's counts read from the roll-up
    equal the raw aggregate; a reseed after reset leaves no row of the old responses."""
    from analytics.models import ScoreDay
    from analytics.responses.counts import score_aggregates
    from analytics.responses.score_days import score_counts_get
    from feedback.models import ResponseDayChange

    demo_seed(seed=5, responses=2_000, analyse=False, end=END)
    assert not ResponseDayChange.objects.exists()
    assert ScoreDay.objects.exists()
    raw = Response.objects.order_by().aggregate(**score_aggregates())
    assert score_counts_get({})[0] == {key: int(value or 0) for key, value in raw.items()}

    demo_seed(seed=6, responses=500, reset=True, analyse=False, end=END - dt.timedelta(days=400))

    raw = Response.objects.order_by().aggregate(**score_aggregates())
    assert score_counts_get({})[0] == {key: int(value or 0) for key, value in raw.items()}
    assert sum(ScoreDay.objects.values_list("responses", flat=True)) == 500
