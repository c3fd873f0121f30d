"""Gunicorn serving CXHub on a free loopback port, for the load test, the fault tests and the bench.

One place starts the production web process the way compose does (``cxhub.wsgi``), waits
until ``/healthz/`` answers and stops it with SIGTERM (then SIGKILL after 30 s), so the three
callers measure and break the same server.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """``gunicorn cxhub.wsgi`` on ``127.0.0.1:<free port>`` with the given environment."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        workers: int = 2,
        threads: int = 1,
        timeout: int = 60,
        log: IO[bytes] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._command = [
            sys.executable,
            "-m",
            "gunicorn",
            "cxhub.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            str(timeout),
            *extra_args,
        ]
        self._env = dict(env)
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, within: float = 60) -> Gunicorn:
        """Start the server and return once ``/healthz/`` answers 200 (``RuntimeError`` if not)."""
        output = self._log if self._log is not None else subprocess.DEVNULL
        self.process = subprocess.Popen(
            self._command, cwd=ROOT, env=self._env, stdout=output, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + within
        while not self.answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not answer /healthz/ within {within:.0f} s")
            time.sleep(0.3)
        return self

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/healthz/", timeout=1) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.HTTPError):
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self if self.process is not None else self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
