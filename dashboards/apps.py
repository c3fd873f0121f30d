from __future__ import annotations

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self) -> None:
        from actions.effects import register_proof_section
        from dashboards.analysis_views import action_proof_section
        from dashboards.selectors import customer_figures_erase
        from feedback.privacy import register_customer_eraser

        register_customer_eraser("dashboards.figures", customer_figures_erase)
        # The action page shows what the action achieved (ADR 0050).
        register_proof_section(action_proof_section)
