"""The daily score roll-up. Every day that has responses is marked changed, so that
readers aggregate raw responses until the roll-up refresh (the beat task, or
``manage.py rollups_rebuild``) has filled the table: an empty roll-up is never read as
zero."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models.functions import TruncDate
from django.utils import timezone


def days_with_responses_mark(apps, schema_editor):
    Response = apps.get_model("feedback", "Response")
    ResponseDayChange = apps.get_model("feedback", "ResponseDayChange")
    zone = timezone.get_default_timezone()
    days = (
        Response.objects.order_by()
        .annotate(day=TruncDate("submitted_at", tzinfo=zone))
        .values_list("day", flat=True)
        .distinct()
    )
    now = timezone.now()
    ResponseDayChange.objects.bulk_create(
        [ResponseDayChange(day=day, changed_at=now) for day in days],
        ignore_conflicts=True,
        batch_size=1_000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0007_run_scope"),
        ("feedback", "0007_response_day_change"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScoreDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("channel", models.CharField(blank=True, max_length=16)),
                ("responses", models.IntegerField()),
                ("comments", models.IntegerField()),
                ("nps_n", models.IntegerField()),
                ("promoters", models.IntegerField()),
                ("detractors", models.IntegerField()),
                ("csat_n", models.IntegerField()),
                ("csat_satisfied", models.IntegerField()),
                ("csat_sum", models.BigIntegerField()),
                ("csat_sumsq", models.BigIntegerField()),
                ("ces_n", models.IntegerField()),
                ("ces_sum", models.BigIntegerField()),
                ("ces_sumsq", models.BigIntegerField()),
                (
                    "touchpoint",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="feedback.touchpoint",
                    ),
                ),
            ],
            options={
                "ordering": ["day", "touchpoint_id", "channel"],
                "indexes": [models.Index(fields=["day"], name="score_day_day")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("touchpoint__isnull", False)),
                        fields=("day", "touchpoint", "channel"),
                        name="score_day_unique_grain",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("touchpoint__isnull", True)),
                        fields=("day", "channel"),
                        name="score_day_unique_grain_no_touchpoint",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("responses__gt", 0)), name="score_day_has_responses"
                    ),
                ],
            },
        ),
        migrations.RunPython(days_with_responses_mark, migrations.RunPython.noop),
    ]
