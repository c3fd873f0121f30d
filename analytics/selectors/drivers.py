"""Driver-analysis inputs read from the database, and the latest stored results.

``driver_moments_fetch`` computes per-chunk sufficient statistics (see
``analytics.stats.drivers.sufficient``) in SQL: responses are split into ``K`` chunks by
``id % K`` and one ``GROUP BY`` returns, per chunk, the count, the sums and the
cross-products of the outcome and the JSON-extracted ratings. Rows never leave the
database; 1M responses become ``K`` small matrices. The ratings are extracted once per row
inside a subquery fenced with ``OFFSET 0`` so the planner does not repeat the JSON work in
every aggregate. Non-numeric rating values count as missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, F, FloatField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from analytics.models import AnalysisRun
from analytics.selectors.response_filters import responses_filtered
from analytics.stats.drivers.sufficient import (
    ChunkMoments,
    moments_from_listwise_sums,
)
from feedback.models import Attribute, Response

DEFAULT_CHUNKS = 256


def driver_attributes(slugs: Sequence[str] | None = None) -> list[Attribute]:
    """The declared rating drivers (all, or those named), ordered by slug."""
    qs = Attribute.objects.order_by("slug")
    if slugs:
        qs = qs.filter(slug__in=list(slugs))
    return list(qs)


def _rating_sql(slug: str) -> RawSQL:
    table = connection.ops.quote_name(Response._meta.db_table)
    column = f"{table}.{connection.ops.quote_name('ratings')}"
    if connection.vendor == "postgresql":
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


def driver_moments_fetch(
    *,
    filters: Mapping[str, Any],
    outcome: str,
    driver_slugs: Sequence[str],
    missing: str = "listwise",
    n_chunks: int = DEFAULT_CHUNKS,
    chunk_range: tuple[int, int] | None = None,
) -> tuple[ChunkMoments, list[int]]:
    """Per-chunk moments of ``(ratings…, outcome)`` and the chunk ids they belong to.

    ``chunk_range=(lo, hi)`` restricts to chunks ``lo ≤ id % K < hi`` so several workers
    can each compute a share (their results merge by concatenation).
    """
    p = len(driver_slugs)
    v = p + 1
    names = [f"v{i}" for i in range(v)]
    annotations: dict[str, Any] = {
        name: _rating_sql(slug) for name, slug in zip(names, driver_slugs, strict=False)
    }
    annotations[names[-1]] = Cast(outcome, FloatField())
    annotations["chunk"] = F("pk") % n_chunks
    qs = responses_filtered(filters).filter(**{f"{outcome}__isnull": False}).order_by()
    if missing == "listwise":
        qs = qs.filter(ratings__has_keys=list(driver_slugs))
    inner = qs.annotate(**annotations).values("chunk", *names)
    if chunk_range is not None:
        inner = inner.filter(chunk__gte=chunk_range[0], chunk__lt=chunk_range[1])
    inner_sql, inner_params = inner.query.sql_with_params()
    inner_sql = f"{inner_sql}{_fence()}"
    pairs = [(i, j) for i in range(v) for j in range(i, v)]

    if missing == "listwise":
        select = ["COUNT(*)"] + [f"SUM({n})" for n in names]
        select += [f"SUM({names[i]} * {names[j]})" for i, j in pairs]
        not_null = " AND ".join(f"{n} IS NOT NULL" for n in names)
        sql = (
            f"SELECT chunk, {', '.join(select)} FROM ({inner_sql}) AS driver_rows "
            f"WHERE {not_null} GROUP BY chunk ORDER BY chunk"
        )
    else:
        present = ", ".join(
            f"CASE WHEN {n} IS NULL THEN 0.0 ELSE 1.0 END AS m{i}" for i, n in enumerate(names)
        )
        filled = ", ".join(f"COALESCE({n}, 0.0) AS x{i}" for i, n in enumerate(names))
        select = [f"SUM(m{i} * m{j})" for i, j in pairs]
        select += [f"SUM(x{i} * m{j})" for i in range(v) for j in range(v)]
        select += [f"SUM(x{i} * x{i} * m{j})" for i in range(v) for j in range(v)]
        select += [f"SUM(x{i} * x{j})" for i, j in pairs]
        sql = (
            f"SELECT chunk, {', '.join(select)} FROM (SELECT chunk, {present}, {filled} "
            f"FROM ({inner_sql}) AS driver_rows{_fence()}) AS driver_values "
            f"GROUP BY chunk ORDER BY chunk"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, inner_params)
        rows = cursor.fetchall()
    chunk_ids = [int(r[0]) for r in rows]
    data = np.array([[float(x or 0.0) for x in r[1:]] for r in rows], dtype=float).reshape(
        len(rows), -1
    )
    k = len(rows)
    iu = np.triu_indices(v)

    def symmetric(block: np.ndarray) -> np.ndarray:
        out = np.zeros((k, v, v))
        out[:, iu[0], iu[1]] = block
        out[:, iu[1], iu[0]] = block
        return out

    n_pairs = len(pairs)
    if missing == "listwise":
        counts = data[:, 0]
        sums = data[:, 1 : 1 + v]
        cross = symmetric(data[:, 1 + v : 1 + v + n_pairs])
        moments = moments_from_listwise_sums(counts, sums, cross)
    else:
        offset = 0
        pair_n = symmetric(data[:, offset : offset + n_pairs])
        offset += n_pairs
        pair_sum = data[:, offset : offset + v * v].reshape(k, v, v)
        offset += v * v
        pair_sq = data[:, offset : offset + v * v].reshape(k, v, v)
        offset += v * v
        cross = symmetric(data[:, offset : offset + n_pairs])
        moments = ChunkMoments(pair_n, pair_sum, pair_sq, cross).without_empty_chunks()
    return moments, chunk_ids


def driver_run_latest(
    *, outcome: str, filters: Mapping[str, Any], kind: str = AnalysisRun.Kind.DRIVERS
) -> AnalysisRun | None:
    """The newest succeeded run of ``kind`` with this outcome and exactly these filters."""
    candidates = AnalysisRun.objects.filter(
        kind=kind, status=AnalysisRun.Status.SUCCEEDED
    ).order_by("-finished_at", "-id")[:200]
    wanted = dict(filters)
    for run in candidates:
        params = run.parameters or {}
        if params.get("outcome", outcome) == outcome and (params.get("filters") or {}) == wanted:
            return run
    return None


def topic_nps_counts(
    filters: Mapping[str, Any],
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """NPS counts of all filtered answers and, per topic, of the answers mentioning it.

    Two aggregate queries; a response counts once per topic (mentions are unique per
    response and topic).
    """
    from analytics.models import TopicMention

    answers = responses_filtered(filters).filter(nps__isnull=False).order_by()
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
