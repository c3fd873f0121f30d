"""Celery tasks of the actions app: thin, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task

from actions import notifications, services


@shared_task(
    name="actions.tasks.notification_email_send_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notification_email_send_task(notification_id: int) -> bool:
    """E-mail one notification; a retry after a sent mail does nothing (``emailed_at``)."""
    return notifications.notification_email_send(notification_id=notification_id)


@shared_task(name="actions.tasks.actions_remind_due_soon_task")
def actions_remind_due_soon_task() -> int:
    return services.actions_remind_due_soon()


@shared_task(name="actions.tasks.actions_remind_overdue_task")
def actions_remind_overdue_task() -> int:
    return services.actions_remind_overdue()


@shared_task(name="actions.tasks.digests_send_task")
def digests_send_task() -> int:
    return services.digests_send()


@shared_task(name="actions.tasks.alerts_escalate_overdue_task")
def alerts_escalate_overdue_task() -> int:
    """Escalate overdue open alerts to their department's CX owner (once per alert)."""
    return services.alerts_escalate_overdue()
