"""Shared set-up of the browser tests."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from analytics.models import Topic


@pytest.fixture(autouse=True)
def default_taxonomy(transactional_db: None) -> None:
    """The default topics, as the data migration loads them: an earlier transactional test
    may have flushed them (CI runs the whole suite first), and the demo's comments must be
    tagged as in production, or topic insights come out empty."""
    if not Topic.objects.exists():
        migration = importlib.import_module("analytics.migrations.0005_default_taxonomy")
        migration.load_default_taxonomy(django_apps, None)
