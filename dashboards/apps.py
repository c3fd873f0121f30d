from __future__ import annotations

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self) -> None:
        from dashboards.selectors import customer_figures_erase
        from feedback.privacy import register_customer_eraser

        register_customer_eraser("dashboards.figures", customer_figures_erase)
