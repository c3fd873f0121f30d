"""Analysis runs: every computation CXHub does in a worker leaves one of these behind."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cxhub.models import TimeStampedModel

__all__ = ["AnalysisRun"]


class AnalysisRun(TimeStampedModel):
    """One execution of an analysis (scores, drivers, tagging, impact, …) and its outcome.

    The API answers ``202`` with the run's id; clients poll it. ``parameters`` holds what
    was asked (filters, outcome, method), ``result`` what was found, ``counts`` how much
    data went in, and ``error`` a readable reason when the run failed.
    """

    class Kind(models.TextChoices):
        SCORES = "scores", "Scores"
        DRIVERS = "drivers", "Driver analysis"
        TOPIC_IMPACT = "topic_impact", "Topic impact"
        TAGGING = "tagging", "Text tagging"
        THEME_DISCOVERY = "theme_discovery", "Theme discovery"
        VALUE = "value", "Value of experience"
        IMPACT = "impact", "Action impact"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    parameters = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="analysis_runs",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The scope the run was computed for (``cxhub.access``): the departments whose data it
    # read (none: an aggregate across departments, open to every role), and whether its
    # result holds records (comments) of every department (then only CX managers read it).
    scope_departments = models.ManyToManyField("feedback.Department", blank=True, related_name="+")
    scope_every_department = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["kind", "status", "-created_at"], name="run_kind_status_time")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
