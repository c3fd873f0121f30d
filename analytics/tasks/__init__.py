"""Celery tasks of the analytics app, one module per area; imported here for autodiscovery."""

from analytics.tasks import impact, insights, text  # noqa: F401
