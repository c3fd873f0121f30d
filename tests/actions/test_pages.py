"""Pages: content, forms, escaping, and query counts that do not grow with rows."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from actions import selectors, services
from actions.models import Action, ActionStatus, Alert, Notification
from analytics.models import Kpi
from tests.actions.conftest import Org
from tests.actions.factories import ActionFactory, ActionUpdateFactory, AlertFactory
from tests.feedback.factories import CustomerFactory, ResponseFactory


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
    create = _client(org.cx).get(
        reverse("actions:create") + f"?from=response&id={response.pk}", follow=True
    )
    assert create.status_code == 200 and "<script>alert" not in create.content.decode()


@pytest.mark.django_db
def test_create_form_from_a_touchpoint_picks_its_department(org: Org) -> None:
    """Evidence built for a touchpoint preselects the owning department and the touchpoint."""
    client = _client(org.cx)
    response = client.post("/evidence/new/", {"kind": "touchpoint", "reference": "help-desk"})
    page = client.get(response["Location"]).content.decode()
    assert '<option value="support" selected>' in page
    assert '<option value="help-desk" selected>' in page


@pytest.mark.django_db
def test_an_old_link_to_an_unknown_touchpoint_is_a_404(org: Org) -> None:
    """An unknown touchpoint in an old ?from= link is a 404 from the builder, not a crash."""
    response = _client(org.cx).get(
        reverse("actions:create") + "?from=touchpoint&slug=nowhere", follow=True
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_create_form_post_creates_an_action_and_reports_errors(org: Org) -> None:
    """A valid form creates the action with KPIs chosen from the list (an empty unit takes
    the KPI's); bad KPIs or a past date come back with messages (400)."""
    Kpi.objects.get_or_create(slug="churn-rate", defaults={"name": "Churn rate", "unit": "percent"})
    client = _client(org.cx)
    good = {
        "title": "Answer in 2 minutes",
        "department": "support",
        "owner": org.owner.pk,
        "currency": "EUR",
        "due_date": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
        "kpi_0": "churn-rate",
        "kpi_change_0": "-0.5",
        "kpi_unit_0": "",
        "kpi_1": "nps",
        "kpi_change_1": "3",
        "kpi_unit_1": "points",
        "scope_attributes": "region=north,south; plan=premium",
        "scope_touchpoints": ["help-desk"],
    }
    response = client.post(reverse("actions:create"), good)
    assert response.status_code == 302
    action = Action.objects.get(title="Answer in 2 minutes")
    assert action.scope_attributes == {"region": ["north", "south"], "plan": ["premium"]}
    assert action.target_kpis == [
        {"kpi": "churn-rate", "expected_change": -0.5, "unit": "pp"},
        {"kpi": "nps", "expected_change": 3, "unit": "points"},
    ]
    assert action.evidence["kind"] == "scratch"
    bad = {
        **good,
        "kpi_change_0": "lots",
        "kpi_1": "made-up",
        "kpi_2": "",
        "kpi_change_2": "4",
        "due_date": "2001-01-01",
        "scope_attributes": "north",
    }
    response = client.post(reverse("actions:create"), bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a number" in html and "is not of the form" in html
    assert "“made-up” is not a KPI" in html and "Choose the KPI this change" in html
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
    assert f'name="reference" value="{alert.pk}"' in page and "Turn into action" in page
    built = client.post("/evidence/new/", {"kind": "alert", "reference": alert.pk})
    form = client.get(built["Location"]).content.decode()
    assert "Lost my parcel" in form
    client.post(
        reverse("actions:create"),
        {
            "title": "Find parcels",
            "department": "support",
            "owner": org.owner.pk,
            "currency": "EUR",
            "evidence": built["Location"].rsplit("=", 1)[1],
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
    assert '<option value="churn-rate" selected>' in form and 'value="region=north"' in form
    response = client.post(
        url,
        {
            "title": "Shorter queues at lunch",
            "department": "support",
            "currency": "EUR",
            "due_date": "2030-05-01",
            "kpi_0": "churn-rate",
            "kpi_change_0": "-0.8",
            "kpi_unit_0": "pp",
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


class _FormValues(HTMLParser):
    """What a browser would submit for the page's form with the given action (inputs,
    checked boxes, selected options, textareas)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = found.get("action") == self.action
        if not self.inside:
            return
        name = found.get("name", "")
        if tag == "input" and name and found.get("type") not in {"submit", "button"}:
            if found.get("type") in {"checkbox", "radio"} and "checked" not in found:
                return
            self.values.append(
                (name, found.get("value", "on" if found.get("type") == "checkbox" else ""))
            )
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self.values.append((self._select, found.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, html.unescape(self._text).removeprefix("\n")))
            self._textarea = None


@pytest.mark.django_db
def test_saving_the_edit_form_unchanged_changes_nothing(org: Org) -> None:
    """Submitting the edit form exactly as the page fills it (date, cost, KPIs, scope,
    control group, attribute filters) leaves every field as it was and writes no history
    row: no change is recorded where none was made."""
    Kpi.objects.get_or_create(slug="churn-rate", defaults={"name": "Churn rate", "unit": "percent"})
    action = org.own_action
    action.description = "Two more agents\nat lunch"
    action.due_date = dt.date(2030, 5, 1)
    action.cost_estimate = Decimal("1200.50")
    action.target_kpis = [
        {"kpi": "churn-rate", "expected_change": -0.5, "unit": "% per week"},
        {"kpi": "retired-kpi", "expected_change": 2, "unit": "count"},
    ]
    action.scope_attributes = {"region": ["north", "south"]}
    action.control_attributes = {"plan": ["basic"]}
    action.save()
    action.scope_touchpoints.set([org.desk])
    action.control_departments.set([org.billing])
    fields = ["title", "description", "department_id", "due_date", "cost_estimate", "currency",
              "target_kpis", "scope_attributes", "control_attributes", "cross_department"]  # fmt: skip
    before = {name: getattr(action, name) for name in fields}
    history_before = action.history.count()
    timeline_before = selectors.action_history(action=action)
    client = _client(org.cx)
    url = reverse("actions:edit", args=[action.pk])
    parser = _FormValues(url)
    parser.feed(client.get(url).content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.values:
        data.setdefault(name, []).append(value)
    assert data["due_date"] == ["2030-05-01"] and data["kpi_0"] == ["churn-rate"]

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    action.refresh_from_db()
    assert {name: getattr(action, name) for name in fields} == before
    assert list(action.scope_touchpoints.values_list("slug", flat=True)) == ["help-desk"]
    assert list(action.control_departments.values_list("slug", flat=True)) == ["billing"]
    assert action.history.count() == history_before
    assert selectors.action_history(action=action) == timeline_before
