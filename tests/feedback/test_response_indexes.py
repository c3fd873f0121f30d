"""feedback_response carries only the indexes a measured query needs (docs/performance.md).

Every index is paid on each ingest COPY and each processing update; an index added without a
query that needs it, or one dropped that a query needs, shows here and in the documented table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

from feedback.models import Response

ROOT = Path(__file__).resolve().parents[2]
# The index -> queries table of docs/performance.md names exactly these.
NEEDED = {
    "feedback_response_submitted_at_61e8cc4b",
    "response_touchpoint_time",
    "response_category_time",
    "response_channel_time",
    "response_customer_time",
    "response_unprocessed",
    "response_unique_source_external_id",
}


def _secondary_indexes() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Response._meta.db_table)
    return {
        name
        for name, facts in constraints.items()
        if (facts["index"] or facts["unique"]) and not facts["primary_key"]
    }


@pytest.mark.django_db
def test_the_table_has_the_needed_indexes_and_no_other() -> None:
    found = _secondary_indexes()
    if connection.vendor == "sqlite":  # SQLite names the unique constraint's index itself
        found = {name for name in found if not name.startswith("sqlite_autoindex")}
        found.add("response_unique_source_external_id")
    assert found == NEEDED


def test_the_foreign_keys_and_time_stamps_have_no_index_of_their_own() -> None:
    """Each foreign key is covered by an index that starts with it; the time stamps serve no
    query (the sweep has its partial index)."""
    fields = {field.name: field for field in Response._meta.fields}
    for name in ("source", "customer", "touchpoint", "created_at", "updated_at"):
        assert not fields[name].db_index, name
    covering = {
        "source": ["source", "external_id"],
        "customer": ["customer", "submitted_at"],
        "touchpoint": ["touchpoint", "submitted_at"],
    }
    declared = [list(index.fields) for index in Response._meta.indexes] + [
        list(constraint.fields)  # type: ignore[attr-defined]
        for constraint in Response._meta.constraints
        if hasattr(constraint, "fields") and constraint.fields  # type: ignore[attr-defined]
    ]
    for field, columns in covering.items():
        assert columns in declared, field


def test_the_documented_table_names_every_index() -> None:
    """docs/performance.md's index table lists each index with the queries that need it."""
    text = (ROOT / "docs" / "performance.md").read_text()
    section = text.split("## Indexes of feedback_response", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE))
    assert listed == NEEDED | {"feedback_response_pkey"}
