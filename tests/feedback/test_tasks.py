"""Processing tasks survive database errors: retry with back-off on a fresh connection,
a bounded number of times."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections

from cxhub.celery import app as celery_app
from feedback import services, tasks
from feedback.tasks import responses_process_task, retry_countdown


@pytest.fixture(autouse=True)
def retries_run_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inline, Celery runs a retry at once only when errors are not propagated (the retry's
    own ``apply`` would otherwise raise ``Retry``); the result still holds the error."""
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each close of the default database connection."""
    calls: list[str] = []
    connection = connections["default"]
    real_close = connection.close

    def close() -> None:
        calls.append("close")
        real_close()

    monkeypatch.setattr(connection, "close", close)
    return calls


def _flaky(failures: int, error: type[Exception], calls: list[Sequence[int]]) -> Any:
    def process(*, response_ids: Sequence[int]) -> int:
        calls.append(list(response_ids))
        if len(calls) <= failures:
            raise error("server closed the connection unexpectedly")
        return len(response_ids)

    return process


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_error_retries_the_batch_after_closing_the_connection(
    monkeypatch: pytest.MonkeyPatch, closed: list[str], error: type[Exception]
) -> None:
    """The batch that met a dead connection runs again, and the connection was closed first."""
    calls: list[Sequence[int]] = []
    monkeypatch.setattr(services, "responses_process", _flaky(1, error, calls))

    result = responses_process_task.apply(args=[[4, 5]])

    assert result.get() == 2
    assert calls == [[4, 5], [4, 5]]
    assert closed == ["close"]


def test_retries_are_bounded(monkeypatch: pytest.MonkeyPatch, closed: list[str]) -> None:
    """A database that stays down fails the task after the configured retries, not forever."""
    calls: list[Sequence[int]] = []
    monkeypatch.setattr(services, "responses_process", _flaky(100, OperationalError, calls))

    with pytest.raises(OperationalError):
        responses_process_task.apply(args=[[7]]).get()

    assert len(calls) == settings.CXHUB_TASK_MAX_RETRIES + 1
    assert len(closed) == len(calls)


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug is not a reason to retry: it fails at once."""
    calls: list[Sequence[int]] = []
    monkeypatch.setattr(services, "responses_process", _flaky(100, ValueError, calls))

    with pytest.raises(ValueError):
        responses_process_task.apply(args=[[7]]).get()

    assert len(calls) == 1


def test_retry_back_off_doubles_and_stays_below_the_visibility_timeout() -> None:
    """2, 4, 8 … seconds, never past the ceiling, which is below Redis's redelivery."""
    waits = [retry_countdown(n) for n in range(20)]

    assert waits[:4] == [2, 4, 8, 16]
    assert waits == sorted(waits)
    assert max(waits) == settings.CXHUB_TASK_RETRY_BACKOFF_MAX
    assert max(waits) < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


def test_a_connection_inside_a_transaction_is_left_to_its_owner(
    db: None, closed: list[str]
) -> None:
    """Run inline inside a request's or test's transaction, the task closes nothing."""
    from django.db import transaction

    with transaction.atomic():
        connections["default"].ensure_connection()
        tasks.database_connections_drop()

    assert closed == []
