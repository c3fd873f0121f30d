"""``manage.py revoke_api_key PREFIX`` or ``--source NAME``: revoke keys without the admin."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxhub.errors import ApplicationError, error_text
from feedback.services import source_api_keys_revoke


class Command(BaseCommand):
    help = (
        "Revoke a source API key by its prefix (the part before the dot, shown in the admin), "
        "or every key of a source with --source NAME. A revoked key answers 401 at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix", nargs="?", help="The key's prefix, e.g. Xb3TjA0q.")
        parser.add_argument("--source", help="Revoke every key of this source instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        prefix, source = options["prefix"], options["source"]
        if (prefix is None) == (source is None):
            raise CommandError("Give a key prefix or --source NAME (one of the two).")
        try:
            revoked = source_api_keys_revoke(prefix=prefix, source_name=source)
        except ApplicationError as exc:
            raise CommandError(error_text(exc)) from None
        what = f"key {prefix}" if prefix else f"the keys of {source!r}"
        if revoked == 0:
            self.stdout.write(f"Nothing to revoke: {what} already revoked.")
        else:
            self.stdout.write(f"Revoked {revoked} API key{'s' if revoked != 1 else ''} ({what}).")
