from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> Iterator[None]:
    """Every test starts with an empty figures cache and a small minimum of answers."""
    settings.CXHUB = {**settings.CXHUB, "MIN_RESPONSES": 5}
    cache.clear()
    yield
    cache.clear()
