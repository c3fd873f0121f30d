"""Pages: content, forms, escaping, and query counts that do not grow with rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from actions import services
from actions.models import Action, ActionStatus, Alert, Notification
from tests.actions.conftest import Org
from tests.actions.factories import ActionFactory, ActionUpdateFactory, AlertFactory
from tests.feedback.factories import AttributeFactory, CustomerFactory, ResponseFactory


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_my_actions_offers_accept_decline_and_update(org: Org) -> None:
    """The owner sees the proposed action with accept/decline and active ones with an update form."""
    ActionFactory(
        title="Active one", department=org.support, owner=org.owner, status=ActionStatus.IN_PROGRESS
    )
    page = _client(org.owner).get(reverse("actions:mine")).content.decode()
    assert "Shorter queues" in page and "Active one" in page
    assert reverse("actions:transition", args=[org.own_action.pk, "accept"]) in page
    assert "Post update" in page


@pytest.mark.django_db
def test_accept_then_post_progress_from_my_actions(org: Org) -> None:
    """Two clicks: accept, then post an update; both return to My actions."""
    client = _client(org.owner)
    mine = reverse("actions:mine")
    response = client.post(
        reverse("actions:transition", args=[org.own_action.pk, "accept"]), {"next": mine}
    )
    assert response.status_code == 302 and response["Location"] == mine
    response = client.post(
        reverse("actions:update", args=[org.own_action.pk]),
        {"next": mine, "progress": 25, "text": "Rota drafted"},
    )
    assert response.status_code == 302
    org.own_action.refresh_from_db()
    assert (org.own_action.status, org.own_action.progress) == (ActionStatus.IN_PROGRESS, 25)


@pytest.mark.django_db
def test_decline_without_reason_shows_a_message_and_changes_nothing(org: Org) -> None:
    """A missing reason is reported on the page; the action stays proposed."""
    client = _client(org.owner)
    response = client.post(
        reverse("actions:transition", args=[org.own_action.pk, "decline"]),
        {"reason": ""},
        follow=True,
    )
    assert "This field is required" in response.content.decode()
    org.own_action.refresh_from_db()
    assert org.own_action.status == ActionStatus.PROPOSED


@pytest.mark.django_db
def test_external_next_urls_are_ignored(org: Org) -> None:
    """``next`` pointing elsewhere falls back to the action page (no open redirect)."""
    response = _client(org.owner).post(
        reverse("actions:transition", args=[org.own_action.pk, "accept"]),
        {"next": "//evil.example.com/"},
    )
    assert response["Location"] == reverse("actions:detail", args=[org.own_action.pk])


@pytest.mark.django_db
def test_user_text_is_escaped_everywhere(org: Org) -> None:
    """Titles, updates, verbatims and reasons with markup are shown as text."""
    evil = '<script>alert("x")</script>'
    action = ActionFactory(
        title=evil,
        description=evil,
        department=org.support,
        owner=org.owner,
        created_by=org.cx,
        status=ActionStatus.IN_PROGRESS,
    )
    ActionUpdateFactory(action=action, text=evil)
    response = ResponseFactory(
        touchpoint=org.desk, nps=0, comment=evil, submitted_at=timezone.now()
    )
    AlertFactory(response=response)
    Notification.objects.create(recipient=org.owner, kind="assigned", title=evil, body=evil)
    client = _client(org.owner)
    for url in (
        reverse("actions:detail", args=[action.pk]),
        reverse("actions:mine"),
        reverse("actions:board"),
        reverse("actions:alerts"),
        reverse("actions:notifications"),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url
    assert (
        "&lt;script&gt;" in client.get(reverse("actions:detail", args=[action.pk])).content.decode()
    )
    create = _client(org.cx).get(reverse("actions:create") + f"?from=response&id={response.pk}")
    assert "<script>alert" not in create.content.decode()


@pytest.mark.django_db
def test_create_form_is_prefilled_from_a_driver_link(org: Org) -> None:
    """?from=driver&slug=…&share=… shows the evidence and keeps it in hidden fields."""
    AttributeFactory(slug="wait_time", label="Wait time", scale_max=5)
    page = (
        _client(org.cx)
        .get(reverse("actions:create") + "?from=driver&slug=wait_time&share=0.24&performance=2.1")
        .content.decode()
    )
    assert "wait time: 24% of explained NPS variance, performance 2.1/5" in page
    assert 'value="Improve wait time"' in page
    assert 'name="insight_kind" value="driver"' in page


@pytest.mark.django_db
def test_create_form_from_a_touchpoint_picks_its_department(org: Org) -> None:
    """?from=touchpoint preselects the owning department and the touchpoint in scope."""
    page = (
        _client(org.cx)
        .get(reverse("actions:create") + "?from=touchpoint&slug=help-desk")
        .content.decode()
    )
    assert '<option value="support" selected>' in page
    assert '<option value="help-desk" selected>' in page


@pytest.mark.django_db
def test_create_form_with_a_bad_link_starts_from_scratch_with_a_message(org: Org) -> None:
    """An unknown touchpoint in the link is explained, not a crash."""
    response = _client(org.cx).get(reverse("actions:create") + "?from=touchpoint&slug=nowhere")
    assert response.status_code == 200
    assert "Could not use that insight" in response.content.decode()


@pytest.mark.django_db
def test_topic_link_keeps_label_and_figures(org: Org) -> None:
    """A topic insight from the analytics pages: label, mentions and sentiment formatted."""
    page = (
        _client(org.cx)
        .get(
            reverse("actions:create")
            + "?from=topic&slug=wait-time&label=Wait%20time&mentions=1240&sentiment=-0.6"
        )
        .content.decode()
    )
    assert "wait time: 1,240 mentions, sentiment −0.6" in page


@pytest.mark.django_db
def test_create_form_post_creates_an_action_and_reports_errors(org: Org) -> None:
    """A valid form creates the action; bad KPIs or a past date come back with messages (400)."""
    client = _client(org.cx)
    good = {
        "title": "Answer in 2 minutes",
        "department": "support",
        "owner": org.owner.pk,
        "currency": "EUR",
        "due_date": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
        "target_kpis": "churn-rate, -0.5, pp",
        "scope_attributes": "region=north,south; plan=premium",
        "scope_touchpoints": ["help-desk"],
        "insight_kind": "touchpoint",
        "evidence_reference": "help-desk",
    }
    response = client.post(reverse("actions:create"), good)
    assert response.status_code == 302
    action = Action.objects.get(title="Answer in 2 minutes")
    assert action.scope_attributes == {"region": ["north", "south"], "plan": ["premium"]}
    assert action.target_kpis == [{"kpi": "churn-rate", "expected_change": -0.5, "unit": "pp"}]
    assert action.evidence["kind"] == "touchpoint"
    bad = {
        **good,
        "target_kpis": "churn-rate, lots",
        "due_date": "2001-01-01",
        "scope_attributes": "north",
    }
    response = client.post(reverse("actions:create"), bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a number" in html and "is not of the form" in html
    bad_date = {**good, "due_date": "2001-01-01"}
    assert (
        "cannot be in the past" in client.post(reverse("actions:create"), bad_date).content.decode()
    )


@pytest.mark.django_db
def test_alert_page_turns_an_alert_into_an_action(org: Org) -> None:
    """'Turn into action' prefills from the verbatim; submitting closes the alert."""
    response = ResponseFactory(
        touchpoint=org.desk, nps=1, comment="Lost my parcel", submitted_at=timezone.now()
    )
    services.alerts_raise_for_responses(response_sentiments={response.pk: None})
    alert = Alert.objects.get()
    client = _client(org.cx)
    page = client.get(reverse("actions:alerts")).content.decode()
    link = f"?from=response&amp;id={response.pk}&amp;alert={alert.pk}"
    assert link in page
    form = client.get(reverse("actions:create") + link.replace("&amp;", "&")).content.decode()
    assert "Lost my parcel" in form and f'name="alert" value="{alert.pk}"' in form
    client.post(
        reverse("actions:create"),
        {
            "title": "Find parcels",
            "department": "support",
            "owner": org.owner.pk,
            "currency": "EUR",
            "insight_kind": "response",
            "evidence_reference": str(response.pk),
            "alert": alert.pk,
        },
    )
    alert.refresh_from_db()
    assert alert.status == "actioned" and alert.action.title == "Find parcels"


@pytest.mark.django_db
def test_alert_page_marks_handled(org: Org) -> None:
    """A line manager of the department closes the alert with the call and a note."""
    alert = AlertFactory(response=ResponseFactory(touchpoint=org.desk, nps=2))
    client = _client(org.owner)
    client.post(
        reverse("actions:alert-handle", args=[alert.pk]),
        {
            "note": "Called back",
            "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "channel": "phone",
            "outcome": "resolved",
        },
    )
    alert.refresh_from_db()
    assert (alert.status, alert.handled_by, alert.handled_note) == (
        "handled",
        org.owner,
        "Called back",
    )


@pytest.mark.django_db
def test_preferences_page_saves_choices(org: Org) -> None:
    """Unticking a kind saves it off."""
    client = _client(org.owner)
    client.post(reverse("actions:preferences"), {"assigned": "on", "email": "on"})
    from actions.models import NotificationPreference

    preference = NotificationPreference.objects.get(user=org.owner)
    assert preference.assigned and preference.email and not preference.digest


@pytest.mark.django_db
def test_board_filters_and_invalid_filters(org: Org) -> None:
    """The board filters by department; an invalid status is a 400 with the form error."""
    client = _client(org.cx)
    html = client.get(reverse("actions:board") + "?department=billing").content.decode()
    assert "Clearer bills" in html and "Shorter queues" not in html
    assert client.get(reverse("actions:board") + "?status=zzz").status_code == 400


# --- Query counts ---------------------------------------------------------------------------


def _grow(org: Org, n: int) -> None:
    for i in range(n):
        action = ActionFactory(
            department=org.support,
            owner=org.owner,
            created_by=org.cx,
            status=ActionStatus.IN_PROGRESS if i % 2 else ActionStatus.PROPOSED,
        )
        ActionUpdateFactory(action=action)
        response = ResponseFactory(touchpoint=org.desk, nps=1, customer=CustomerFactory())
        AlertFactory(response=response)
        Notification.objects.create(
            recipient=org.owner, kind="assigned", title=f"n{i}", action=action
        )


def _count(django_assert_max_num_queries: Any, fn: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target",
    [
        "api:/api/v1/actions/",
        "api:/api/v1/alerts/",
        "api:/api/v1/notifications/",
        "page:actions:board",
        "page:actions:mine",
        "page:actions:alerts",
        "page:actions:notifications",
        "page:detail",
        "api:detail-updates",
    ],
)
def test_query_counts_do_not_grow_with_rows(
    org: Org, api: Any, django_assert_max_num_queries: Any, target: str
) -> None:
    """The same number of queries for 2 rows as for 12, and under a fixed ceiling."""
    kind, _, name = target.partition(":")
    user = (
        org.owner
        if name in {"actions:mine", "/api/v1/notifications/", "actions:notifications"}
        else org.cx
    )

    page_client, api_client = _client(user), api(user)

    def hit() -> None:
        user.__dict__.pop("_cxhub_roles", None)  # the API client reuses one user object
        if name == "detail":
            response = page_client.get(reverse("actions:detail", args=[org.own_action.pk]))
        elif name == "detail-updates":
            response = api_client.get(f"/api/v1/actions/{org.own_action.pk}/updates/")
        elif kind == "api":
            response = api_client.get(name)
        else:
            response = page_client.get(reverse(name))
        assert response.status_code == 200

    def grow_detail(n: int) -> None:
        for i in range(n):
            ActionUpdateFactory(action=org.own_action, text=f"u{i}")
            services.action_edit(action=org.own_action, by=org.cx, changes={"description": f"d{i}"})

    grower = grow_detail if name.startswith("detail") else (lambda n: _grow(org, n))
    grower(2)
    hit()  # warm: the layout's lag banner reads the processing backlog once per 30 s
    small = _count(django_assert_max_num_queries, hit)
    grower(10)
    large = _count(django_assert_max_num_queries, hit)
    assert large == small, (small, large)
    with django_assert_max_num_queries(15):
        hit()


@pytest.mark.django_db
def test_admin_lists_and_shows_actions_with_history(org: Org, admin_client: Client) -> None:
    """The admin change list, change page and history page of an action answer 200."""
    assert admin_client.get("/admin/actions/action/").status_code == 200
    assert admin_client.get(f"/admin/actions/action/{org.own_action.pk}/change/").status_code == 200
    assert (
        admin_client.get(f"/admin/actions/action/{org.own_action.pk}/history/").status_code == 200
    )
    assert admin_client.get("/admin/actions/alert/").status_code == 200
    assert admin_client.get("/admin/actions/notification/").status_code == 200


@pytest.mark.django_db
def test_cx_manager_edits_the_plan_and_history_shows_it(org: Org) -> None:
    """The edit page is prefilled, saves changes, and the owner may not open it."""
    org.own_action.target_kpis = [{"kpi": "churn-rate", "expected_change": -0.5, "unit": "pp"}]
    org.own_action.scope_attributes = {"region": ["north"]}
    org.own_action.save()
    client = _client(org.cx)
    url = reverse("actions:edit", args=[org.own_action.pk])
    form = client.get(url).content.decode()
    assert "churn-rate, -0.5, pp" in form and 'value="region=north"' in form
    response = client.post(
        url,
        {
            "title": "Shorter queues at lunch",
            "department": "support",
            "currency": "EUR",
            "due_date": "2030-05-01",
            "target_kpis": "churn-rate, -0.8, pp",
            "scope_attributes": "region=north,east",
        },
    )
    assert response.status_code == 302
    org.own_action.refresh_from_db()
    assert org.own_action.title == "Shorter queues at lunch"
    assert org.own_action.scope_attributes == {"region": ["north", "east"]}
    detail = client.get(reverse("actions:detail", args=[org.own_action.pk])).content.decode()
    assert "title: Shorter queues → Shorter queues at lunch" in detail
    assert (
        client.post(url, {"title": "", "department": "support", "currency": "EUR"}).status_code
        == 400
    )
    assert _client(org.owner).get(url).status_code == 403
    assert (
        _client(org.outsider).get(url).status_code == 403
    )  # only CX managers edit plans: refused before any look-up


def test_the_edit_form_keeps_the_due_date_through_a_browser(org: Org) -> None:
    """The date picker gets the date in ISO form (en-GB would render 01/05/2030, which an
    ``<input type=date>`` shows as empty): submitting the form unchanged keeps the date."""
    org.own_action.due_date = dt.date(2030, 5, 1)
    org.own_action.save()
    client = _client(org.cx)
    url = reverse("actions:edit", args=[org.own_action.pk])
    form = client.get(url).content.decode()
    assert 'type="date" name="due_date" value="2030-05-01"' in form
