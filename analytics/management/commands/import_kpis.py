"""``python manage.py import_kpis FILE.csv``: KPI observations from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from analytics.impact.services import CSVFormatError, observations_import_csv
from cxhub.errors import ApplicationError, error_text
from feedback.models import Source


class Command(BaseCommand):
    help = (
        "Import KPI observations from a CSV with a header row: kpi, period_start, granularity "
        "(week|month), value, and optionally department, touchpoint, segment, region. "
        "Re-running imports nothing twice; rejected rows go to a CSV with reasons."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file.")
        parser.add_argument("--kpi", help="KPI slug for rows without a 'kpi' column or value.")
        parser.add_argument("--source", help="Name of an existing source to record the rows under.")
        parser.add_argument(
            "--rejected-file", help="Where rejected rows go (default FILE.rejected.csv)."
        )
        parser.add_argument("--chunk-size", type=int, default=1000, help="Rows per transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        rejected = (
            Path(options["rejected_file"])
            if options["rejected_file"]
            else path.with_suffix(".rejected.csv")
        )
        source = None
        if options["source"]:
            source = Source.objects.filter(name=options["source"]).first()
            if source is None:
                raise CommandError(f"No source named {options['source']!r}.")
        total = max(0, sum(1 for _ in path.open(encoding="utf-8-sig", errors="replace")) - 1)
        try:
            with (
                path.open(encoding="utf-8-sig", newline="") as lines,
                rejected.open("w", encoding="utf-8", newline="") as rejected_file,
                tqdm(total=total, unit="rows", disable=options["no_progress"]) as progress,
            ):
                summary = observations_import_csv(
                    lines=lines,
                    rejected_file=rejected_file,
                    default_kpi=options["kpi"],
                    source=source,
                    chunk_size=options["chunk_size"],
                    on_progress=progress.update,
                )
        except CSVFormatError as exc:
            rejected.unlink(missing_ok=True)
            raise CommandError(str(exc)) from None
        except ApplicationError as exc:
            rejected.unlink(missing_ok=True)
            raise CommandError(error_text(exc)) from None
        except UnicodeDecodeError:
            rejected.unlink(missing_ok=True)
            raise CommandError(f"{path} is not UTF-8 text.") from None
        summary.rejected_path = str(rejected)
        if not summary.rejected:
            rejected.unlink(missing_ok=True)
        for warning in summary.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        self.stdout.write(summary.line())
