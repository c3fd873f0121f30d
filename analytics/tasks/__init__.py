"""Celery tasks of the analytics app, one module per area; imported here for autodiscovery."""

from analytics.tasks import text  # noqa: F401
from analytics.tasks import insights  # noqa: F401
from analytics.tasks import impact  # noqa: F401
