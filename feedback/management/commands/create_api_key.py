"""``manage.py create_api_key --source NAME [--kind KIND]``: prints a new key as the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxhub.errors import ApplicationError, error_text
from feedback.models import Source
from feedback.services import source_api_key_create, source_get_or_create


class Command(BaseCommand):
    help = (
        "Create an API key for a source (creating the source if needed); the key is the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, help="Source name, e.g. survey-tool.")
        parser.add_argument(
            "--kind",
            choices=Source.Kind.values,
            default=None,
            help=f"Kind of a new source ({', '.join(Source.Kind.values)}); default other.",
        )
        parser.add_argument(
            "--name", default="", help="A label for the key (default '<source> key')."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source, created = source_get_or_create(name=options["source"], kind=options["kind"])
            _, key = source_api_key_create(source=source, name=options["name"])
        except ApplicationError as exc:
            raise CommandError(error_text(exc)) from None
        verb = "Created source" if created else "Source"
        self.stderr.write(
            f"{verb} {source.name!r} ({source.kind}). The key is shown once; store it now:"
        )
        self.stdout.write(key)
