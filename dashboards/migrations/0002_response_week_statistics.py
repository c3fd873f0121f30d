"""Planner statistics on the week of a response (PostgreSQL only).

The dashboards group responses by ``date_trunc('week', submitted_at AT TIME ZONE <tz>)``.
Without statistics on that expression PostgreSQL guesses one group per row, sorts a
million rows on disk and aggregates slowly; with them it hashes ~100 weeks in memory
(about five times faster on 1M responses). The expression uses the project's time zone,
as Django's ``TruncWeek`` does.
"""

from django.conf import settings
from django.db import migrations

STATISTICS = "dashboards_response_week_stats"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    zone = settings.TIME_ZONE.replace("'", "''")
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} "
        f"ON (date_trunc('week', submitted_at AT TIME ZONE '{zone}')) FROM feedback_response"
    )
    schema_editor.execute("ANALYZE feedback_response")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):

    dependencies = [
        ("dashboards", "0001_initial"),
        ("feedback", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_statistics, drop_statistics, elidable=False)]
