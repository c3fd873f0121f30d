"""API throttles, the refusal of repeated bad credentials, and the client address they count by.

DRF's throttles hold the counts in the default cache (Redis in production, shared by every
web process; ``CACHES`` in settings). Each caller has one bucket: anonymous calls per client
address, people per user (session and token alike), sources per API key. Rates are DRF's
``DEFAULT_THROTTLE_RATES`` (from ``CXHUB_THROTTLE_*``), read on every call so that a test
can lower them with ``override_settings``.

DRF throttles a call only after authenticating it and checking its permissions, so a
refused key or token, or an anonymous call to an endpoint for signed-in callers (each a
401), never reaches them. ``RefusedCallsMiddleware`` counts those refusals per client
address and, past the rate, answers that address's calls of the same kind with 429 before
they are authenticated: a valid key found by guessing does not work during the wait either.

Kept free of the apps' modules: DRF imports the default throttles while its own views load.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)

# cxhub.errors.NON_FIELD; that module imports DRF's views, which import this one.
NON_FIELD = "non_field_errors"


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, the one definition for throttles and sign-in lock-outs.

    ``REMOTE_ADDR``; with ``CXHUB_PROXY_COUNT`` (DRF's ``NUM_PROXIES``) proxies in front,
    the address the outermost of them saw, from ``X-Forwarded-For``. None when there is no
    valid address (a request built in-process, or a forged header): the sign-in records
    store it as unknown, PostgreSQL's ``inet`` column refuses anything else.
    """
    ident = BaseThrottle().get_ident(request)  # type: ignore[arg-type]
    if not ident:
        return None
    try:
        return str(ipaddress.ip_address(str(ident).strip()))
    except ValueError:
        return None


def _api_key_of(request: Any) -> Any:
    """The API key a source authenticated with (``feedback.authentication.SourceClient``)."""
    return getattr(getattr(request, "user", None), "api_key", None)


# What the cache raises when Redis is away. Throttles then let calls through (and say so in
# the log): a cache outage must not stop ingest, which stores in PostgreSQL.
CACHE_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)
try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a dependency of celery[redis]
    pass
else:
    CACHE_ERRORS = (*CACHE_ERRORS, RedisError)


def _cache_unavailable(error: BaseException) -> None:
    logger.warning("Throttle cache unavailable (%s); the call is let through.", error)


class _SettingsRateThrottle(SimpleRateThrottle):
    """A DRF rate throttle whose rate is looked up when it is used, not at import.

    ``wait_if_blocked`` and ``record`` split DRF's ``allow_request`` (look, then count) for
    the middleware, which counts a call only once its answer is known.
    """

    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(self.scope))
        return None if rate is None else str(rate)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        raise NotImplementedError

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return bool(super().allow_request(request, view))
        except CACHE_ERRORS as error:
            _cache_unavailable(error)
            return True

    def wait_if_blocked(self, request: HttpRequest) -> float | None:
        """Seconds until the caller may call again, or None when it may now (or the cache is
        unavailable)."""
        try:
            return self._wait_if_blocked(request)
        except CACHE_ERRORS as error:
            _cache_unavailable(error)
            return None

    def _wait_if_blocked(self, request: HttpRequest) -> float | None:
        self.key = self.get_cache_key(request, None)
        if self.rate is None or self.key is None:
            return None
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.wait() or 1.0
        return None

    def record(self, request: HttpRequest) -> None:
        try:
            self._wait_if_blocked(request)
            if self.rate is not None and self.key is not None:
                self.throttle_success()
        except CACHE_ERRORS as error:
            _cache_unavailable(error)


class AnonymousThrottle(_SettingsRateThrottle):
    """Calls made without credentials, per client address."""

    scope = "anon"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(_SettingsRateThrottle):
    """People, per user, whether they came with a session or a token."""

    scope = "user"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = request.user
        if not (user and user.is_authenticated) or _api_key_of(request) is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class APIKeyThrottle(_SettingsRateThrottle):
    """Source systems, one bucket per API key (two keys of one source count apart)."""

    scope = "api_key"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        api_key = _api_key_of(request)
        if api_key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.pk}


class BadCredentialsThrottle(_SettingsRateThrottle):
    """Credentials refused with a 401 (unknown, revoked or malformed keys and tokens)."""

    scope = "bad_credentials"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def throttled_response(wait: float, message: str) -> HttpResponse:
    """429 in the API's error shape, with ``Retry-After`` in whole seconds."""
    seconds = max(1, math.ceil(wait))
    response = JsonResponse({"errors": {NON_FIELD: [message.format(seconds=seconds)]}}, status=429)
    response["Retry-After"] = str(seconds)
    return response


API_PREFIX = "/api/"
REFUSED_MESSAGES = {
    "bad_credentials": "Too many refused credentials from this address; "
    "try again in {seconds} seconds.",
    "anon": "Too many calls without credentials from this address; try again in {seconds} seconds.",
}


class RefusedCallsMiddleware:
    """Throttles the API calls DRF's throttles never see: those answered 401.

    A call with an ``Authorization`` header counts in its address's ``bad_credentials``
    bucket when it is refused; a call without credentials (and without a signed-in session)
    in the address's ``anon`` bucket, where DRF counts the anonymous calls it lets through.
    Once a bucket is full, the address's calls of that kind are answered 429 before they
    are authenticated.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        throttle = self._throttle_for(request)
        if throttle is None:
            return self.get_response(request)
        wait = throttle.wait_if_blocked(request)
        if wait is not None:
            return throttled_response(wait, REFUSED_MESSAGES[str(throttle.scope)])
        response = self.get_response(request)
        if response.status_code == 401:
            throttle.record(request)
        return response

    @staticmethod
    def _throttle_for(request: HttpRequest) -> _SettingsRateThrottle | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if request.META.get("HTTP_AUTHORIZATION"):
            return BadCredentialsThrottle()
        if not request.user.is_authenticated:
            return AnonymousThrottle()
        return None
