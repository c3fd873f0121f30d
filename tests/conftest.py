"""Shared test set-up.

Tests marked ``services`` need PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``) and
run against a real Celery worker started here. On a newcomer's machine without them they
skip; with ``CI=true`` a missing service is a failure, never a skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from cxhub.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _redis_reachable() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


def services_missing_reason() -> str | None:
    """Why the PostgreSQL + Redis tests cannot run here, or None when they can."""
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return "DATABASE_URL does not point at PostgreSQL"
    if not _redis_reachable():
        return "REDIS_URL is not set or Redis does not answer"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if "services" not in item.keywords:
        return
    reason = services_missing_reason()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but services are missing: {reason}", pytrace=False)
    pytest.skip(f"needs PostgreSQL and Redis: {reason}")


@pytest.fixture(autouse=True)
def _no_cached_figures_between_tests() -> Iterator[None]:
    """Figures cached by one test (the shared cache and this process's memo of it) would
    otherwise be read by the next, whose data differ: rolled-back rows stay cached."""
    from dashboards.selectors import figures_forget

    cache.clear()
    figures_forget()
    yield
    cache.clear()
    figures_forget()


@pytest.fixture(autouse=True)
def _celery_eager_by_default() -> Iterator[None]:
    """Unit tests run tasks inline; the ``celery_worker`` fixture turns this off."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: object
) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``celery worker`` process on Redis, using the test database."""
    reason = services_missing_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true but services are missing: {reason}")
        pytest.skip(reason)
    db = settings.DATABASES["default"]
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": os.environ["REDIS_URL"],
    }
    # A queue of its own keeps a stray worker of another run from taking these messages.
    log_path = ROOT / "test-artifacts" / "celery-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cxhub",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            replies = celery_app.control.ping(timeout=1.0)
        except Exception:
            replies = []
        if any(f"test-{os.getpid()}@" in name for reply in replies for name in reply):
            ready = True
            break
        time.sleep(0.5)
    if not ready:
        process.kill()
        pytest.fail(f"Celery worker did not start; see {log_path}")
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def celery_worker(
    celery_worker_process: subprocess.Popen[bytes], transactional_db: None
) -> Iterator[subprocess.Popen[bytes]]:
    """Use in a test to send tasks to the real worker instead of running them inline."""
    celery_app.conf.task_always_eager = False
    yield celery_worker_process
    celery_app.conf.task_always_eager = True


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright, one per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()
