"""Drop the single-column indexes on TopicMention.response_id and .topic_id.

The unique (response_id, topic_id) index and the (topic_id, sentiment_label) index start
with those columns and serve every lookup; each extra index is paid on every mention
written (about 20 per comment on a 200-topic taxonomy). Only the indexes are dropped:
``AlterField(db_index=False)`` alone would also drop and re-add (and re-validate) both
foreign keys, a long lock on a table with millions of mentions.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "analytics_topicmention_response_id_dd181b9f": "response_id",
    "analytics_topicmention_topic_id_a9211614": "topic_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0009_topic_rollup"),
        ("feedback", "0006_alert_response_deadline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="topicmention",
                    name="response",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="topic_mentions",
                        to="feedback.response",
                    ),
                ),
                migrations.AlterField(
                    model_name="topicmention",
                    name="topic",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mentions",
                        to="analytics.topic",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[f'DROP INDEX IF EXISTS "{name}"' for name in INDEXES],
                    reverse_sql=[
                        f'CREATE INDEX IF NOT EXISTS "{name}" ON "analytics_topicmention" ("{column}")'
                        for name, column in INDEXES.items()
                    ],
                ),
            ],
        ),
    ]
