from __future__ import annotations

import os
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
        assert {"db", "redis"} <= set(services[name]["depends_on"])
    assert services["db"]["image"].startswith("postgres")
    assert services["redis"]["image"].startswith("redis")
    assert (ROOT / "Dockerfile").exists()


def _command(service: dict[str, object]) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else str(command).split()


@pytest.mark.django_db
def test_healthz_answers(client) -> None:  # type: ignore[no-untyped-def]
    """The health endpoint reports ok when the database answers."""
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
