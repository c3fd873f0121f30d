"""Analysis runs over the API: who may start them, validation, polling, failures, results,
and the same path through a real Celery worker on PostgreSQL."""

from __future__ import annotations

import time

import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.insights.tasks import nightly_insights_task
from analytics.models import AnalysisRun
from analytics.runs.services import run_execute, run_execute_now
from tests.analytics.insights.data import store_responses
from tests.feedback.factories import (
    AttributeFactory,
    SourceAPIKeyFactory,
    TouchpointFactory,
    cx_manager,
    viewer,
)


def _client(user: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _driver_data(n: int = 400) -> None:
    rng = np.random.default_rng(0)
    for slug in ("staff", "wait_time"):
        AttributeFactory(slug=slug, label=slug.replace("_", " ").title())
    tp = TouchpointFactory(slug="billing-call")
    rows = []
    for _ in range(n):
        staff, wait = (int(v) for v in rng.integers(1, 6, size=2))
        nps = int(np.clip(round(staff * 1.5 + wait * 0.5 + rng.normal()), 0, 10))
        rows.append({"nps": nps, "ratings": {"staff": staff, "wait_time": wait}, "touchpoint": tp})
    store_responses(rows)


def test_cx_manager_starts_a_driver_run_and_polls_it_to_success(
    db: None, django_capture_on_commit_callbacks: object
) -> None:
    """POST runs/ answers 202 with a queued run's id; the task, queued after commit, makes it
    succeed and GET drivers/ returns its result."""
    _driver_data()
    client = _client(cx_manager())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # type: ignore[operator]
        answer = client.post(
            "/api/v1/analytics/runs/",
            {"kind": "drivers", "parameters": {"outcome": "nps", "replicates": 100}},
            format="json",
        )
    assert answer.status_code == 202, answer.json()
    assert answer.json()["status"] == "queued"
    assert len(callbacks) == 1
    run_id = answer.json()["id"]
    polled = client.get(f"/api/v1/analytics/runs/{run_id}/").json()
    assert polled["status"] == "succeeded", polled
    assert polled["counts"]["responses"] == 400
    assert polled["duration_seconds"] is not None
    assert polled["result"]["drivers"][0]["slug"] == "staff"
    latest = client.get("/api/v1/analytics/drivers/?outcome=nps")
    assert latest.status_code == 200
    assert latest.json()["run"]["id"] == run_id
    # another filter has no run yet: a 404 that says how to start one
    missing = client.get("/api/v1/analytics/drivers/?outcome=nps&touchpoint=billing-call")
    assert missing.status_code == 404
    assert "POST /api/v1/analytics/runs/" in missing.json()["errors"]["non_field_errors"][0]


def test_only_cx_managers_start_runs_and_api_keys_read_nothing(db: None) -> None:
    """A viewer may list runs but not start one; an API key may do neither."""
    body = {"kind": "scores", "parameters": {}}
    refused = _client(viewer()).post("/api/v1/analytics/runs/", body, format="json")
    assert refused.status_code == 403
    assert "CX managers" in refused.json()["errors"]["non_field_errors"][0]
    assert _client(viewer()).get("/api/v1/analytics/runs/").status_code == 200
    key = SourceAPIKeyFactory()
    keyed = APIClient()
    keyed.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.plain_key}")
    assert keyed.post("/api/v1/analytics/runs/", body, format="json").status_code == 403
    assert keyed.get("/api/v1/analytics/runs/").status_code == 403
    assert APIClient().get("/api/v1/analytics/runs/").status_code in (401, 403)
    assert AnalysisRun.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"kind": "horoscope"}, {"kind"}),
        ({"kind": "drivers", "parameters": {"outcome": "mood"}}, {"outcome"}),
        ({"kind": "drivers", "parameters": "all"}, {"parameters"}),
        (
            {"kind": "drivers", "parameters": {"replicates": -5, "missing": "ignore"}},
            {"replicates", "missing"},
        ),
        (
            {"kind": "scores", "parameters": {"period": "year", "touchpoint": "x"}},
            {"period", "touchpoint"},
        ),
        (
            {"kind": "value", "parameters": {"filters": {"date_from": "soon"}}},
            {"filters.date_from"},
        ),
        ({}, {"kind"}),
    ],
)
def test_bad_run_requests_are_400s_with_field_messages(
    db: None, body: dict, fields: set[str]
) -> None:
    AttributeFactory(slug="staff")
    answer = _client(cx_manager()).post("/api/v1/analytics/runs/", body, format="json")
    assert answer.status_code == 400
    assert fields <= set(answer.json()["errors"]), answer.json()
    assert AnalysisRun.objects.count() == 0


def test_a_run_that_cannot_compute_fails_with_a_readable_error(db: None) -> None:
    """Too few responses: the run ends 'failed' with the reason, never stuck in 'running'."""
    AttributeFactory(slug="staff")
    store_responses([{"nps": 5, "ratings": {"staff": 3}}] * 5)
    run = run_execute_now(kind="drivers", parameters={"outcome": "nps"})
    assert run.status == AnalysisRun.Status.FAILED
    assert "Not enough responses" in run.error
    assert run.started_at is not None and run.finished_at is not None
    # executing a finished run again is a no-op (a redelivered task message)
    again = run_execute(run_id=run.pk)
    assert again.finished_at == run.finished_at


def test_runs_list_filters_by_kind_and_status(
    db: None, django_assert_max_num_queries: object
) -> None:
    """The list is newest first, filterable, with a constant number of queries."""
    _driver_data(100)
    for _ in range(3):
        run_execute_now(kind="scores", parameters={"by": "touchpoint"})
    run_execute_now(kind="value", parameters={})  # fails: no customers
    client = _client(viewer())
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        listed = client.get("/api/v1/analytics/runs/?kind=scores").json()
    assert [r["kind"] for r in listed["results"]] == ["scores"] * 3
    failed = client.get("/api/v1/analytics/runs/?status=failed").json()["results"]
    assert [r["kind"] for r in failed] == ["value"]
    assert "No customers" in failed[0]["error"]
    assert client.get("/api/v1/analytics/runs/?status=odd").status_code == 400


def test_nightly_task_records_driver_and_value_runs(db: None) -> None:
    """The beat job records NPS and CSAT driver, value and topic-impact runs, whatever their
    outcome."""
    _driver_data(100)
    ids = nightly_insights_task()
    runs = AnalysisRun.objects.filter(pk__in=ids)
    assert sorted(r.kind for r in runs) == ["drivers", "drivers", "topic_impact", "value"]
    nps_run = next(r for r in runs if r.kind == "drivers" and r.parameters["outcome"] == "nps")
    assert nps_run.status == AnalysisRun.Status.SUCCEEDED
    assert all(r.status != AnalysisRun.Status.RUNNING for r in runs)


def test_schema_documents_the_insights_endpoints(db: None) -> None:
    answer = _client(viewer()).get(reverse("api-schema"), {"format": "json"})
    paths = answer.json()["paths"]
    assert "/api/v1/analytics/runs/" in paths and "/api/v1/analytics/scores/" in paths


@pytest.mark.services
def test_a_real_worker_executes_a_driver_run_on_postgresql(celery_worker: object) -> None:
    """With Redis and a worker, POST runs/ queues the task and the worker completes it."""
    _driver_data(300)
    client = _client(cx_manager())
    answer = client.post(
        "/api/v1/analytics/runs/",
        {"kind": "drivers", "parameters": {"outcome": "nps", "replicates": 200}},
        format="json",
    )
    assert answer.status_code == 202
    run_id = answer.json()["id"]
    deadline = time.monotonic() + 60
    status = "queued"
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/analytics/runs/{run_id}/").json()["status"]
        if status in ("succeeded", "failed"):
            break
        time.sleep(0.3)
    run = AnalysisRun.objects.get(pk=run_id)
    assert status == "succeeded", run.error
    assert run.result["drivers"][0]["slug"] == "staff"
    assert run.result["drivers"][0]["share_interval"] is not None


def test_insights_page_shows_scores_drivers_and_the_run_button_to_managers(
    db: None, client: object, django_assert_max_num_queries: object
) -> None:
    """Signed-in people see scores with intervals and the latest driver shares, quadrant and
    priority list; only CX managers get the Run analysis button; queries stay few (the
    department list comes from the cached catalogue, read cold here)."""
    _driver_data(200)
    run_execute_now(kind="drivers", parameters={"outcome": "nps", "replicates": 50})
    client.force_login(viewer())  # type: ignore[attr-defined]
    # +1: the data version keys the cached scores; +2: the days are dirty (not refreshed), so
    # the score counts take a second statement, and the departments' names one more.
    with django_assert_max_num_queries(19):  # type: ignore[operator]
        page = client.get("/insights/")  # type: ignore[attr-defined]
    assert page.status_code == 200
    html = page.content.decode()
    assert "What drives NPS" in html and "Staff" in html and "Fix first" in html
    assert "Priorities: the most change in the fewest moves" in html
    assert "Run analysis" not in html
    client.force_login(cx_manager())  # type: ignore[attr-defined]
    assert "Run analysis" in client.get("/insights/").content.decode()  # type: ignore[attr-defined]


def test_insights_run_button_queues_runs_for_managers_only(
    db: None, client: object, django_capture_on_commit_callbacks: object
) -> None:
    _driver_data(100)
    client.force_login(viewer())  # type: ignore[attr-defined]
    assert client.post("/insights/run/", {"analysis": "drivers"}).status_code == 403  # type: ignore[attr-defined]
    assert AnalysisRun.objects.count() == 0
    client.force_login(cx_manager())  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        answer = client.post(  # type: ignore[attr-defined]
            "/insights/run/", {"analysis": "drivers", "outcome": "csat"}, follow=True
        )
    assert answer.status_code == 200
    assert "Analysis queued" in answer.content.decode()
    assert [r.parameters["outcome"] for r in AnalysisRun.objects.all()] == ["csat"]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        client.post("/insights/run/", {"analysis": "all"})  # type: ignore[attr-defined]
    queued = sorted(
        (r.kind, r.parameters["outcome"] if r.kind == "drivers" else "")
        for r in AnalysisRun.objects.all()
    )
    assert queued == [
        ("drivers", "csat"),
        ("drivers", "csat"),
        ("drivers", "nps"),
        ("topic_impact", ""),
        ("value", ""),
    ]


def test_insights_page_requires_login(db: None, client: object) -> None:
    answer = client.get("/insights/")  # type: ignore[attr-defined]
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_a_driver_run_fanned_out_over_workers_equals_the_single_process_run(
    db: None, django_capture_on_commit_callbacks: object
) -> None:
    """workers=4 splits the chunks over a chord of tasks; merged statistics give exactly the
    same shares and intervals as one process."""
    _driver_data(300)
    client = _client(cx_manager())
    ids = []
    for workers in (1, 4):
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            answer = client.post(
                "/api/v1/analytics/runs/",
                {"kind": "drivers", "parameters": {"replicates": 100, "workers": workers}},
                format="json",
            )
        ids.append(answer.json()["id"])
    single, fanned = (AnalysisRun.objects.get(pk=i) for i in ids)
    assert single.status == fanned.status == "succeeded", (single.error, fanned.error)
    assert fanned.counts["workers"] == 4
    assert fanned.result["drivers"] == single.result["drivers"]


@pytest.mark.services
def test_a_real_worker_runs_a_fanned_out_driver_chord(celery_worker: object) -> None:
    """workers=3 on Redis: the chord's chunk tasks and merge run in the worker."""
    _driver_data(300)
    client = _client(cx_manager())
    answer = client.post(
        "/api/v1/analytics/runs/",
        {"kind": "drivers", "parameters": {"replicates": 100, "workers": 3}},
        format="json",
    )
    run_id = answer.json()["id"]
    deadline = time.monotonic() + 60
    run = AnalysisRun.objects.get(pk=run_id)
    while time.monotonic() < deadline and run.status not in ("succeeded", "failed"):
        time.sleep(0.3)
        run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.counts["workers"] == 3
    assert run.result["n"] == 300


def test_generated_bad_input_never_gives_a_server_error(db: None) -> None:
    """Random junk in run parameters and score queries gives 400s (or 202), never a 5xx."""
    AttributeFactory(slug="staff")
    rng = np.random.default_rng(99)
    junk: list[object] = [
        None,
        "",
        " ",
        "x" * 500,
        "2026-13-45",
        "9999-99-99T99:99",
        -1,
        0,
        1e308,
        True,
        [],
        [1, "a"],
        {"a": {"b": []}},
        "nps,csat",
        "📈",
        "'; drop table x; --",
        "attribute:",
        "a\x00b",
        {"region": "north\x00"},
    ]
    keys = [
        "outcome",
        "drivers",
        "missing",
        "method",
        "replicates",
        "seed",
        "workers",
        "filters",
        "period",
        "by",
        "date_from",
        "date_to",
        "touchpoint",
        "channel",
        "compare_from",
    ]
    client = _client(cx_manager())
    for _ in range(60):
        parameters = {
            str(rng.choice(keys)): junk[int(rng.integers(len(junk)))]
            for _ in range(int(rng.integers(1, 4)))
        }
        kind = str(rng.choice(["drivers", "scores", "value", "topic_impact", "nope"]))
        answer = client.post(
            "/api/v1/analytics/runs/", {"kind": kind, "parameters": parameters}, format="json"
        )
        assert answer.status_code in (202, 400), (kind, parameters, answer.content)
        query = {k: str(v) for k, v in parameters.items()}
        assert client.get("/api/v1/analytics/scores/", query).status_code in (200, 400), query
        assert client.get("/api/v1/analytics/drivers/", query).status_code in (200, 400, 404)


def test_nul_characters_in_filters_are_refused(db: None) -> None:
    """PostgreSQL cannot store or compare NUL characters: they are a 400, not a 500."""
    client = _client(cx_manager())
    assert client.get("/api/v1/analytics/scores/", {"region": "a\x00b"}).status_code == 400
    answer = client.post(
        "/api/v1/analytics/runs/",
        {"kind": "value", "parameters": {"filters": {"segment": "smb\x00"}}},
        format="json",
    )
    assert answer.status_code == 400
    # The JSON parser refuses it (cxhub.input_guard), naming the path in the body.
    assert "parameters.filters.segment" in answer.json()["errors"]


def test_insights_page_shows_value_of_experience(db: None, client: object) -> None:
    """A finished value run appears with churn by category, the threshold and money values."""
    import datetime as dt
    from decimal import Decimal

    from feedback.models import Customer

    rng = np.random.default_rng(3)
    customers = Customer.objects.bulk_create(
        [
            Customer(
                external_id=f"P-{i}",
                annual_revenue=Decimal("1000.00") + i,
                churned_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC) if rng.random() < 0.2 else None,
            )
            for i in range(500)
        ]
    )
    store_responses([{"customer": c, "nps": int(rng.integers(0, 11))} for c in customers])
    run = run_execute_now(kind="value", parameters={"replicates": 50})
    assert run.status == "succeeded", run.error
    client.force_login(viewer())  # type: ignore[attr-defined]
    html = client.get("/insights/").content.decode()  # type: ignore[attr-defined]
    assert "Value of experience" in html and "Detractor" in html
    assert "Threshold:" in html and "Revenue kept per year" in html


def test_a_run_stores_its_cleaned_scope_and_applies_it_when_it_executes(db: None) -> None:
    """Lists are de-duplicated and sorted, dates kept as days; the stored scope is what
    the run later counts, and the latest-result endpoint finds the run by that scope."""
    web = TouchpointFactory(slug="web-checkout")
    store_responses(
        [
            {"nps": 9, "touchpoint": web, "channel": "web"},
            {"nps": 3, "touchpoint": web, "channel": "phone"},
            {"nps": 5, "touchpoint": web, "channel": "email"},
        ]
    )
    filters = {"channel": "web, phone,web", "date_from": "2020-01-01"}

    run = run_execute_now(kind="topic_impact", parameters={"filters": filters})
    latest = _client(viewer()).get(
        "/api/v1/analytics/topic-impact/",
        {"channel": "phone,web", "date_from": "2020-01-01"},
    )

    assert run.parameters["filters"] == {"channel": ["phone", "web"], "date_from": "2020-01-01"}
    assert run.counts["responses"] == 2
    assert latest.status_code == 200
    assert latest.json()["run"]["id"] == run.pk
