from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy() -> None:
    """With DEBUG off and a real secret, `manage.py check --deploy` reports nothing."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "cxhub.example.com",
    }
    # Browser tests set this for Playwright in the test process; a deployment never has it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_the_development_secret() -> None:
    """DEBUG off without SECRET_KEY fails loudly instead of running with a known key."""
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_docker_compose_describes_the_production_shape() -> None:
    """docker-compose.yml parses and runs web (gunicorn), worker, beat, PostgreSQL and Redis."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    assert "gunicorn" in " ".join(map(str, _command(services["web"])))
    assert "worker" in _command(services["worker"])
    assert "beat" in _command(services["beat"])
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert "CXHUB_BASE_URL" in environment["CXHUB_BASE_URL"]
        assert {"db", "redis"} <= set(services[name]["depends_on"])
    assert services["db"]["image"].startswith("postgres")
    assert services["redis"]["image"].startswith("redis")
    assert (ROOT / "Dockerfile").exists()


def _environment_reads(source: str) -> set[str]:
    """Names of the environment variables a settings module reads.

    ``os.environ.get(NAME)``, ``os.environ[NAME]``, ``os.getenv(NAME)``, the settings' own
    ``env_*(NAME, ...)`` helpers, and ``dj_database_url.config()`` (which reads DATABASE_URL).
    """
    names: set[str] = set()
    # The env_* helpers read the name they are given; their callers are what counts.
    statements = [
        statement
        for statement in ast.parse(source).body
        if not isinstance(statement, ast.FunctionDef)
    ]
    for node in (node for statement in statements for node in ast.walk(statement)):
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            if func == "dj_database_url.config":
                names.add("DATABASE_URL")
            elif func in {"os.environ.get", "os.getenv"} or re.fullmatch(r"env_\w+", func):
                argument = node.args[0]
                assert isinstance(argument, ast.Constant), ast.unparse(node)
                names.add(str(argument.value))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            assert isinstance(node.slice, ast.Constant), ast.unparse(node)
            names.add(str(node.slice.value))
    return names


def test_every_environment_variable_is_documented_in_one_table() -> None:
    """docs/settings.md has a row for each variable cxhub/settings.py reads, and no other."""
    reads = _environment_reads((ROOT / "cxhub" / "settings.py").read_text())
    table = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", table, flags=re.MULTILINE))

    assert {"DATABASE_URL", "SECRET_KEY", "CXHUB_BASE_URL", "EMAIL_HOST"} <= reads
    assert sorted(reads - documented) == []
    assert sorted(documented - reads) == []


def test_base_url_comes_from_the_environment() -> None:
    """CXHUB_BASE_URL is read from the environment, without a trailing slash."""
    code = "from django.conf import settings; print(settings.CXHUB_BASE_URL)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxhub.settings"}
    env["CXHUB_BASE_URL"] = "https://cx.example.com/"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "https://cx.example.com", result.stderr


def _command(service: dict[str, object]) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else str(command).split()


@pytest.mark.django_db
def test_healthz_answers(client) -> None:  # type: ignore[no-untyped-def]
    """The health endpoint reports ok (it answers for the web process alone)."""
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
