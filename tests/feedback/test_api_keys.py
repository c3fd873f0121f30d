"""API keys: the last-used time administrators read, and revoking keys from the command line."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.models import SourceAPIKey
from tests.feedback.conftest import feedback_item
from tests.feedback.factories import (
    SourceAPIKeyFactory,
    SourceFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FEEDBACK = "/api/v1/feedback/"


def _post(plain_key: str, external_id: str = "r-1") -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain_key}")
    return client.post(FEEDBACK, feedback_item(external_id=external_id, ratings={}), format="json")


@pytest.fixture
def touchpoint(db: None) -> Any:
    return TouchpointFactory(slug="billing-call")


def test_a_key_that_authenticates_records_when(touchpoint: Any) -> None:
    """A new key has never been used; a call it authenticates sets its last-used time."""
    api_key = SourceAPIKeyFactory()
    assert api_key.last_used_at is None

    before = timezone.now()
    assert _post(api_key.plain_key).status_code == 201

    api_key.refresh_from_db()
    assert api_key.last_used_at is not None and api_key.last_used_at >= before


def test_the_last_used_time_is_written_at_most_once_a_minute(touchpoint: Any) -> None:
    """Calls within a minute of the recorded time do not write it again."""
    api_key = SourceAPIKeyFactory()
    recent = timezone.now() - dt.timedelta(seconds=20)
    SourceAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=recent)

    _post(api_key.plain_key, "r-1")
    _post(api_key.plain_key, "r-2")

    api_key.refresh_from_db()
    assert api_key.last_used_at == recent


def test_a_last_use_over_a_minute_ago_is_moved_on(touchpoint: Any) -> None:
    """Once a minute has passed, the next call records the new time."""
    api_key = SourceAPIKeyFactory()
    old = timezone.now() - dt.timedelta(minutes=5)
    SourceAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=old)

    _post(api_key.plain_key)

    api_key.refresh_from_db()
    assert api_key.last_used_at > old + dt.timedelta(minutes=4)


def test_a_refused_key_records_no_use(touchpoint: Any) -> None:
    """A revoked key's call is a 401 and leaves its last-used time alone."""
    api_key = SourceAPIKeyFactory(revoked=True)

    assert _post(api_key.plain_key).status_code == 401

    api_key.refresh_from_db()
    assert api_key.last_used_at is None


def test_administrators_see_each_keys_source_and_last_use() -> None:
    """The admin's key list shows the source and the last-used column."""
    SourceAPIKeyFactory(source__name="crm-sync", last_used_at=timezone.now())
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    page = admin.get("/admin/feedback/sourceapikey/").content.decode()

    assert "crm-sync" in page
    assert "Last used at" in page or "last used at" in page.lower()


def _revoke(*args: str) -> str:
    out = StringIO()
    call_command("revoke_api_key", *args, stdout=out)
    return out.getvalue()


def test_revoke_by_prefix_turns_the_key_away(touchpoint: Any) -> None:
    """After revoke_api_key PREFIX the key answers 401; the source's other keys still work."""
    revoked = SourceAPIKeyFactory()
    other = SourceAPIKeyFactory(source=revoked.source)

    output = _revoke(revoked.prefix)

    assert "Revoked 1 API key" in output
    assert _post(revoked.plain_key, "r-1").status_code == 401
    assert _post(other.plain_key, "r-2").status_code == 201


def test_revoke_a_sources_keys() -> None:
    """--source NAME revokes every key of that source and no other source's."""
    source = SourceFactory(name="legacy-survey")
    SourceAPIKeyFactory(source=source)
    SourceAPIKeyFactory(source=source)
    elsewhere = SourceAPIKeyFactory()

    output = _revoke("--source", "legacy-survey")

    assert "Revoked 2 API keys" in output
    assert set(SourceAPIKey.objects.filter(source=source).values_list("revoked", flat=True)) == {
        True
    }
    elsewhere.refresh_from_db()
    assert elsewhere.revoked is False


def test_revoking_again_says_there_was_nothing_to_do() -> None:
    """A key already revoked is not counted twice."""
    api_key = SourceAPIKeyFactory(revoked=True)

    assert "Nothing to revoke" in _revoke(api_key.prefix)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope1234",), "No API key has the prefix 'nope1234'."),
        (("--source", "nowhere"), "No source is named 'nowhere'."),
        ((), "Give a key prefix or --source NAME"),
    ],
)
def test_revoke_explains_what_it_could_not_find(args: tuple[str, ...], message: str) -> None:
    """An unknown prefix or source, or no argument, is a readable error, not a traceback."""
    SourceFactory(name="survey-tool")

    with pytest.raises(CommandError, match=message.replace(".", r"\.").replace("(", r"\(")):
        _revoke(*args)
