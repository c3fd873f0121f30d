"""`make bench`: DESIGN.md §5's figures, each as a ratio against its baseline, taken in one run.

Runs on PostgreSQL (``BENCH_DATABASE_URL``, default a fresh ``cxhub_bench`` database on
127.0.0.1) at realistic scale (``--responses``, default 1,000,000). Steps:

1. ingest: the same rows by raw ``COPY`` into ``feedback_response`` (baseline), then by HTTP
   ``POST /api/v1/feedback/bulk/`` to gunicorn with validation (target ≥ 50% of COPY).
2. tagging: topics + aspect sentiment read from and written to the database, one process
   (target ≥ 3,000 comments/s; plain VADER alone is measured as the reference).
3. drivers: exact Shapley on 12 drivers with bootstrap intervals from the database (≤ 10 s),
   and exact Shapley alone on in-memory data against pingouin (≥ 10×, equal to 1e-9).
4. pages: overview dashboard server time p95 (≤ 150 ms) and its query count at two data
   sizes; API feedback list p95 (≤ 50 ms).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench import steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
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
    args = parser.parse_args(argv)
    if args.responses < 10_000:
        parser.error("--responses must be at least 10,000")
    started = time.perf_counter()
    rows = steps.run_all(
        responses=args.responses,
        database_url=args.database_url,
        redis_url=args.redis_url,
        keep=args.keep,
    )
    steps.print_table(rows)
    print(
        f"\nTotal bench time: {time.perf_counter() - started:.0f} s for {args.responses:,} responses"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
