from __future__ import annotations

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Scores, driver analysis, text tagging, value of experience, KPIs and action impact."""

    name = "analytics"

    def ready(self) -> None:
        # Post-ingest processors are registered with feedback here (see feedback.processing).
        # Analysis kinds that POST runs/ can start (see analytics.services.runs).
        from analytics.services import drivers, impact, scores, value  # noqa: F401
        from analytics.services.text import text_analytics_register

        text_analytics_register()
