"""``manage.py export_customer EXTERNAL_ID``: everything stored about a customer, as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxhub.errors import ApplicationError, error_text
from feedback.selectors import customer_by_external_id, customer_export


class Command(BaseCommand):
    help = (
        "Write everything stored about one customer to standard output as JSON (the same as "
        "GET /api/v1/customers/{id}/export/)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("external_id", help="The customer's external id, e.g. C-000042.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            customer = customer_by_external_id(external_id=options["external_id"])
        except ApplicationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(
            json.dumps(customer_export(customer=customer), indent=2, ensure_ascii=False)
        )
