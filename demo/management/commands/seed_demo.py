"""``python manage.py seed_demo``: the demo organisation with planted truths."""

from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxhub.errors import ApplicationError, error_text
from cxhub.links import absolute_url
from demo.generator import DEFAULT_SEED, DRIVERS, PLANTED_TRUTHS
from demo.selectors import demo_logins
from demo.services import demo_has_data, demo_seed


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ArgumentTypeError(f"must be a whole number, not {value!r}") from None
    if number < 0:
        raise ArgumentTypeError(f"must be 0 or more, not {number}")
    return number


def _seed(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ArgumentTypeError(f"must be a whole number, not {value!r}") from None
    if not 0 <= number < 2**32:
        raise ArgumentTypeError(f"must be from 0 to 4294967295, not {number}")
    return number


class Command(BaseCommand):
    help = (
        "Create the demo organisation: departments, journeys, touchpoints, drivers, "
        "customers, responses with comments, weekly KPIs, actions and demo logins. "
        "The data carry planted truths (see demo/generator.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=_seed,
            default=DEFAULT_SEED,
            help=f"Random seed (default {DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--responses",
            type=_count,
            default=50_000,
            help="How many feedback responses (default 50,000).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the database already holds responses (for `make demo`).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete existing feedback, customers, actions and KPI data first.",
        )
        parser.add_argument(
            "--no-analysis",
            action="store_true",
            help="Skip tagging and the analyses after writing the data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and options["reset"]:
            raise CommandError("--if-empty and --reset contradict each other; give one of them.")
        if options["if_empty"] and demo_has_data():
            self.stdout.write("The database already holds feedback; nothing to do (--if-empty).")
            return
        try:
            summary = demo_seed(
                seed=options["seed"],
                responses=options["responses"],
                reset=options["reset"],
                analyse=not options["no_analysis"],
                log=self.stdout.write,
            )
        except ApplicationError as exc:
            raise CommandError(error_text(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organisation ready in {summary.seconds} s: {summary.customers:,} customers, "
                f"{summary.responses:,} responses ({summary.comments:,} with comments), "
                f"{summary.kpi_observations:,} KPI observations, {summary.actions} actions."
            )
        )
        self.stdout.write(planted_truths_text(summary.implemented_on))
        self.stdout.write("Analyses run: " + (", ".join(summary.ran) or "none"))
        for skipped in summary.skipped:
            self.stdout.write(f"Not run: {skipped}")
        self.stdout.write("")
        self.stdout.write(demo_logins_table())


def planted_truths_text(implemented_on: date | None) -> str:
    """What the analyses should find in the demo data (see demo/generator.py)."""
    truths = PLANTED_TRUTHS
    action = truths["action"]
    churn = truths["churn"]
    labels = {driver["slug"]: driver["label"].lower() for driver in DRIVERS}
    drivers = " > ".join(labels[slug] for slug in truths["driver_rank"][:5])
    when = f" from {implemented_on:%d %b %Y}" if implemented_on else ""
    return "\n".join(
        [
            "Planted truths:",
            f"  drivers of NPS: {drivers} > … (knowledge ≈ 0)",
            f"  churn: {churn['annual_rate_at_or_below']:.0%} a year at NPS ≤ "
            f"{churn['threshold_nps']}, {churn['annual_rate_above']:.0%} above",
            f"  action “{action['title']}”: north vs south{when}, contact-centre NPS "
            f"+{action['nps_effect_points']:.0f} points, callers' churn "
            f"{action['churn_rate_effect_pp_per_week']} pp a week",
            f"  emerging theme: {truths['emerging_theme']['theme']} (growing over time)",
            *(
                f"  “{planted['action']}”: {planted['kpi']} {planted['effect']:+,g} "
                f"{planted['unit']} ({planted['story']}; "
                + (
                    f"{planted['treated']['region'] or 'all'} vs {planted['control']['region']})"
                    if planted["control"]
                    else "no control)"
                )
                for planted in truths["kpi_effects"]
            ),
        ]
    )


def demo_logins_table() -> str:
    """The demo logins as a plain text table (development passwords only)."""
    rows = demo_logins()
    header = ("login", "password", "role", "departments")
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(4)]
    lines = [f"Demo logins for {absolute_url('/')} (development only):"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
