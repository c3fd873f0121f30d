"""Sign-in lock-out (django-axes): the login page and the admin's, and the records admins read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.utils import timezone

from tests.feedback.factories import UserFactory, cx_manager

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def limit(settings: Any) -> int:
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    return 3


def _sign_in(client: Client, username: str, password: str, path: str = LOGIN) -> Any:
    return client.post(path, {"username": username, "password": password})


def test_the_right_password_signs_in_and_is_recorded_for_admins(limit: int) -> None:
    """A successful sign-in redirects and leaves an access log row with the user and address."""
    user = UserFactory(username="ada")
    client = Client()

    response = _sign_in(client, "ada", PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    log = AccessLog.objects.get()
    assert (log.username, log.ip_address) == ("ada", "127.0.0.1")


def test_wrong_passwords_up_to_the_limit_lock_the_username_out(limit: int) -> None:
    """The limit-th wrong password answers 429 with Retry-After and a page saying what to do."""
    UserFactory(username="ada")
    client = Client()

    answers = [_sign_in(client, "ada", "wrong").status_code for _ in range(limit - 1)]
    locked = _sign_in(client, "ada", "wrong")

    assert answers == [200] * (limit - 1)
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    page = locked.content.decode()
    assert "Too many failed sign-ins" in page and "15 minutes" in page


def test_the_right_password_does_not_work_while_locked_out(limit: int) -> None:
    """During the cool-off even the right password answers 429 and signs nobody in."""
    UserFactory(username="ada")
    client = Client()
    for _ in range(limit):
        _sign_in(client, "ada", "wrong")

    response = _sign_in(client, "ada", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.count() == 0


def test_the_lock_out_ends_after_the_cool_off(limit: int) -> None:
    """Once the cool-off has passed since the last failure, the right password works again."""
    UserFactory(username="ada")
    client = Client()
    for _ in range(limit):
        _sign_in(client, "ada", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))

    response = _sign_in(client, "ada", PASSWORD)

    assert response.status_code == 302


def test_the_lock_out_is_per_username_and_address(limit: int) -> None:
    """Another user signing in from the same address, or the same user from another, is not locked."""
    UserFactory(username="ada")
    UserFactory(username="bob")
    client = Client()
    for _ in range(limit):
        _sign_in(client, "ada", "wrong")

    same_address_other_user = _sign_in(Client(), "bob", PASSWORD)
    other_address = Client(REMOTE_ADDR="10.9.8.7").post(
        LOGIN, {"username": "ada", "password": PASSWORD}
    )

    assert same_address_other_user.status_code == 302
    assert other_address.status_code == 302


def test_the_admin_login_locks_out_too(limit: int) -> None:
    """The admin's sign-in counts failures and refuses the right password once locked."""
    cx_manager(username="root", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(limit):
        _sign_in(client, "root", "wrong", ADMIN_LOGIN)

    response = _sign_in(client, "root", PASSWORD, ADMIN_LOGIN)

    assert response.status_code == 429
    assert "Retry-After" in response
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_are_recorded_without_the_password(limit: int) -> None:
    """Each failure is an access-failure row; the attempt counts them and masks the password."""
    UserFactory(username="ada")
    client = Client()

    for _ in range(2):
        _sign_in(client, "ada", "hunter2-secret")

    assert AccessFailureLog.objects.filter(username="ada").count() == 2
    attempt = AccessAttempt.objects.get(username="ada")
    assert attempt.failures_since_start == 2
    assert "hunter2-secret" not in attempt.post_data


def test_limit_and_cool_off_come_from_the_environment() -> None:
    """CXHUB_LOGIN_FAILURE_LIMIT and CXHUB_LOGIN_COOLOFF_MINUTES set axes' limit and cool-off."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "from django.conf import settings; "
        "print(settings.AXES_FAILURE_LIMIT, int(settings.AXES_COOLOFF_TIME.total_seconds()))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cxhub.settings",
        "CXHUB_LOGIN_FAILURE_LIMIT": "7",
        "CXHUB_LOGIN_COOLOFF_MINUTES": "30",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["7", "1800"], result.stderr


@pytest.mark.parametrize(
    "path",
    ["/admin/axes/accesslog/", "/admin/axes/accessattempt/", "/admin/axes/accessfailurelog/"],
)
def test_administrators_read_the_sign_in_records(path: str) -> None:
    """The admin lists sign-ins, current failure counts and every failure, with the address."""
    UserFactory(username="ada")
    _sign_in(Client(), "ada", PASSWORD)
    _sign_in(Client(), "ada", "wrong")
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = admin.get(path)

    assert response.status_code == 200
    assert "127.0.0.1" in response.content.decode()
