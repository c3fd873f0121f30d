"""What a bench run ran on: the machine, the PostgreSQL server, how busy it was, the command.

Figures taken on a busy machine are not the machine's figures; the JSON carries the load
average before and after the run and the machine it ran on, so a reader can tell.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def postgresql_version(database_url: str) -> str | None:
    """The server's version (``SHOW server_version``), or None when it cannot be reached."""
    import psycopg

    admin = urlparse(database_url)._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error:
        return None
    return str(row[0]) if row else None


def machine_facts(database_url: str) -> dict[str, Any]:
    """CPU model, cores, RAM, operating system, Python and PostgreSQL versions."""
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgresql_version(database_url),
    }


def command_line(argv: list[str] | None, *, module: str = "bench") -> str:
    """The command that ran the bench, as it can be typed again."""
    arguments = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", module, *arguments])


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the system has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def describe(facts: dict[str, Any]) -> str:
    """One line for the printed table."""
    return (
        f"{facts['cpu_model']}, {facts['cores']} cores, {facts['ram_gb']} GB RAM, "
        f"PostgreSQL {facts['postgresql'] or 'unknown'}, Python {facts['python']}"
    )
