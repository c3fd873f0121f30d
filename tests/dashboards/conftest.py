from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from dashboards.selectors import figures_forget


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> Iterator[None]:
    """Every test starts with an empty figures cache and a small minimum of answers."""
    settings.CXHUB = {**settings.CXHUB, "MIN_RESPONSES": 5, "DASHBOARD_STALE_SECONDS": 0}
    figures_forget()
    cache.clear()
    yield
    figures_forget()
    cache.clear()
