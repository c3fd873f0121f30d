"""`make bench`: DESIGN.md §5's figures, each as a ratio against its baseline, taken in one run.

Runs on PostgreSQL (``BENCH_DATABASE_URL``, default a fresh ``cxhub_bench`` database on
127.0.0.1) at realistic scale (``--responses``, default 1,000,000). Steps:

1. ingest: the same rows by raw ``COPY`` into ``feedback_response`` (baseline), then by HTTP
   ``POST /api/v1/feedback/bulk/`` to gunicorn with validation (target ≥ 50% of COPY).
2. tagging: topics + aspect sentiment read from and written to the database, one process
   (target ≥ 3,000 comments/s; plain VADER alone is measured as the reference).
3. drivers: exact Shapley on 12 drivers with bootstrap intervals from the database (≤ 10 s),
   and exact Shapley alone on in-memory data against pingouin (≥ 10×, equal to 1e-9).
4. the programme around the responses (``bench/programme.py``): ~200 topics, actions in every
   status with target KPIs, scopes and controls, two years of weekly KPIs per department, and
   every analysis once, written through the services and not timed.
   Before the pages are measured the roll-ups are refreshed, as the workers do after ingest
   and processing; its wall time is the row "roll-up refresh @ N", not part of any page.
5. pages (``bench/page_steps.py``): every main-menu page and the action, impact, department,
   report and topic pages, cold (caches cleared) and warm p50/p95, with the SQL query count,
   at a tenth of the responses and at all of them; every CSV export and the printable report
   (rows/s, peak memory); the API list and detail endpoints (p50/p95, queries).
6. the analysis runs (drivers, topic impact, value, theme discovery, impact): wall time and
   peak memory.

The table is printed and written as JSON (``--json``, default ``bench-results.json``).
``--quick`` is ``make bench-quick``: 10,000 responses, 60 actions, 2 repeats.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench import machine, steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--responses", type=int, default=None, help="default 1,000,000 (10,000 with --quick)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxhub_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    parser.add_argument(
        "--keep", action="store_true", help="reuse the loaded database (skip ingest)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10,000 responses, 60 actions, 2 repeats: checks every figure is produced",
    )
    parser.add_argument("--actions", type=int, default=None, help="actions (default 500)")
    parser.add_argument("--repeat", type=int, default=None, help="warm requests per page")
    parser.add_argument(
        "--json", type=Path, default=Path("bench-results.json"), help="where to write the JSON"
    )
    args = parser.parse_args(argv)
    responses = args.responses or (10_000 if args.quick else 1_000_000)
    if responses < 10_000:
        parser.error("--responses must be at least 10,000")
    actions = args.actions if args.actions is not None else (60 if args.quick else 500)
    repeat = args.repeat if args.repeat is not None else (2 if args.quick else 20)
    if actions < 10 or repeat < 1:
        parser.error("--actions must be at least 10 and --repeat at least 1")
    facts = machine.machine_facts(args.database_url)
    load_before = machine.load_average()
    started = time.perf_counter()
    try:
        rows = steps.run_all(
            responses=responses,
            database_url=args.database_url,
            redis_url=args.redis_url,
            keep=args.keep,
            actions=actions,
            repeat=repeat,
            impact_actions=3 if args.quick else 20,
            quick=args.quick,
        )
    finally:
        if args.quick and not args.keep:  # a quick run's data are worth nothing afterwards
            steps.drop_database(args.database_url)
    seconds = time.perf_counter() - started
    load_after = machine.load_average()
    steps.print_table(rows)
    steps.write_json(
        rows,
        args.json,
        meta={
            "responses": responses,
            "actions": actions,
            "repeat": repeat,
            "quick": args.quick,
            "seconds": seconds,
            "command": machine.command_line(argv),
            "machine": facts,
            "load_average_before": load_before,
            "load_average_after": load_after,
            # the 1/5/15-minute load at the end, as before (kept for older readers)
            "load_average": load_after,
        },
    )
    print(f"\nMachine: {machine.describe(facts)}")
    print(f"Load average before: {load_before}, after: {load_after}")
    print(f"Command: {machine.command_line(argv)}")
    print(f"Total bench time: {seconds:.0f} s for {responses:,} responses; JSON in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
