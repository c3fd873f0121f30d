"""Faults injected against real processes: a private Redis, Celery workers and beat that this
test starts and kills, on the test's PostgreSQL database. Never in eager mode.

* A worker killed with SIGKILL twice in the middle of a batch: every response is processed
  exactly once (no duplicate mentions or alerts), and the work held by the dead workers is
  back within the lease plus the sweep's interval, not when Redis would redeliver it.
* The private Redis stopped and started ten times under a busy worker: the worker keeps
  consuming, and a canary task round-trips after each restart.
* gunicorn on the same database and Redis: ingest with the broker down (201s, then catch-up
  without manual steps), the database's connections terminated mid-bulk (JSON 503, and the
  retry stores exactly the rows), and 50 clients posting the same 200 items (stored once).

Each test prints the recovery times it measured (``pytest -s`` shows them).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Set
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from actions.models import Alert
from analytics.models import Topic, TopicMention
from feedback.models import Response
from ops.web_server import Gunicorn, free_port
from tests.feedback.factories import ResponseFactory, SourceAPIKeyFactory, TouchpointFactory

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 6
SWEEP_SECONDS = 3
COMMENTS = [
    "Waited forty minutes on hold and nobody called back, awful service.",
    "The bill was wrong again and the refund took weeks.",
    "Friendly agent, sorted my login problem in minutes.",
    "The app crashed twice while paying; very frustrating.",
]

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_taxonomy() -> None:
    """The default topics, as the data migration loads them: an earlier transactional test
    may have flushed them, and comments must be tagged as in production."""
    if not Topic.objects.exists():
        migration = importlib.import_module("analytics.migrations.0005_default_taxonomy")
        migration.load_default_taxonomy(django_apps, None)


def _wait(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.2) -> float:
    """Seconds until ``condition`` holds; fails after ``timeout`` naming ``what``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(every)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s")


class Redis:
    """A private ``redis-server`` on a free port, stopped and started at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                # As in docker-compose.yml: queued messages survive a restart.
                "--appendonly",
                "yes",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self._answers, timeout=20, what="Redis start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
            self.process = None


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


def _environment(redis_url: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        # The cache (heartbeat, throttles) in the private Redis too, away from other runs.
        "CXHUB_CACHE_URL": redis_url.rsplit("/", 1)[0] + "/1",
        "CXHUB_PROCESSING_LEASE_SECONDS": str(LEASE_SECONDS),
        "CXHUB_SWEEP_SECONDS": str(SWEEP_SECONDS),
    }


class Processes:
    """Celery workers and beat of this test; every one is stopped at the end."""

    def __init__(self, redis: Redis, logs: Path) -> None:
        self.redis = redis
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def _spawn(self, name: str, arguments: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "cxhub", *arguments],
            cwd=ROOT,
            env=_environment(self.redis.url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.started.append(process)
        return process

    def worker(self) -> subprocess.Popen[bytes]:
        return self._spawn(
            "worker",
            [
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"faults-{len(self.started)}@%h",
            ],
        )

    def beat(self) -> subprocess.Popen[bytes]:
        return self._spawn(
            "beat", ["beat", "--loglevel=INFO", "-s", str(self.logs / "beat-schedule")]
        )

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def processes(redis: Redis, request: pytest.FixtureRequest) -> Iterator[Processes]:
    logs = ROOT / "test-artifacts" / "faults" / request.node.name
    logs.mkdir(parents=True, exist_ok=True)
    group = Processes(redis, logs)
    yield group
    group.stop_all()


def _unprocessed_batch(count: int) -> list[int]:
    touchpoint = TouchpointFactory()
    responses = [
        ResponseFactory(
            touchpoint=touchpoint,
            nps=index % 11,
            comment=COMMENTS[index % len(COMMENTS)] + f" (visit {index})",
            submitted_at=timezone.now(),  # recent: detractors raise alerts
            processing_queued_at=None,
            processed_at=None,
        )
        for index in range(count)
    ]
    return [response.pk for response in responses]


def _held(*, besides: Set[int] = frozenset()) -> set[int]:
    """Responses a worker holds now (a lease, not yet processed), other than ``besides``."""
    held = Response.objects.filter(processed_at__isnull=True, processing_lease_until__isnull=False)
    return set(held.values_list("id", flat=True)) - besides


def test_a_worker_killed_twice_mid_batch_loses_and_duplicates_nothing(
    processes: Processes,
) -> None:
    ids = _unprocessed_batch(4_000)
    processes.beat()
    worker = processes.worker()
    kills: list[tuple[float, set[int]]] = []
    dead: set[int] = set()
    for _kill in range(2):
        # A chunk this worker took (the dead one's leases are still on the table).
        _wait(
            lambda dead=frozenset(dead): bool(_held(besides=dead)),
            timeout=120,
            what="a chunk in progress",
            every=0.05,
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        held = _held(besides=dead)
        dead |= held
        kills.append((time.monotonic(), held))
        worker = processes.worker()
    recoveries = []
    for killed_at, held in kills:
        _wait(
            lambda held=held: (
                not Response.objects.filter(id__in=held, processed_at__isnull=True).exists()
            ),
            timeout=LEASE_SECONDS + SWEEP_SECONDS + 120,
            what="the dead worker's responses processed",
        )
        recoveries.append(time.monotonic() - killed_at)
    _wait(
        lambda: not Response.objects.filter(id__in=ids, processed_at__isnull=True).exists(),
        timeout=300,
        what="every response processed",
    )
    print(
        f"\nresponses held by a killed worker processed {', '.join(f'{r:.1f} s' for r in recoveries)}"
        f" after the kill (lease {LEASE_SECONDS} s, sweep every {SWEEP_SECONDS} s)"
    )
    assert all(held for _, held in kills)

    assert Response.objects.filter(id__in=ids, processing_parked_at__isnull=False).count() == 0
    assert Response.objects.filter(id__in=ids, processing_attempts__gte=1).exists()
    duplicates = (
        TopicMention.objects.filter(response_id__in=ids)
        .values("response_id", "topic_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert TopicMention.objects.filter(response_id__in=ids).exists()
    alerts = Alert.objects.filter(response_id__in=ids).values("response_id").annotate(n=Count("id"))
    assert alerts.exists() and not alerts.filter(n__gt=1).exists()
    # Far sooner than Redis would redeliver (the visibility timeout).
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert max(recoveries) < min(visibility, 120)


def _canary(app: Celery) -> Any:
    return app.send_task("celery.accumulate", args=[7]).get(timeout=60)


def test_a_busy_worker_survives_ten_redis_restarts(processes: Processes, redis: Redis) -> None:
    ids = _unprocessed_batch(2_000)
    processes.beat()
    worker = processes.worker()
    app = Celery("faults-canary", broker=redis.url, backend=redis.url)
    app.conf.broker_connection_retry_on_startup = True
    try:
        assert _canary(app) == [7]
        round_trips = []
        for _cycle in range(10):
            # New work arrives all the time, so Redis goes away under a busy worker.
            ids += _unprocessed_batch(200)
            redis.stop()
            time.sleep(1)
            redis.start()
            start = time.monotonic()
            assert _canary(app) == [7]
            round_trips.append(time.monotonic() - start)
            assert worker.poll() is None, "the worker exited when Redis went away"
        _wait(
            lambda: not Response.objects.filter(id__in=ids, processed_at__isnull=True).exists(),
            timeout=300,
            what="every response processed after the restarts",
        )
    finally:
        app.close()
    print(f"\ncanary after each Redis restart: {', '.join(f'{r:.1f} s' for r in round_trips)}")
    assert worker.poll() is None
    assert max(round_trips) < 60


# --- the web process under faults: gunicorn on this test's database and private Redis -------


class Web(Gunicorn):
    """``gunicorn`` serving CXHub on a free port, with the test's database and private Redis."""

    def __init__(self, redis: Redis, logs: Path) -> None:
        super().__init__(
            env={
                **_environment(redis.url),
                # Production-configured, as behind a TLS proxy; only the key rate is raised.
                "DEBUG": "false",
                "SECRET_KEY": "faults-" + "x" * 60,
                "SECURE_SSL_REDIRECT": "false",
                "CXHUB_THROTTLE_API_KEY": "100000/min",
            },
            workers=2,
            threads=4,
            log=(logs / "gunicorn.log").open("wb"),
        )
        self.start()

    def post(self, path: str, body: Any, key: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Api-Key {key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status, json.loads(answer.read()), dict(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


@pytest.fixture
def web(redis: Redis, processes: Processes) -> Iterator[Web]:
    server = Web(redis, processes.logs)
    yield server
    server.stop()


@pytest.fixture
def source_key() -> str:
    TouchpointFactory(slug="desk")
    return str(SourceAPIKeyFactory().plain_key)


def _items(count: int, prefix: str) -> list[dict[str, Any]]:
    now = timezone.now().isoformat()
    return [
        {
            "external_id": f"{prefix}-{index}",
            "submitted_at": now,
            "touchpoint": "desk",
            "nps": index % 11,
            "comment": COMMENTS[index % len(COMMENTS)],
        }
        for index in range(count)
    ]


def test_ingest_with_the_broker_down_stores_then_catches_up(
    web: Web, redis: Redis, processes: Processes, source_key: str
) -> None:
    """Redis down: every post still answers 201 and is stored; once Redis, a worker and beat
    are back, everything is processed without anyone doing anything."""
    redis.stop()
    answers = [
        web.post("/api/v1/feedback/bulk/", _items(100, f"b{n}"), source_key) for n in range(3)
    ]
    single = web.post("/api/v1/feedback/", _items(1, "one")[0], source_key)
    assert [status for status, _, _ in answers] == [201, 201, 201] and single[0] == 201
    assert Response.objects.count() == 301
    assert Response.objects.filter(processed_at__isnull=True).count() == 301
    redis.start()
    processes.worker()
    processes.beat()
    caught_up = _wait(
        lambda: not Response.objects.filter(processed_at__isnull=True).exists(),
        timeout=180,
        what="catch-up after the broker came back",
    )
    print(f"\ncaught up {caught_up:.1f} s after Redis, a worker and beat came back")


def _terminate_connections() -> int:
    """Terminate every other connection to this test's database (the web's, the workers')."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def test_connections_terminated_mid_bulk_answer_503_and_the_retry_stores_exactly(
    web: Web, source_key: str
) -> None:
    """While a bulk of 5,000 is being stored its database connection is terminated: the answer
    is JSON 503 with Retry-After (or 201 had it finished first), nothing half-stored, and the
    same bulk posted again leaves exactly 5,000 responses."""
    items = _items(5_000, "t")
    outcome: dict[str, Any] = {}

    def post() -> None:
        outcome["answer"] = web.post("/api/v1/feedback/bulk/", items, source_key)

    thread = threading.Thread(target=post)
    thread.start()
    terminated = 0
    while thread.is_alive():
        terminated += _terminate_connections()
        time.sleep(0.05)
    thread.join()
    status, body, headers = outcome["answer"]
    assert status in (201, 503), (status, body)
    if status == 503:
        assert body["errors"] and "Retry-After" in headers
        assert Response.objects.count() in (0, 5_000)  # all or nothing
    assert terminated > 0
    status, body, _ = web.post("/api/v1/feedback/bulk/", items, source_key)
    assert status == 201, body
    assert Response.objects.filter(external_id__startswith="t-").count() == 5_000


def test_fifty_clients_posting_the_same_200_items_store_them_once(
    web: Web, source_key: str
) -> None:
    items = _items(200, "same")
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(
            pool.map(lambda _: web.post("/api/v1/feedback/bulk/", items, source_key), range(50))
        )
    # 201 when the post stored something, 200 when every item was already there.
    assert all(status in (200, 201) for status, _, _ in answers), [a[:2] for a in answers]
    assert sum(body["created"] for _, body, _ in answers) == 200
    assert sum(body["duplicates"] for _, body, _ in answers) == 200 * 49
    assert Response.objects.filter(external_id__startswith="same-").count() == 200
