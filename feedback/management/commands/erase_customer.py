"""``manage.py erase_customer EXTERNAL_ID [--by USERNAME]``: erasure from the command line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxhub.errors import ApplicationError, error_text
from feedback.models import CustomerErasure
from feedback.selectors import customer_by_external_id
from feedback.services import customer_erase


class Command(BaseCommand):
    help = (
        "Erase one customer's personal data and the comments of their responses everywhere "
        "they were copied; scores stay. Prints the pseudonym the customer is now known by."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("external_id", help="The customer's external id, e.g. C-000042.")
        parser.add_argument(
            "--by", default=None, help="Username recorded as the one who asked for the erasure."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        by = None
        if options["by"]:
            by = User.objects.filter(username=options["by"]).first()
            if by is None:
                raise CommandError(f"No user called {options['by']!r}.")
        try:
            customer = customer_by_external_id(external_id=options["external_id"])
            erasure = customer_erase(customer=customer, by=by, via=CustomerErasure.Via.COMMAND)
        except ApplicationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stderr.write(
            f"Erased: {erasure.responses} responses' comments; the customer is now known as:"
        )
        self.stdout.write(erasure.pseudonym)
