from __future__ import annotations

from django.apps import AppConfig


class ActionsConfig(AppConfig):
    """Owned improvement actions, their lifecycle, notifications and closed-loop alerts."""

    name = "actions"

    def ready(self) -> None:
        from actions.selectors import customer_actions_export
        from actions.services import alerts_raise_for_detractors, customer_actions_erase
        from feedback.privacy import register_customer_eraser, register_customer_exporter
        from feedback.processing import register_response_processor

        register_response_processor("actions.detractor_alerts", alerts_raise_for_detractors)
        register_customer_eraser("actions", customer_actions_erase)
        register_customer_exporter("actions", customer_actions_export)
