"""Celery tasks of the analytics app, one module per area; imported here for autodiscovery."""
