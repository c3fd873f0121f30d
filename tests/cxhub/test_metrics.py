"""/metrics: Prometheus text for the holder of the metrics token, figures from the same
selectors as readiness; nobody else gets in."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from feedback import services
from feedback.models import Response
from feedback.tasks import responses_process_task
from tests.feedback.factories import ResponseFactory, SourceFactory, cx_manager

TOKEN = "s3cret-metrics-token"


@pytest.fixture
def token(settings: Any) -> str:
    settings.CXHUB_METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(client: Client, token: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.mark.django_db
def test_metrics_are_off_without_a_token(client: Client, settings: Any) -> None:
    """No CXHUB_METRICS_TOKEN configured: the route answers 404, even with a bearer header."""
    settings.CXHUB_METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Token {TOKEN}", f"Bearer {TOKEN}x", f"Api-Key {TOKEN}"],
)
def test_a_missing_or_wrong_token_is_refused(
    client: Client, token: str, authorization: str | None
) -> None:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"cxhub_" not in response.content


@pytest.mark.django_db
def test_a_signed_in_cx_manager_needs_the_token_too(client: Client, token: str) -> None:
    client.force_login(cx_manager())

    assert client.get("/metrics").status_code == 401


@pytest.mark.django_db
def test_metrics_report_ingest_backlog_lag_and_checks(client: Client, token: str) -> None:
    """Counts by source, the unprocessed backlog and its age, as the readiness check has them."""
    survey, crm = SourceFactory(name="survey"), SourceFactory(name="crm")
    ResponseFactory.create_batch(3, source=survey, processed_at=timezone.now())
    waiting = ResponseFactory.create_batch(2, source=crm)
    Response.objects.filter(id__in=[r.id for r in waiting]).update(
        processed_at=None, created_at=timezone.now() - dt.timedelta(minutes=3)
    )

    samples = _scrape(client, token)

    assert samples[("cxhub_responses_ingested_total", (("source", "survey"),))] == 3
    assert samples[("cxhub_responses_ingested_total", (("source", "crm"),))] == 2
    assert samples[("cxhub_responses_unprocessed", ())] == 2
    assert 170 <= samples[("cxhub_processing_lag_seconds", ())] <= 200
    assert samples[("cxhub_check_up", (("check", "database"),))] == 1
    assert samples[("cxhub_check_up", (("check", "processing"),))] == 1


@pytest.mark.django_db
def test_task_failures_are_counted_by_task(
    client: Client, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed task (Celery's task_failure signal) raises its counter by one."""
    from cxhub.celery import app as celery_app

    name = responses_process_task.name
    before = _scrape(client, token).get(("cxhub_celery_task_failures_total", (("task", name),)))

    def broken(*, response_ids: list[int]) -> int:
        raise ValueError("a bug")

    monkeypatch.setattr(services, "responses_process", broken)
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    responses_process_task.apply(args=[[1]])
    responses_process_task.apply(args=[[2]])

    after = _scrape(client, token)[("cxhub_celery_task_failures_total", (("task", name),))]
    assert before == 0
    assert after == 2
