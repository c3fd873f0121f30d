"""A bounded load test on loopback: gunicorn serving CXHub, N clients, at most two minutes.

    DATABASE_URL=postgres://... [REDIS_URL=redis://...] .venv/bin/python ops/load.py \
        [--clients 50] [--seconds 60] [--read-share 0.7] [--workers 3]

It starts gunicorn on a free loopback port with the environment's database (and broker, if
``REDIS_URL`` is set), creates a source with an API key and a CX manager with a token, and
runs the clients: each call is a read (the feedback list, the score summary) or a single
post of a new response, in the given share. Then it stops the server, checks that every
post answered 201 is stored exactly once, removes what it created and prints throughput,
latency percentiles and errors. It never runs longer than ``--seconds`` (at most 120) plus
start-up and clean-up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ops.web_server import Gunicorn  # noqa: E402  (the line above makes the checkout importable)

MAX_SECONDS = 120
READS = ("/api/v1/feedback/?page_size=20", "/api/v1/analytics/scores/")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "post": []})
    errors: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, status: int, external_id: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if status >= 400 or status == 0:
                key = f"{kind} {status}"
                self.errors[key] = self.errors.get(key, 0) + 1
            elif kind == "post" and status == 201:
                self.created.append(external_id)


def _call(url: str, headers: dict[str, str], body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def _client(
    base: str,
    token: str,
    key: str,
    touchpoint: str,
    share: float,
    until: float,
    tally: Tally,
    seed: int,
) -> None:
    chance = random.Random(seed)
    reader = {"Authorization": f"Token {token}"}
    poster = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
    while time.monotonic() < until:
        start = time.monotonic()
        if chance.random() < share:
            status = _call(base + chance.choice(READS), reader)
            tally.add("read", time.monotonic() - start, status)
        else:
            external_id = f"load-{uuid.uuid4().hex}"
            item = {
                "external_id": external_id,
                "submitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "touchpoint": touchpoint,
                "nps": chance.randint(0, 10),
                "comment": chance.choice(
                    ["Quick and friendly.", "Waited too long on hold.", "The bill was wrong."]
                ),
            }
            status = _call(base + "/api/v1/feedback/", poster, json.dumps(item).encode())
            tally.add("post", time.monotonic() - start, status, external_id)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--read-share", type=float, default=0.7)
    parser.add_argument("--workers", type=int, default=3)
    options = parser.parse_args(argv)
    if not 0 < options.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be between 0 and {MAX_SECONDS}")
    if options.clients < 1 or not 0 <= options.read_share <= 1:
        parser.error("--clients must be at least 1 and --read-share between 0 and 1")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from feedback.models import Response, Source, SourceAPIKey, Touchpoint
    from feedback.roles import Role
    from feedback.services import responses_delete

    touchpoint = Touchpoint.objects.order_by("id").first()
    if touchpoint is None:
        print("load: the database has no touchpoint; run `make demo` (or seed_demo) first.")
        return 2
    run = uuid.uuid4().hex[:8]
    source = Source.objects.create(name=f"load-{run}")
    _, key = SourceAPIKey.objects.create_key(name=f"load-{run}", source=source)
    user = User.objects.create_user(f"load-{run}", password=None)
    user.groups.add(Group.objects.get_or_create(name=Role.CX_MANAGER)[0])
    token = Token.objects.create(user=user).key

    try:
        env = {
            **os.environ,
            "CXHUB_THROTTLE_API_KEY": "1000000/min",
            "CXHUB_THROTTLE_USER": "1000000/min",
        }
        tally = Tally()
        try:
            server = Gunicorn(env=env, workers=options.workers).start()
        except RuntimeError as error:
            print(f"load: {error}")
            return 2
        with server:
            started = time.monotonic()
            until = started + options.seconds
            threads = [
                threading.Thread(
                    target=_client,
                    args=(
                        server.base,
                        token,
                        key,
                        touchpoint.slug,
                        options.read_share,
                        until,
                        tally,
                        n,
                    ),
                )
                for n in range(options.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started

        stored = Response.objects.filter(source=source, external_id__in=tally.created).count()
        everything = tally.latencies["read"] + tally.latencies["post"]
        report: dict[str, Any] = {
            "clients": options.clients,
            "seconds": round(elapsed, 1),
            "requests": len(everything),
            "requests_per_second": round(len(everything) / elapsed, 1),
            "p50_ms": round(statistics.median(everything) * 1000) if everything else None,
            "p95_ms": round(_percentile(everything, 0.95) * 1000) if everything else None,
            "p99_ms": round(_percentile(everything, 0.99) * 1000) if everything else None,
            "reads": len(tally.latencies["read"]),
            "posts": len(tally.latencies["post"]),
            "errors": tally.errors,
            "posts_201": len(tally.created),
            "posts_201_stored": stored,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(report, indent=2))
        return 0 if stored == len(tally.created) and not tally.errors else 1
    finally:
        # What the run created goes, whatever happened (a failed start included).
        responses_delete(responses=Response.objects.filter(source=source))
        source.delete()
        user.delete()


if __name__ == "__main__":
    raise SystemExit(main())
