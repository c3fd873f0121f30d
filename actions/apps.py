from __future__ import annotations

from django.apps import AppConfig


class ActionsConfig(AppConfig):
    """Owned improvement actions, their lifecycle, notifications and closed-loop alerts."""

    name = "actions"

    def ready(self) -> None:
        from actions.services import alerts_raise_for_detractors
        from feedback.processing import register_response_processor

        register_response_processor("actions.detractor_alerts", alerts_raise_for_detractors)
