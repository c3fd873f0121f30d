"""Schemathesis against ``/api/schema/``: generated requests never give a 5xx, and every answer
conforms to the schema the API publishes.

Two callers walk every operation: a CX manager with a user token and a source with an API key.
Requests go through the real WSGI application in this test's database, so objects named in
paths mostly do not exist (404s are checked too); the world below gives the generators real
slugs and ids to hit as well.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from analytics.impact.services.kpis import observation_record
from analytics.models import Kpi
from tests.actions.factories import ActionFactory, AlertFactory
from tests.cxhub.test_permission_matrix import MATRIX, _client, _fill, world  # noqa: F401
from tests.feedback.factories import (
    CustomerFactory,
    ResponseFactory,
    SourceAPIKeyFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
)

EXAMPLES_PER_OPERATION = 15
MIN_CASES = 1_000
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def fuzz_world(db: None, settings: Any) -> dict[str, str]:
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    touchpoint = TouchpointFactory(slug="desk")
    owner = line_manager(username="owner")
    touchpoint.department.members.add(owner)
    key = SourceAPIKeyFactory()
    CustomerFactory(source=key.source, external_id="C-1")
    response = ResponseFactory(touchpoint=touchpoint, nps=2, comment="Waited an hour.")
    ActionFactory(department=touchpoint.department, owner=owner)
    AlertFactory(response=response)
    cx = cx_manager(username="fuzz-cx")
    token, _ = Token.objects.get_or_create(user=cx)
    return {
        "token": f"Token {token.key}",
        "key": f"Api-Key {key.plain_key}",
    }


@pytest.mark.django_db
def test_generated_requests_never_fail_and_answers_match_the_schema(
    fuzz_world: dict[str, str],
) -> None:
    app = get_wsgi_application()
    _keep_connections()
    try:
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 50
        counts: Counter[str] = Counter()
        failures: list[str] = []
        for caller in ("token", "key"):
            headers = {"Authorization": fuzz_world[caller]}
            for operation in operations:
                _fuzz(operation, headers, counts, failures, caller)
    finally:
        _release_connections()
    assert not failures, "\n".join(failures)
    assert sum(counts.values()) >= MIN_CASES, counts
    # The callers reached handlers, not only refusals: some 2xx answers for each.
    assert counts["token:2xx"] > 50 and counts["key:2xx"] > 5, counts


def _keep_connections() -> None:
    """The test's transaction must outlive each request: Django closes connections when a
    request starts and finishes (PostgreSQL would lose the test's data), so, as Django's
    test client does, those two receivers are off while the requests run."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


def _release_connections() -> None:
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _fuzz(
    operation: Any,
    headers: dict[str, str],
    counts: Counter[str],
    failures: list[str],
    caller: str,
) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)  # each case meets the same world
        counts[f"{caller}:{response.status_code // 100}xx"] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:
        failures.append(f"{caller} {operation.label}: {_summary(error)}")


def _summary(error: BaseException) -> str:
    """The first lines of each failure schemathesis found, enough to locate it."""
    parts = list(getattr(error, "exceptions", [])) or [error]
    return " | ".join(" ".join(str(part).split("\n")[:4])[:300] for part in parts)


# --- the published shape of real objects ------------------------------------------------------


def _operation_and_parameters(
    schema: Any, method: str, path: str
) -> tuple[Any, dict[str, str]] | None:
    """The operation serving ``method path`` and its path parameters; None for a route that
    does not answer ``method`` (a write-only endpoint)."""
    route = path.split("?", 1)[0]
    operation = schema.find_operation_by_path(method, route)
    if operation is None:
        return None
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(operation.path))
    match = re.fullmatch(pattern, route)
    assert match is not None
    return operation, match.groupdict()


@pytest.mark.django_db
def test_every_api_read_of_real_objects_answers_in_the_published_shape(
    world: dict[str, Any],  # noqa: F811
    settings: Any,
) -> None:
    """Each API read of the permission matrix, on objects that exist (runs nobody requested,
    alerts without a touchpoint, organisation-wide KPI observations), as a CX manager and as
    a source's key: every answer conforms to its schema."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    AlertFactory(response__touchpoint=None, touchpoint=None, department=None)
    kpi = Kpi.objects.get(slug=world["kpi"])
    observation_record(kpi=kpi, item={"period_start": "2026-01-05", "value": 3})
    app = get_wsgi_application()
    _keep_connections()
    checked = 0
    failures = []
    try:
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
        for spec in MATRIX.values():
            for case in spec.read:
                if not case.path.startswith("/api/v1/"):
                    continue
                path = _fill(case.path, world)
                found = _operation_and_parameters(schema, "GET", path)
                if found is None:
                    continue
                operation, parameters = found
                query = dict(
                    part.split("=", 1) for part in path.partition("?")[2].split("&") if part
                )
                for principal in ("cx", "key_x"):
                    headers = dict(_client(principal, world, api=True).defaults)
                    request = operation.Case(path_parameters=parameters, query=query)
                    response = request.call(
                        headers={"Authorization": headers["HTTP_AUTHORIZATION"]}
                    )
                    checked += 1
                    try:
                        request.validate_response(response, checks=CHECKS)
                    except (Exception, BaseExceptionGroup) as error:
                        failures.append(f"{principal} GET {path}: {_summary(error)}")
    finally:
        _release_connections()
    assert not failures, "\n".join(failures)
    assert checked > 60
