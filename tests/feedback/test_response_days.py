"""Day markers: every write that changes what a response counts as marks its local day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from feedback.models import Response, ResponseDayChange
from feedback.processing import register_days_changed_listener
from feedback.services import (
    customer_erase,
    feedback_import_csv,
    response_day,
    response_days_changed,
    responses_delete,
    responses_ingest_bulk,
)
from tests.feedback.conftest import feedback_item
from tests.feedback.factories import CustomerFactory, ResponseFactory, SourceFactory, UserFactory

pytestmark = pytest.mark.usefixtures("organisation")

MARCH_1 = dt.date(2026, 3, 1)


def _marked() -> list[dt.date]:
    return list(ResponseDayChange.objects.order_by("day").values_list("day", flat=True))


def _unmark() -> None:
    ResponseDayChange.objects.all().delete()


def test_marking_a_day_twice_keeps_one_row_with_the_later_time() -> None:
    """The upsert keeps one row per day and moves its time forward."""
    response_days_changed(days=[MARCH_1, MARCH_1])
    first = ResponseDayChange.objects.get().changed_at

    response_days_changed(days=[MARCH_1, MARCH_1 + dt.timedelta(days=1)])

    assert _marked() == [MARCH_1, dt.date(2026, 3, 2)]
    assert ResponseDayChange.objects.get(day=MARCH_1).changed_at >= first


def test_marking_no_day_writes_nothing(django_assert_num_queries: Any) -> None:
    """An empty set of days costs no query."""
    with django_assert_num_queries(0):
        response_days_changed(days=[])


def test_many_days_are_marked_in_batches() -> None:
    """Two years of days (more than one statement's worth) are all marked."""
    days = [MARCH_1 + dt.timedelta(days=n) for n in range(730)]

    response_days_changed(days=days)

    assert _marked() == days


def test_the_day_is_the_local_day_of_the_project_time_zone(settings: Any) -> None:
    """23:30 UTC on 1 March is 2 March in Paris: the response counts on 2 March."""
    settings.TIME_ZONE = "Europe/Paris"
    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)

    assert response_day(moment) == dt.date(2026, 3, 2)


def test_bulk_ingest_marks_the_days_of_the_responses_it_created() -> None:
    """Both write paths (INSERT for a few rows, COPY for many) mark each new row's day."""
    source = SourceFactory()
    items = [
        feedback_item(external_id=f"d{i}", submitted_at=f"2026-03-{1 + i % 3:02d}T10:00:00Z")
        for i in range(30)
    ]

    responses_ingest_bulk(source=source, items=items[:3], queue_processing=False)
    assert _marked() == [MARCH_1, dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
    _unmark()
    responses_ingest_bulk(source=source, items=items, queue_processing=False)

    assert _marked() == [MARCH_1, dt.date(2026, 3, 2), dt.date(2026, 3, 3)]


def test_a_duplicate_or_rejected_item_marks_nothing() -> None:
    """Re-posting what is stored, or posting what is refused, changes no day."""
    source = SourceFactory()
    responses_ingest_bulk(source=source, items=[feedback_item()], queue_processing=False)
    _unmark()

    responses_ingest_bulk(
        source=source,
        items=[feedback_item(), feedback_item(external_id="bad", nps=11)],
        queue_processing=False,
    )

    assert _marked() == []


def test_the_single_post_api_marks_the_day(key_client: APIClient) -> None:
    """POST /api/v1/feedback/ marks the response's day."""
    answer = key_client.post("/api/v1/feedback/", feedback_item(), format="json")

    assert answer.status_code == 201
    assert _marked() == [MARCH_1]


def test_the_bulk_api_marks_the_days(key_client: APIClient) -> None:
    """POST /api/v1/feedback/bulk/ marks every new response's day."""
    items = [
        feedback_item(external_id="b1"),
        feedback_item(external_id="b2", submitted_at="2026-03-05T08:00:00Z"),
    ]

    answer = key_client.post("/api/v1/feedback/bulk/", items, format="json")

    assert answer.status_code in (200, 201, 207)
    assert _marked() == [MARCH_1, dt.date(2026, 3, 5)]


def test_the_csv_import_marks_the_days(tmp_path: Path) -> None:
    """``import_feedback`` (``feedback_import_csv``) marks the days of what it stored."""
    path = tmp_path / "feedback.csv"
    path.write_text(
        "external_id,submitted_at,nps\n"
        "c1,2026-03-01T10:00:00Z,9\n"
        "c2,2026-03-07T10:00:00Z,3\n"
        "c3,2026-03-08T10:00:00Z,12\n",
        encoding="utf-8",
    )

    summary = feedback_import_csv(
        path=path, source=SourceFactory(), rejected_path=tmp_path / "rejected.csv"
    )

    assert summary.created == 2
    assert _marked() == [MARCH_1, dt.date(2026, 3, 7)]


def test_erasure_marks_the_days_of_the_customers_responses() -> None:
    """An erased comment no longer counts as a comment: its day is recounted."""
    customer = CustomerFactory()
    ResponseFactory(
        customer=customer, comment="hello", submitted_at=dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC)
    )
    ResponseFactory(submitted_at=dt.datetime(2026, 3, 9, 9, tzinfo=dt.UTC))
    _unmark()

    customer_erase(customer=customer, by=UserFactory())

    assert _marked() == [dt.date(2026, 3, 4)]


def test_deleting_responses_marks_their_days() -> None:
    """``responses_delete`` marks the deleted responses' days, and only theirs."""
    kept = ResponseFactory(submitted_at=dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC))
    gone = ResponseFactory(submitted_at=dt.datetime(2026, 3, 6, 9, tzinfo=dt.UTC))
    _unmark()

    deleted = responses_delete(responses=Response.objects.filter(pk=gone.pk))

    assert deleted == 1
    assert list(Response.objects.values_list("pk", flat=True)) == [kept.pk]
    assert _marked() == [dt.date(2026, 3, 6)]


def _admin_client(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_an_admin_edit_marks_the_old_and_the_new_day(client: Client) -> None:
    """Moving a response to another day in the admin recounts both days."""
    response = ResponseFactory(submitted_at=dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC), nps=3)
    _unmark()
    admin = _admin_client(client)
    page = admin.get(f"/admin/feedback/response/{response.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(
        {
            "source": response.source_id,
            "submitted_at_0": "2026-03-10",
            "submitted_at_1": "09:00:00",
            "nps": "10",
            "ratings": "{}",
            "attributes": "{}",
            "channel": response.channel,
        }
    )

    answer = admin.post(f"/admin/feedback/response/{response.pk}/change/", data)

    assert answer.status_code == 302, answer.content[:2000]
    response.refresh_from_db()
    assert response.nps == 10
    assert _marked() == [dt.date(2026, 3, 4), dt.date(2026, 3, 10)]


def test_an_admin_delete_marks_the_day(client: Client) -> None:
    """Deleting responses from the admin (one, or the bulk action) recounts their days."""
    one = ResponseFactory(submitted_at=dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC))
    other = ResponseFactory(submitted_at=dt.datetime(2026, 3, 5, 9, tzinfo=dt.UTC))
    _unmark()
    admin = _admin_client(client)

    admin.post(f"/admin/feedback/response/{one.pk}/delete/", {"post": "yes"})
    admin.post(
        "/admin/feedback/response/",
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )

    assert not Response.objects.exists()
    assert _marked() == [dt.date(2026, 3, 4), dt.date(2026, 3, 5)]


def test_listeners_are_told_after_the_commit(django_capture_on_commit_callbacks: Any) -> None:
    """A registered listener runs once the marking transaction commits, not before."""
    calls: list[str] = []
    register_days_changed_listener("test-listener", lambda: calls.append("told"))
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response_days_changed(days=[MARCH_1])
        assert calls == []
        for callback in callbacks:
            callback()
    finally:
        from feedback import processing

        processing._days_changed_listeners.pop("test-listener", None)

    assert "told" in calls
