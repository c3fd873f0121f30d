from __future__ import annotations

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Scores, driver analysis, text tagging, value of experience, KPIs and action impact."""

    name = "analytics"

    def ready(self) -> None:
        # Post-ingest processors are registered with feedback here (see feedback.processing).
        pass
