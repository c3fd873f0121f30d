"""``manage.py import_feedback FILE.csv --source NAME``: the bulk API's rules, from a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from cxhub.errors import ApplicationError, error_text
from feedback.models import Source
from feedback.services import feedback_import_csv, source_get_or_create


class Command(BaseCommand):
    help = (
        "Import feedback from a CSV with a header row (columns as in the bulk API: rating_<slug>, "
        "attr_<name>). Re-running imports nothing twice; rejected rows go to a CSV with reasons."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file.")
        parser.add_argument(
            "--source", required=True, help="Source the rows belong to (created if new)."
        )
        parser.add_argument(
            "--kind", default=None, help=f"Kind of a new source: {', '.join(Source.Kind.values)}."
        )
        parser.add_argument(
            "--rejected-file",
            default=None,
            help="Where rejected rows go (default FILE.rejected.csv).",
        )
        parser.add_argument(
            "--chunk-size", type=int, default=5_000, help="Rows per transaction (default 5000)."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        rejected = (
            Path(options["rejected_file"])
            if options["rejected_file"]
            else path.with_suffix(".rejected.csv")
        )
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        kind = options["kind"] or Source.Kind.IMPORT
        try:
            source, _ = source_get_or_create(name=options["source"], kind=kind)
            with path.open("rb") as handle:
                total = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
            with tqdm(
                total=max(total - 1, 0),
                unit="rows",
                disable=options["no_progress"],
                file=self.stderr,
                dynamic_ncols=True,
            ) as bar:
                summary = feedback_import_csv(
                    path=path,
                    source=source,
                    rejected_path=rejected,
                    chunk_size=options["chunk_size"],
                    on_progress=bar.update,
                )
        except ApplicationError as exc:
            raise CommandError(error_text(exc)) from None
        except OSError as exc:
            raise CommandError(f"Cannot read or write a file: {exc}") from None
        self.stdout.write(summary.line())
