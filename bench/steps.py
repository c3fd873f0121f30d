"""The benchmark steps. Each returns rows of (figure, measured, target, ratio, verdict)."""

from __future__ import annotations

import http.client
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
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
    section: str = ""
    values: dict[str, Any] = field(default_factory=dict)


def print_table(rows: list[Row]) -> None:
    header = f"{'figure':<66} {'measured':>24} {'target':>22} {'ratio':>8}  verdict"
    print("\n" + header + "\n" + "-" * len(header))
    for row in rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        verdict = {True: "meets", False: "MISSES", None: "n/a"}[row.ok]
        print(f"{row.figure:<66} {row.measured:>24} {row.target:>22} {ratio:>8}  {verdict}")
        if row.note:
            print(f"    {row.note}")


def write_json(rows: list[Row], path: Path, *, meta: dict[str, Any]) -> None:
    """The table as JSON: each row's text, verdict and the numbers behind it."""
    path.write_text(
        json.dumps({**meta, "rows": [asdict(row) for row in rows]}, indent=2, default=str) + "\n"
    )


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("CXHUB_CACHE_URL", None)
    # Notifications of the generated actions are not news: keep their e-mails in memory.
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
    import logging

    import django

    django.setup()
    # Each task run eagerly, sign-in and estimate logs an INFO line: the bench prints its own.
    logging.disable(logging.INFO)
    # Pages are measured with DEBUG off, as production serves them: Django then keeps no text
    # of each query and templates render without debug information. It is switched off after
    # set-up, so the settings derived from it at import stay the development ones the test
    # client needs (static files without collectstatic's manifest, no redirect to https).
    from django.conf import settings

    settings.DEBUG = False


TEMPLATE_DATABASE = "cxhub_bench_migrated"


def _admin_url(database_url: str) -> tuple[str, str]:
    parsed = urlparse(database_url)
    return parsed._replace(path="/postgres").geturl(), parsed.path.lstrip("/")


def _recreate_database(database_url: str) -> None:
    """A new empty database: a copy of the migrated template when there is one (migrating
    from nothing takes half a minute on a busy machine), else a blank one."""
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
        except psycopg.Error:  # no template yet, or in use by another run's refresh
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    """Drop the run's database (``bench-quick`` leaves none behind but the template)."""
    import psycopg
    from django.conf import settings
    from django.db import connections

    if settings.configured:
        connections.close_all()
    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(database_url: str, *, fresh: bool) -> None:
    """Apply the migrations; when any ran on a fresh database, keep it as the template."""
    import psycopg
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    def applied() -> int:
        return MigrationRecorder(connection).migration_qs.count() if _has_migrations() else 0

    before = applied()
    call_command("migrate", verbosity=0)
    if not fresh or applied() == before:
        return
    connection.close()
    admin, name = _admin_url(database_url)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}" TEMPLATE "{name}"')
    except psycopg.Error as error:  # only slower next time
        _say(f"(could not keep the migrated template: {error})")


def _has_migrations() -> bool:
    from django.db import connection

    return "django_migrations" in connection.introspection.table_names()


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

    They go through psycopg's ``write_row``, the call the ingest service makes, with the
    times as text as the service gives them, so the baseline is what the driver does with
    the same rows and the ratio measures what the product adds on top (HTTP, validation,
    duplicates).
    """
    from datetime import datetime

    now = datetime.now().astimezone().isoformat()
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


COPY_COLUMNS = (
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


def _copy_seconds(chunks: list[list[dict[str, Any]]], *, table: str, source: Any) -> float:
    """Time of ``COPY`` of every chunk into ``table``, one commit per chunk, rows pre-built."""
    from django.db import connection

    from feedback.models import Touchpoint

    touchpoint_ids = dict(Touchpoint.objects.values_list("slug", "id"))
    connection.ensure_connection()
    raw = connection.connection
    seconds = 0.0
    for chunk in chunks:
        rows = _copy_rows(chunk, source.pk, touchpoint_ids)
        started = time.perf_counter()
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        raw.commit()
        seconds += time.perf_counter() - started
    return seconds


def copy_baselines(*, chunks: list[list[dict[str, Any]]], source: Any) -> list[Row]:
    """Raw COPY into ``feedback_response`` as it is, then into a scratch copy of it that has
    only its primary key: the price of the secondary indexes, and the physical limit."""
    from django.db import connection

    from feedback.models import Customer

    responses = sum(len(chunk) for chunk in chunks)
    _say("Baseline: raw COPY of the same rows into feedback_response …")
    with_indexes = _copy_seconds(chunks, table="feedback_response", source=source)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE feedback_response RESTART IDENTITY CASCADE")
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'feedback_response'")
        indexes = cursor.fetchone()[0]
    Customer.objects.all().delete()
    _say("Baseline: raw COPY into a copy of the table with no secondary index …")
    scratch = "bench_response_no_indexes"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
        cursor.execute(
            f"CREATE TABLE {scratch} (LIKE feedback_response INCLUDING DEFAULTS INCLUDING "
            "IDENTITY INCLUDING GENERATED)"
        )
        cursor.execute(f"ALTER TABLE {scratch} ADD PRIMARY KEY (id)")
    try:
        without_indexes = _copy_seconds(chunks, table=scratch, source=source)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
    rate, bare_rate = responses / with_indexes, responses / without_indexes
    return [
        Row(
            "raw COPY into feedback_response (baseline)",
            f"{rate:,.0f} rows/s",
            "-",
            None,
            None,
            f"{indexes} indexes on the table",
            section="ingest",
            values={"rows_per_s": rate, "rows": responses, "indexes": indexes},
        ),
        Row(
            "raw COPY, no secondary index (physical limit)",
            f"{bare_rate:,.0f} rows/s",
            "-",
            None,
            None,
            f"{bare_rate / rate:.2f} × COPY with the indexes; primary key only, no foreign key",
            section="ingest",
            values={"rows_per_s": bare_rate, "rows": responses, "ratio_to_copy": bare_rate / rate},
        ),
    ]


@dataclass
class HttpIngest:
    """What the HTTP bulk posts of one or more batches took and stored."""

    seconds: float = 0.0
    rows: int = 0
    created: int = 0
    failures: list[str] = field(default_factory=list)


def ingest_server(*, database_url: str, redis_url: str) -> Gunicorn:
    """gunicorn as compose runs it (two workers, the broker set: posts store and queue)."""
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
    # --preload: the app is imported once, not once per worker (half the boot on a busy machine);
    # requests are served the same way.
    return Gunicorn(
        env=env,
        workers=2,
        timeout=300,
        log=None,
        extra_args=("--log-level", "warning", "--preload"),
    )


def http_ingest(
    *, bodies: list[bytes], rows: int, server: Gunicorn, key: str, into: HttpIngest
) -> HttpIngest:
    """POST ``bodies`` to ``/api/v1/feedback/bulk/`` on ``server``, two clients; adds to ``into``."""
    if server.process is None:
        _say("Starting gunicorn …")
        server.start()
    port = server.port
    _say(f"HTTP bulk ingest through gunicorn ({len(bodies)} posts) …")
    work: queue.Queue[bytes] = queue.Queue()
    for body in bodies:
        work.put(body)
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
                    into.failures.append(f"{answer.status}: {payload[:200]!r}")
                else:
                    into.created += json.loads(payload)["created"]
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    into.seconds += time.perf_counter() - started
    into.rows += rows
    return into


def http_ingest_rows(*, ingest: HttpIngest, copy_rows: list[Row]) -> list[Row]:
    from feedback.models import Response

    copy_rate = copy_rows[0].values["rows_per_s"]
    http_rate = ingest.rows / ingest.seconds
    stored = Response.objects.count()
    ratio = http_rate / copy_rate
    note = f"stored {stored:,} rows; HTTP created {ingest.created:,}"
    if ingest.failures:
        note += f"; {len(ingest.failures)} failed posts, first: {ingest.failures[0]}"
    return [
        Row(
            "bulk ingest through HTTP, validation included",
            f"{http_rate:,.0f} rows/s",
            "≥ 0.50 × COPY",
            ratio,
            ratio >= 0.5 and not ingest.failures and stored == ingest.rows,
            note,
            section="ingest",
            values={"rows_per_s": http_rate, "rows": ingest.rows, "ratio_to_copy": ratio},
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


def run_all(
    *,
    responses: int,
    database_url: str,
    redis_url: str,
    keep: bool,
    actions: int = 500,
    repeat: int = 20,
    impact_actions: int = 20,
    quick: bool = False,
) -> list[Row]:
    """Load a programme at a tenth of ``responses``, measure every page; load the rest,
    measure again, and measure ingest, tagging and the analyses on the way."""
    if not keep:
        _recreate_database(database_url)
    _setup_django(database_url)

    from bench import analysis_steps, page_steps, programme
    from bench.data import feedback_items
    from feedback.models import Department, Response
    from feedback.services import source_api_key_create

    _migrate(database_url, fresh=not keep)
    source, touchpoints = _organisation()
    rows: list[Row] = []
    say = _say
    copy_rows: list[Row] = []
    sizes = [0, 0]
    if keep and Response.objects.exists():
        parts: list[list[bytes]] = []
        say("Reusing the loaded database: no ingest figures.")
    else:
        say("Topics: the default taxonomy, then generated ones up to ~200 …")
        say(f"  {programme.topics_create()} topics created")
        chunk = max(1_000, min(10_000, responses // 20))
        say(f"Generating {responses:,} feedback items …")
        chunks = list(feedback_items(count=responses, touchpoints=touchpoints, chunk=chunk))
        copy_rows = _guard("copy", lambda: copy_baselines(chunks=chunks, source=source))
        rows += copy_rows
        first = max(1, len(chunks) // 10)
        parts = [
            [json.dumps(part).encode() for part in chunks[:first]],
            [json.dumps(part).encode() for part in chunks[first:]],
        ]
        sizes = [sum(len(part) for part in chunks[:first]), sum(len(p) for p in chunks[first:])]
        del chunks
    ingest = HttpIngest()
    server = ingest_server(database_url=database_url, redis_url=redis_url)
    key = source_api_key_create(source=source, name="bench")[1] if parts else ""
    try:
        if parts:
            rows += _guard(
                "ingest (first tenth)",
                lambda: _no_rows(
                    http_ingest, bodies=parts[0], rows=sizes[0], server=server, key=key, into=ingest
                ),
            )
        departments = list(
            Department.objects.filter(slug__startswith="bench-dept-").order_by("slug")
        )
        rows += _guard("programme", lambda: _programme(departments, actions, impact_actions))
        small_size = Response.objects.count()
        rows += _guard("roll-up refresh", lambda: rollups_refresh(responses=small_size))
        statistics_refresh()
        say(f"Pages, exports and API at {small_size:,} responses …")
        small = page_steps.measure_all(responses=small_size, repeat=repeat, log=say)
        if parts:
            rows += _guard(
                "ingest (the rest)",
                lambda: _no_rows(
                    http_ingest, bodies=parts[1], rows=sizes[1], server=server, key=key, into=ingest
                ),
            )
    finally:
        server.stop()
        _flush_redis(redis_url)
    if parts:
        rows += _guard("ingest", lambda: http_ingest_rows(ingest=ingest, copy_rows=copy_rows))
    sample = 1_000 if quick else analysis_steps.TAGGING_SAMPLE
    rows += _guard("tagging", lambda: analysis_steps.tagging(sample=sample))
    say("Processing (tagging, alerts) of the rest, untimed …")
    rows += _guard("processing", lambda: _no_rows(programme.responses_process_all, log=say))
    rows += _guard("analyses", lambda: analysis_steps.analyses(impact_actions=impact_actions))
    full_size = Response.objects.count()
    rows += _guard("roll-up refresh", lambda: rollups_refresh(responses=full_size))
    statistics_refresh()
    say(f"Pages, exports and API at {full_size:,} responses …")
    full = page_steps.measure_all(responses=full_size, repeat=repeat, log=say)
    rows += page_steps.page_rows(small, full)
    rows += page_steps.export_rows(small, full)
    rows += page_steps.api_rows(small, full)
    rows += _guard("drivers", analysis_steps.drivers_from_database)
    shapley_rows, shapley_drivers = (10_000, 8) if quick else (100_000, 12)
    rows += _guard(
        "shapley",
        lambda: analysis_steps.shapley_against_pingouin(rows=shapley_rows, p=shapley_drivers),
    )
    return rows


def rollups_refresh(*, responses: int) -> list[Row]:
    """The roll-ups brought up to date before the pages are measured, as the workers do
    after ingest and processing; its wall time is a row of its own, not part of any page."""
    from analytics.responses.rollups import rollups_refresh_all

    _say("Roll-up refresh (daily score counts, …), untimed for the pages …")
    started = time.perf_counter()
    days = rollups_refresh_all()
    seconds = time.perf_counter() - started
    return [
        Row(
            f"roll-up refresh @ {responses:,}",
            f"{seconds * 1000:,.0f} ms",
            "-",
            None,
            None,
            f"{days:,} days recomputed from raw responses (every roll-up), before the pages",
            section="ingest",
            values={"seconds": seconds, "days": days, "responses": responses},
        )
    ]


def statistics_refresh() -> None:
    """``VACUUM ANALYZE`` the loaded database, as autovacuum does after a bulk load.

    The bench's PostgreSQL may run with autovacuum off (CI configurations turn it off), and
    then the planner measures pages on a freshly loaded database with no statistics at all
    and no visibility map: it guesses row counts from table sizes (parallel plans for a
    50-row page, a loop over every topic for each exported comment) and cannot use an
    index-only scan. A production database has both within minutes of a load.
    """
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _say(
        f"VACUUM ANALYZE, as autovacuum would after the load ({time.perf_counter() - started:.0f} s)"
    )


def _no_rows(call: Callable[..., Any], **arguments: Any) -> list[Row]:
    """Run a step that prepares data and has no figure of its own."""
    call(**arguments)
    return []


_STARTED = time.perf_counter()


def _say(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:6.0f} s] {message}", flush=True)


def _programme(departments: list[Any], actions: int, impact_actions: int) -> list[Row]:
    """Actions, KPIs, processing and the analyses the pages show, at the first size; untimed."""
    import datetime as dt

    from django.contrib.auth.models import User

    from bench import programme

    say = _say
    say("Processing (tagging, alerts) of the first tenth …")
    programme.responses_process_all(log=say)
    say("KPI observations: two years, weekly, per department …")
    say(f"  {programme.kpi_observations_create(departments=departments, end=dt.date(2026, 11, 1))}")
    managers = programme.line_managers(departments)
    say(f"Actions: {actions} across the departments, in every status …")
    statuses = programme.actions_create(
        count=actions,
        cx=User.objects.get(username="bench-cx"),
        departments=departments,
        managers=managers,
        log=say,
    )
    say(f"  {statuses}")
    say("Analyses for the pages (every kind once) …")
    failed = programme.analyses_run(impact_actions=impact_actions, log=say)
    if failed:
        return [
            Row(
                "programme analyses: failed",
                f"{len(failed)} runs",
                "-",
                None,
                False,
                "; ".join(failed)[:300],
                section="analyses",
            )
        ]
    return []


def _guard(name: str, step: Callable[[], list[Row]]) -> list[Row]:
    """A failing step is reported in the table instead of ending the whole run."""
    try:
        return step()
    except Exception as error:
        import traceback

        traceback.print_exc()
        return [Row(f"{name}: failed", type(error).__name__, "-", None, False, str(error)[:200])]
