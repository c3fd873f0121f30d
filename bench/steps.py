"""The benchmark steps. Each returns rows of (figure, measured, target, ratio, verdict)."""

from __future__ import annotations

import http.client
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ops.web_server import Gunicorn


@dataclass
class Row:
    figure: str
    measured: str
    target: str
    ratio: float | None
    ok: bool | None
    note: str = ""


def print_table(rows: list[Row]) -> None:
    header = f"{'figure':<58} {'measured':>24} {'target':>22} {'ratio':>8}  verdict"
    print("\n" + header + "\n" + "-" * len(header))
    for row in rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        verdict = {True: "meets", False: "MISSES", None: "n/a"}[row.ok]
        print(f"{row.figure:<58} {row.measured:>24} {row.target:>22} {ratio:>8}  {verdict}")
        if row.note:
            print(f"    {row.note}")


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
    import django

    django.setup()


def _recreate_database(database_url: str) -> None:
    import psycopg

    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _organisation() -> tuple[Any, list[str]]:
    from django.contrib.auth.models import Group, User

    from bench.data import DRIVERS
    from feedback.models import Attribute, Department, Journey, Source, Touchpoint

    departments = [
        Department.objects.get_or_create(name=f"Bench department {i}", slug=f"bench-dept-{i}")[0]
        for i in range(6)
    ]
    journey, _ = Journey.objects.get_or_create(name="Bench journey", slug="bench-journey")
    slugs = []
    for i in range(25):
        touchpoint, _ = Touchpoint.objects.get_or_create(
            slug=f"bench-tp-{i}",
            defaults={
                "journey": journey,
                "step": f"Step {i // 5}",
                "name": f"Touchpoint {i}",
                "department": departments[i % 6],
            },
        )
        slugs.append(touchpoint.slug)
    for slug in DRIVERS:
        Attribute.objects.get_or_create(
            slug=slug, defaults={"label": slug.replace("_", " ").capitalize()}
        )
    source, _ = Source.objects.get_or_create(
        name="bench-survey", defaults={"kind": Source.Kind.SURVEY}
    )
    user, created = User.objects.get_or_create(username="bench-cx", defaults={"is_staff": True})
    if created:
        user.set_password("bench-password-123")
        user.save()
    user.groups.add(Group.objects.get(name="cx_manager"))
    return source, slugs


# --- 1. ingest -------------------------------------------------------------------------------


def _copy_rows(
    items: list[dict[str, Any]], source_id: int, touchpoint_ids: dict[str, int]
) -> list[tuple[Any, ...]]:
    """The rows as COPY takes them, built before timing so the baseline is COPY alone.

    They go through psycopg's ``write_row``, the call the ingest service makes, so the
    baseline is what the driver does with the same rows and the ratio measures what the
    product adds on top (HTTP, validation, duplicates).
    """
    from datetime import datetime

    now = datetime.now().astimezone()
    return [
        (
            source_id,
            item["external_id"],
            item["submitted_at"],
            item["channel"],
            touchpoint_ids[item["touchpoint"]],
            item.get("nps"),
            item.get("csat"),
            item.get("ces"),
            json.dumps(item["ratings"]),
            item.get("comment", ""),
            json.dumps(item["attributes"]),
            "0" * 64,
            now,
            now,
        )
        for item in items
    ]


def ingest(
    *, responses: int, database_url: str, redis_url: str, source: Any, touchpoints: list[str]
) -> list[Row]:
    from django.db import connection

    from bench.data import feedback_items
    from feedback.models import Customer, Response, Touchpoint
    from feedback.services import source_api_key_create

    touchpoint_ids = dict(Touchpoint.objects.values_list("slug", "id"))
    print(f"Generating {responses:,} feedback items …", flush=True)
    chunks = list(feedback_items(count=responses, touchpoints=touchpoints))
    bodies = [json.dumps(chunk).encode() for chunk in chunks]

    print("Baseline: raw COPY of the same rows into feedback_response …", flush=True)
    columns = (
        "source_id",
        "external_id",
        "submitted_at",
        "channel",
        "touchpoint_id",
        "nps",
        "csat",
        "ces",
        "ratings",
        "comment",
        "attributes",
        "content_hash",
        "created_at",
        "updated_at",
    )
    copy_seconds = 0.0
    raw = (
        connection.connection
        if connection.connection
        else (connection.ensure_connection() or connection.connection)
    )
    for chunk in chunks:
        rows = _copy_rows(chunk, source.pk, touchpoint_ids)
        started = time.perf_counter()
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY feedback_response ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        raw.commit()
        copy_seconds += time.perf_counter() - started
    copy_rate = responses / copy_seconds
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE feedback_response RESTART IDENTITY CASCADE")
    Customer.objects.all().delete()

    _, key = source_api_key_create(source=source, name="bench")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }
    server = Gunicorn(
        env=env, workers=2, timeout=300, log=None, extra_args=("--log-level", "warning")
    )
    try:
        server.start()
        port = server.port
        print(f"HTTP bulk ingest through gunicorn ({len(bodies)} posts of ≤10,000) …", flush=True)
        work: queue.Queue[bytes] = queue.Queue()
        for body in bodies:
            work.put(body)
        failures: list[str] = []
        created = [0]
        lock = threading.Lock()

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    break
                conn.request(
                    "POST",
                    "/api/v1/feedback/bulk/",
                    body=body,
                    headers={"Content-Type": "application/json", "Authorization": f"Api-Key {key}"},
                )
                answer = conn.getresponse()
                payload = answer.read()
                with lock:
                    if answer.status >= 300:
                        failures.append(f"{answer.status}: {payload[:200]!r}")
                    else:
                        created[0] += json.loads(payload)["created"]
            conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        http_seconds = time.perf_counter() - started
    finally:
        server.stop()
        _flush_redis(redis_url)
    http_rate = responses / http_seconds
    stored = Response.objects.count()
    ratio = http_rate / copy_rate
    note = f"stored {stored:,} rows; HTTP created {created[0]:,}"
    if failures:
        note += f"; {len(failures)} failed posts, first: {failures[0]}"
    return [
        Row(
            "raw COPY into feedback_response (baseline)",
            f"{copy_rate:,.0f} rows/s",
            "-",
            None,
            None,
        ),
        Row(
            "bulk ingest through HTTP, validation included",
            f"{http_rate:,.0f} rows/s",
            "≥ 0.50 × COPY",
            ratio,
            ratio >= 0.5 and not failures and stored == responses,
            note,
        ),
    ]


def _flush_redis(redis_url: str) -> None:
    try:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    except Exception as error:  # the bench goes on; queued messages are only left behind
        print(f"(could not flush {redis_url}: {error})")


# --- shared timing helpers ---------------------------------------------------------------------


def _p95(samples: list[float]) -> float:
    return float(np.percentile(np.array(samples), 95))


def _time_calls(call: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def run_all(*, responses: int, database_url: str, redis_url: str, keep: bool) -> list[Row]:
    if not keep:
        _recreate_database(database_url)
    _setup_django(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    source, touchpoints = _organisation()
    rows: list[Row] = []
    from feedback.models import Response

    if not keep or Response.objects.count() == 0:
        rows += _guard(
            "ingest",
            lambda: ingest(
                responses=responses,
                database_url=database_url,
                redis_url=redis_url,
                source=source,
                touchpoints=touchpoints,
            ),
        )
    for name, step in _later_steps():
        rows += _guard(name, step)
    return rows


def _guard(name: str, step: Callable[[], list[Row]]) -> list[Row]:
    """A failing step is reported in the table instead of ending the whole run."""
    try:
        return step()
    except Exception as error:
        import traceback

        traceback.print_exc()
        return [Row(f"{name}: failed", type(error).__name__, "-", None, False, str(error)[:200])]


def _later_steps() -> list[tuple[str, Callable[[], list[Row]]]]:
    from bench import analysis_steps

    return analysis_steps.STEPS
