"""feedback_response keeps only the indexes a measured query needs (docs/performance.md).

The five indexes dropped are Django's own for ``created_at``, ``updated_at`` and the foreign
keys ``source``, ``customer`` and ``touchpoint``. The state changes are the model's
(``db_index=False``); in the database each index is dropped by name, because ``AlterField``
on a foreign key would also drop and re-add its constraint, which re-checks every row of the
table under lock. Dropping an index is a catalogue change, as fast at 100M rows as at 10.
"""

import django.db.models.deletion
from django.db import migrations, models

# (index name, column) as Django named them in 0001_initial; the names are the same on
# every database, since Django derives them from the table and column names.
DROPPED = [
    ("feedback_response_created_at_cc8bbca9", "created_at"),
    ("feedback_response_updated_at_98b0f998", "updated_at"),
    ("feedback_response_source_id_448eb70a", "source_id"),
    ("feedback_response_customer_id_f2c715b7", "customer_id"),
    ("feedback_response_touchpoint_id_0c12af8d", "touchpoint_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0007_response_day_change"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "feedback_response" ("{column}")',
                )
                for name, column in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="response",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
                migrations.AlterField(
                    model_name="response",
                    name="updated_at",
                    field=models.DateTimeField(auto_now=True),
                ),
                migrations.AlterField(
                    model_name="response",
                    name="source",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="responses",
                        to="feedback.source",
                    ),
                ),
                migrations.AlterField(
                    model_name="response",
                    name="customer",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="responses",
                        to="feedback.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="response",
                    name="touchpoint",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="responses",
                        to="feedback.touchpoint",
                    ),
                ),
            ],
        ),
    ]
