"""API throttles: anonymous callers, people, API keys, and refused credentials, each 429 with
Retry-After and a JSON message once over the rate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.feedback.conftest import feedback_item
from tests.feedback.factories import SourceAPIKeyFactory, TouchpointFactory, viewer

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
FEEDBACK = "/api/v1/feedback/"


@pytest.fixture
def rates(settings: Any) -> dict[str, str]:
    """Low rates for these tests; the defaults are generous enough for the rest of the suite."""
    low = {"anon": "3/min", "user": "3/min", "api_key": "3/min", "bad_credentials": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": low}
    return low


def _assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert 1 <= int(response["Retry-After"]) <= 60
    messages = response.json()["errors"]["non_field_errors"]
    assert messages and "second" in messages[0]


def _item(external_id: str) -> dict[str, Any]:
    return feedback_item(external_id=external_id, ratings={})


def _token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _key_client(plain_key: str, address: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain_key}")
    return client


def test_a_user_over_the_rate_gets_429(rates: dict[str, str]) -> None:
    """A token user's fourth call in a minute is refused with Retry-After; another user is not."""
    client = _token_client(viewer())

    answers = [client.get(FEEDBACK).status_code for _ in range(3)]
    refused = client.get(FEEDBACK)

    assert answers == [200, 200, 200]
    _assert_throttled(refused)
    assert _token_client(viewer()).get(FEEDBACK).status_code == 200


def test_session_and_token_of_one_user_share_a_bucket(rates: dict[str, str]) -> None:
    """A person counts once, however they authenticate."""
    user = viewer()
    session = APIClient()
    session.force_login(user)
    token = _token_client(user)

    for _ in range(2):
        assert session.get(FEEDBACK).status_code == 200
    assert token.get(FEEDBACK).status_code == 200

    _assert_throttled(token.get(FEEDBACK))
    _assert_throttled(session.get(FEEDBACK))


def test_each_api_key_has_its_own_bucket(rates: dict[str, str]) -> None:
    """A source's fourth post in a minute is refused; another key of the same source still posts."""
    TouchpointFactory(slug="billing-call")
    first = SourceAPIKeyFactory(source__name="survey-tool")
    second = SourceAPIKeyFactory(source=first.source)
    client = _key_client(first.plain_key)

    answers = [client.post(FEEDBACK, _item(f"r-{n}"), format="json").status_code for n in range(3)]
    refused = client.post(FEEDBACK, _item("r-3"), format="json")

    assert answers == [201, 201, 201]
    _assert_throttled(refused)
    other = _key_client(second.plain_key).post(FEEDBACK, _item("r-4"), format="json")
    assert other.status_code == 201


def test_anonymous_calls_are_throttled_even_when_refused(rates: dict[str, str]) -> None:
    """Anonymous calls count per address whether they are answered (schema) or refused (401)."""
    client = APIClient()

    answers = [client.get(FEEDBACK).status_code, client.get("/api/schema/").status_code]
    answers.append(client.get(FEEDBACK).status_code)
    refused = [client.get(FEEDBACK), client.get("/api/schema/")]

    assert answers == [401, 200, 401]
    for response in refused:
        _assert_throttled(response)
    assert APIClient(REMOTE_ADDR="10.1.2.3").get(FEEDBACK).status_code == 401


def test_many_bad_api_keys_are_not_all_answered_401(rates: dict[str, str]) -> None:
    """Unknown keys from one address: three 401s, then 429s (the rate is 3/min)."""
    client = APIClient()

    answers = [
        client.get(FEEDBACK, HTTP_AUTHORIZATION=f"Api-Key guess{n}.secret{n}").status_code
        for n in range(10)
    ]

    assert answers == [401] * 3 + [429] * 7


def test_many_bad_tokens_are_not_all_answered_401(rates: dict[str, str]) -> None:
    """Unknown tokens count in the same per-address bucket as unknown keys."""
    client = APIClient()

    answers = [
        client.get(FEEDBACK, HTTP_AUTHORIZATION=f"Token {n:040x}").status_code for n in range(5)
    ]
    refused = client.get(FEEDBACK, HTTP_AUTHORIZATION="Token " + "f" * 40)

    assert answers == [401] * 3 + [429] * 2
    _assert_throttled(refused)


def test_a_valid_key_does_not_work_from_an_address_that_guessed(rates: dict[str, str]) -> None:
    """After the refusals, the right key from the same address is 429 too; elsewhere it works."""
    TouchpointFactory(slug="billing-call")
    api_key = SourceAPIKeyFactory(source__name="survey-tool")
    guesser = APIClient()
    for n in range(3):
        guesser.get(FEEDBACK, HTTP_AUTHORIZATION=f"Api-Key guess{n}.x")

    same_address = _key_client(api_key.plain_key).post(FEEDBACK, _item("r-0"), format="json")
    elsewhere = _key_client(api_key.plain_key, "10.1.2.3").post(
        FEEDBACK, _item("r-0"), format="json"
    )

    _assert_throttled(same_address)
    assert elsewhere.status_code == 201


def test_good_credentials_do_not_fill_the_bad_credentials_bucket(settings: Any) -> None:
    """Only refusals count: a token used more often than the bad-credentials rate still works."""
    low = {"anon": "3/min", "user": "100/min", "api_key": "3/min", "bad_credentials": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": low}
    client = _token_client(viewer())

    assert [client.get(FEEDBACK).status_code for _ in range(6)] == [200] * 6


def test_a_spoofed_forwarded_for_does_not_escape_the_limit(rates: dict[str, str]) -> None:
    """With no proxy configured, X-Forwarded-For is ignored: every guess counts for the address."""
    client = APIClient()

    answers = [
        client.get(
            FEEDBACK,
            HTTP_AUTHORIZATION=f"Api-Key guess{n}.x",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(5)
    ]

    assert answers == [401] * 3 + [429] * 2


def _settings_in_subprocess(code: str, **env: str) -> str:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxhub.settings", **env}
    for name in ("REDIS_URL", "CXHUB_CACHE_URL"):
        if name not in env:
            environment.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip() or result.stderr


class _DeadCache:
    """A cache whose server is gone, as Django's Redis cache is when Redis is down."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        import redis

        raise redis.exceptions.ConnectionError("Error 111 connecting to redis: refused")

    set = get


def test_a_cache_outage_lets_calls_through_and_ingest_goes_on(
    rates: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """With Redis (the throttles' cache) down, a source still posts (201), a user still reads,
    an anonymous call is still a 401, and the log says the throttles are off."""
    from cxhub import throttling

    monkeypatch.setattr(throttling._SettingsRateThrottle, "cache", _DeadCache())
    TouchpointFactory(slug="billing-call")
    key = _key_client(SourceAPIKeyFactory().plain_key)

    posted = [key.post(FEEDBACK, _item(f"down-{n}"), format="json") for n in range(5)]

    assert [answer.status_code for answer in posted] == [201] * 5  # over the 3/min rate too
    assert _token_client(viewer()).get(FEEDBACK).status_code == 200
    assert APIClient().get(FEEDBACK).status_code == 401
    assert "Throttle cache unavailable" in caplog.text


def test_rates_come_from_the_environment() -> None:
    """CXHUB_THROTTLE_* set DRF's rates."""
    code = (
        "from rest_framework.settings import api_settings as a; "
        "r = a.DEFAULT_THROTTLE_RATES; "
        "print(r['anon'], r['user'], r['api_key'], r['bad_credentials'])"
    )
    output = _settings_in_subprocess(
        code,
        CXHUB_THROTTLE_ANON="7/min",
        CXHUB_THROTTLE_USER="8/hour",
        CXHUB_THROTTLE_API_KEY="9/second",
        CXHUB_THROTTLE_BAD_CREDENTIALS="10/day",
    )
    assert output == "7/min 8/hour 9/second 10/day"


CACHE = (
    "from django.conf import settings; c = settings.CACHES['default']; "
    "print(c['BACKEND'].rsplit('.', 1)[-1], c.get('LOCATION', '-'))"
)


def test_without_redis_the_cache_is_in_process_memory() -> None:
    """No REDIS_URL: LocMemCache, as a development machine needs nothing else."""
    assert _settings_in_subprocess(CACHE) == "LocMemCache -"


def test_with_redis_the_cache_uses_the_next_database_not_the_brokers() -> None:
    """REDIS_URL db 3: the cache (which tests flush) is db 4; the broker stays on db 3."""
    output = _settings_in_subprocess(CACHE, REDIS_URL="redis://127.0.0.1:6379/3")
    assert output == "RedisCache redis://127.0.0.1:6379/4"


def test_the_cache_url_can_be_named() -> None:
    """CXHUB_CACHE_URL wins over the derived database."""
    output = _settings_in_subprocess(
        CACHE, REDIS_URL="redis://127.0.0.1:6379/0", CXHUB_CACHE_URL="redis://cache:6379/5"
    )
    assert output == "RedisCache redis://cache:6379/5"


def test_a_cache_on_the_brokers_database_is_refused() -> None:
    """Start-up fails rather than let a cache clear delete queued tasks."""
    output = _settings_in_subprocess(
        CACHE, REDIS_URL="redis://127.0.0.1:6379/2", CXHUB_CACHE_URL="redis://127.0.0.1:6379/2"
    )
    assert "CXHUB_CACHE_URL must name another Redis database" in output


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"REMOTE_ADDR": "203.0.113.7"}, "203.0.113.7"),
        ({"REMOTE_ADDR": "2001:db8::1"}, "2001:db8::1"),
        ({}, None),  # a request built in-process, as Django's force_login does
        ({"REMOTE_ADDR": "not-an-address"}, None),
    ],
)
def test_the_client_address_is_a_valid_address_or_none(
    meta: dict[str, str], expected: str | None
) -> None:
    """The sign-in records store the address in PostgreSQL's ``inet``: never the text "None"."""
    from django.http import HttpRequest

    from cxhub.throttling import client_ip

    request = HttpRequest()
    request.META.update(meta)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_a_sign_in_without_an_address_is_recorded_with_an_unknown_address() -> None:
    """``force_login`` has no REMOTE_ADDR; the access log keeps the sign-in with no address."""
    from axes.models import AccessLog
    from django.test import Client

    user = viewer()
    Client().force_login(user)
    record = AccessLog.objects.get(username=user.get_username())
    assert record.ip_address is None
