"""The alert queue: severity order, deadlines, assignees, contact records, escalation, bulk."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions import selectors, services
from actions.models import (
    Alert,
    AlertContact,
    AlertReason,
    AlertStatus,
    Notification,
    alert_severity,
)
from actions.tasks import alerts_escalate_overdue_task
from cxhub.errors import Forbidden, InvalidInput, InvalidTransition
from tests.actions.conftest import Org
from tests.actions.factories import AlertContactFactory, AlertFactory
from tests.feedback.factories import (
    CustomerFactory,
    ResponseFactory,
    TouchpointFactory,
    cx_manager,
)


def _recent(org: Org, **kwargs: Any) -> Any:
    kwargs.setdefault("touchpoint", org.desk)
    kwargs.setdefault("submitted_at", timezone.now() - dt.timedelta(minutes=5))
    return ResponseFactory(**kwargs)


def _call(**changes: Any) -> services.AlertContactRecord:
    values: dict[str, Any] = {
        "contacted_at": timezone.now(),
        "channel": "phone",
        "outcome": "resolved",
        "note": "Apologised.",
    }
    values.update(changes)
    return services.AlertContactRecord(**values)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Severity and deadline ------------------------------------------------------------------


def test_severity_puts_detractors_with_bad_comments_first_then_lower_scores() -> None:
    """Band first (both > detractor > negative comment), then each NPS point lower is worse."""
    ranks = [
        alert_severity(reason=AlertReason.BOTH, nps=6),
        alert_severity(reason=AlertReason.DETRACTOR, nps=0),
        alert_severity(reason=AlertReason.DETRACTOR, nps=5),
        alert_severity(reason=AlertReason.NEGATIVE_SENTIMENT, nps=7),
        alert_severity(reason=AlertReason.NEGATIVE_SENTIMENT, nps=10),
    ]
    assert ranks == sorted(ranks, reverse=True)
    assert len(set(ranks)) == len(ranks)
    assert alert_severity(reason=AlertReason.NEGATIVE_SENTIMENT, nps=None) == 0


@pytest.mark.django_db
def test_raising_stores_severity_and_the_departments_deadline(org: Org) -> None:
    """The deadline is the department's response hours after raising; severity is stored."""
    org.support.alert_response_hours = 4
    org.support.save()
    response = _recent(org, nps=2)
    before = timezone.now()
    services.alerts_raise_for_responses(response_sentiments={response.pk: None})
    alert = Alert.objects.get()
    assert alert.severity == alert_severity(reason=AlertReason.DETRACTOR, nps=2)
    assert alert.deadline_at is not None
    assert (
        before + dt.timedelta(hours=4)
        <= alert.deadline_at
        <= timezone.now() + dt.timedelta(hours=4)
    )


@pytest.mark.django_db
def test_a_later_negative_sentiment_raises_the_stored_severity(org: Org) -> None:
    """Tagging that finds a strongly negative comment moves the detractor into the top band."""
    response = _recent(org, nps=5)
    services.alerts_raise_for_responses(response_sentiments={response.pk: None})
    services.alerts_raise_for_responses(response_sentiments={response.pk: -0.8})
    assert Alert.objects.get().severity == alert_severity(reason=AlertReason.BOTH, nps=5)


@pytest.mark.django_db
def test_the_queue_is_worst_first_then_nearest_deadline(org: Org) -> None:
    """Detractor+negative, then detractors by score, then passives; ties by deadline."""
    now = timezone.now()
    passive = AlertFactory(
        response=_recent(org, nps=7),
        reason=AlertReason.NEGATIVE_SENTIMENT,
        deadline_at=now - dt.timedelta(hours=30),
    )
    mild = AlertFactory(response=_recent(org, nps=6), deadline_at=now + dt.timedelta(hours=1))
    worst = AlertFactory(
        response=_recent(org, nps=6),
        reason=AlertReason.BOTH,
        deadline_at=now + dt.timedelta(hours=9),
    )
    low_late = AlertFactory(response=_recent(org, nps=1), deadline_at=now + dt.timedelta(hours=40))
    low_soon = AlertFactory(response=_recent(org, nps=1), deadline_at=now + dt.timedelta(hours=2))
    order = [a.pk for a in selectors.alert_list(user=org.cx, status=AlertStatus.OPEN)]
    assert order == [worst.pk, low_soon.pk, low_late.pk, mild.pk, passive.pk]


# --- Counts and filters ---------------------------------------------------------------------


@pytest.mark.django_db
def test_counts_state_total_and_each_state_of_the_queue(org: Org) -> None:
    """Open, unassigned, assigned, overdue, closed and actioned, under the other filters."""
    now = timezone.now()
    AlertFactory(response=_recent(org, nps=1))
    AlertFactory(response=_recent(org, nps=2), assignee=org.owner)
    AlertFactory(response=_recent(org, nps=3), deadline_at=now - dt.timedelta(hours=1))
    AlertFactory(response=_recent(org, nps=3), status=AlertStatus.HANDLED)
    AlertFactory(response=_recent(org, nps=3), status=AlertStatus.ACTIONED)
    counts = selectors.alert_counts(user=org.cx, filters=selectors.AlertFilters(), now=now)
    assert counts.as_dict() == {
        "total": 5,
        "open": 3,
        "unassigned": 2,
        "assigned": 1,
        "overdue": 1,
        "closed": 1,
        "actioned": 1,
    }
    mine = selectors.alert_counts(
        user=org.cx, filters=selectors.AlertFilters(assignee=org.owner.pk), now=now
    )
    assert (mine.total, mine.assigned) == (1, 1)


# --- Assignee -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assigning_notifies_the_assignee_in_the_app_and_taking_does_not(org: Org) -> None:
    """A CX manager gives the alert to a line manager, who is notified; taking it is silent."""
    alert = AlertFactory(response=_recent(org, nps=1))
    services.alert_assign(alert=alert, assignee=org.owner, by=org.cx)
    alert.refresh_from_db()
    assert alert.assignee == org.owner and alert.assigned_at is not None
    note = Notification.objects.get(kind="alert_assigned")
    assert note.recipient == org.owner and note.alert_id == alert.pk
    services.alert_assign(alert=alert, assignee=org.colleague, by=org.colleague)
    alert.refresh_from_db()
    assert alert.assignee == org.colleague
    assert Notification.objects.filter(kind="alert_assigned").count() == 1


@pytest.mark.django_db
def test_only_people_who_may_handle_the_alert_can_be_given_it(org: Org) -> None:
    """A line manager of another department or a viewer is refused with a field message."""
    alert = AlertFactory(response=_recent(org, nps=1))
    for person in (org.outsider, org.reader):
        with pytest.raises(InvalidInput) as refused:
            services.alert_assign(alert=alert, assignee=person, by=org.cx)
        assert "assignee" in (refused.value.field_errors or {})
    with pytest.raises(Forbidden):
        services.alert_assign(alert=alert, assignee=org.outsider, by=org.outsider)


# --- Contact records and closing -----------------------------------------------------------


@pytest.mark.django_db
def test_closing_requires_a_contact_record(org: Org) -> None:
    """No record: refused with a message on ``contact``; one recorded before lets it close."""
    alert = AlertFactory(response=_recent(org, nps=1))
    with pytest.raises(InvalidInput) as refused:
        services.alert_handle(alert=alert, by=org.owner)
    assert "contact" in (refused.value.field_errors or {})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    services.alert_contact_record(
        alert=alert, by=org.owner, contact=_call(outcome="no_answer", channel="phone")
    )
    services.alert_contact_record(alert=alert, by=org.owner, contact=_call(channel="email"))
    services.alert_handle(alert=alert, by=org.owner, note="Sorted by e-mail.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.HANDLED
    assert sorted(alert.contacts.values_list("channel", "outcome")) == [
        ("email", "resolved"),
        ("phone", "no_answer"),
    ]


@pytest.mark.django_db
def test_a_contact_in_the_future_or_with_unknown_choices_is_refused(org: Org) -> None:
    """Field messages name what is wrong; nothing is stored."""
    alert = AlertFactory(response=_recent(org, nps=1))
    with pytest.raises(InvalidInput) as refused:
        services.alert_contact_record(
            alert=alert,
            by=org.owner,
            contact=_call(contacted_at=timezone.now() + dt.timedelta(days=1), channel="pigeon"),
        )
    assert set(refused.value.field_errors or {}) == {"contacted_at", "channel"}
    assert not AlertContact.objects.exists()


@pytest.mark.django_db
def test_a_contact_in_the_responses_own_minute_counts_and_one_before_it_is_refused(
    org: Org,
) -> None:
    """Pages give the time to the minute: a call logged at 10:07 for a response submitted at
    10:07:40 is valid; one at 10:06 is before the response and is refused."""
    submitted = timezone.now().replace(second=40, microsecond=0) - dt.timedelta(minutes=30)
    alert = AlertFactory(response=_recent(org, nps=1, submitted_at=submitted))
    minute = submitted.replace(second=0)

    with pytest.raises(InvalidInput) as refused:
        services.alert_contact_record(
            alert=alert, by=org.owner, contact=_call(contacted_at=minute - dt.timedelta(minutes=1))
        )
    services.alert_contact_record(alert=alert, by=org.owner, contact=_call(contacted_at=minute))

    assert set(refused.value.field_errors or {}) == {"contacted_at"}
    assert alert.contacts.count() == 1


# --- Escalation -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_open_alerts_escalate_once_to_the_departments_cx_owner(org: Org) -> None:
    """The task escalates each overdue open alert once; a second run does nothing."""
    owner = cx_manager(username="olga")
    org.support.cx_owner = owner
    org.support.save()
    now = timezone.now()
    late = AlertFactory(response=_recent(org, nps=1), deadline_at=now - dt.timedelta(hours=2))
    AlertFactory(response=_recent(org, nps=1), deadline_at=now + dt.timedelta(hours=2))
    AlertFactory(
        response=_recent(org, nps=1),
        deadline_at=now - dt.timedelta(hours=2),
        status=AlertStatus.HANDLED,
    )
    assert alerts_escalate_overdue_task() == 1
    assert alerts_escalate_overdue_task() == 0
    assert services.alerts_escalate_overdue(now=now + dt.timedelta(days=3)) == 1  # the 2nd one
    late.refresh_from_db()
    assert late.escalated_to == owner and late.escalated_at is not None
    escalations = Notification.objects.filter(kind="alert_escalated")
    assert list(escalations.filter(alert=late).values_list("recipient__username", flat=True)) == [
        "olga"
    ]
    assert escalations.count() == 2


@pytest.mark.django_db
def test_without_a_cx_owner_escalation_goes_to_the_cx_team(org: Org) -> None:
    """No owner and no CX manager among the members: every CX manager is told."""
    AlertFactory(response=_recent(org, nps=1), deadline_at=timezone.now() - dt.timedelta(hours=1))
    assert services.alerts_escalate_overdue() == 1
    assert set(
        Notification.objects.filter(kind="alert_escalated").values_list(
            "recipient__username", flat=True
        )
    ) == {"cara"}


# --- Bulk -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_close_reports_refusals_and_keeps_the_valid_ones(org: Org) -> None:
    """A line manager closes three: one of another department and one closed are refused."""
    mine = AlertFactory(response=_recent(org, nps=1))
    also_mine = AlertFactory(response=_recent(org, nps=2))
    closed = AlertFactory(response=_recent(org, nps=2), status=AlertStatus.HANDLED)
    billing_point = TouchpointFactory(department=org.billing)
    theirs = AlertFactory(response=_recent(org, nps=2, touchpoint=billing_point))
    result = services.alerts_bulk(
        alert_ids=[mine.pk, theirs.pk, closed.pk, also_mine.pk],
        by=org.owner,
        operation="close",
        contact=_call(channel="email"),
    )
    assert result.done == [mine.pk, also_mine.pk]
    assert [(r.alert_id, r.message) for r in result.refused] == [
        (theirs.pk, "No such alert."),
        (closed.pk, "This alert is already closed."),
    ]
    assert set(Alert.objects.filter(status="handled").values_list("pk", flat=True)) == {
        mine.pk,
        also_mine.pk,
        closed.pk,
    }
    assert AlertContact.objects.filter(alert__in=[mine, also_mine]).count() == 2


@pytest.mark.django_db
def test_bulk_close_without_a_record_closes_only_alerts_already_contacted(org: Org) -> None:
    """Each alert is judged on its own: the one with a contact closes, the other is refused."""
    contacted = AlertContactFactory(
        alert=AlertFactory(response=_recent(org, nps=1)), contacted_by=org.owner
    ).alert
    silent = AlertFactory(response=_recent(org, nps=1))
    result = services.alerts_bulk(
        alert_ids=[contacted.pk, silent.pk], by=org.owner, operation="close"
    )
    assert result.done == [contacted.pk]
    assert [r.alert_id for r in result.refused] == [silent.pk]
    assert "contact" in result.refused[0].field_errors


@pytest.mark.django_db
def test_bulk_reports_an_id_no_database_key_can_hold_as_no_such_alert(org: Org) -> None:
    """The API takes any integer: one past the 64-bit range is refused, never a 500."""
    alert = AlertContactFactory(
        alert=AlertFactory(response=_recent(org, nps=1)), contacted_by=org.owner
    ).alert
    result = services.alerts_bulk(alert_ids=[alert.pk, 2**63, -1], by=org.owner, operation="close")
    assert result.done == [alert.pk]
    assert [(r.alert_id, r.message) for r in result.refused] == [
        (2**63, "No such alert."),
        (-1, "No such alert."),
    ]


@pytest.mark.django_db
def test_bulk_refuses_an_unknown_operation_before_touching_anything(org: Org) -> None:
    alert = AlertFactory(response=_recent(org, nps=1))
    with pytest.raises(InvalidInput) as refused:
        services.alerts_bulk(alert_ids=[alert.pk], by=org.cx, operation="delete")
    assert "operation" in (refused.value.field_errors or {})
    with pytest.raises(InvalidTransition):
        services.alert_assign(
            alert=AlertFactory(response=_recent(org, nps=1), status=AlertStatus.HANDLED),
            assignee=org.owner,
            by=org.cx,
        )


# --- API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_list_states_total_counts_and_filters(org: Org, api: Any) -> None:
    """``count`` is the total under the filters, ``counts`` each state; filters are choices."""
    now = timezone.now()
    AlertFactory(response=_recent(org, nps=1), assignee=org.owner)
    AlertFactory(response=_recent(org, nps=2), deadline_at=now - dt.timedelta(hours=3))
    client = api(org.cx)
    body = client.get("/api/v1/alerts/").json()
    assert body["count"] == 2 and body["counts"]["overdue"] == 1
    assert [row["nps"] for row in body["results"]] == [1, 2]
    assert body["results"][1]["overdue"] is True
    overdue = client.get("/api/v1/alerts/?overdue=true").json()
    assert [row["nps"] for row in overdue["results"]] == [2]
    assigned = client.get(f"/api/v1/alerts/?assignee={org.owner.pk}").json()
    assert [row["assignee"]["username"] for row in assigned["results"]] == ["liam"]
    nobody = client.get("/api/v1/alerts/?assignee=none").json()
    assert nobody["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=maybe", "status"),
        ("department=nowhere", "department"),
        ("touchpoint=nowhere", "touchpoint"),
        ("assignee=someone", "assignee"),
        ("overdue=perhaps", "overdue"),
    ],
)
def test_api_list_refuses_bad_filters_with_field_messages(
    org: Org, api: Any, query: str, field: str
) -> None:
    answer = api(org.cx).get(f"/api/v1/alerts/?{query}")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]


@pytest.mark.django_db
def test_api_close_assign_contacts_and_bulk_answer_400_with_field_messages(
    org: Org, api: Any
) -> None:
    """Missing or wrong fields answer 400 naming them, never 500."""
    alert = AlertFactory(response=_recent(org, nps=1))
    client = api(org.owner)
    base = f"/api/v1/alerts/{alert.pk}"
    cases = [
        (f"{base}/handle/", {}, "contact"),
        (f"{base}/handle/", {"contact": {"channel": "phone"}}, "contact"),
        (f"{base}/assign/", {}, "assignee"),
        (f"{base}/assign/", {"assignee": org.outsider.pk}, "assignee"),
        (f"{base}/contacts/", {"contacted_at": "yesterday", "channel": "phone"}, "contacted_at"),
        ("/api/v1/alerts/bulk/", {"ids": [], "operation": "close"}, "ids"),
        ("/api/v1/alerts/bulk/", {"ids": [alert.pk], "operation": "assign"}, "assignee"),
        ("/api/v1/alerts/bulk/", {"ids": ["x"], "operation": "shred"}, "operation"),
    ]
    for path, body, field in cases:
        answer = client.post(path, body, format="json")
        assert answer.status_code == 400, (path, body, answer.content)
        assert field in answer.json()["errors"], (path, body, answer.json())


@pytest.mark.django_db
def test_api_works_an_alert_from_take_to_close(org: Org, api: Any) -> None:
    """Take, record a call, list the history, close; bulk reports per-item refusals."""
    alert = AlertFactory(response=_recent(org, nps=1))
    other = AlertFactory(response=_recent(org, nps=1), status=AlertStatus.HANDLED)
    client = api(org.owner)
    base = f"/api/v1/alerts/{alert.pk}"
    taken = client.post(f"{base}/assign/", {"assignee": org.owner.pk}, format="json")
    assert taken.status_code == 200 and taken.json()["assignee"]["username"] == "liam"
    called = client.post(
        f"{base}/contacts/",
        {"contacted_at": timezone.now().isoformat(), "channel": "phone", "outcome": "no_answer"},
        format="json",
    )
    assert called.status_code == 201
    history = client.get(f"{base}/contacts/").json()
    assert [c["outcome"] for c in history] == ["no_answer"]
    bulk = client.post(
        "/api/v1/alerts/bulk/",
        {"ids": [alert.pk, other.pk], "operation": "close", "note": "Left a message."},
        format="json",
    )
    assert bulk.status_code == 200
    assert bulk.json()["done"] == [alert.pk]
    assert [r["id"] for r in bulk.json()["refused"]] == [other.pk]


@pytest.mark.django_db
def test_api_viewers_are_refused_alerts_with_a_reason(org: Org, api: Any) -> None:
    """403 and the sentence the page shows too."""
    answer = api(org.reader).get("/api/v1/alerts/")
    assert answer.status_code == 403
    assert "viewers see none" in answer.content.decode()


# --- Pages ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_shows_counts_deadline_assignee_and_contact_history(org: Org) -> None:
    """The queue page states the total, marks overdue alerts and lists the contacts."""
    now = timezone.now()
    late = AlertFactory(
        response=_recent(org, nps=1, customer=CustomerFactory(external_id="C-LATE")),
        deadline_at=now - dt.timedelta(hours=5),
        assignee=org.owner,
        assigned_at=now,
    )
    AlertContactFactory(alert=late, contacted_by=org.owner, note="Voicemail left.")
    AlertFactory(response=_recent(org, nps=4))
    html = _client(org.cx).get(reverse("actions:alerts")).content.decode()
    assert "2 alerts under these filters" in html
    assert 'data-count="overdue">1<' in html
    assert "overdue by 5\xa0hours" in html
    assert "Assigned to <strong>Liam Line</strong>" in html
    assert "Voicemail left." in html
    assert html.index("C-LATE") < html.index("Nobody has taken it yet")


@pytest.mark.django_db
def test_page_bulk_assigns_and_closes_with_a_contact_record(org: Org) -> None:
    """Selected alerts are assigned, then closed with one call record each; refusals listed."""
    first = AlertFactory(response=_recent(org, nps=1))
    second = AlertFactory(response=_recent(org, nps=2))
    client = _client(org.cx)
    client.post(
        reverse("actions:alerts-bulk"),
        {"ids": [first.pk, second.pk], "operation": "assign", "assignee": org.owner.pk},
    )
    assert set(Alert.objects.values_list("assignee__username", flat=True)) == {"liam"}
    answer = client.post(
        reverse("actions:alerts-bulk"),
        {
            "ids": [first.pk, second.pk, 999_999],
            "operation": "close",
            "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "channel": "phone",
            "outcome": "resolved",
            "note": "Both called.",
        },
        follow=True,
    )
    text = answer.content.decode()
    assert "2 alerts closed." in text and "Alert 999999 not closed: No such alert." in text
    assert Alert.objects.filter(status="handled").count() == 2
    assert AlertContact.objects.count() == 2


@pytest.mark.django_db
def test_page_close_without_a_record_is_refused_with_the_reason(org: Org) -> None:
    alert = AlertFactory(response=_recent(org, nps=1))
    answer = _client(org.owner).post(
        reverse("actions:alert-handle", args=[alert.pk]), {"note": "Done"}, follow=True
    )
    assert "Record the contact with the customer before closing the alert." in (
        answer.content.decode()
    )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


@pytest.mark.django_db
def test_page_take_assigns_the_alert_to_me(org: Org) -> None:
    alert = AlertFactory(response=_recent(org, nps=1))
    _client(org.colleague).post(
        reverse("actions:alert-assign", args=[alert.pk]), {"assignee": "me"}
    )
    alert.refresh_from_db()
    assert alert.assignee == org.colleague


@pytest.mark.django_db
def test_viewer_gets_a_403_page_saying_their_role_sees_no_alerts(org: Org) -> None:
    answer = _client(org.reader).get(reverse("actions:alerts"))
    assert answer.status_code == 403
    assert "viewers see none" in answer.content.decode()


@pytest.mark.django_db
def test_page_filter_with_an_unknown_choice_answers_400(org: Org) -> None:
    answer = _client(org.cx).get(reverse("actions:alerts") + "?assignee=12345678")
    assert answer.status_code == 400
    assert "assignee" in answer.content.decode()


def _queries(fn: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _grow(org: Org, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        alert = AlertFactory(
            response=_recent(org, nps=i % 7, customer=CustomerFactory()),
            assignee=org.owner if i % 2 else None,
            escalated_to=org.cx if i % 3 == 0 else None,
            escalated_at=now if i % 3 == 0 else None,
        )
        AlertContactFactory(alert=alert, contacted_by=org.colleague)


@pytest.mark.django_db
@pytest.mark.parametrize("surface", ["page", "api"])
def test_queue_query_count_does_not_grow_with_alerts(
    org: Org, api: Any, django_assert_max_num_queries: Any, surface: str
) -> None:
    """The same queries for 3 alerts as for 15 (assignees, escalations, contacts included)."""
    page_client, api_client = _client(org.cx), api(org.cx)

    def hit() -> None:
        org.cx.__dict__.pop("_cxhub_roles", None)
        org.cx.__dict__.pop("_cxhub_access", None)
        if surface == "page":
            answer = page_client.get(reverse("actions:alerts"))
        else:
            answer = api_client.get("/api/v1/alerts/")
        assert answer.status_code == 200

    _grow(org, 3)
    hit()
    small = _queries(hit)
    _grow(org, 12)
    large = _queries(hit)
    assert large == small, (small, large)
    with django_assert_max_num_queries(18):
        hit()


@pytest.mark.django_db
def test_customer_export_holds_the_contacts_and_erasure_scrubs_their_notes(org: Org) -> None:
    """A customer's data export lists the contacts of their alerts; erasure empties the notes."""
    from feedback.privacy import ErasedCustomer

    customer = CustomerFactory(external_id="C-ERASE")
    alert = AlertFactory(response=_recent(org, nps=1, customer=customer))
    AlertContactFactory(alert=alert, contacted_by=org.owner, note="Spoke to C-ERASE at home.")
    exported = selectors.customer_actions_export(customer.pk, [alert.response_id])
    [row] = exported["alerts"]
    assert [(c["channel"], c["note"]) for c in row["contacts"]] == [
        ("phone", "Spoke to C-ERASE at home.")
    ]
    services.customer_actions_erase(
        ErasedCustomer(
            customer_id=customer.pk,
            response_ids=[alert.response_id],
            external_id="C-ERASE",
            pseudonym="erased-1",
            comments=[],
        )
    )
    assert AlertContact.objects.get().note == ""
