"""``python manage.py demo_logins``: print the demo logins, their roles and the URL."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from demo.management.commands.seed_demo import demo_logins_table


class Command(BaseCommand):
    help = "Print the demo logins (user, password, role, departments) and the URL."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(demo_logins_table())
