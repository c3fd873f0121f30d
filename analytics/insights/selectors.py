"""Insights reads: driver-analysis inputs, scores, and value-of-experience inputs.

Drivers. ``driver_moments_fetch`` computes per-chunk sufficient statistics (see
``analytics.stats.drivers.sufficient``) in SQL: responses are split into ``K`` chunks by
``id % K`` and one ``GROUP BY chunk, missingness pattern`` returns the count, the sums and
the cross-products of the outcome and the JSON-extracted ratings. Rows never leave the
database; 1M responses become ``K`` small matrices. The ratings are extracted once per row
inside a subquery fenced with ``OFFSET 0`` so the planner does not repeat the JSON work in
every aggregate, as integers (integer sums are the cheapest aggregates); if a stored value
is not a whole number the query is repeated in a guarded form where non-numeric values
count as missing. On PostgreSQL outside a transaction the chunk ranges are scanned by one
connection per CPU at once.

Scores (NPS, CSAT, CES) with intervals, aggregated in the database: one
``GROUP BY (period, group)`` query with conditional counts and sums returns everything;
groups' totals, periods' totals and the overall figure are sums of those rows (counts and
sums add), so no response row is ever loaded. The counts come from
``analytics.responses.score_days.score_counts_get`` (the daily roll-up for scopes of dates,
departments, journeys, touchpoints and channels; raw responses otherwise), whose one set of
aggregate expressions is ``analytics.responses.counts.score_aggregates``; grouping by a
customer field or attribute aggregates raw responses with the same expressions.
``analytics.stats.scores`` turns the rows into figures.

Value of experience: each customer counts once, at the NPS score of their latest response
within the filters (a correlated subquery on the ``(customer, submitted_at)`` index); one
``GROUP BY score`` returns customers, churned customers (``churned_at`` set) and revenue
sums per score.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from django.db import DataError, connection, connections, transaction
from django.db.models import (
    CharField,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDay, TruncMonth, TruncWeek

from analytics.responses.counts import score_aggregates
from analytics.responses.sample import min_responses
from analytics.responses.score_days import score_counts_get
from analytics.runs.models import AnalysisRun
from analytics.runs.selectors import run_latest_matching
from analytics.stats.drivers.sufficient import ChunkMoments
from analytics.stats.scores import COUNT_KEYS, ScoreBlock, score_block, score_block_change
from cxhub.errors import InvalidInput
from feedback.filters import CUSTOMER_FIELDS, day_start, response_scope_clean, responses_in_scope
from feedback.models import Attribute, Customer, Response, Touchpoint

DEFAULT_CHUNKS = 256


def driver_attributes(slugs: Sequence[str] | None = None) -> list[Attribute]:
    """The declared rating drivers (all, or those named), ordered by slug."""
    qs = Attribute.objects.order_by("slug")
    if slugs:
        qs = qs.filter(slug__in=list(slugs))
    return list(qs)


def _rating_sql(slug: str, *, guarded: bool) -> RawSQL:
    """SQL for one rating as a number, NULL when missing.

    On PostgreSQL the fast form is ``(ratings ->> slug)::int`` (ingestion stores whole
    numbers); it raises on anything else, and the caller then retries with the guarded
    form that treats non-numeric values as missing.
    """
    table = connection.ops.quote_name(Response._meta.db_table)
    column = f"{table}.{connection.ops.quote_name('ratings')}"
    if connection.vendor == "postgresql":
        if not guarded:
            return RawSQL(f"({column} ->> %s)::int", (slug,), output_field=IntegerField())
        return RawSQL(
            f"CASE WHEN jsonb_typeof({column} -> %s) = 'number' "
            f"THEN ({column} ->> %s)::double precision END",
            (slug, slug),
            output_field=FloatField(),
        )
    path = f'$."{slug}"'
    return RawSQL(
        f"CASE WHEN json_type({column}, %s) IN ('integer', 'real') "
        f"THEN CAST(json_extract({column}, %s) AS REAL) END",
        (path, path),
        output_field=FloatField(),
    )


def _fence() -> str:
    return " LIMIT -1 OFFSET 0" if connection.vendor == "sqlite" else " OFFSET 0"


def _chunk_pattern_rows(
    *,
    filters: Mapping[str, Any],
    outcome: str,
    driver_slugs: Sequence[str],
    missing: str,
    n_chunks: int,
    chunk_range: tuple[int, int] | None,
    guarded: bool,
) -> list[tuple[Any, ...]]:
    """One row per (chunk, missingness pattern): chunk, pattern, n, sums, cross-products."""
    p = len(driver_slugs)
    names = [f"v{i}" for i in range(p)] + ["outcome_value"]
    annotations: dict[str, Any] = {
        name: _rating_sql(slug, guarded=guarded)
        for name, slug in zip(names, driver_slugs, strict=False)
    }
    annotations["outcome_value"] = Cast(outcome, IntegerField())
    annotations["chunk"] = F("pk") % n_chunks
    qs = responses_in_scope(filters).filter(**{f"{outcome}__isnull": False}).order_by()
    if missing == "listwise":
        qs = qs.filter(ratings__has_keys=list(driver_slugs))
    inner = qs.annotate(**annotations).values("chunk", *names)
    if chunk_range is not None:
        inner = inner.filter(chunk__gte=chunk_range[0], chunk__lt=chunk_range[1])
    inner_sql, inner_params = inner.query.sql_with_params()
    pattern = " + ".join(
        f"(CASE WHEN {name} IS NULL THEN 0 ELSE {1 << i} END)" for i, name in enumerate(names[:p])
    )
    select = ["COUNT(*)"] + [f"SUM({n})" for n in names]
    select += [f"SUM({names[i]} * {names[j]})" for i in range(p + 1) for j in range(i, p + 1)]
    where = " AND ".join(f"{n} IS NOT NULL" for n in names) if missing == "listwise" else "TRUE"
    sql = (
        f"SELECT chunk, {pattern} AS pattern, {', '.join(select)} "
        f"FROM ({inner_sql}{_fence()}) AS driver_rows WHERE {where} GROUP BY 1, 2"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # JIT compilation of ~100 aggregates costs more than it saves, and the planner
            # cannot know that id % K has only K groups: hash them instead of sorting rows.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(sql, inner_params)
        return list(cursor.fetchall())


def _rows_for(chunk_range: tuple[int, int] | None, kwargs: dict[str, Any]) -> list[tuple[Any, ...]]:
    try:
        return _chunk_pattern_rows(chunk_range=chunk_range, guarded=False, **kwargs)
    except DataError:
        return _chunk_pattern_rows(chunk_range=chunk_range, guarded=True, **kwargs)


def _rows_in_parallel(
    ranges: list[tuple[int, int]], kwargs: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """Each chunk range on its own connection (PostgreSQL runs the scans side by side)."""

    def work(chunk_range: tuple[int, int]) -> list[tuple[Any, ...]]:
        try:
            return _rows_for(chunk_range, kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        parts = list(pool.map(work, ranges))
    return [row for part in parts for row in part]


def _parallel_slices() -> int:
    """How many concurrent scans to use: one per CPU on PostgreSQL outside a transaction."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def chunk_ranges(n_chunks: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges ``[lo, hi)`` covering chunk ids ``0 … n_chunks − 1``."""
    bounds = np.linspace(0, n_chunks, max(1, parts) + 1).astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


def driver_chunk_rows_fetch(
    *,
    filters: Mapping[str, Any],
    outcome: str,
    driver_slugs: Sequence[str],
    missing: str = "listwise",
    n_chunks: int = DEFAULT_CHUNKS,
    chunk_range: tuple[int, int] | None = None,
    parallel: int | None = None,
) -> list[list[Any]]:
    """The per-(chunk, missingness pattern) aggregate rows, as JSON-ready lists.

    Each row is ``[chunk, pattern, n, Σ v_i …, Σ v_i v_j (i ≤ j) …]`` over the drivers and
    the outcome (last). ``chunk_range=(lo, hi)`` restricts to chunks ``lo ≤ id % K < hi``
    so several workers (Celery chord) or threads (``parallel``) can each compute a share;
    shares merge by concatenation.
    """
    kwargs: dict[str, Any] = {
        "filters": filters,
        "outcome": outcome,
        "driver_slugs": driver_slugs,
        "missing": missing,
        "n_chunks": n_chunks,
    }
    slices = parallel if parallel is not None else _parallel_slices()
    if chunk_range is None and slices > 1:
        rows = _rows_in_parallel(chunk_ranges(n_chunks, slices), kwargs)
    else:
        rows = _rows_for(chunk_range, kwargs)
    return [[x if isinstance(x, int | float) or x is None else float(x) for x in r] for r in rows]


def driver_moments_from_rows(
    rows: Sequence[Sequence[Any]], n_drivers: int
) -> tuple[ChunkMoments, list[int]]:
    """Chunk moments from ``driver_chunk_rows_fetch`` rows (possibly from several workers).

    Within a missingness pattern every present variable is complete, so each row's count,
    sums and cross-products add exactly to the pairwise statistics of the pairs it has.
    """
    p = n_drivers
    v = p + 1
    chunk_ids = sorted({int(r[0]) for r in rows})
    position = {chunk: k for k, chunk in enumerate(chunk_ids)}
    k = len(chunk_ids)
    out = np.zeros((4, k, v, v))
    if rows:
        data = np.array([[float(x or 0) for x in r[2:]] for r in rows], dtype=float)
        index = np.array([position[int(r[0])] for r in rows])
        patterns = np.array([int(r[1]) for r in rows])
        present = np.ones((len(rows), v))
        present[:, :p] = (patterns[:, None] >> np.arange(p)) & 1
        both = present[:, :, None] * present[:, None, :]
        counts = data[:, 0]
        sums = data[:, 1 : 1 + v]
        iu = np.triu_indices(v)
        cross = np.zeros((len(rows), v, v))
        cross[:, iu[0], iu[1]] = data[:, 1 + v :]
        cross[:, iu[1], iu[0]] = data[:, 1 + v :]
        squares = np.diagonal(cross, axis1=1, axis2=2)
        np.add.at(out[0], index, counts[:, None, None] * both)
        np.add.at(out[1], index, sums[:, :, None] * both)
        np.add.at(out[2], index, squares[:, :, None] * both)
        np.add.at(out[3], index, cross)
    return ChunkMoments(out[0], out[1], out[2], out[3]), chunk_ids


def driver_moments_fetch(
    *,
    filters: Mapping[str, Any],
    outcome: str,
    driver_slugs: Sequence[str],
    missing: str = "listwise",
    n_chunks: int = DEFAULT_CHUNKS,
    chunk_range: tuple[int, int] | None = None,
    parallel: int | None = None,
) -> tuple[ChunkMoments, list[int]]:
    """Per-chunk moments of ``(ratings…, outcome)`` and the chunk ids they belong to."""
    rows = driver_chunk_rows_fetch(
        filters=filters,
        outcome=outcome,
        driver_slugs=driver_slugs,
        missing=missing,
        n_chunks=n_chunks,
        chunk_range=chunk_range,
        parallel=parallel,
    )
    return driver_moments_from_rows(rows, len(driver_slugs))


def driver_run_latest(*, outcome: str, filters: Mapping[str, Any]) -> AnalysisRun | None:
    """The newest succeeded driver run with this outcome and exactly these filters."""
    return run_latest_matching(kind=AnalysisRun.Kind.DRIVERS, outcome=outcome, filters=filters)


PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
BY_FIXED = ("touchpoint", "department", "journey", "channel", "segment", "region", "plan")
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def scores_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``period``, ``by``, ``compare_from``/``compare_to`` and the filters."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    period = data.get("period") or None
    if period is not None and period not in PERIODS:
        errors["period"] = [f"Must be one of: {', '.join(PERIODS)}."]
    cleaned["period"] = period
    by = data.get("by") or None
    if by is not None:
        by = str(by)
        prefix, _, key = by.partition(":")
        if by in BY_FIXED or (prefix in ("attribute", "customer_attribute") and _KEY.match(key)):
            pass
        else:
            errors["by"] = [
                f"Must be one of: {', '.join(BY_FIXED)}, attribute:<key> "
                "(a response attribute) or customer_attribute:<key>."
            ]
    cleaned["by"] = by
    filter_errors: dict[str, list[str]] = {}
    try:
        cleaned["filters"] = response_scope_clean(data)
    except InvalidInput as exc:
        filter_errors = exc.field_errors
    compare = {"date_from": data.get("compare_from"), "date_to": data.get("compare_to")}
    if compare["date_from"] or compare["date_to"]:
        if not (compare["date_from"] and compare["date_to"]):
            errors["compare_from"] = ["Give both compare_from and compare_to."]
        else:
            try:
                window = response_scope_clean(compare)
                cleaned["compare"] = {
                    "date_from": window["date_from"],
                    "date_to": window["date_to"],
                }
            except InvalidInput as exc:
                for name, messages in exc.field_errors.items():
                    errors[name.replace("date_", "compare_")] = messages
    errors.update(filter_errors)
    if errors:
        raise InvalidInput(field_errors=errors)
    return cleaned


BY_CATALOGUE = ("touchpoint", "department", "journey", "channel")
"""Groupings the score counts per touchpoint and channel answer (``score_counts_get``)."""


def _score_rows(
    filters: Mapping[str, Any], *, period: str | None, by: str | None
) -> list[dict[str, Any]]:
    """Rows of ``score_counts_get`` (the daily roll-up where the filters allow) keyed as
    ``scores_summary`` reads them: ``period_start`` (the period's first midnight, project
    time zone) and ``group``/``group_label`` (slug and name; the channel twice; None for
    responses without a touchpoint)."""
    grouping = ("channel",) if by == "channel" else ("touchpoint_id",) if by else ()
    counts = score_counts_get(filters, period=period, by=grouping)
    labels: dict[int, tuple[str, str]] = {}
    if by in ("touchpoint", "department", "journey"):
        prefix = "" if by == "touchpoint" else f"{by}__"
        ids = {row["touchpoint_id"] for row in counts if row["touchpoint_id"] is not None}
        labels = {
            pk: (slug, name)
            for pk, slug, name in Touchpoint.objects.filter(pk__in=ids).values_list(
                "pk", f"{prefix}slug", f"{prefix}name"
            )
        }
    rows = []
    for row in counts:
        item: dict[str, Any] = {key: row[key] for key in COUNT_KEYS}
        if period:
            item["period_start"] = day_start(row["period"])
        if by == "channel":
            item["group"] = item["group_label"] = row["channel"]
        elif by:
            item["group"], item["group_label"] = labels.get(row["touchpoint_id"], (None, None))
        rows.append(item)
    return rows


def _group_expressions(by: str) -> dict[str, Any]:
    if by in CUSTOMER_FIELDS:
        expression = Coalesce(
            NullIf(F(f"customer__{by}"), Value("")),
            KeyTextTransform(by, "attributes"),
            output_field=CharField(),
        )
        return {"group": expression, "group_label": expression}
    prefix, _, key = by.partition(":")
    source = "attributes" if prefix == "attribute" else "customer__attributes"
    text_expression = KeyTextTransform(key, source)
    return {"group": text_expression, "group_label": text_expression}


def _add(total: dict[str, float], row: Mapping[str, Any]) -> None:
    for key in COUNT_KEYS:
        total[key] += float(row.get(key) or 0)


def _change_dict(later: ScoreBlock, earlier: ScoreBlock) -> dict[str, Any]:
    return {key: score.as_dict() for key, score in score_block_change(later, earlier).items()}


def _period_series(rows: Mapping[Any, Mapping[str, float]], min_n: int) -> list[dict[str, Any]]:
    series: list[dict[str, Any]] = []
    previous: ScoreBlock | None = None
    for start in sorted(rows):
        block = score_block(rows[start], min_n=min_n)
        item: dict[str, Any] = {"period_start": start.isoformat() if start else None}
        item.update(block.as_dict())
        item["change_from_previous"] = (
            _change_dict(block, previous) if previous is not None else None
        )
        series.append(item)
        previous = block
    return series


def scores_summary(parameters: Mapping[str, Any], *, group_periods: bool = True) -> dict[str, Any]:
    """Scores for cleaned parameters (``scores_parameters_clean``), with intervals.

    With both ``period`` and ``by``, each group also gets its own series of periods; a
    caller that shows only the groups' totals passes ``group_periods=False`` and saves a
    score block per group and period (the figures it does get are the same)."""
    min_n = min_responses()
    period = parameters.get("period")
    by = parameters.get("by")
    filters = parameters.get("filters") or {}
    if by is None or by in BY_CATALOGUE:
        rows = _score_rows(filters, period=period, by=by)
    else:
        qs = responses_in_scope(filters).order_by()
        keys: dict[str, Any] = _group_expressions(by)
        if period:
            keys["period_start"] = PERIODS[period]("submitted_at")
        rows = list(qs.values(**keys).annotate(**score_aggregates()).order_by())

    overall: dict[str, float] = defaultdict(float)
    by_period: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_group: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    group_labels: dict[Any, Any] = {}
    periods_by_group: dict[Any, dict[Any, dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float))
    )
    for row in rows:
        _add(overall, row)
        if period:
            _add(by_period[row["period_start"]], row)
        if by:
            group = row["group"]
            group_labels[group] = row.get("group_label")
            _add(by_group[group], row)
            if period and group_periods:
                _add(periods_by_group[group][row["period_start"]], row)
    overall_block = score_block(overall, min_n=min_n)
    result: dict[str, Any] = {
        "parameters": dict(parameters),
        "min_responses": min_n,
        "overall": overall_block.as_dict(),
    }
    if period:
        result["periods"] = _period_series(by_period, min_n)
    if by:
        groups = []
        for group in sorted(by_group, key=lambda g: (g is None, str(g))):
            item: dict[str, Any] = {
                "key": group,
                "label": group_labels.get(group) if group is not None else "(none)",
                **score_block(by_group[group], min_n=min_n).as_dict(),
            }
            if period and group_periods:
                item["periods"] = _period_series(periods_by_group[group], min_n)
            groups.append(item)
        result["groups"] = groups
    compare = parameters.get("compare")
    if compare:
        window = {**filters, **compare}
        comparison = score_block(score_counts_get(window)[0], min_n=min_n)
        result["comparison"] = {"window": compare, **comparison.as_dict()}
        result["change"] = _change_dict(overall_block, comparison)
    return result


def customers_by_latest_score(filters: Mapping[str, Any]) -> dict[int, dict[str, float]]:
    """``{score: {n, churned, revenue_n, revenue_sum, revenue_sumsq}}`` for scores 0–10."""
    latest = (
        responses_in_scope(filters)
        .filter(customer=OuterRef("pk"), nps__isnull=False)
        .order_by("-submitted_at", "-id")
        .values("nps")[:1]
    )
    rows = (
        Customer.objects.annotate(score=Subquery(latest))
        .filter(score__isnull=False)
        .values("score")
        .annotate(
            n=Count("pk"),
            churned=Count("pk", filter=Q(churned_at__isnull=False)),
            revenue_n=Count("annual_revenue"),
            revenue_sum=Sum("annual_revenue"),
            revenue_sumsq=Sum(F("annual_revenue") * F("annual_revenue")),
        )
        .order_by()
    )
    return {
        int(row["score"]): {
            key: float(row[key] or 0)
            for key in ("n", "churned", "revenue_n", "revenue_sum", "revenue_sumsq")
        }
        for row in rows
    }
