"""Concurrent duplicates against PostgreSQL: exactly one row, whoever wins the race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from feedback.models import Customer, Response
from feedback.services import responses_ingest_bulk
from tests.feedback.conftest import feedback_item

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("transactional_db", "organisation")]


def _race(workers: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``workers`` threads released at the same moment."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # surfaced in the assertions below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_posts_of_the_same_item_store_one_row(api_key: Any) -> None:
    """Eight simultaneous posts of one item: one 201, seven 200s with the same id, one row."""
    assert connection.vendor == "postgresql"

    def post(_: int) -> tuple[int, int]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.plain_key}")
        answer = client.post(
            "/api/v1/feedback/", feedback_item(customer_id="C-RACE"), format="json"
        )
        return answer.status_code, answer.json().get("id")

    results = _race(8, post)

    assert all(isinstance(result, tuple) for result in results), results
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 7 + [201]
    assert len({pk for _, pk in results}) == 1
    assert Response.objects.count() == 1
    assert Customer.objects.filter(external_id="C-RACE").count() == 1


def test_concurrent_conflicting_posts_store_one_and_refuse_the_other(api_key: Any) -> None:
    """Two different contents under one id at once: one is stored (201), the other is a 409."""

    def post(i: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.plain_key}")
        return client.post("/api/v1/feedback/", feedback_item(nps=i), format="json").status_code

    results = _race(2, post)

    assert sorted(results) == [201, 409]
    assert Response.objects.count() == 1


def test_concurrent_overlapping_bulk_batches_store_the_union_once(api_key: Any) -> None:
    """Overlapping bulk batches posted at once store every item exactly once and count the rest as duplicates."""
    source = api_key.source
    batches = [
        [
            feedback_item(external_id=f"r{n}", customer_id=f"C{n % 50}")
            for n in range(start, start + 1_500)
        ]
        for start in (0, 500, 1_000, 0)
    ]

    results = _race(4, lambda i: responses_ingest_bulk(source=source, items=batches[i]))

    assert all(not isinstance(result, Exception) for result in results), results
    assert sum(result.created for result in results) == 2_500
    assert sum(result.created + result.duplicates for result in results) == 6_000
    assert all(result.rejected == 0 for result in results)
    assert Response.objects.filter(source=source).count() == 2_500
    assert Customer.objects.count() == 50
