"""docker-compose.yml keeps every process running and checked, and Redis keeps its queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("web", "worker", "beat", "db", "redis")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return [str(part) for part in command] if isinstance(command, list) else str(command).split()


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_restarts_unless_stopped(compose: dict[str, Any], name: str) -> None:
    """A process that exits comes back by itself; one an operator stopped stays stopped."""
    assert compose["services"][name].get("restart") == "unless-stopped"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_a_health_check(compose: dict[str, Any], name: str) -> None:
    """Each service says whether it is healthy, with an interval and retries."""
    check = compose["services"][name].get("healthcheck")
    assert check, f"{name} has no healthcheck"
    assert check["test"] and check.get("interval") and check.get("retries")


def test_the_worker_check_pings_this_worker_over_the_broker(compose: dict[str, Any]) -> None:
    """The worker's check asks this very worker (by its host name) to answer a ping."""
    test = " ".join(compose["services"]["worker"]["healthcheck"]["test"])
    assert "inspect ping" in test
    assert "celery@$$HOSTNAME" in test  # $$: compose passes one $ on to the shell


def test_the_web_check_is_the_web_process_alone(compose: dict[str, Any]) -> None:
    """The web container is checked by /healthz/, which needs neither database nor broker."""
    test = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "/healthz/" in test


def test_beat_writes_the_pid_file_its_check_reads(compose: dict[str, Any]) -> None:
    beat = compose["services"]["beat"]
    pidfile = next(p.split("=", 1)[1] for p in _command(beat) if p.startswith("--pidfile="))
    assert pidfile in " ".join(beat["healthcheck"]["test"])


def test_redis_persists_its_queue_and_never_evicts(compose: dict[str, Any]) -> None:
    """Append-only persistence on a named volume, and noeviction: queued tasks survive a
    restart and are never dropped to make room."""
    redis = compose["services"]["redis"]
    command = _command(redis)
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    volume = next(v for v in redis["volumes"] if str(v).endswith(":/data"))
    assert str(volume).split(":")[0] in compose["volumes"]
