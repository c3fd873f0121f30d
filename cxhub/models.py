"""Abstract model bases shared by every app."""

from __future__ import annotations

from django.db import models

from cxhub import lookups  # noqa: F401  (registers the ``__any`` lookup on every field)


class TimeStampedModel(models.Model):
    """A row that knows when it was created and last changed (both indexed for time queries)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True
