"""How the workers scale out: 1 against 2 worker processes on tagging and on a fanned-out
driver analysis, against a loaded database (docs/scaling.md).

    python -m bench.workers --database-url postgres://…/cxhub_bench --processes 1 2

For each process count a Celery worker is started (``--concurrency N``, prefork, on the
``ingest`` and ``analyses`` queues, the broker ``--redis-url``) and two jobs are timed from
the first message published to the last result:

* **tagging**: the first ``--comments`` comments of the database, re-tagged by
  ``responses_tag_task`` in chunks of 1,000 (the size ingest queues processing in). Tagging is
  idempotent, so the database holds the same rows afterwards.
* **drivers**: a driver analysis (NPS, 12 drivers, ``--replicates`` bootstrap replicates) asked
  for with ``workers = --fan-out``, so that it fans out as a chord: one task per range of the
  256 chunks computes its chunks' statistics in SQL, and a merge task adds them up and
  bootstraps. The same run with ``workers = 1`` (one task, no fan-out) is timed beside it.

The machine, the load average before and after and the command are printed and written to
the JSON (``--json``); the worker's own log goes beside it (``….worker.log``). The database
must be loaded (``make bench`` leaves one); nothing of it changes but the re-tagged rows and
the analysis runs it adds. The broker's database is flushed before each worker starts: give
it one of its own (default ``BENCH_REDIS_URL``, db 15).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import machine

ROOT = Path(__file__).resolve().parents[1]
TAG_CHUNK = 1_000
QUEUES = "ingest,analyses,celery"


def _setup_django(database_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url  # a real broker: tasks are published, not run inline
    os.environ.pop("CXHUB_CACHE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)


def _flush(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


class Worker:
    """``celery worker --concurrency N`` on the bench's database and broker."""

    def __init__(
        self, *, processes: int, database_url: str, redis_url: str, log_path: Path
    ) -> None:
        self.processes = processes
        self.log_path = log_path
        self.name = f"bench-workers-{os.getpid()}-{processes}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
        }
        env.pop("CXHUB_CACHE_URL", None)
        self._command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cxhub",
            "worker",
            "--pool=prefork",
            f"--concurrency={processes}",
            f"--queues={QUEUES}",
            "--prefetch-multiplier=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
            "-n",
            f"{self.name}@%h",
        ]
        self._env = env
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Worker:
        from cxhub.celery import app

        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self._command, cwd=ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the worker exited with code {self.process.returncode}; see {self.log_path}"
                )
            try:
                replies = app.control.ping(timeout=1.0)
            except Exception:  # the broker may refuse while the worker starts
                replies = []
            if any(self.name in name for reply in replies for name in reply):
                return self
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the worker did not answer within 120 s; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def comment_ids(count: int) -> list[int]:
    from feedback.models import Response

    return list(
        Response.objects.exclude(comment="")
        .filter(erased_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:count]
    )


def tagging_seconds(ids: list[int]) -> float:
    """Wall time from publishing the chunks to the last one tagged."""
    from analytics.text.tasks import responses_tag_task

    started = time.perf_counter()
    results = [
        responses_tag_task.apply_async(args=[ids[start : start + TAG_CHUNK]], ignore_result=False)
        for start in range(0, len(ids), TAG_CHUNK)
    ]
    for result in results:
        result.get(timeout=3_600, propagate=True)
    return time.perf_counter() - started


def driver_run_seconds(*, fan_out: int, replicates: int) -> tuple[float, dict[str, Any]]:
    """Wall time from asking for a driver run to the worker finishing it; its counts."""
    from analytics.runs.models import AnalysisRun
    from analytics.runs.services import run_request

    started = time.perf_counter()
    run = run_request(
        kind="drivers",
        parameters={"outcome": "nps", "replicates": replicates, "workers": fan_out},
        requested_by=None,
    )
    finished = (AnalysisRun.Status.SUCCEEDED, AnalysisRun.Status.FAILED)
    deadline = time.monotonic() + 3_600
    while True:
        run.refresh_from_db(fields=["status", "error", "counts"])
        if run.status in finished:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"driver run {run.pk} did not finish within an hour")
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if run.status != AnalysisRun.Status.SUCCEEDED:
        raise RuntimeError(f"driver run {run.pk} failed: {run.error}")
    return seconds, dict(run.counts or {})


def measure(
    *, processes: int, args: argparse.Namespace, ids: list[int], log: Any
) -> dict[str, Any]:
    _flush(args.redis_url)
    log(f"Starting a worker with {processes} process(es) …")
    worker = Worker(
        processes=processes,
        database_url=args.database_url,
        redis_url=args.redis_url,
        log_path=args.json.with_suffix(".worker.log"),
    )
    with worker:
        log(f"  tagging {len(ids):,} comments in chunks of {TAG_CHUNK:,} …")
        tagging = tagging_seconds(ids)
        log(f"  a driver run fanned out over {args.fan_out} tasks …")
        fanned, counts = driver_run_seconds(fan_out=args.fan_out, replicates=args.replicates)
        log("  the same driver run as one task …")
        single, _ = driver_run_seconds(fan_out=1, replicates=args.replicates)
    return {
        "processes": processes,
        "tagging_seconds": tagging,
        "tagging_comments_per_s": len(ids) / tagging,
        "drivers_fanned_out_seconds": fanned,
        "drivers_one_task_seconds": single,
        "drivers_responses": counts.get("responses"),
        "drivers_tasks": counts.get("workers", args.fan_out),
    }


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"\n{'processes':>9} {'tagging comments/s':>19} {'drivers, fanned out':>20} "
        f"{'drivers, one task':>18}"
    )
    for row in results:
        print(
            f"{row['processes']:>9} {row['tagging_comments_per_s']:>19,.0f} "
            f"{row['drivers_fanned_out_seconds']:>18.2f} s {row['drivers_one_task_seconds']:>16.2f} s"
        )
    by_count = {row["processes"]: row for row in results}
    if 1 in by_count and 2 in by_count:
        one, two = by_count[1], by_count[2]
        print(
            f"\n2 processes against 1: tagging × "
            f"{two['tagging_comments_per_s'] / one['tagging_comments_per_s']:.2f}, "
            f"fanned-out drivers × "
            f"{one['drivers_fanned_out_seconds'] / two['drivers_fanned_out_seconds']:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workers", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxhub_bench"
        ),
        help="a loaded bench database (default BENCH_DATABASE_URL, else cxhub_bench)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="the broker, flushed before each worker starts (default BENCH_REDIS_URL, db 15)",
    )
    parser.add_argument(
        "--processes", type=int, nargs="+", default=[1, 2], help="worker processes (1 2)"
    )
    parser.add_argument("--comments", type=int, default=20_000, help="comments to tag")
    parser.add_argument("--fan-out", type=int, default=4, help="tasks a driver run fans out to")
    parser.add_argument("--replicates", type=int, default=1_000, help="bootstrap replicates")
    parser.add_argument(
        "--json", type=Path, default=Path("bench-workers.json"), help="where to write the JSON"
    )
    args = parser.parse_args(argv)
    if any(count < 1 for count in args.processes) or args.comments < 1 or args.fan_out < 2:
        parser.error("--processes and --comments must be at least 1, --fan-out at least 2")
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    facts = machine.machine_facts(args.database_url)
    load_before = machine.load_average()
    _setup_django(args.database_url, args.redis_url)
    ids = comment_ids(args.comments)
    if not ids:
        parser.error("the database holds no comments: load it first (make bench)")
    results = [measure(processes=count, args=args, ids=ids, log=log) for count in args.processes]
    _flush(args.redis_url)
    load_after = machine.load_average()
    print_table(results)
    command = machine.command_line(argv, module="bench.workers")
    print(f"\nMachine: {machine.describe(facts)}")
    print(f"Load average before: {load_before}, after: {load_after}")
    print(f"Command: {command}")
    args.json.write_text(
        json.dumps(
            {
                "command": command,
                "machine": facts,
                "load_average_before": load_before,
                "load_average_after": load_after,
                "comments": len(ids),
                "fan_out": args.fan_out,
                "replicates": args.replicates,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"JSON in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
