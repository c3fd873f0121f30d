"""Writes of the dashboards app: comments and suggestions on a dashboard, and the evidence
draft of an insight an action is created from."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from actions.models import EvidenceDraft
from actions.services import evidence_draft_create
from cxhub.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from dashboards import evidence
from dashboards.models import COMMENT_MAX_LENGTH, DashboardComment
from dashboards.permissions import user_can_manage_comments, user_can_view_dashboard
from feedback.models import Department


@transaction.atomic
def dashboard_comment_create(
    *,
    author: User,
    body: str,
    kind: str = DashboardComment.Kind.COMMENT,
    department: Department | None = None,
    view_query: str = "",
) -> DashboardComment:
    """Leave a comment or suggestion on a dashboard the author can see."""
    department_id = department.pk if department is not None else None
    if not user_can_view_dashboard(author, department_id):
        raise Forbidden("You can comment only on dashboards you can see.")
    text = (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not text:
        errors["body"] = ["Write something before posting."]
    elif len(text) > COMMENT_MAX_LENGTH:
        errors["body"] = [f"Keep it to {COMMENT_MAX_LENGTH} characters (this has {len(text)})."]
    if kind not in DashboardComment.Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(DashboardComment.Kind.values)}."]
    if errors:
        raise InvalidInput("The comment is not valid.", field_errors=errors)
    return DashboardComment.objects.create(
        author=author,  # type: ignore[misc]
        body=text,
        kind=kind,
        department=department,
        view_query=(view_query or "")[:500],
    )


@transaction.atomic
def dashboard_comment_resolve(*, comment_id: int, user: User, status: str) -> DashboardComment:
    """A CX manager marks a comment as turned into an action, closed, or open again."""
    if not user_can_manage_comments(user):
        raise Forbidden("Only CX managers can change the status of comments.")
    if status not in DashboardComment.Status.values:
        raise InvalidInput(
            "Unknown status.",
            field_errors={
                "status": [f"Choose one of: {', '.join(DashboardComment.Status.values)}."]
            },
        )
    comment = DashboardComment.objects.select_for_update().filter(pk=comment_id).first()
    if comment is None:
        raise NotFound("No such comment.")
    if comment.status == status:
        raise InvalidTransition(f"The comment is already {comment.get_status_display().lower()}.")
    comment.status = status
    if status == DashboardComment.Status.OPEN:
        comment.resolved_by, comment.resolved_at = None, None
    else:
        comment.resolved_by, comment.resolved_at = user, timezone.now()  # type: ignore[assignment]
    comment.save(update_fields=["status", "resolved_by", "resolved_at", "updated_at"])
    return comment


def evidence_draft_build(
    *, created_by: User, kind: str, reference: str, outcome: str = "nps", department: str = ""
) -> EvidenceDraft:
    """Look the insight up on the server (``dashboards.evidence``) and keep its evidence as
    the caller's draft, from which ``actions`` creates the action."""
    found = evidence.evidence_build(
        user=created_by, kind=kind, reference=reference, outcome=outcome, department=department
    )
    return evidence_draft_create(
        created_by=created_by,
        insight_kind=found.kind,
        snapshot=found.snapshot,
        run_id=found.run_id,
        title=found.title,
        description=found.description,
        department=found.department,
        scope_touchpoints=found.touchpoints,
        source_response=found.source_response,
        alert=found.alert,
    )
