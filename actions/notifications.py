"""In-app notifications and their e-mails.

A notification row is written in the caller's transaction; its e-mail is queued only after
that transaction commits, so a rolled-back change never e-mails anyone. Preferences are
read once per call: a user who turned a kind off gets neither the row nor the e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from actions.models import Action, Alert, Notification, NotificationPreference
from cxhub.links import absolute_url


def preferences_for(user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    """Preferences by user id; users without a row get the defaults (everything on)."""
    ids = set(user_ids)
    found = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=ids)}
    return {uid: found.get(uid) or NotificationPreference(user_id=uid) for uid in ids}


def notify(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    action: Action | None = None,
    alert: Alert | None = None,
    dedupe_key: str = "",
    preference: NotificationPreference | None = None,
) -> Notification | None:
    """Write one notification (unless turned off or already sent) and e-mail it after commit.

    Returns the new notification, or None when the user opted out or ``dedupe_key`` shows
    it was already sent.
    """
    if preference is None:
        preference = preferences_for([recipient.pk])[recipient.pk]
    if not preference.wants(kind):
        return None
    if (
        dedupe_key
        and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists()
    ):
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                kind=kind,
                title=title[:250],
                body=body,
                url=url,
                action=action,
                alert=alert,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        # A concurrent run wrote the same deduplicated notification first.
        return None
    if preference.email and bool(getattr(recipient, "email", "")):
        from actions.tasks import notification_email_send_task

        notification_id = notification.pk
        transaction.on_commit(lambda: notification_email_send_task.delay(notification_id))
    return notification


def notification_email_send(*, notification_id: int) -> bool:
    """Send the e-mail of one notification once; returns whether a mail went out now."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.recipient.email:
            return False
        link = ""
        if notification.url:
            link = f"\n\nOpen in CXHub: {absolute_url(notification.url)}"
        send_mail(
            subject=f"[CXHub] {notification.title}",
            message=f"{notification.body}{link}",
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True
