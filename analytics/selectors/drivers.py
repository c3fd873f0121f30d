"""Driver-analysis inputs read from the database, and the latest stored results.

``driver_moments_fetch`` computes per-chunk sufficient statistics (see
``analytics.stats.drivers.sufficient``) in SQL: responses are split into ``K`` chunks by
``id % K`` and one ``GROUP BY chunk, missingness pattern`` returns the count, the sums and
the cross-products of the outcome and the JSON-extracted ratings. Rows never leave the
database; 1M responses become ``K`` small matrices. The ratings are extracted once per row
inside a subquery fenced with ``OFFSET 0`` so the planner does not repeat the JSON work in
every aggregate, as integers (integer sums are the cheapest aggregates); if a stored value
is not a whole number the query is repeated in a guarded form where non-numeric values
count as missing. On PostgreSQL outside a transaction the chunk ranges are scanned by one
connection per CPU at once.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from django.db import DataError, connection, connections, transaction
from django.db.models import Count, F, FloatField, IntegerField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from analytics.models import AnalysisRun
from analytics.stats.drivers.sufficient import ChunkMoments
from feedback.filters import responses_in_scope
from feedback.models import Attribute, Response

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


def driver_run_latest(
    *, outcome: str, filters: Mapping[str, Any], kind: str = AnalysisRun.Kind.DRIVERS
) -> AnalysisRun | None:
    """The newest succeeded run of ``kind`` with this outcome and exactly these filters.

    Parameters are compared in Python (JSON equality differs between databases) over the
    latest 200 runs' parameters only; the matching run is then loaded with its result.
    """
    candidates = (
        AnalysisRun.objects.filter(kind=kind, status=AnalysisRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .values_list("id", "parameters")[:200]
    )
    wanted = dict(filters)
    for run_id, params in candidates:
        params = params or {}
        if params.get("outcome", outcome) == outcome and (params.get("filters") or {}) == wanted:
            return AnalysisRun.objects.select_related("requested_by").get(pk=run_id)
    return None


def topic_nps_counts(
    filters: Mapping[str, Any],
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """NPS counts of all filtered answers and, per topic, of the answers mentioning it.

    Two aggregate queries; a response counts once per topic (mentions are unique per
    response and topic).
    """
    from analytics.models import TopicMention

    answers = responses_in_scope(filters).filter(nps__isnull=False).order_by()
    totals = answers.aggregate(
        n=Count("pk"),
        promoters=Count("pk", filter=Q(nps__gte=9)),
        detractors=Count("pk", filter=Q(nps__lte=6)),
    )
    per_topic = list(
        TopicMention.objects.filter(response__in=answers.values("pk"))
        .values("topic__slug", "topic__name")
        .annotate(
            n=Count("response", distinct=True),
            promoters=Count("response", distinct=True, filter=Q(response__nps__gte=9)),
            detractors=Count("response", distinct=True, filter=Q(response__nps__lte=6)),
        )
        .order_by("topic__slug")
    )
    return {k: int(v or 0) for k, v in totals.items()}, per_topic
