"""A small organisation: two departments, each role, and actions on both sides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.actions.factories import ActionFactory
from tests.feedback.factories import (
    DepartmentFactory,
    TouchpointFactory,
    UserFactory,
    cx_manager,
    line_manager,
    viewer,
)


@dataclass
class Org:
    support: Any
    billing: Any
    desk: Any
    cx: Any
    owner: Any  # line manager in support, owns ``own_action``
    colleague: Any  # another line manager in support
    outsider: Any  # line manager in billing, owns ``other_action``
    reader: Any  # viewer in support
    stranger: Any  # signed in, no CXHub role
    own_action: Any
    other_action: Any
    shared_action: Any  # billing's, but cross-department


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Factories hash a password per user; PBKDF2 would dominate these tests' run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db: None) -> Org:
    support = DepartmentFactory(name="Customer support", slug="support")
    billing = DepartmentFactory(name="Billing", slug="billing")
    desk = TouchpointFactory(name="Help desk call", slug="help-desk", department=support)
    cx = cx_manager(username="cara", first_name="Cara", last_name="Cx")
    owner = line_manager(username="liam", first_name="Liam", last_name="Line")
    colleague = line_manager(username="lena")
    outsider = line_manager(username="omar")
    reader = viewer(username="vera")
    stranger = UserFactory(username="stan")
    support.members.add(owner, colleague, reader)
    billing.members.add(outsider)
    own_action = ActionFactory(
        title="Shorter queues", department=support, owner=owner, created_by=cx
    )
    other_action = ActionFactory(
        title="Clearer bills", department=billing, owner=outsider, created_by=cx
    )
    shared_action = ActionFactory(
        title="One customer view",
        department=billing,
        owner=outsider,
        created_by=cx,
        cross_department=True,
    )
    return Org(
        support,
        billing,
        desk,
        cx,
        owner,
        colleague,
        outsider,
        reader,
        stranger,
        own_action,
        other_action,
        shared_action,
    )


@pytest.fixture
def api() -> Any:
    def client_for(user: Any | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for
