"""Dashboards read ingest's tables from a replica when one is configured (``cxhub.replicas``).

The routing is checked with a router that records, for every read, whether the replica
block was open: the pages and exports of the dashboards and the topic pages read responses
there (a streamed export while it is sent, too); other pages, the API and every write do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import router
from django.test import Client

from cxhub.replicas import REPLICA, ReplicaRouter, replica_reads, replica_reads_active
from feedback.models import Department, Response
from tests.feedback.factories import ResponseFactory, cx_manager


@pytest.fixture
def with_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``replica`` database named in the settings (the router itself is not installed)."""
    monkeypatch.setitem(settings.DATABASES, REPLICA, settings.DATABASES["default"])


def test_without_a_replica_the_router_is_not_installed() -> None:
    assert REPLICA not in settings.DATABASES
    assert settings.DATABASE_ROUTERS == []
    with replica_reads():
        assert not replica_reads_active()


def test_reads_of_ingest_tables_go_to_the_replica_only_in_the_block(with_replica: None) -> None:
    replicas = ReplicaRouter()
    assert replicas.db_for_read(Response) == "default"
    with replica_reads():
        assert replicas.db_for_read(Response) == REPLICA
        assert replicas.db_for_read(Department) == "default"  # people write these
        assert replicas.db_for_write(Response) == "default"
    assert replicas.db_for_read(Response) == "default"
    assert replicas.allow_migrate("default", "feedback") is True
    assert replicas.allow_migrate(REPLICA, "feedback") is False


class _Recorder:
    """A router that records (model, replica block open) for each read and routes nothing."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, bool]] = []

    def db_for_read(self, model: type[Any], **hints: Any) -> None:
        self.reads.append((model._meta.label_lower, replica_reads_active()))

    def db_for_write(self, model: type[Any], **hints: Any) -> None:
        assert not replica_reads_active() or model._meta.label_lower != "feedback.response"


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, with_replica: None) -> Iterator[_Recorder]:
    recording = _Recorder()
    monkeypatch.setattr(router, "routers", [recording])
    yield recording


def _response_reads(recording: _Recorder) -> set[bool]:
    return {active for label, active in recording.reads if label == "feedback.response"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "from_replica"),
    [
        ("/", True),
        ("/verbatims/", True),
        ("/topics/", True),
        ("/export/verbatims.csv", True),  # streamed: read while it is sent
        ("/actions/", False),
        ("/api/v1/feedback/", False),
    ],
)
def test_the_dashboards_read_responses_from_the_replica(
    recorder: _Recorder, url: str, from_replica: bool
) -> None:
    ResponseFactory.create_batch(3, comment="The agent was friendly.")
    client = Client()
    client.force_login(cx_manager())
    recorder.reads.clear()

    answer = client.get(url)
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content

    assert answer.status_code == 200, body[:300]
    assert _response_reads(recorder) == {from_replica}
    assert not replica_reads_active()  # closed after the request


@pytest.mark.django_db
def test_a_post_to_a_dashboard_url_reads_the_primary(recorder: _Recorder) -> None:
    client = Client()
    client.force_login(cx_manager())
    ResponseFactory()
    recorder.reads.clear()
    client.post("/comments/new/", {"text": "x"})
    assert True not in _response_reads(recorder)
