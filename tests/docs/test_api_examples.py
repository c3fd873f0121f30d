"""docs/api.md is true to the running product: its curl examples answer as documented on
the demo organisation, and it names every REST endpoint under /api/v1/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from rest_framework.authtoken.models import Token

from analytics.models import Kpi, Topic
from feedback.models import Source
from feedback.services import source_api_key_create
from tests.docs.api_examples import API_DOC, DOC_HOST, Example, curl_examples, index_entries

# Who runs the examples of a "# role: …" line: demo users (demo.generator.USERS).
ROLE_USERS = {
    "CX manager": "cx",
    "line manager": "lm.billing",
    "viewer": "viewer",
    "superuser": "admin",
}
API_KEY_ROLE = "source API key"
# Examples for machines rather than people: no user token ("anyone": readiness; "monitoring":
# /metrics with $CXHUB_METRICS_TOKEN).
NO_USER_ROLES = {API_KEY_ROLE, "anyone", "monitoring"}
# Routes outside /api/ that are plain Django views answering GET (docs/operations.md).
OPERATIONS_ROUTES = {"/healthz/", "/readyz/", "/metrics"}
EXAMPLE_SOURCE = "survey-tool"
# The two line managers behind $OWNER_ID and $OTHER_OWNER_ID ("Running the examples").
OWNERS = {"OWNER_ID": "lm.billing", "OTHER_OWNER_ID": "lm.service"}


def _doc_text() -> str:
    return API_DOC.read_text(encoding="utf-8")


def _api_routes() -> list[tuple[str, str]]:
    """``(method, /api/v1/path)`` of every REST route, path converters as ``{}``."""

    def walk(patterns: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    routes = []
    for route, callback in walk(get_resolver().url_patterns, "/"):
        if not route.startswith("/api/v1/"):
            continue
        view = getattr(callback, "cls", None)
        assert view is not None, f"{route} is not a DRF view; list its methods here"
        methods = [
            m.upper()
            for m in view.http_method_names
            if m not in ("options", "head") and hasattr(view, m)
        ]
        path = re.sub(r"<[^>]+>", "{}", route)
        routes.extend((method, path) for method in methods)
    return sorted(set(routes))


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


def test_every_api_route_is_in_the_endpoint_index() -> None:
    """Each method and path under /api/v1/ has a row in the index, and no row is stale."""
    documented = {(method, _normalise(path)) for method, path, _ in index_entries(_doc_text())}
    routes = set(_api_routes())

    assert len(routes) > 40
    assert sorted(routes - documented) == [], "routes missing from docs/api.md's index"
    assert sorted(documented - routes) == [], "index rows naming no route"


def test_every_curl_example_calls_a_real_route_without_a_literal_id() -> None:
    """Examples use existing routes, take ids from variables, and say whose token they use."""
    examples = curl_examples(_doc_text())
    problems = []
    for example in examples:
        path = example.path
        try:
            match = resolve(re.sub(r"\$\{?[A-Z_]+\}?", "1", path))
            view = match.func.cls  # type: ignore[attr-defined]
        except (Resolver404, AttributeError):
            view = None
        operations = path in OPERATIONS_ROUTES and example.method == "GET"
        if not operations and (view is None or not hasattr(view, example.method.lower())):
            problems.append(f"line {example.line}: {example.method} {path} is no route")
        if re.search(r"/\d+/", path):
            problems.append(f"line {example.line}: literal id in {path}; use a variable")
        if example.role is None:
            problems.append(f"line {example.line}: no '# role: …' line before the example")

    assert len(examples) > 40
    assert problems == []


def _demo_credentials() -> dict[str, str]:
    """Tokens of the demo users and a source key, as the examples' variables."""
    users = get_user_model().objects
    tokens = {
        role: Token.objects.get_or_create(user=users.get(username=username))[0].key
        for role, username in ROLE_USERS.items()
    }
    source, _ = Source.objects.get_or_create(name=EXAMPLE_SOURCE, defaults={"kind": "survey"})
    _, api_key = source_api_key_create(source=source)
    return {
        **{f"TOKEN {role}": key for role, key in tokens.items()},
        "CXHUB_API_KEY": api_key,
        "CXHUB_METRICS_TOKEN": "docs-example-metrics-token",
        **{name: str(users.get(username=username).pk) for name, username in OWNERS.items()},
    }


def _keep(example: Example, body: Any, variables: dict[str, str]) -> list[str]:
    problems = []
    for keep in example.keeps:
        item = body
        if keep.first_result:
            results = body.get("results") if isinstance(body, dict) else None
            item = results[0] if results else None
        if not isinstance(item, dict) or keep.key not in item:
            problems.append(f'no "{keep.key}" to keep as {keep.variable}')
        else:
            variables[keep.variable] = str(item[keep.key])
    return problems


def _run(example: Example, base_url: str, env: dict[str, str], workdir: Path) -> tuple[int, str]:
    body_file = workdir / "body.json"
    body_file.unlink(missing_ok=True)
    command = example.command.replace(DOC_HOST, base_url)
    command = command.replace("curl", f"curl -sS -o '{body_file}' -w '%{{http_code}}'", 1)
    finished = subprocess.run(
        ["bash", "-c", command],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    status = int(finished.stdout.strip()[-3:]) if finished.stdout.strip()[-3:].isdigit() else 0
    body = body_file.read_text(encoding="utf-8") if body_file.exists() else finished.stderr
    return status, body


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.django_db(transaction=True)
def test_every_curl_example_answers_as_documented_on_the_demo_data(
    live_server: Any, settings: Any
) -> None:
    """Run each example in order against a live server on demo data: 2xx or its stated status.

    The live server needs committed data, so this test is transactional: an earlier
    transactional test (the browser tests) may have flushed what the data migrations
    created, and this one flushes it too. So the default taxonomy is restored here (the
    demo seed creates its KPIs), and later tests restore what they need themselves, as
    ``tests/analytics`` does. ``serialized_rollback`` is not used: its flush skips
    ``post_migrate``, which would leave later transactional tests without permissions.
    """
    from analytics.text.services import topics_load_defaults
    from demo.services import demo_seed

    topics_load_defaults()
    demo_seed(responses=2000)
    assert Topic.objects.filter(slug="billing").exists()
    assert Kpi.objects.filter(slug="churn-rate").exists()
    credentials = _demo_credentials()
    settings.CXHUB_METRICS_TOKEN = credentials["CXHUB_METRICS_TOKEN"]
    examples = curl_examples(_doc_text())
    variables: dict[str, str] = {}
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for example in examples:
            assert example.role is not None
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, **variables}
            env.update(
                {
                    name: credentials[name]
                    for name in ("CXHUB_API_KEY", "CXHUB_METRICS_TOKEN", *OWNERS)
                }
            )
            if example.role not in NO_USER_ROLES:
                env["CXHUB_TOKEN"] = credentials[f"TOKEN {example.role}"]
            missing = [
                name
                for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)\}?", example.command)
                if name not in env
            ]
            if missing:
                failures.append(f"line {example.line}: ${missing[0]} is kept by no earlier example")
                continue
            status, body = _run(example, live_server.url, env, Path(tmp))
            expected_ok = status == example.expect if example.expect else 200 <= status < 300
            if not expected_ok:
                wanted = example.expect or "2xx"
                failures.append(
                    f"line {example.line}: {example.method} {example.path} answered {status}, "
                    f"docs say {wanted}: {body[:400]}"
                )
                continue
            if example.keeps:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    failures.append(f"line {example.line}: answer is not JSON: {body[:200]}")
                    continue
                failures += [f"line {example.line}: {p}" for p in _keep(example, parsed, variables)]

    assert len(examples) > 40
    assert failures == [], "\n".join(failures)
