"""``python manage.py rollups_rebuild``: recompute every roll-up for every day."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.responses.rollups import DEFAULT_MAX_DAYS, rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the roll-ups (daily score counts, …) from the raw responses for every day "
        "that has responses or roll-up rows. Run it after a migration that adds a roll-up and "
        "after loading data around the services; running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days-per-transaction",
            type=int,
            default=DEFAULT_MAX_DAYS,
            help=f"Days recomputed per transaction (default {DEFAULT_MAX_DAYS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        per_transaction = options["days_per_transaction"]
        if per_transaction < 1:
            raise CommandError("--days-per-transaction must be at least 1.")
        started = time.perf_counter()
        days = rollups_rebuild(max_days=per_transaction)
        self.stdout.write(
            f"Rebuilt the roll-ups for {days:,} days in {time.perf_counter() - started:.1f} s."
        )
