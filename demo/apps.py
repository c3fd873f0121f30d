from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation generator (``seed_demo``); depends on every other app."""

    name = "demo"
