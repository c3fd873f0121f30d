"""The permission matrix: every route of the URL configuration × every principal × read and
write, with the answer the access policy (``cxhub.access``, ``docs/security.md``) gives.

Principals, in the order of every row: anonymous, a signed-in person with no role, a viewer
of department A, the line manager of A, the line manager of B, a CX manager, an API key of
source X and an API key of source Y. The objects named in paths belong to department A
(the customer to source X).

Codes: ``ok`` a read that answers 2xx (3xx for redirects), or a write the policy lets
through (anything below 500 except 401/403/404/405 and the sign-in redirect: a 400 for a
body the view then finds wrong still means the door was open); ``login`` the redirect to
the sign-in page; otherwise the status code itself.

A route missing from :data:`MATRIX` fails :func:`test_every_route_has_a_row`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from actions.models import ActionStatus, Notification
from analytics.models import AnalysisRun, Kpi, KpiObservation, ThemeProposal, Topic
from dashboards.models import DashboardComment
from tests.actions.factories import ActionFactory, AlertFactory
from tests.feedback.factories import (
    CustomerFactory,
    DepartmentFactory,
    ResponseFactory,
    SourceAPIKeyFactory,
    TouchpointFactory,
    UserFactory,
    cx_manager,
    line_manager,
    viewer,
)

PRINCIPALS = ("anonymous", "no_role", "viewer", "lm_a", "lm_b", "cx", "key_x", "key_y")

EVERY_ROLE = "401 403 ok ok ok ok 403 403"
ROLE_IN_A = "401 403 ok ok 404 ok 403 403"  # an object of department A
SCOPE_A = "401 403 ok ok 403 ok 403 403"  # a request naming department A
CX_ONLY = "401 403 403 403 403 ok 403 403"
NO_READ = "401 403 405 405 405 405 403 403"  # a write-only endpoint
NO_WRITE = "401 403 405 405 405 405 403 403"  # a read-only endpoint
SOURCE_WRITES = "401 403 403 403 403 ok ok ok"
OWNER_OR_CX = "401 403 403 ok 404 ok 403 403"  # lm_a owns the action of A
OWNER_ONLY = "401 403 403 ok 404 403 403 403"
CX_ON_A = "401 403 403 403 404 ok 403 403"
NO_RUN_YET = "401 403 404 404 404 404 403 403"
MANAGERS = "401 403 403 ok ok ok 403 403"  # alerts: line and CX managers, never viewers
MANAGERS_SCOPE_A = "401 403 403 ok 403 ok 403 403"

PAGE_EVERY_ROLE = "login 403 ok ok ok ok login login"
PAGE_IN_A = "login 403 ok ok 404 ok login login"
PAGE_SCOPE_A = "login 403 ok ok 403 ok login login"
PAGE_CX_ONLY = "login 403 403 403 403 ok login login"
PAGE_NO_WRITE = "login 403 405 405 405 405 login login"
PAGE_NO_READ = "login 403 405 405 405 405 login login"
PAGE_OWNER_OR_CX = "login 403 403 ok 404 ok login login"
PAGE_MANAGERS_IN_A = "login 403 403 ok 404 ok login login"
PAGE_MANAGERS = "login 403 403 ok ok ok login login"
POST_ONLY = "405 405 405 405 405 405 405 405"  # refused by method before anything
SCHEMA = "ok ok ok ok ok ok 403 403"  # a key sent to people's pages is refused
PUBLIC = "ok ok ok ok ok ok ok ok"
# Only the metrics token opens /metrics (set below): no session, token or API key does.
METRICS_TOKEN_ONLY = "401 401 401 401 401 401 401 401"
MOVED = "301 301 301 301 301 301 301 301"


@dataclass(frozen=True)
class Case:
    """One request of a row: ``path`` may name objects of the world as ``{name}``."""

    path: str
    expected: str
    method: str = "get"
    body: dict[str, Any] | list[Any] | None = None


@dataclass(frozen=True)
class Row:
    read: tuple[Case, ...]
    write: tuple[Case, ...] = field(default_factory=tuple)


def row(path: str, read: str, write: str | None = None, **write_options: Any) -> Row:
    method = write_options.pop("method", "post")
    body = write_options.pop("body", None)
    writes = (Case(path, write, method, body),) if write else ()
    return Row(read=(Case(path, read),), write=writes)


def also(base: Row, *cases: Case) -> Row:
    return Row(
        read=base.read + tuple(c for c in cases if c.method == "get"),
        write=base.write + tuple(c for c in cases if c.method != "get"),
    )


RESPONSE_BODY = {"external_id": "m-1", "submitted_at": "2026-03-01T10:00:00Z", "nps": 7}

MATRIX: dict[str, Row] = {
    # -- public ------------------------------------------------------------------------
    "login": row("/accounts/login/", PUBLIC, PUBLIC, body={"username": "x", "password": "y"}),
    "logout": row(
        "/accounts/logout/", POST_ONLY, "login login login login login login login login"
    ),
    "healthz": row("/healthz/", PUBLIC),
    "readyz": row("/readyz/", PUBLIC),
    "metrics": row("/metrics", METRICS_TOKEN_ONLY),
    "api-schema": row("/api/schema/", SCHEMA),
    "api-docs": row("/api/docs/", SCHEMA),
    "api-redoc": row("/api/redoc/", SCHEMA),
    # -- feedback ----------------------------------------------------------------------
    "feedback-list": also(
        row("/api/v1/feedback/", EVERY_ROLE, SOURCE_WRITES, body=RESPONSE_BODY),
        Case("/api/v1/feedback/?department={dept_a}", SCOPE_A),
        Case("/api/v1/feedback/?touchpoint={tp_a}", SCOPE_A),
    ),
    "feedback-bulk": row("/api/v1/feedback/bulk/", NO_READ, SOURCE_WRITES, body=[RESPONSE_BODY]),
    "feedback-detail": row("/api/v1/feedback/{response_a}/", ROLE_IN_A, NO_WRITE),
    "customer-list": row("/api/v1/customers/", CX_ONLY, SOURCE_WRITES, body={"external_id": "N-1"}),
    "customer-bulk": row(
        "/api/v1/customers/bulk/", NO_READ, SOURCE_WRITES, body=[{"external_id": "N-2"}]
    ),
    "customer-detail": also(
        row(
            "/api/v1/customers/{customer_x}/",
            CX_ONLY,
            "401 403 403 403 403 ok ok 403",
            method="patch",
            body={"plan": "basic"},
        ),
        Case("/api/v1/customers/{customer_x}/", CX_ONLY, "delete"),
    ),
    "customer-export": row("/api/v1/customers/{customer_x}/export/", CX_ONLY, NO_WRITE),
    # -- actions -----------------------------------------------------------------------
    "api-actions": row("/api/v1/actions/", EVERY_ROLE, CX_ONLY, body={"title": "New"}),
    "api-action-detail": row(
        "/api/v1/actions/{action_a}/", ROLE_IN_A, OWNER_OR_CX, method="patch", body={"progress": 10}
    ),
    "api-action-updates": row(
        "/api/v1/actions/{action_a}/updates/",
        ROLE_IN_A,
        OWNER_OR_CX,
        body={"text": "Done", "progress": 20},
    ),
    "api-action-history": row("/api/v1/actions/{action_a}/history/", ROLE_IN_A, NO_WRITE),
    "api-action-accept": row("/api/v1/actions/{action_a}/accept/", NO_READ, OWNER_ONLY),
    "api-action-decline": row(
        "/api/v1/actions/{action_a}/decline/", NO_READ, OWNER_ONLY, body={"reason": "Not ours."}
    ),
    "api-action-start": row("/api/v1/actions/{action_a}/start/", NO_READ, OWNER_OR_CX),
    "api-action-implement": row("/api/v1/actions/{action_a}/implement/", NO_READ, OWNER_OR_CX),
    "api-action-cancel": row(
        "/api/v1/actions/{action_a}/cancel/", NO_READ, CX_ON_A, body={"reason": "x"}
    ),
    "api-action-reassign": row(
        "/api/v1/actions/{action_a}/reassign/", NO_READ, CX_ON_A, body={"owner": 0}
    ),
    "api-alerts": also(
        row("/api/v1/alerts/", MANAGERS, NO_WRITE),
        Case("/api/v1/alerts/?department={dept_a}", MANAGERS_SCOPE_A),
        Case("/api/v1/alerts/?touchpoint={tp_a}&overdue=true", MANAGERS_SCOPE_A),
    ),
    "api-alert-handle": row(
        "/api/v1/alerts/{alert_a}/handle/", NO_READ, OWNER_OR_CX, body={"note": "Called"}
    ),
    "api-alert-assign": row(
        "/api/v1/alerts/{alert_a}/assign/", NO_READ, OWNER_OR_CX, body={"assignee": 0}
    ),
    "api-alert-contacts": row(
        "/api/v1/alerts/{alert_a}/contacts/",
        "401 403 403 ok 404 ok 403 403",
        OWNER_OR_CX,
        body={"channel": "phone"},
    ),
    # A bulk request answers 200 with a refusal per alert the caller may not handle.
    "api-alerts-bulk": row(
        "/api/v1/alerts/bulk/",
        NO_READ,
        MANAGERS,
        body={"ids": ["{alert_a}"], "operation": "assign", "assignee": 0},
    ),
    "api-notifications": row("/api/v1/notifications/", EVERY_ROLE, NO_WRITE),
    "api-notifications-read": row("/api/v1/notifications/read/", NO_READ, EVERY_ROLE, body={}),
    "api-notification-preferences": row(
        "/api/v1/notifications/preferences/", EVERY_ROLE, EVERY_ROLE, method="patch", body={}
    ),
    # -- analytics ---------------------------------------------------------------------
    "api-action-impact": row("/api/v1/actions/{action_a}/impact/", ROLE_IN_A, OWNER_OR_CX),
    "analytics-impact-rollup": also(
        row("/api/v1/analytics/impact/rollup/", EVERY_ROLE, NO_WRITE),
        Case("/api/v1/analytics/impact/rollup/?department={dept_a}", SCOPE_A),
    ),
    "kpi-list": row("/api/v1/kpis/", EVERY_ROLE, CX_ONLY, body={"name": "Refunds"}),
    "kpi-observation-list": row(
        "/api/v1/kpis/{kpi}/observations/",
        EVERY_ROLE,
        SOURCE_WRITES,
        body={"period_start": "2026-03-02", "value": 1.5},
    ),
    "kpi-observation-bulk": row(
        "/api/v1/kpis/{kpi}/observations/bulk/",
        NO_READ,
        SOURCE_WRITES,
        body=[{"period_start": "2026-03-09", "value": 1.5}],
    ),
    "analytics-scores": also(
        row("/api/v1/analytics/scores/", EVERY_ROLE, NO_WRITE),
        Case("/api/v1/analytics/scores/?department={dept_a}", SCOPE_A),
        Case("/api/v1/analytics/scores/?touchpoint={tp_a}", SCOPE_A),
    ),
    "analytics-drivers": also(
        row("/api/v1/analytics/drivers/", EVERY_ROLE, NO_WRITE),
        Case("/api/v1/analytics/drivers/?department={dept_a}", "401 403 404 404 403 404 403 403"),
    ),
    "analytics-value": row("/api/v1/analytics/value/", NO_RUN_YET, NO_WRITE),
    "analytics-runs": row("/api/v1/analytics/runs/", EVERY_ROLE, CX_ONLY, body={"kind": "scores"}),
    "analytics-run-detail": also(
        row("/api/v1/analytics/runs/{run_a}/", ROLE_IN_A, NO_WRITE),
        Case("/api/v1/analytics/runs/{run_every}/", "401 403 404 404 404 ok 403 403"),
        Case("/api/v1/analytics/runs/{run_all}/", EVERY_ROLE),
    ),
    "analytics-topics": also(
        row("/api/v1/analytics/topics/", EVERY_ROLE, CX_ONLY, body={"name": "Parking"}),
        Case("/api/v1/analytics/topics/?touchpoint={tp_a}", SCOPE_A),
    ),
    "analytics-topic-detail": also(
        row(
            "/api/v1/analytics/topics/{topic}/",
            EVERY_ROLE,
            CX_ONLY,
            method="patch",
            body={"description": "x"},
        ),
        Case("/api/v1/analytics/topics/{topic}/", CX_ONLY, "delete"),
    ),
    "analytics-response-tags": row(
        "/api/v1/analytics/responses/{response_a}/tags/",
        ROLE_IN_A,
        CX_ONLY,
        body={"topic": "{topic}", "action": "add"},
    ),
    "analytics-themes": row("/api/v1/analytics/themes/", CX_ONLY, NO_WRITE),
    "analytics-themes-discover": row("/api/v1/analytics/themes/discover/", NO_READ, CX_ONLY),
    "analytics-theme-accept": row("/api/v1/analytics/themes/{theme}/accept/", NO_READ, CX_ONLY),
    "analytics-theme-dismiss": row("/api/v1/analytics/themes/{theme}/dismiss/", NO_READ, CX_ONLY),
    "analytics-topic-impact": row("/api/v1/analytics/topic-impact/", NO_RUN_YET, NO_WRITE),
    # -- dashboards API ----------------------------------------------------------------
    "dashboard-comment-list": row(
        "/api/v1/dashboard-comments/",
        EVERY_ROLE,
        SCOPE_A,
        body={"body": "Hi", "department": "{dept_a}"},
    ),
    "dashboard-comment-status": row(
        "/api/v1/dashboard-comments/{comment_a}/status/",
        NO_READ,
        CX_ONLY,
        body={"status": "closed"},
    ),
    "evidence-create": row(
        "/api/v1/evidence/",
        NO_READ,
        CX_ONLY,
        body={"kind": "touchpoint", "reference": "{tp_a}"},
    ),
    # -- action pages ------------------------------------------------------------------
    "actions:board": row("/actions/", PAGE_EVERY_ROLE),
    "actions:mine": row("/actions/mine/", PAGE_EVERY_ROLE),
    "actions:create": row("/actions/new/", PAGE_CX_ONLY, PAGE_CX_ONLY, body={"title": ""}),
    "actions:detail": row("/actions/{action_a}/", PAGE_IN_A),
    "actions:update": row(
        "/actions/{action_a}/updates/",
        POST_ONLY,
        PAGE_OWNER_OR_CX,
        body={"text": "Done", "progress": 20},
    ),
    "actions:edit": row(
        "/actions/{action_a}/edit/", PAGE_CX_ONLY, PAGE_CX_ONLY, body={"title": ""}
    ),
    "actions:transition": row(
        "/actions/{action_a}/accept/", POST_ONLY, "login 403 403 ok 404 403 login login"
    ),
    "actions:alerts": also(
        row("/alerts/", PAGE_MANAGERS),
        Case("/alerts/?department={dept_a}", "login 403 403 ok 403 ok login login"),
        Case("/alerts/?touchpoint={tp_a}&overdue=on", "login 403 403 ok 403 ok login login"),
    ),
    "actions:alert-handle": row(
        "/alerts/{alert_a}/handle/", POST_ONLY, PAGE_MANAGERS_IN_A, body={"note": "Called"}
    ),
    "actions:alert-assign": row(
        "/alerts/{alert_a}/assign/", POST_ONLY, PAGE_MANAGERS_IN_A, body={"assignee": "me"}
    ),
    "actions:alert-contact": row(
        "/alerts/{alert_a}/contacts/", POST_ONLY, PAGE_MANAGERS_IN_A, body={"channel": "phone"}
    ),
    "actions:alerts-bulk": row(
        "/alerts/bulk/",
        POST_ONLY,
        PAGE_MANAGERS,
        body={"ids": "{alert_a}", "operation": "assign", "assignee": "me"},
    ),
    "actions:notifications": row("/notifications/", PAGE_EVERY_ROLE),
    "actions:preferences": row(
        "/notifications/preferences/", PAGE_EVERY_ROLE, PAGE_EVERY_ROLE, body={}
    ),
    # -- text pages --------------------------------------------------------------------
    "analytics-topics-page": also(
        row("/topics/", PAGE_EVERY_ROLE, PAGE_CX_ONLY, body={"name": ""}),
        Case("/topics/?touchpoint={tp_a}", PAGE_SCOPE_A),
    ),
    "analytics-themes-page": row(
        "/topics/themes/",
        PAGE_CX_ONLY,
        PAGE_CX_ONLY,
        body={"decision": "dismiss", "theme": "{theme}"},
    ),
    "analytics-tag-correct-page": row(
        "/topics/responses/{response_a}/tags/",
        PAGE_NO_READ,
        PAGE_CX_ONLY,
        body={"topic": "{topic}"},
    ),
    "analytics-topic-verbatims-page": row("/topics/{topic}/", PAGE_EVERY_ROLE),
    # -- dashboards --------------------------------------------------------------------
    "dashboards:overview": row("/", PAGE_EVERY_ROLE, PAGE_NO_WRITE),
    "dashboards:department": row("/departments/{dept_a}/", PAGE_SCOPE_A, PAGE_NO_WRITE),
    "dashboards:report": row("/departments/{dept_a}/report/", PAGE_SCOPE_A),
    "dashboards:insights": also(
        row("/insights/", PAGE_EVERY_ROLE, PAGE_NO_WRITE),
        Case("/insights/?department={dept_a}", PAGE_SCOPE_A),
    ),
    "dashboards:insights-run": row(
        "/insights/run/", PAGE_NO_READ, PAGE_CX_ONLY, body={"analysis": "value"}
    ),
    "dashboards:verbatims": also(
        row("/verbatims/", PAGE_EVERY_ROLE, PAGE_NO_WRITE),
        Case("/verbatims/?touchpoint={tp_a}", PAGE_SCOPE_A),
        Case("/verbatims/?department={dept_a}", PAGE_SCOPE_A),
    ),
    "dashboards:evidence-new": row(
        "/evidence/new/?kind=touchpoint&reference={tp_a}",
        PAGE_CX_ONLY,
        PAGE_CX_ONLY,
        body={"kind": "touchpoint", "reference": "{tp_a}"},
    ),
    "dashboards:impact": also(
        row("/impact/", PAGE_EVERY_ROLE),
        Case("/impact/?department={dept_a}", PAGE_SCOPE_A),
    ),
    "dashboards:impact-detail": row("/impact/{action_a}/", PAGE_IN_A),
    "dashboards:impact-estimate": row(
        "/impact/{action_a}/estimate/", PAGE_NO_READ, PAGE_OWNER_OR_CX
    ),
    "dashboards:export": also(
        row("/export/verbatims.csv", PAGE_EVERY_ROLE, PAGE_NO_WRITE),
        Case("/export/verbatims.csv?touchpoint={tp_a}", PAGE_SCOPE_A),
        Case("/export/departments.csv?department={dept_a}", PAGE_SCOPE_A),
        Case("/export/impact-value.csv?department={dept_a}", PAGE_SCOPE_A),
        Case("/export/comments.csv", PAGE_CX_ONLY),
    ),
    "dashboards:comments": row("/comments/", PAGE_CX_ONLY),
    "dashboards:comment-create": row(
        "/comments/new/", PAGE_NO_READ, PAGE_SCOPE_A, body={"body": "Hi", "department": "{dept_a}"}
    ),
    "dashboards:comment-status": row(
        "/comments/{comment_a}/status/", PAGE_NO_READ, PAGE_CX_ONLY, body={"status": "closed"}
    ),
    "dashboards:drivers-moved": row("/drivers/", MOVED),
    "dashboards:impact-rollup-moved": row("/impact/rollup/", MOVED),
    "dashboards:impact-estimates-moved": row("/impact/{action_a}/estimates/", MOVED),
}


def _route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("admin/"):
                    continue  # Django's admin keeps its own staff-only gate
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"Route {pattern.pattern} has no name"
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_route_has_a_row() -> None:
    """A route without a row in the matrix (or a row without a route) fails here."""
    routes = _route_names()
    assert sorted(routes - MATRIX.keys()) == [], "routes missing from the permission matrix"
    assert sorted(MATRIX.keys() - routes) == [], "matrix rows for routes that do not exist"


# -- the world --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def metrics_token(settings: Any) -> None:
    """Metrics switched on, as in production; without a token the route answers 404."""
    settings.CXHUB_METRICS_TOKEN = "matrix-metrics-token"


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    dept_a = DepartmentFactory(slug="alpha", name="Alpha")
    dept_b = DepartmentFactory(slug="beta", name="Beta")
    tp_a = TouchpointFactory(department=dept_a, slug="alpha-desk")
    tp_b = TouchpointFactory(department=dept_b, slug="beta-desk")
    lm_a = line_manager(username="lm_a")
    lm_b = line_manager(username="lm_b")
    member = viewer(username="viewer_a")
    dept_a.members.add(lm_a, member)
    dept_b.members.add(lm_b)
    key_x = SourceAPIKeyFactory()
    key_y = SourceAPIKeyFactory()
    customer = CustomerFactory(source=key_x.source)
    response_a = ResponseFactory(touchpoint=tp_a, nps=2, comment="Waited an hour.")
    ResponseFactory(touchpoint=tp_b, nps=9, comment="Fine.")
    action_a = ActionFactory(department=dept_a, owner=lm_a, status=ActionStatus.PROPOSED)
    alert_a = AlertFactory(response=response_a)
    Notification.objects.create(recipient=lm_a, kind="assigned", title="New action")
    topic = Topic.objects.order_by("slug").first()
    assert topic is not None
    kpi = Kpi.objects.order_by("slug").first()
    assert kpi is not None
    KpiObservation.objects.filter(kpi=kpi).delete()
    run_a = AnalysisRun.objects.create(
        kind=AnalysisRun.Kind.SCORES,
        status=AnalysisRun.Status.SUCCEEDED,
        parameters={"filters": {"department": ["alpha"]}},
    )
    run_a.scope_departments.set([dept_a])
    run_every = AnalysisRun.objects.create(
        kind=AnalysisRun.Kind.TAGGING,
        status=AnalysisRun.Status.SUCCEEDED,
        scope_every_department=True,
    )
    run_all = AnalysisRun.objects.create(
        kind=AnalysisRun.Kind.DRIVERS,
        status=AnalysisRun.Status.SUCCEEDED,
        parameters={"outcome": "nps", "filters": {}},
        result={},
    )
    theme = ThemeProposal.objects.create(run=run_every, label="Parking", size=3)
    comment_a = DashboardComment.objects.create(department=dept_a, author=lm_a, body="Why?")
    return {
        "dept_a": dept_a.slug,
        "tp_a": tp_a.slug,
        "response_a": response_a.pk,
        "customer_x": customer.pk,
        "action_a": action_a.pk,
        "alert_a": alert_a.pk,
        "topic": topic.slug,
        "kpi": kpi.slug,
        "run_a": run_a.pk,
        "run_every": run_every.pk,
        "run_all": run_all.pk,
        "theme": theme.pk,
        "comment_a": comment_a.pk,
        "users": {
            "no_role": UserFactory(username="nobody"),
            "viewer": member,
            "lm_a": lm_a,
            "lm_b": lm_b,
            "cx": cx_manager(username="cx"),
        },
        "keys": {"key_x": key_x.plain_key, "key_y": key_y.plain_key},
    }


def _fill(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**{k: v for k, v in world.items() if not isinstance(v, dict)})
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def _client(principal: str, world: dict[str, Any], *, api: bool) -> Client:
    client = Client()
    if principal in world["users"]:
        user = world["users"][principal]
        if api:
            token, _ = Token.objects.get_or_create(user=user)
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
        else:
            client.force_login(user)
    elif principal in world["keys"]:
        client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {world['keys'][principal]}"
    return client


def _verdict(status: int, location: str, *, write: bool) -> str:
    if status in (301, 302) and location.startswith("/accounts/login/"):
        return "login"
    if status in (401, 403, 404, 405):
        return str(status)
    if status == 301:
        return "301"
    if write:
        return "ok" if status < 500 else str(status)
    return "ok" if status < 400 else str(status)


def _cases() -> list[Any]:
    out = []
    for name, spec in MATRIX.items():
        for op, cases in (("read", spec.read), ("write", spec.write)):
            for index, case in enumerate(cases):
                out.append(pytest.param(name, op, case, id=f"{name}-{op}-{index}"))
    return out


Answer = Callable[[str], str]


@pytest.mark.parametrize(("name", "op", "case"), _cases())
def test_route_answers_every_principal_as_the_policy_says(
    world: dict[str, Any], name: str, op: str, case: Case
) -> None:
    path = _fill(case.path, world)
    body = _fill(case.body, world) if case.body is not None else None
    api = path.startswith("/api/")
    expected = dict(zip(PRINCIPALS, case.expected.split(), strict=True))
    got: dict[str, str] = {}
    for principal in PRINCIPALS:
        client = _client(principal, world, api=api)
        with transaction.atomic():
            send = getattr(client, case.method)
            if api and body is not None:
                answer = send(path, body, content_type="application/json")
            elif body is not None:
                answer = send(path, body)
            else:
                answer = send(path)
            transaction.set_rollback(True)  # every principal meets the same world
        got[principal] = _verdict(
            answer.status_code, answer.get("Location", ""), write=case.method != "get"
        )
    wrong = {p: f"{got[p]} (expected {expected[p]})" for p in PRINCIPALS if got[p] != expected[p]}
    assert not wrong, f"{case.method.upper()} {path}: {wrong}"
