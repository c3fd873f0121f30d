"""CSV downloads of every dashboard table, under the same filters as the page.

Every download holds every row: it is streamed (``StreamingHttpResponse``) as rows come from
the database, long ones through a server-side cursor with no query per row, so it starts at
once whatever its size. It begins with a UTF-8 byte-order mark, so that spreadsheets read
accents right. Text cells that a spreadsheet would run as a formula (starting with
= + - @) are prefixed with an apostrophe; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from analytics.impact import selectors as impact_selectors
from analytics.insights import selectors as insights_selectors
from analytics.stats.scores import Score, ScoreBlock
from dashboards import impact, pages, permissions, selectors
from dashboards.filters import VerbatimForm, filters_parse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, str):
        return _text(value)
    return value


def _text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (``_cell`` of a string)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _estimate(score: Score | None) -> list[Any]:
    """Value, low, high, n; blank figures below the minimum (the n says why)."""
    if score is None:
        return ["", "", "", 0]
    if not score.ok:
        return ["", "", "", score.n]
    return [score.value, score.low, score.high, score.n]


SCORE_HEADER = [
    "responses", "comments",
    "nps", "nps_low", "nps_high", "nps_n",
    "csat_pct_satisfied", "csat_pct_low", "csat_pct_high", "csat_n",
    "csat_mean", "csat_mean_low", "csat_mean_high", "csat_mean_n",
    "ces_mean", "ces_mean_low", "ces_mean_high", "ces_n",
]  # fmt: skip


def _score_cells(summary: ScoreBlock) -> list[Any]:
    return [
        summary.responses,
        summary.comments,
        *_estimate(summary.nps),
        *_estimate(summary.csat_pct),
        *_estimate(summary.csat_mean),
        *_estimate(summary.ces_mean),
    ]


BOM = "\ufeff"
# Rows are sent in pieces of about this many characters (not one network write per row).
PIECE = 64 * 1024


# Rows are handed to the csv writer this many at a time (one call, not one per row).
ROWS_PER_WRITE = 256


def _csv_pieces(header: Sequence[str], cells: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text of rows whose cells are already what the file shows (``_cell``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(header)
    rows = iter(cells)
    while batch := list(islice(rows, ROWS_PER_WRITE)):
        writer.writerows(batch)
        if buffer.tell() >= PIECE:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A CSV download streamed from ``rows`` (read lazily, as the client takes the bytes)."""
    return _csv_streamed(filename, header, ([_cell(value) for value in row] for row in rows))


def _csv_streamed(
    filename: str, header: Sequence[str], cells: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _csv_pieces(header, cells), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _error(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _form_errors(context: dict[str, Any]) -> str:
    form = context["form"]
    lines = [f"{field}: {error}" for field, errors in form.errors.items() for error in errors]
    return "Some filters could not be used:\n" + "\n".join(lines)


def _dashboard_table(
    request: HttpRequest, table: str, department: selectors.DepartmentInfo | None
) -> HttpResponseBase:
    context = pages.dashboard_context(request, department=department, with_comments=False)
    if context["filters"] is None:
        return _error(_form_errors(context))
    figures: selectors.ResponseFigures = context["figures"]
    prefix = department.slug if department else "overview"
    if table in {"departments", "touchpoints", "channels"}:
        rows = getattr(figures.breakdown, table)
        return csv_response(
            f"{prefix}-{table}.csv",
            [table[:-1], *SCORE_HEADER],
            ([row.label, *_score_cells(row.summary)] for row in rows),
        )
    if table == "weekly":
        return csv_response(
            f"{prefix}-weekly.csv",
            ["week_starting", *SCORE_HEADER],
            ([point.week.isoformat(), *_score_cells(point.summary)] for point in figures.trend),
        )
    topics = context["extra"].get("topics", [])
    return csv_response(
        f"{prefix}-topics.csv",
        ["topic", "mentions", "negative_pct", "nps", "nps_low", "nps_high", "nps_n"],
        (
            [t["label"], t["mentions"], t["negative_share"], *_estimate(t.get("nps"))]
            for t in topics
        ),
    )


def _actions_table(
    request: HttpRequest, table: str, department: selectors.DepartmentInfo | None
) -> HttpResponseBase:
    """Every action of the dashboard's view the user may read: the filters are read as the
    dashboard reads them, and nothing is aggregated over responses."""
    catalogue = selectors.catalogue_get()
    filters, form = pages.dashboard_filters_get(
        request, department, catalogue, selectors.data_version_get()
    )
    if filters is None:
        return _error(_form_errors({"form": form}))
    actions = selectors.action_lines_export(filters, catalogue, user=request.user)
    return csv_response(
        f"{department.slug if department else 'overview'}-actions.csv",
        [
            "id",
            "title",
            "department",
            "owner",
            "status",
            "progress",
            "due_date",
            "overdue",
            "implemented_on",
        ],
        (
            [
                a.id,
                a.title,
                a.department,
                a.owner,
                a.status,
                a.progress,
                a.due_date,
                a.overdue,
                a.implemented_on,
            ]
            for a in actions
        ),
    )


def _comments_table(
    request: HttpRequest, table: str, department: selectors.DepartmentInfo | None
) -> HttpResponseBase:
    if not permissions.user_can_manage_comments(request.user):
        raise PermissionDenied("Only CX managers can download all comments.")
    context = pages.comment_inbox_context(request)
    if context["status"] != 200:
        return _error(context["error"])
    return csv_response(
        "comments.csv",
        ["id", "created_at", "dashboard", "author", "kind", "status", "text"],
        (
            [
                c.id,
                c.created_at.isoformat(),
                c.dashboard_label,
                c.author.username,
                c.kind,
                c.status,
                c.body,
            ]
            for c in context["comments_all"].iterator(chunk_size=selectors.EXPORT_CHUNK)
        ),
    )


def _drivers_table(
    request: HttpRequest, table: str, department: selectors.DepartmentInfo | None
) -> HttpResponseBase:
    outcome = request.GET.get("outcome", "nps")
    if outcome not in {"nps", "csat", "ces"}:
        return _error("outcome: choose one of nps, csat, ces.")
    run = insights_selectors.driver_run_latest(
        outcome=outcome, filters={"department": [department.slug]} if department else {}
    )
    if run is None:
        raise Http404("No driver analysis for this scope yet.")
    rows = pages.driver_rows(run.result)
    return csv_response(
        f"{department.slug if department else 'all'}-drivers-{outcome}.csv",
        [
            "driver",
            "label",
            "share",
            "share_low",
            "share_high",
            "performance",
            "quadrant",
            "gain",
            "rank",
        ],
        (
            [
                d.get("slug"),
                d.get("label"),
                d.get("share"),
                *(d.get("share_interval") or ["", ""]),
                d.get("performance"),
                d.get("quadrant_label"),
                d.get("gain"),
                d.get("rank"),
            ]
            for d in rows
        ),
    )


def _verbatims_table(
    request: HttpRequest, table: str, department: selectors.DepartmentInfo | None
) -> HttpResponseBase:
    """Every comment matching the explorer's search, newest first: as many rows as the
    dashboard counts "with comments" for the same filters."""
    catalogue = selectors.catalogue_get()
    version = selectors.data_version_get()
    filters, form = filters_parse(
        request.GET,
        options=catalogue.options(department_slug=department.slug if department else ""),
        latest_day=version.latest_day,
        user=request.user,
        records=True,
        topics=selectors.topic_choices_get(),
    )
    explorer = VerbatimForm(request.GET)
    if filters is None or not explorer.is_valid():
        errors = {**(form.errors if filters is None else {}), **explorer.errors}
        lines = [f"{field}: {error}" for field, messages in errors.items() for error in messages]
        return _error("Some filters could not be used:\n" + "\n".join(lines))
    query = selectors.VerbatimQuery(search=explorer.cleaned_data.get("q") or "")
    return _csv_streamed(
        "verbatims.csv",
        [
            "response_id",
            "submitted_at",
            "touchpoint",
            "channel",
            "nps",
            "csat",
            "ces",
            "sentiment",
            "topics",
            "comment",
        ],
        _verbatim_cells(selectors.verbatims_export_rows(filters, query)),
    )


def _verbatim_cells(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """``_cell`` of each value of ``verbatims_export_rows``, knowing which columns are text:
    numbers are whole or blank (the csv writer writes None as blank), the time is ISO 8601."""
    for pk, at, touchpoint, channel, nps, csat, ces, sentiment, topics, comment in rows:
        yield (
            pk,
            at,
            _text(touchpoint),
            _text(channel),
            nps,
            csat,
            ces,
            _text(sentiment),
            _text(topics),
            _text(comment),
        )


def _impact_table(
    request: HttpRequest, table: str, department: selectors.DepartmentInfo | None
) -> HttpResponseBase:
    """Every current estimate of the implemented actions the user may read."""
    actions = impact.impact_actions(
        user=request.user, department_slug=department.slug if department else None
    )
    estimates = impact_selectors.impact_estimates_by_action([a.pk for a in actions])
    header = [
        "action_id", "action", "department", "owner", "implemented_on", "metric", "method",
        "causal", "status", "effect", "effect_low", "effect_high", "p_value",
        "value_per_year", "value_low", "value_high", "currency", "roi",
    ]  # fmt: skip
    rows = []
    for action in actions:
        for e in estimates.get(action.pk, []):
            rows.append(
                [
                    action.pk,
                    action.title,
                    action.department.name,
                    action.owner.get_full_name() or action.owner.get_username(),
                    action.implemented_at,
                    e["metric"],
                    e["method"],
                    e["is_primary"],
                    "ok" if e["ok"] else e["message"] or "insufficient data",
                    e["effect"],
                    e["low"],
                    e["high"],
                    e["p_value"],
                    e["value"],
                    e["value_low"],
                    e["value_high"],
                    e["currency"],
                    e["roi"],
                ]
            )
    return csv_response("impact.csv", header, rows)


def _impact_value_table(
    request: HttpRequest, table: str, department: selectors.DepartmentInfo | None
) -> HttpResponseBase:
    """Money value per year by KPI, by department and in total, with 95% intervals: the
    figures of the impact page's and the dashboards' value tables (``impact.impact_value``)."""
    value = impact.impact_value(
        user=request.user, department_slug=department.slug if department else None
    )
    header = [
        "breakdown", "key", "label", "currency", "value_per_year", "value_low", "value_high",
        "std_error", "estimates", "actions", "shown_value", "shown_low", "shown_high",
        "shown_scale",
    ]  # fmt: skip
    groups = [
        *(("kpi", group) for group in value["by_kpi"]),
        *(("department", group) for group in value["by_department"]),
        *(("total", {**t, "label": "All measured actions"}) for t in value["measured_value"]),
    ]
    rows = [
        [
            breakdown,
            group.get("key", ""),
            group["label"],
            group["currency"],
            group["total"],
            group["ci_low"],
            group["ci_high"],
            group["std_error"],
            group["estimates"],
            group.get("actions", ""),
            group["shown"]["total"],
            group["shown"]["low"],
            group["shown"]["high"],
            group["shown"]["scale"],
        ]
        for breakdown, group in groups
    ]
    return csv_response("impact-value.csv", header, rows)


Exporter = Callable[[HttpRequest, str, "selectors.DepartmentInfo | None"], HttpResponseBase]

TABLES: dict[str, Exporter] = {
    "departments": _dashboard_table,
    "touchpoints": _dashboard_table,
    "channels": _dashboard_table,
    "weekly": _dashboard_table,
    "actions": _actions_table,
    "topics": _dashboard_table,
    "comments": _comments_table,
    "drivers": _drivers_table,
    "verbatims": _verbatims_table,
    "impact": _impact_table,
    "impact-value": _impact_value_table,
}


def table_csv(
    request: HttpRequest, *, table: str, department: selectors.DepartmentInfo | None
) -> HttpResponseBase:
    return TABLES[table](request, table, department)
