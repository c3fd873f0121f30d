"""Figures cached per filter set: the one cache convention of every page and API.

A figure set (the overview's scores, the Topics page's topic counts, a topic's trend, …) is
cached under ``<name>:<generation>:<filters>`` together with the data version it was
computed at (the newest response id, ``data_version_get``), so new feedback shows at once
while repeated views cost one cheap query. Figures of an older version are still served for
``DASHBOARD_STALE_SECONDS`` after they were computed, so that under a steady stream of new
feedback a busy page recomputes at most that often; with no new feedback they live for
``DASHBOARD_CACHE_SECONDS``.

The generation token (``figures_generation``) is replaced when cached figures must not be
served again whatever their version: an erasure (cached figures quote comments) or a person's
tag correction. A process-local memo sits in front of Django's cache: unpickling figures
costs tens of milliseconds per request; a memo hit costs nothing.

It lives here, beside the other reads every analytics feature shares, because dashboards
and text analytics both cache figures and text analytics may not import dashboards.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from feedback.models import Response

T = TypeVar("T")

_MEMO: dict[str, tuple[float, Any]] = {}
_MEMO_MAX_ENTRIES = 256


def cached_get(key: str) -> Any:
    """The value cached under ``key`` (this process's memo first), or None."""
    hit = _MEMO.get(key)
    if hit is not None:
        if hit[0] > time.monotonic():
            return hit[1]
        _MEMO.pop(key, None)
    value = cache.get(key)
    if value is not None:
        _MEMO[key] = (time.monotonic() + 5.0, value)  # re-read the shared cache soon
    return value


def cached_set(key: str, value: Any, seconds: int) -> None:
    """Cache ``value`` under ``key`` in the shared cache and this process's memo."""
    cache.set(key, value, seconds)
    if len(_MEMO) >= _MEMO_MAX_ENTRIES:
        now = time.monotonic()
        for stale in [k for k, (expires, _) in list(_MEMO.items()) if expires <= now]:
            _MEMO.pop(stale, None)
        if len(_MEMO) >= _MEMO_MAX_ENTRIES:
            _MEMO.clear()
    _MEMO[key] = (time.monotonic() + seconds, value)


def cached_forget(key: str) -> None:
    _MEMO.pop(key, None)
    cache.delete(key)


def memo_forget() -> None:
    """Drop every figure this process memoised (the shared cache keeps its copies)."""
    _MEMO.clear()


FIGURES_GENERATION_KEY = "dashboards:figures:generation"


def figures_generation() -> str:
    """A token in every figures cache key, replaced when cached figures must go.

    Cached figures quote comments (the top issue's quotes), and their data version (the
    newest response id) does not change when a customer is erased; a new token makes every
    process miss the figures cached before. The token is random, so a token evicted from the
    cache is replaced by a new one rather than by an old one.
    """
    token = cache.get(FIGURES_GENERATION_KEY)
    if token is None:
        cache.add(FIGURES_GENERATION_KEY, secrets.token_hex(8), timeout=None)
        token = cache.get(FIGURES_GENERATION_KEY) or "0"
    return str(token)


def figures_invalidate() -> None:
    """No figure cached so far is served again, by this process or (with a shared cache)
    any other."""
    cache.set(FIGURES_GENERATION_KEY, secrets.token_hex(8), timeout=None)
    memo_forget()


def figures_cache_seconds() -> int:
    return int(getattr(settings, "CXHUB", {}).get("DASHBOARD_CACHE_SECONDS", 120))


def figures_stale_seconds() -> float:
    return float(getattr(settings, "CXHUB", {}).get("DASHBOARD_STALE_SECONDS", 30))


@dataclass(frozen=True)
class DataVersion:
    last_response_id: int
    latest_day: dt.date

    @property
    def key(self) -> str:
        return str(self.last_response_id)


def data_version_get() -> DataVersion:
    """The newest response (one index-only query): part of every figures cache entry."""
    latest = Response.objects.order_by().aggregate(last_id=Max("id"), last_at=Max("submitted_at"))
    last_at = latest["last_at"]
    latest_day = timezone.localdate(last_at) if last_at else timezone.localdate()
    return DataVersion(last_response_id=latest["last_id"] or 0, latest_day=latest_day)


@dataclass(frozen=True)
class CachedFigures:
    figures: Any
    version: str
    computed_at: float


def figures_cached(
    name: str, key: str, compute: Callable[[], T], *, version: DataVersion | None = None
) -> T:
    """``compute()``, cached under ``name`` and ``key`` (the filters) by the rules above;
    without ``version`` the current one is read (one query)."""
    version = version or data_version_get()
    cache_key = f"{name}:{figures_generation()}:{key}"
    cached = cached_get(cache_key)
    if isinstance(cached, CachedFigures) and (
        cached.version == version.key or time.time() - cached.computed_at < figures_stale_seconds()
    ):
        return cached.figures  # type: ignore[no-any-return]
    figures = compute()
    cached_set(
        cache_key,
        CachedFigures(figures=figures, version=version.key, computed_at=time.time()),
        figures_cache_seconds(),
    )
    return figures
