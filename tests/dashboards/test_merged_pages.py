"""One page per job: the insights page, the impact list and the impact page of an action,
and the one tag correction. Old URLs answer 301 to the merged page with their query."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from analytics.models import AnalysisRun, ImpactEstimate, TagCorrection
from tests.dashboards.factories import plant_action, plant_responses, plant_topic, tag
from tests.feedback.factories import (
    AttributeFactory,
    DepartmentFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
    viewer,
)

pytestmark = pytest.mark.django_db

DRIVER_RESULT = {
    "method": "shapley",
    "method_label": "Shapley decomposition of R²",
    "r2": 0.41,
    "n": 320,
    "drivers": [
        {
            "slug": "wait_time",
            "label": "Wait time",
            "share": 0.55,
            "share_interval": [0.45, 0.65],
            "performance": 30.0,
            "quadrant": "fix_first",
            "rank": 1,
        },
        {
            "slug": "staff",
            "label": "Staff",
            "share": 0.45,
            "share_interval": [0.35, 0.55],
            "performance": 80.0,
            "quadrant": "strength",
            "rank": 2,
        },
    ],
    "priority": [
        {
            "slug": "wait_time",
            "label": "Wait time",
            "gain": 1.2,
            "gain_interval": [0.9, 1.5],
            "cumulative_gain": 1.2,
            "share": 0.55,
            "performance": 30.0,
        }
    ],
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _run(kind: str, result: dict[str, Any], **parameters: Any) -> AnalysisRun:
    return AnalysisRun.objects.create(
        kind=kind,
        status=AnalysisRun.Status.SUCCEEDED,
        parameters=parameters,
        finished_at=timezone.now(),
        result=result,
    )


def _roles() -> list[Any]:
    billing = DepartmentFactory(slug="billing", name="Billing")
    manager = line_manager()
    billing.members.add(manager)
    return [cx_manager(), manager, viewer()]


# --- redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/drivers/?department=billing&outcome=csat", "/insights/?department=billing&outcome=csat"),
        ("/drivers/", "/insights/"),
        ("/impact/rollup/?department=billing", "/impact/?department=billing"),
        ("/impact/7/estimates/?from=mail", "/impact/7/?from=mail"),
    ],
)
def test_old_urls_redirect_permanently_with_their_query(old: str, new: str) -> None:
    """Bookmarks of a merged page land on the page that replaced it, filters kept."""
    answer = _client(viewer()).get(old)
    assert answer.status_code == 301
    assert answer["Location"] == new


def test_the_old_explorer_tag_url_is_gone() -> None:
    """Only the app's own form posted to /verbatims/<pk>/tags/; it now posts to the one URL."""
    touchpoint = TouchpointFactory()
    [response] = plant_responses(touchpoint=touchpoint, nps_values=[3], comment="Slow")
    assert _client(cx_manager()).post(f"/verbatims/{response.pk}/tags/").status_code == 404


# --- the insights page ------------------------------------------------------------------------


def test_insights_page_renders_for_every_role_with_the_pieces_of_both_pages() -> None:
    """Scores, the Plotly quadrant, shares and priorities with intervals, value of
    experience, topic impact and recent runs are all on /insights/ for each role."""
    _run("drivers", DRIVER_RESULT, outcome="nps", filters={})
    _run("topic_impact", {"method": "NPS with vs without", "topics": []}, outcome="nps")
    for user in _roles():
        page = _client(user).get("/insights/")
        html = page.content.decode()
        assert page.status_code == 200
        assert 'id="scores-heading"' in html
        assert "chart-driver-quadrant" in html
        assert "45–65%" in html  # the share interval
        # the priority gain with its unit, digits from its interval (±0.3: one decimal)
        assert '+1.2 points <small class="muted">(95% interval +0.9 to +1.5)</small>' in html
        assert 'id="value-heading"' in html and "No value-of-experience analysis yet" in html
        assert 'id="topics-heading"' in html and "NPS with vs without" in html
        assert 'id="runs-heading"' in html


def test_insights_page_gives_cx_managers_create_action_and_run_controls_only() -> None:
    """Create action (per driver and priority) and Run analysis are for CX managers."""
    _run("drivers", DRIVER_RESULT, outcome="nps", filters={})
    manager_html = _client(cx_manager()).get("/insights/").content.decode()
    assert (
        manager_html.count(
            'name="kind" value="driver"><input type="hidden" name="reference" value="wait_time"'
        )
        == 2
    )
    assert "share=" not in manager_html
    assert "Fix first" in manager_html
    assert 'action="/insights/run/"' in manager_html
    viewer_html = _client(viewer()).get("/insights/").content.decode()
    assert "Create action" not in viewer_html and "/insights/run/" not in viewer_html


def test_insights_page_switches_outcome_and_department() -> None:
    """The outcome switch and department filter pick the matching driver run."""
    DepartmentFactory(slug="billing", name="Billing")
    _run("drivers", DRIVER_RESULT, outcome="nps", filters={})
    csat = {**DRIVER_RESULT, "drivers": [{**DRIVER_RESULT["drivers"][1], "label": "CSAT staff"}]}
    _run("drivers", csat, outcome="csat", filters={"department": ["billing"]})
    client = _client(cx_manager())
    assert "CSAT staff" not in client.get("/insights/?outcome=csat").content.decode()
    scoped = client.get("/insights/?outcome=csat&department=billing")
    assert scoped.context["drivers_run"].parameters["filters"] == {"department": ["billing"]}
    assert "CSAT staff" in scoped.content.decode()
    assert 'href="?department=billing&amp;outcome=nps"' in scoped.content.decode()
    fallback = client.get("/insights/?outcome=happiness")
    assert fallback.status_code == 200 and fallback.context["outcome"] == "nps"


def test_insights_page_refuses_a_department_the_user_may_not_see() -> None:
    """A viewer outside Billing gets 403 for Billing's insights, not its data."""
    DepartmentFactory(slug="billing", name="Billing")
    assert _client(viewer()).get("/insights/?department=billing").status_code == 403


def test_run_now_queues_a_driver_run_for_the_page_scope(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The driver run follows the page's department and outcome; the answer goes back to
    the same view of the page; a bad choice is refused with a message, nothing queued."""
    DepartmentFactory(slug="billing", name="Billing")
    AttributeFactory(slug="staff", label="Staff")
    client = _client(cx_manager())
    with django_capture_on_commit_callbacks(execute=False):
        answer = client.post(
            "/insights/run/", {"analysis": "drivers", "outcome": "ces", "department": "billing"}
        )
    assert answer.status_code == 302
    assert answer["Location"] == "/insights/?department=billing&outcome=ces"
    run = AnalysisRun.objects.get()
    assert run.parameters["outcome"] == "ces"
    assert run.parameters["filters"] == {"department": ["billing"]}
    refused = client.post("/insights/run/", {"analysis": "everything"}, follow=True)
    assert "Choose an analysis" in refused.content.decode()
    assert AnalysisRun.objects.count() == 1
    assert _client(viewer()).post("/insights/run/", {"analysis": "value"}).status_code == 403


# --- the impact pages -------------------------------------------------------------------------


def _measured_action(department: Any, owner: Any = None) -> Any:
    action = plant_action(
        department=department, owner=owner, status="implemented", title="Call back"
    )
    ImpactEstimate.objects.create(
        action=action,
        metric="nps",
        method="did",
        is_primary=True,
        status="ok",
        effect=4.0,
        ci_low=1.5,
        ci_high=6.5,
        p_value=0.01,
        higher_is_better=True,
        annual_value=9000.0,
        annual_value_std_error=1500.0,
        annual_value_ci_low=6000.0,
        annual_value_ci_high=12000.0,
        currency="EUR",
        pre_start=dt.date(2026, 1, 5),
        pre_end=dt.date(2026, 3, 1),
        post_start=dt.date(2026, 3, 9),
        post_end=dt.date(2026, 5, 3),
    )
    return action


def test_impact_list_shows_effects_verdicts_and_the_rollup_for_every_role() -> None:
    """Each action's effect by metric and method, its verdict and the annual total; a line
    manager sees their own department's, a viewer outside it sees none."""
    users = _roles()
    action = _measured_action(DepartmentFactory._meta.model.objects.get(slug="billing"))
    for user, sees in zip(users, [True, True, False], strict=True):
        page = _client(user).get("/impact/")
        html = page.content.decode()
        assert page.status_code == 200
        assert ("Call back" in html) is sees
        if sees:
            assert "NPS <small" in html and "Difference-in-differences" in html
            assert '+4 points <small class="muted">(95% interval +2 to +6)</small>' in html
            assert "Delivered" in html
            assert "9,000 EUR a year" in html
            assert f'href="/impact/{action.pk}/"' in html
        else:
            assert page.context["rollup"]["actions"] == 0


def test_impact_list_filters_by_department() -> None:
    """The department filter narrows both the rows and the roll-up."""
    billing = DepartmentFactory(slug="billing", name="Billing")
    DepartmentFactory(slug="stores", name="Stores")
    _measured_action(billing)
    client = _client(cx_manager())
    assert client.get("/impact/?department=billing").context["rollup"]["actions"] == 1
    stores = client.get("/impact/?department=stores")
    assert stores.context["rollup"]["actions"] == 0 and stores.context["rows"] == []
    unknown = client.get("/impact/?department=nowhere", follow=True)
    assert "Unknown department" in unknown.content.decode()


def test_action_impact_page_shows_estimates_re_estimate_and_the_action_link() -> None:
    """Per metric, the causal estimate with its interval; the owner and CX managers get
    "Re-estimate now"; everyone allowed gets the link to the action."""
    users = _roles()
    owner = users[1]
    action = _measured_action(DepartmentFactory._meta.model.objects.get(slug="billing"), owner)
    for user, can_estimate in ((users[0], True), (owner, True)):
        page = _client(user).get(f"/impact/{action.pk}/")
        html = page.content.decode()
        assert page.status_code == 200
        assert "Difference-in-differences" in html and "(95% interval +2 to +6)" in html
        assert f'href="/actions/{action.pk}/"' in html
        assert (f'action="/impact/{action.pk}/estimate/"' in html) is can_estimate
    assert _client(users[2]).get(f"/impact/{action.pk}/").status_code == 404


def test_re_estimate_is_refused_to_a_member_who_is_not_the_owner() -> None:
    """Seeing an action is not enough to queue its re-estimation."""
    billing = DepartmentFactory(slug="billing", name="Billing")
    action = _measured_action(billing)
    member = line_manager()
    billing.members.add(member)
    page = _client(member).get(f"/impact/{action.pk}/")
    assert page.status_code == 200 and "Re-estimate now" not in page.content.decode()
    assert _client(member).post(f"/impact/{action.pk}/estimate/").status_code == 403


# --- the one tag correction -------------------------------------------------------------------


def _tagged_response() -> Any:
    touchpoint = TouchpointFactory()
    [response] = plant_responses(touchpoint=touchpoint, nps_values=[2], comment="Long wait")
    tag(response, plant_topic(), -0.7)
    plant_topic("billing", "Billing")
    return response


def test_explorer_and_topic_page_post_to_the_one_correction_url() -> None:
    """The verbatim explorer and the topic page render the same form and target."""
    response = _tagged_response()
    client = _client(cx_manager())
    target = f'action="/topics/responses/{response.pk}/tags/"'
    explorer = client.get("/verbatims/").content.decode()
    topic_page = client.get("/topics/wait-time/").content.decode()
    assert target in explorer and f'hx-target="#tags-{response.pk}"' in explorer
    assert target in topic_page
    assert 'name="sentiment"' in explorer and 'name="sentiment"' in topic_page


def test_a_removal_with_a_sentiment_is_refused_with_a_message() -> None:
    """One rule: a sentiment belongs to an added topic; removing with one is a 400, and the
    topic stays (the explorer used to drop the sentiment silently)."""
    response = _tagged_response()
    answer = _client(cx_manager()).post(
        f"/topics/responses/{response.pk}/tags/",
        {"topic": "wait-time", "action": "remove", "sentiment": "-0.6"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 400
    assert "A removed topic has no sentiment." in answer.content.decode()
    assert response.topic_mentions.filter(topic__slug="wait-time").exists()
    assert not TagCorrection.objects.exists()


def test_adding_without_a_sentiment_keeps_the_detected_one() -> None:
    """ "Keep / detect" confirms the topic as the person's with the mention's sentiment."""
    response = _tagged_response()
    answer = _client(cx_manager()).post(
        f"/topics/responses/{response.pk}/tags/",
        {"topic": "wait-time", "action": "add", "sentiment": "", "next": "/verbatims/"},
    )
    assert answer.status_code == 302 and answer["Location"] == "/verbatims/"
    mention = response.topic_mentions.get(topic__slug="wait-time")
    assert mention.origin == "person" and mention.sentiment == pytest.approx(-0.7)
    assert TagCorrection.objects.get().sentiment is None


def test_an_unknown_topic_is_refused_with_a_message() -> None:
    response = _tagged_response()
    answer = _client(cx_manager()).post(
        f"/topics/responses/{response.pk}/tags/",
        {"topic": "nope", "action": "add"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 400
    assert "Choose a topic from the list." in answer.content.decode()
