from __future__ import annotations

from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    """Organisation model (departments, journeys, touchpoints), sources, customers and responses."""

    name = "feedback"
    verbose_name = "Feedback"
