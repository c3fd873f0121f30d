"""CSV downloads: every row, streamed, with a byte-order mark, no query per row, no formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.text.models import ResponseAnalysis
from dashboards import selectors
from dashboards.models import DashboardComment
from feedback.models import Response
from tests.dashboards.downloads import csv_text
from tests.dashboards.factories import plant_action, plant_responses, plant_topic, tag
from tests.feedback.factories import (
    DepartmentFactory,
    ResponseFactory,
    SourceFactory,
    TouchpointFactory,
    cx_manager,
)

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def billing_call() -> Any:
    billing = DepartmentFactory(name="Billing", slug="billing")
    return TouchpointFactory(name="Billing call", slug="billing-call", department=billing)


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(csv_text(response))))


def _queries_to_download(client: Client, path: str) -> int:
    """Queries run from the request until the last byte of the stream has been read."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        b"".join(response.streaming_content)
    return len(queries)


def test_the_verbatims_csv_holds_as_many_rows_as_the_dashboard_counts_comments(
    billing_call: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More comments than one stream chunk: the download holds every one, exactly the
    number the overview states as "with comments" for the same filter, and none without."""
    settings.CXHUB = {**settings.CXHUB, "MIN_RESPONSES": 1}
    plant_responses(touchpoint=billing_call, nps_values=[9, 3] * 60, comment="Slow line")
    plant_responses(touchpoint=billing_call, nps_values=[10] * 5, comment="")
    client = _client(cx_manager())
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 50)  # three chunks for 120 comments

    rows = _rows(client.get("/export/verbatims.csv?department=billing"))
    page = client.get("/?department=billing")

    assert len(rows) == page.context["total"].comments == 120
    assert {row["comment"] for row in rows} == {"Slow line"}
    assert len({row["response_id"] for row in rows}) == 120


def test_the_verbatims_csv_names_each_comments_topics_by_name(billing_call: Any) -> None:
    """A comment's topics come in its row, sorted by name; a comment without is blank."""
    wait, staff = plant_topic("wait-time", "Wait time"), plant_topic("staff", "Friendly staff")
    tagged, plain = plant_responses(touchpoint=billing_call, nps_values=[2, 9], comment="Long")
    tag(tagged, wait, -0.7)
    tag(tagged, staff, 0.4)

    rows = {
        row["response_id"]: row for row in _rows(_client(cx_manager()).get("/export/verbatims.csv"))
    }

    assert rows[str(tagged.pk)]["topics"] == "Friendly staff; Wait time"
    assert rows[str(plain.pk)]["topics"] == ""
    assert rows[str(tagged.pk)]["touchpoint"] == "Billing call"


def test_the_number_of_queries_of_a_download_does_not_grow_with_its_rows(
    billing_call: Any,
) -> None:
    """Ten times the comments (each with topics) take the same number of queries."""
    topic = plant_topic()
    client = _client(cx_manager())
    for response in plant_responses(touchpoint=billing_call, nps_values=[1] * 4, comment="Slow"):
        tag(response, topic, -0.5)
    _queries_to_download(client, "/export/verbatims.csv")  # the session and caches warm up
    few = _queries_to_download(client, "/export/verbatims.csv")
    for response in plant_responses(touchpoint=billing_call, nps_values=[1] * 40, comment="Slow"):
        tag(response, topic, -0.5)

    many = _queries_to_download(client, "/export/verbatims.csv")

    assert many == few


def test_every_download_starts_with_a_utf8_byte_order_mark(billing_call: Any) -> None:
    """Spreadsheets read "é" right: each table's first bytes are EF BB BF, then the header."""
    plant_responses(touchpoint=billing_call, nps_values=[9] * 6, comment="Très bien")
    client = _client(cx_manager())
    for table in ("verbatims", "departments", "touchpoints", "channels", "weekly", "actions"):
        response = client.get(f"/export/{table}.csv")
        body = b"".join(response.streaming_content)

        assert body.startswith(b"\xef\xbb\xbf"), table
        assert not body.startswith(b"\xef\xbb\xbf\xef\xbb\xbf"), table
    assert "Très bien" in csv_text(client.get("/export/verbatims.csv"))


def test_comment_cells_that_a_spreadsheet_would_run_are_written_as_text(
    billing_call: Any,
) -> None:
    """A comment starting with =, +, - or @ gets a leading apostrophe; numbers stay numbers."""
    for text in ("=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)"):
        plant_responses(touchpoint=billing_call, nps_values=[4], comment=text)

    rows = _rows(_client(cx_manager()).get("/export/verbatims.csv"))

    assert sorted(row["comment"] for row in rows) == ["'+1", "'-2+3", "'=HYPERLINK(1)", "'@SUM(A1)"]
    assert {row["nps"] for row in rows} == {"4"}


def test_the_actions_csv_holds_every_readable_action_not_only_the_recent_ones(
    billing_call: Any,
) -> None:
    """The dashboard lists the 12 most recent actions; the CSV has all 15, declined too."""
    billing = billing_call.department
    for number in range(14):
        plant_action(department=billing, title=f"Action {number}")
    plant_action(department=billing, title="Not now", status="declined")

    rows = _rows(_client(cx_manager()).get("/export/actions.csv?department=billing"))

    assert len(rows) == 15
    assert "declined" in {row["status"] for row in rows}


def test_the_comments_csv_holds_every_comment_not_only_the_first_200() -> None:
    """The inbox shows 200 comments; its download has all of them."""
    author = cx_manager()
    DashboardComment.objects.bulk_create(
        DashboardComment(author=author, body=f"Idea {number}") for number in range(205)
    )

    rows = _rows(_client(author).get("/export/comments.csv?status=all"))

    assert len(rows) == 205


# --- The verbatims download equals the one computed the slow way ---------------------------

VERBATIM_HEADER = [
    "response_id", "submitted_at", "touchpoint", "channel", "nps", "csat", "ces",
    "sentiment", "topics", "comment",
]  # fmt: skip
AWKWARD_COMMENTS = [
    "Plain words",
    'She said "no", twice',
    "Line one\nline two",
    "Carriage\rreturn",
    "=HYPERLINK(1)",
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTabbed",
    " leading space, trailing space ",
    "Très bien; 很好 👍",
    "Comma, separated, words",
]


def _slow_verbatims_csv() -> bytes:
    """The download as it was first written: model instances newest first, topic names
    through the ORM, sorted, and each cell through the formula rule of the CSV module."""

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
            return "'" + value
        return value

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(VERBATIM_HEADER)
    responses = (
        Response.objects.exclude(comment="")
        .select_related("touchpoint", "analysis")
        .prefetch_related("topic_mentions__topic")
        .order_by("-submitted_at", "-id")
    )
    for response in responses:
        analysis = getattr(response, "analysis", None)
        writer.writerow(
            [
                cell(value)
                for value in (
                    response.pk,
                    response.submitted_at.isoformat(),
                    response.touchpoint.name if response.touchpoint else "",
                    response.channel,
                    response.nps,
                    response.csat,
                    response.ces,
                    (analysis.sentiment_label or "") if analysis else "",
                    "; ".join(sorted(m.topic.name for m in response.topic_mentions.all())),
                    response.comment,
                )
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _plant_awkward_verbatims(seed: int) -> None:
    """Comments a CSV gets wrong easily, at times with and without microseconds (several
    in the same instant), with and without touchpoint, scores, sentiment and topics."""
    rng = random.Random(seed)
    touchpoints = [
        TouchpointFactory(name="Billing call"),
        TouchpointFactory(name='=Shop, "north"'),
        None,
    ]
    topics = [
        plant_topic("wait-time", "Wait time"),
        plant_topic("staff", "Friendly staff"),
        plant_topic("formula", "-minus topic"),
        plant_topic("comma", "Price, value"),
    ]
    source = SourceFactory(name="awkward")
    base = timezone.now().replace(microsecond=0) - dt.timedelta(days=5)
    for number in range(60):
        at = base - dt.timedelta(hours=rng.choice([0, 0, 1, 2, 30]))
        if rng.random() < 0.4:
            at += dt.timedelta(microseconds=rng.choice([1, 500_000, 999_999, 120]))
        response = ResponseFactory(
            source=source,
            touchpoint=rng.choice(touchpoints),
            submitted_at=at,
            channel=rng.choice(["web", "phone", "email"]),
            nps=rng.choice([None, 0, 6, 9, 10]),
            csat=rng.choice([None, 1, 5]),
            ces=rng.choice([None, 2, 7]),
            comment=rng.choice(AWKWARD_COMMENTS) if number % 7 else "",
        )
        for topic in rng.sample(topics, rng.randint(0, 3)):
            tag(response, topic, rng.choice([-0.8, 0.0, 0.7]))
        if rng.random() < 0.7:
            ResponseAnalysis.objects.create(
                response=response,
                sentiment=0.1,
                sentiment_label=rng.choice(["negative", "positive", "neutral", None]),
                analysed_at=timezone.now(),
                taxonomy_version="test",
            )


@pytest.mark.parametrize("seed", [1, 2])
def test_the_verbatims_csv_equals_the_slow_export_byte_for_byte(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Awkward comments, ties in time, microseconds, blank scores, topics with commas and
    formula-like names: the streamed download has exactly the bytes of the slow one."""
    _plant_awkward_verbatims(seed)
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 7)  # many chunks

    body = b"".join(_client(cx_manager()).get("/export/verbatims.csv").streaming_content)

    assert body == _slow_verbatims_csv()
    assert body.count(b"\r\n") > 50


@pytest.mark.django_db(transaction=True)
def test_the_verbatims_csv_outside_a_transaction_equals_the_slow_export() -> None:
    """As in production (autocommit: PostgreSQL holds the cursor past its transaction and
    plans it for every row), the bytes are the same, and the session's planner setting is
    back to its default afterwards."""
    _plant_awkward_verbatims(3)
    setting_before = _cursor_tuple_fraction()

    with CaptureQueriesContext(connection) as queries:
        body = b"".join(_client(cx_manager()).get("/export/verbatims.csv").streaming_content)

    assert body == _slow_verbatims_csv()
    assert _cursor_tuple_fraction() == setting_before
    if connection.vendor == "postgresql":
        statements = [q["sql"] for q in queries]
        declared = next(i for i, sql in enumerate(statements) if "WITH HOLD" in sql)
        assert statements[declared - 1] == "SET cursor_tuple_fraction = 1.0"


def _cursor_tuple_fraction() -> str:
    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        return str(cursor.fetchone()[0])


def test_a_topic_renamed_or_removed_is_named_as_it_is_now(billing_call: Any) -> None:
    """Names are read when the download starts, from the topics as they are."""
    topic = plant_topic("wait-time", "Wait time")
    (response,) = plant_responses(touchpoint=billing_call, nps_values=[2], comment="Slow")
    tag(response, topic, -0.5)
    topic.name = "Waiting"
    topic.save()

    rows = _rows(_client(cx_manager()).get("/export/verbatims.csv"))

    assert rows[0]["topics"] == "Waiting"


def test_the_actions_csv_reads_no_response_and_keeps_the_dashboards_filters(
    billing_call: Any,
) -> None:
    """A list of actions is not an aggregate: its download touches no response however many
    there are, and a bad filter is still a 400 with its field."""
    plant_action(department=billing_call.department, title="Call back")
    plant_responses(touchpoint=billing_call, nps_values=[9, 3] * 20, comment="Slow")
    client = _client(cx_manager())

    with CaptureQueriesContext(connection) as queries:
        rows = _rows(client.get("/export/actions.csv?department=billing"))
    bad = client.get("/export/actions.csv?date_from=yesterday")

    assert [row["title"] for row in rows] == ["Call back"]
    assert not [q for q in queries if "feedback_response" in q["sql"] and "GROUP BY" in q["sql"]]
    assert bad.status_code == 400 and "date_from" in bad.content.decode()
