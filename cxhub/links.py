"""Links that leave the app (e-mails, printed instructions) are absolute, on CXHUB_BASE_URL."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """``path`` (as ``reverse`` gives it) on the address users reach CXHub at."""
    return f"{settings.CXHUB_BASE_URL.rstrip('/')}/{path.lstrip('/')}"
