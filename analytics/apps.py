from __future__ import annotations

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Scores, driver analysis, text tagging, value of experience, KPIs and action impact."""

    name = "analytics"

    def ready(self) -> None:
        # The app config is where the features are wired to the generic parts: each feature's
        # run kinds go into the table of analytics.runs.kinds (runs imports no feature), and
        # text analytics registers its post-ingest processor and filters with feedback, and
        # impact tells the actions pages the KPIs an action can target and what each action
        # achieved (actions.effects); the daily score roll-up is registered, and the roll-ups
        # are queued for refresh after every write that marked response days changed
        # (feedback.processing).
        from actions.effects import register_effect_reader, register_measurement_note
        from actions.selectors import kpi_choices_register
        from analytics.impact import kinds as impact_kinds
        from analytics.impact.effects import action_effect_summaries, action_measurement_note
        from analytics.impact.selectors import kpi_target_choices
        from analytics.insights import kinds as insights_kinds
        from analytics.responses.rollups import rollup_register, rollups_refresh_queue
        from analytics.responses.score_days import score_days_held, score_days_refresh
        from analytics.runs.kinds import run_kinds_register
        from analytics.text import kinds as text_kinds
        from analytics.text.services import text_analytics_register
        from feedback.processing import register_days_changed_listener

        for feature_kinds in (insights_kinds, text_kinds, impact_kinds):
            run_kinds_register(feature_kinds.RUN_KINDS)
        text_analytics_register()
        kpi_choices_register(kpi_target_choices)  # the action form's list of target KPIs
        register_effect_reader(action_effect_summaries)
        register_measurement_note(action_measurement_note)
        rollup_register("scores", score_days_refresh, days_held=score_days_held)
        register_days_changed_listener("rollups", rollups_refresh_queue)
