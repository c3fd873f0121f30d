"""What people say about a dashboard: comments and suggestions left on a shared view."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cxhub.models import TimeStampedModel
from feedback.models import Department

__all__ = ["DashboardComment"]

COMMENT_MAX_LENGTH = 2000


class DashboardComment(TimeStampedModel):
    """A comment or an improvement suggestion left on a dashboard by someone who can see it.

    ``department`` is the department dashboard it was left on; empty means the
    cross-department overview. ``view_query`` keeps the filters the writer was looking at,
    so a reader can open the same view. A CX manager can turn a suggestion into an action
    (the actions app records the suggestion as the action's origin) and then close it.
    """

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        SUGGESTION = "suggestion", "Suggestion"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACTIONED = "actioned", "Turned into an action"
        CLOSED = "closed", "Closed"

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dashboard_comments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dashboard_comments"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    view_query = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["department", "-created_at"], name="dash_comment_dept_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(body=""), name="dashboard_comment_body_not_empty"
            ),
        ]

    def __str__(self) -> str:
        where = self.department.name if self.department_id else "Overview"  # type: ignore[union-attr]
        return f"{self.get_kind_display()} on {where} by {self.author_id}"

    @property
    def dashboard_label(self) -> str:
        return self.department.name if self.department else "Cross-department overview"
