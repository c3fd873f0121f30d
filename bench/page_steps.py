"""What users wait on: every menu page, the detail pages, every CSV export, the API.

Pages are found, not listed: the main menu (``cxhub.navigation.MAIN_MENU``, resolved with
``reverse``) plus the argument-free pages of each menu section, plus one action, impact,
department, report and topic page. Exports are every route ending in ``.csv`` (each table of
the dashboards' export) and every CSV link found on the rendered pages. Each is requested
through Django's test client in this process, so the figure is server time without the
network; the SQL statements of a request are counted with an execute wrapper.

``measure_*`` return plain dicts of numbers; ``*_rows`` turn the two data sizes' dicts into
table rows with their targets (issue 13).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.memory import PeakMemory
from bench.steps import Row

PAGE_COLD_TARGET = 1.0
PAGE_WARM_TARGET = 0.150
API_TARGET = 0.050
EXPORT_RATE_TARGET = 50_000
# Exports shorter than this are summary tables, judged by their time like a page.
LARGE_EXPORT_ROWS = 1_000
CSV_LINK = re.compile(r"""href="([^"]*(?:\.csv|format=csv)[^"]*)\"""")


@dataclass(frozen=True)
class Target:
    """One URL to measure, with the role that requests it."""

    label: str
    url: str
    role: str = "cx_manager"


def clients() -> dict[str, Any]:
    """A logged-in test client per role the bench measures as."""
    from django.contrib.auth.models import User
    from django.test import Client

    made = {}
    for role, username in (("cx_manager", "bench-cx"), ("line_manager", "bench-lm-0")):
        client = Client()
        client.force_login(User.objects.get(username=username))
        made[role] = client
    return made


def caches_clear() -> None:
    """Forget every cached figure: the Django cache and the dashboards' in-process memo."""
    from django.core.cache import cache

    from dashboards.selectors import figures_forget

    cache.clear()
    figures_forget()


class QueryCounter:
    """Counts the SQL statements run on the default connection while active."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _get(client: Any, url: str) -> tuple[Any, float, int]:
    from django.db import connection

    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        response = client.get(url)
        if getattr(response, "streaming", False):
            for _ in response.streaming_content:
                pass
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response, seconds, counter.count


# --- what to measure ----------------------------------------------------------------------


def page_targets() -> list[Target]:
    """The menu's pages, their argument-free section pages, and one page of each detail kind."""
    from django.urls import NoReverseMatch, reverse

    from cxhub.navigation import MAIN_MENU

    targets: list[Target] = []
    seen: set[str] = set()

    def add(label: str, url: str, role: str) -> None:
        if url not in seen:
            seen.add(url)
            targets.append(Target(label, url, role))

    for item in MAIN_MENU:
        role = (
            "cx_manager"
            if item.visible_to(is_cx_manager=True, is_line_manager=False)
            else "line_manager"
        )
        add(item.label, reverse(item.url_name), role)
        for name in item.section:
            try:
                url = reverse(name)
            except NoReverseMatch:  # a page of one object: the detail pages below
                continue
            add(f"{item.label}: {name.split(':')[-1]}", url, role)
    for label, url in detail_pages():
        add(label, url, "cx_manager")
    return targets


def detail_pages() -> list[tuple[str, str]]:
    """An action, its impact, a department, its printable report and the busiest topic."""
    from django.db.models import Count
    from django.urls import reverse

    from actions.models import Action
    from analytics.text.models import Topic
    from feedback.models import Department

    action = (
        Action.objects.filter(status="measured").order_by("id").first()
        or Action.objects.order_by("id").first()
    )
    department = (
        Department.objects.annotate(n=Count("touchpoints__responses")).order_by("-n").first()
    )
    topic = Topic.objects.annotate(n=Count("mentions")).order_by("-n", "slug").first()
    pages = []
    if action is not None:
        pages.append(("Action detail", reverse("actions:detail", args=[action.pk])))
        pages.append(("Impact detail", reverse("dashboards:impact-detail", args=[action.pk])))
    if department is not None:
        pages.append(("Department", reverse("dashboards:department", args=[department.slug])))
        pages.append(("Printable report", reverse("dashboards:report", args=[department.slug])))
    if topic is not None:
        pages.append(
            ("Topic verbatims", reverse("analytics-topic-verbatims-page", args=[topic.slug]))
        )
    return pages


def _patterns(resolver: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if hasattr(entry, "url_patterns"):
            yield from _patterns(entry, route)
        else:
            yield route, entry


def export_targets(pages_html: dict[str, str]) -> list[Target]:
    """Every CSV route (each table of a ``<table>.csv`` route) and every CSV link on the pages."""
    from django.urls import get_resolver, reverse

    from dashboards import exports

    found: dict[str, Target] = {}
    for route, pattern in _patterns(get_resolver()):
        if ".csv" not in route:
            continue
        name = pattern.name
        namespace = route.split("/")[0]
        converters = pattern.pattern.converters
        if not converters:
            url = "/" + route.replace("^", "").replace("$", "")
            found.setdefault(url.split("?")[0], Target(f"export {url}", url))
        elif set(converters) == {"table"} and name == "export" and namespace != "api":
            for table in exports.TABLES:
                url = reverse("dashboards:export", kwargs={"table": table})
                found.setdefault(url, Target(f"export {table}.csv", url))
    for html in pages_html.values():
        for href in CSV_LINK.findall(html):
            href = href.replace("&amp;", "&")
            path = href.split("?")[0]
            if path.startswith("/") and path not in found:
                found[path] = Target(f"export {path}", href)
    return sorted(found.values(), key=lambda target: target.url)


def api_targets() -> list[Target]:
    """The list and detail endpoints of feedback, actions, alerts, analysis runs and KPIs."""
    from django.urls import reverse

    from actions.models import Action, Alert
    from analytics.models import AnalysisRun, Kpi
    from analytics.text.models import Topic
    from feedback.models import Response

    response = Response.objects.order_by("-id").first()
    action = Action.objects.order_by("id").first()
    alert = Alert.objects.order_by("-id").first()
    run = AnalysisRun.objects.filter(status="succeeded").order_by("-id").first()
    kpi = Kpi.objects.filter(observations__isnull=False).order_by("slug").first()
    topic = Topic.objects.order_by("slug").first()
    targets = [
        Target("API feedback list", reverse("feedback-list")),
        Target("API feedback list, filtered", reverse("feedback-list") + "?channel=phone"),
        Target("API actions list", reverse("api-actions")),
        Target("API alerts list", reverse("api-alerts")),
        Target("API analysis runs list", reverse("analytics-runs")),
        Target("API KPI list", reverse("kpi-list")),
        Target("API topics list", reverse("analytics-topics")),
    ]
    if response is not None:
        targets.append(
            Target("API feedback detail", reverse("feedback-detail", args=[response.pk]))
        )
    if action is not None:
        targets.append(Target("API action detail", reverse("api-action-detail", args=[action.pk])))
        targets.append(
            Target("API action history", reverse("api-action-history", args=[action.pk]))
        )
    if alert is not None:
        targets.append(
            Target("API alerts list, one status", reverse("api-alerts") + "?status=open")
        )
    if run is not None:
        targets.append(
            Target("API analysis run detail", reverse("analytics-run-detail", args=[run.pk]))
        )
    if kpi is not None:
        targets.append(
            Target("API KPI observations", reverse("kpi-observation-list", args=[kpi.slug]))
        )
    if topic is not None:
        targets.append(
            Target("API topic detail", reverse("analytics-topic-detail", args=[topic.slug]))
        )
    return targets


# --- measuring ----------------------------------------------------------------------------


def measure_get(client: Any, url: str, repeat: int) -> dict[str, Any]:
    """Cold (caches cleared, first request) and warm (p50/p95 of ``repeat``) server time."""
    caches_clear()
    response, cold, cold_queries = _get(client, url)
    warm = [_get(client, url) for _ in range(repeat)]
    samples = [seconds for _, seconds, _ in warm]
    warm_queries = warm[0][2]
    content = b"" if getattr(response, "streaming", False) else response.content
    return {
        "cold_s": cold,
        "p50_s": float(np.percentile(samples, 50)),
        "p95_s": float(np.percentile(samples, 95)),
        "queries_cold": cold_queries,
        "queries_warm": warm_queries,
        "bytes": len(content),
        "html": content.decode("utf-8", "replace"),
    }


def _csv_rows(response: Any) -> int:
    """Data rows of a CSV answer (header excluded), read as a stream when it is one."""
    if getattr(response, "streaming", False):
        lines: Iterator[str] = io.TextIOWrapper(
            _ChunkReader(response.streaming_content), encoding="utf-8", newline=""
        )
    else:
        lines = io.StringIO(response.content.decode("utf-8"), newline="")
    return max(sum(1 for _ in csv.reader(lines)) - 1, 0)


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (a streamed response)."""

    def __init__(self, chunks: Any) -> None:
        self._chunks = iter(chunks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            try:
                self._rest = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


def measure_export(client: Any, url: str) -> dict[str, Any]:
    """Rows, time, rows/s and peak memory growth of one full, cold download."""
    from django.db import connection

    caches_clear()
    counter = QueryCounter()
    with PeakMemory() as peak:
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")
            rows = _csv_rows(response)
        seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else 0.0,
        "peak_mb": peak.megabytes,
        "memory_method": peak.method,
        "streamed": bool(getattr(response, "streaming", False)),
        "queries": counter.count,
    }


def measure_report(client: Any, url: str) -> dict[str, Any]:
    """The printable report: server time of one cold render and its peak memory growth."""
    caches_clear()
    with PeakMemory() as peak:
        _, seconds, queries = _get(client, url)
    return {
        "seconds": seconds,
        "peak_mb": peak.megabytes,
        "memory_method": peak.method,
        "queries": queries,
    }


def measure_all(*, responses: int, repeat: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Every page, export and API endpoint at the current data size; failures kept as text."""
    made = clients()
    result: dict[str, Any] = {"responses": responses, "pages": {}, "exports": {}, "api": {}}
    html: dict[str, str] = {}
    for target in page_targets():
        log(f"  page {target.label} {target.url}")
        try:
            figures = measure_get(made[target.role], target.url, repeat)
        except Exception as error:
            result["pages"][target.label] = {"url": target.url, "error": _error(error)}
            continue
        html[target.url] = figures.pop("html")
        result["pages"][target.label] = {"url": target.url, "role": target.role, **figures}
    for target in export_targets(html):
        log(f"  export {target.url}")
        try:
            result["exports"][target.label] = {
                "url": target.url,
                **measure_export(made["cx_manager"], target.url),
            }
        except Exception as error:
            result["exports"][target.label] = {"url": target.url, "error": _error(error)}
    report = next((url for label, url in detail_pages() if label == "Printable report"), None)
    if report is not None:
        try:
            result["report"] = {"url": report, **measure_report(made["cx_manager"], report)}
        except Exception as error:
            result["report"] = {"url": report, "error": _error(error)}
    for target in api_targets():
        try:
            figures = measure_get(made[target.role], target.url, repeat)
        except Exception as error:
            result["api"][target.label] = {"url": target.url, "error": _error(error)}
            continue
        figures.pop("html")
        result["api"][target.label] = {"url": target.url, **figures}
    return result


def _error(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"


# --- rows ---------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _failed(section: str, label: str, figures: dict[str, Any], size: int) -> Row:
    return Row(
        f"{section} {label}: failed",
        "error",
        "-",
        None,
        False,
        f"{figures.get('url', '')} at {size:,} responses: {figures['error']}",
        section=section,
        values={"responses": size},
    )


def _small_failures(key: str, section: str, small: dict[str, Any]) -> list[Row]:
    """What failed at the small size (the rows themselves are taken at the full size)."""
    return [
        _failed(section, label, figures, small["responses"])
        for label, figures in small[key].items()
        if "error" in figures
    ]


def page_rows(small: dict[str, Any], full: dict[str, Any]) -> list[Row]:
    """Per page and size: cold and warm p95 against the targets; then query counts compared."""
    rows: list[Row] = []
    labels = list(dict.fromkeys([*full["pages"], *small["pages"]]))
    for label in labels:
        counts = []
        for measured in (small, full):
            figures = measured["pages"].get(label)
            size = measured["responses"]
            if figures is None:
                rows.append(
                    Row(f"page {label}: failed", "missing", "-", None, False, section="pages")
                )
                continue
            if "error" in figures:
                rows.append(_failed("page", label, figures, size))
                continue
            counts.append(figures["queries_cold"])
            ok = figures["cold_s"] <= PAGE_COLD_TARGET and figures["p95_s"] <= PAGE_WARM_TARGET
            rows.append(
                Row(
                    f"page {label} @ {size:,}",
                    f"{_ms(figures['cold_s'])} / {_ms(figures['p95_s'])}",
                    "cold ≤ 1 s / p95 ≤ 150 ms",
                    min(PAGE_COLD_TARGET / figures["cold_s"], PAGE_WARM_TARGET / figures["p95_s"]),
                    ok,
                    f"{figures['url']} as {figures['role']}; warm p50 {_ms(figures['p50_s'])}; "
                    f"{figures['queries_cold']} SQL queries cold, {figures['queries_warm']} warm",
                    section="pages",
                    values={"responses": size, **_numbers(figures)},
                )
            )
        if len(counts) == 2:
            rows.append(
                Row(
                    f"page {label}: SQL queries at two sizes",
                    f"{counts[0]} → {counts[1]}",
                    "independent of size",
                    None,
                    counts[0] == counts[1],
                    f"{small['responses']:,} → {full['responses']:,} responses, cold request",
                    section="pages",
                    values={"queries_small": counts[0], "queries_full": counts[1]},
                )
            )
    return rows


def export_rows(small: dict[str, Any], full: dict[str, Any]) -> list[Row]:
    """Per export at full size: rows/s against 50,000/s, streaming, and peak memory growth."""
    rows = _small_failures("exports", "export", small)
    for label, figures in full["exports"].items():
        size = full["responses"]
        if "error" in figures:
            rows.append(_failed("export", label, figures, size))
            continue
        before = small["exports"].get(label, {})
        peak_small = before.get("peak_mb")
        growth = figures["peak_mb"] / peak_small if peak_small else None
        flat = growth is not None and growth < 2
        rate = figures["rows_per_s"]
        if figures["rows"] >= LARGE_EXPORT_ROWS:
            target = "≥ 50,000 rows/s, streamed"
            ratio = rate / EXPORT_RATE_TARGET
            ok = rate >= EXPORT_RATE_TARGET and figures["streamed"] and flat
        else:  # a summary table of a few rows: what users wait on is its computation
            target = f"< {LARGE_EXPORT_ROWS:,} rows: ≤ 1 s"
            ratio = PAGE_COLD_TARGET / figures["seconds"]
            ok = figures["seconds"] <= PAGE_COLD_TARGET
        rows.append(
            Row(
                f"{label} @ {size:,}",
                f"{rate:,.0f} rows/s",
                target,
                ratio,
                ok,
                f"{figures['url']}: {figures['rows']:,} rows in {figures['seconds']:.2f} s; "
                f"{'streamed' if figures['streamed'] else 'NOT streamed'}; peak "
                f"{figures['peak_mb']:.1f} MB ({figures['memory_method']})"
                + (
                    f" (× {growth:.1f} of {peak_small:.1f} MB at {small['responses']:,})"
                    if growth is not None
                    else ""
                )
                + f"; {figures['queries']} SQL queries",
                section="exports",
                values={
                    "responses": size,
                    "peak_mb_small": peak_small,
                    **_numbers(figures),
                },
            )
        )
    for measured in (small, full):
        report = measured.get("report")
        if report is None:
            continue
        size = measured["responses"]
        if "error" in report:
            rows.append(_failed("report", "printable", report, size))
            continue
        rows.append(
            Row(
                f"printable report @ {size:,}",
                f"{_ms(report['seconds'])}, {report['peak_mb']:.1f} MB",
                "cold ≤ 1 s",
                PAGE_COLD_TARGET / report["seconds"],
                report["seconds"] <= PAGE_COLD_TARGET,
                f"{report['url']}: peak memory {report['peak_mb']:.1f} MB "
                f"({report['memory_method']}); "
                f"{report['queries']} SQL queries",
                section="exports",
                values={"responses": size, **_numbers(report)},
            )
        )
    return rows


def api_rows(small: dict[str, Any], full: dict[str, Any]) -> list[Row]:
    """Per endpoint at full size: p50/p95 against 50 ms, queries compared with the small size."""
    rows = _small_failures("api", "api", small)
    for label, figures in full["api"].items():
        size = full["responses"]
        if "error" in figures:
            rows.append(_failed("api", label, figures, size))
            continue
        before = small["api"].get(label, {})
        queries_small = before.get("queries_warm")
        rows.append(
            Row(
                f"{label} @ {size:,}, p95",
                f"{figures['p95_s'] * 1000:,.1f} ms",
                "≤ 50 ms",
                API_TARGET / figures["p95_s"],
                figures["p95_s"] <= API_TARGET,
                f"{figures['url']}: p50 {figures['p50_s'] * 1000:,.1f} ms, cold "
                f"{_ms(figures['cold_s'])}; {figures['queries_warm']} SQL queries"
                + (f" ({queries_small} at {small['responses']:,})" if queries_small else ""),
                section="api",
                values={"responses": size, "queries_small": queries_small, **_numbers(figures)},
            )
        )
    return rows


def _numbers(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in figures.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    } | {key: value for key, value in figures.items() if isinstance(value, bool)}
