"""Driver analysis runs: validate parameters, read sufficient statistics, compute, store.

The run result is the JSON of ``analytics.stats.drivers.analysis.drivers_analyse`` plus
the parameters and the drivers' declared scales. ``driver_analysis_from_database`` is
the entry point the benchmark times ("driver analysis from the database").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.models import AnalysisRun
from analytics.selectors.drivers import (
    DEFAULT_CHUNKS,
    chunk_ranges,
    driver_attributes,
    driver_chunk_rows_fetch,
    driver_moments_fetch,
    driver_moments_from_rows,
    topic_nps_counts,
)
from analytics.selectors.scores import min_responses
from analytics.services.runs import (
    RunOutcome,
    parameter_int,
    register_run_kind,
    run_fail,
    run_succeed,
)
from analytics.stats.drivers.analysis import DriverSpec, NotEnoughData, drivers_analyse
from analytics.stats.drivers.shapley import MAX_EXACT_DRIVERS
from analytics.stats.scores import nps_estimate
from analytics.stats.topic_impact import topic_nps_impact
from cxhub.errors import InvalidInput
from feedback.filters import response_scope_clean

OUTCOMES = ("nps", "csat", "ces")
MISSING = ("listwise", "pairwise")
METHODS = ("auto", "shapley", "relative_weights")
MAX_REPLICATES = 5000


def drivers_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated driver-run parameters; raises ``InvalidInput`` with field messages."""
    errors: dict[str, list[str]] = {}
    outcome = data.get("outcome") or "nps"
    if outcome not in OUTCOMES:
        errors["outcome"] = [f"Must be one of: {', '.join(OUTCOMES)}."]
    missing = data.get("missing") or "listwise"
    if missing not in MISSING:
        errors["missing"] = [f"Must be one of: {', '.join(MISSING)}."]
    method = data.get("method") or "auto"
    if method not in METHODS:
        errors["method"] = [f"Must be one of: {', '.join(METHODS)}."]
    replicates = parameter_int(errors, data, "replicates", 1000, 0, MAX_REPLICATES)
    seed = parameter_int(errors, data, "seed", 0, 0, 2**31 - 1)
    workers = parameter_int(errors, data, "workers", 1, 1, 64)
    declared = {a.slug for a in driver_attributes()}
    requested = data.get("drivers")
    drivers: list[str] = []
    if requested in (None, "", []):
        drivers = sorted(declared)
        if not drivers:
            errors["drivers"] = ["No rating drivers are declared; add Attributes first."]
    elif not isinstance(requested, list | tuple | str) or not all(
        isinstance(s, str) for s in (requested if not isinstance(requested, str) else [requested])
    ):
        errors["drivers"] = ["Must be a list of driver slugs."]
    else:
        names = [requested] if isinstance(requested, str) else list(requested)
        names = [s.strip() for n in names for s in n.split(",") if s.strip()]
        unknown = sorted(set(names) - declared)
        if unknown:
            errors["drivers"] = [
                f"Unknown drivers: {', '.join(unknown)}. Declared: {', '.join(sorted(declared)) or 'none'}."
            ]
        drivers = sorted(set(names))
    if method == "shapley" and len(drivers) > MAX_EXACT_DRIVERS:
        errors["method"] = [
            f"Exact Shapley is limited to {MAX_EXACT_DRIVERS} drivers; use 'auto' or "
            "'relative_weights'."
        ]
    filters: dict[str, Any] = {}
    raw_filters = data.get("filters", {})
    if not isinstance(raw_filters, Mapping):
        errors["filters"] = ["Must be an object of filters."]
    else:
        try:
            filters = response_scope_clean(raw_filters)
        except InvalidInput as exc:
            errors.update({f"filters.{k}": v for k, v in exc.field_errors.items()})
    if errors:
        raise InvalidInput(field_errors=errors)
    return {
        "outcome": outcome,
        "drivers": drivers,
        "missing": missing,
        "method": method,
        "replicates": replicates,
        "seed": seed,
        "workers": workers,
        "filters": filters,
    }


def _specs(slugs: list[str]) -> list[DriverSpec]:
    by_slug = {a.slug: a for a in driver_attributes(slugs)}
    return [
        DriverSpec(
            slug=slug,
            label=by_slug[slug].label,
            scale_min=float(by_slug[slug].scale_min),
            scale_max=float(by_slug[slug].scale_max),
        )
        for slug in slugs
    ]


def driver_analysis_from_database(*, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Driver analysis for cleaned parameters, reading only per-chunk statistics from SQL."""
    moments, _ = driver_moments_fetch(
        filters=parameters["filters"],
        outcome=parameters["outcome"],
        driver_slugs=parameters["drivers"],
        missing=parameters["missing"],
        n_chunks=DEFAULT_CHUNKS,
    )
    return driver_analysis_from_moments(parameters=parameters, moments=moments)


def driver_analysis_from_moments(*, parameters: Mapping[str, Any], moments: Any) -> dict[str, Any]:
    try:
        result = drivers_analyse(
            moments,
            _specs(parameters["drivers"]),
            outcome=parameters["outcome"],
            missing=parameters["missing"],
            method=parameters["method"],
            replicates=parameters["replicates"],
            seed=parameters["seed"],
            min_rows=min_responses(),
        )
    except NotEnoughData as exc:
        raise InvalidInput(str(exc)) from exc
    result["filters"] = dict(parameters["filters"])
    return result


def drivers_run_execute(run: AnalysisRun) -> RunOutcome:
    result = driver_analysis_from_database(parameters=run.parameters)
    return RunOutcome(
        result=result,
        counts={
            "responses": result["n"],
            "drivers": len(result["drivers"]),
            "chunks": result["bootstrap"]["chunks"],
            "replicates": result["bootstrap"]["replicates"],
        },
    )


register_run_kind(
    AnalysisRun.Kind.DRIVERS, validate=drivers_parameters_clean, execute=drivers_run_execute
)


def drivers_fan_out_ranges(*, run: AnalysisRun) -> list[tuple[int, int]] | None:
    """Chunk ranges for a driver run that asked for ``workers > 1``, else None.

    Each range becomes one Celery task computing its chunks' statistics; a chord callback
    merges them (``drivers_run_merge``). Statistics add, so the result is identical to a
    single-process run.
    """
    if run.kind != AnalysisRun.Kind.DRIVERS:
        return None
    workers = int((run.parameters or {}).get("workers", 1) or 1)
    if workers <= 1:
        return None
    return chunk_ranges(DEFAULT_CHUNKS, workers)


def drivers_chunk_rows(*, run_id: int, chunk_range: tuple[int, int]) -> list[list[Any]]:
    """One worker's share of a fanned-out driver run: aggregate rows of its chunks."""
    parameters = AnalysisRun.objects.only("parameters").get(pk=run_id).parameters
    return driver_chunk_rows_fetch(
        filters=parameters["filters"],
        outcome=parameters["outcome"],
        driver_slugs=parameters["drivers"],
        missing=parameters["missing"],
        n_chunks=DEFAULT_CHUNKS,
        chunk_range=chunk_range,
        parallel=1,
    )


def drivers_run_merge(*, run_id: int, parts: list[list[list[Any]]]) -> AnalysisRun:
    """Merge the workers' rows, compute the analysis and finish the run (or fail it)."""
    run = AnalysisRun.objects.get(pk=run_id)
    if run.status in (AnalysisRun.Status.SUCCEEDED, AnalysisRun.Status.FAILED):
        return run
    try:
        rows = [row for part in parts for row in part]
        moments, _ = driver_moments_from_rows(rows, len(run.parameters["drivers"]))
        result = driver_analysis_from_moments(parameters=run.parameters, moments=moments)
    except Exception as exc:  # recorded on the run; the worker log has the traceback
        message = " ".join(
            str(m) for msgs in getattr(exc, "field_errors", {}).values() for m in msgs
        )
        return run_fail(run_id=run_id, error=message or f"{type(exc).__name__}: {exc}")
    counts = {
        "responses": result["n"],
        "drivers": len(result["drivers"]),
        "chunks": result["bootstrap"]["chunks"],
        "replicates": result["bootstrap"]["replicates"],
        "workers": len(parts),
    }
    return run_succeed(run_id=run_id, result=result, counts=counts)


def topic_impact_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    filters: dict[str, Any] = {}
    raw_filters = data.get("filters", {})
    if not isinstance(raw_filters, Mapping):
        errors["filters"] = ["Must be an object of filters."]
    else:
        try:
            filters = response_scope_clean(raw_filters)
        except InvalidInput as exc:
            errors.update({f"filters.{k}": v for k, v in exc.field_errors.items()})
    if errors:
        raise InvalidInput(field_errors=errors)
    return {"outcome": "nps", "filters": filters}


def topic_impact_compute(*, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """NPS points each topic costs or earns, with delta-method intervals, largest first."""
    totals, per_topic = topic_nps_counts(parameters["filters"])
    if totals["n"] == 0:
        raise InvalidInput("No NPS answers in this selection.")
    min_n = min_responses()
    topics = []
    for row in per_topic:
        impact = topic_nps_impact(
            total_n=totals["n"],
            total_promoters=totals["promoters"],
            total_detractors=totals["detractors"],
            topic_n=int(row["n"]),
            topic_promoters=int(row["promoters"]),
            topic_detractors=int(row["detractors"]),
            min_n=min_n,
        )
        topics.append({"slug": row["topic__slug"], "name": row["topic__name"], **impact})
    topics.sort(key=lambda t: (t["status"] != "ok", -abs(t.get("impact", 0.0))))
    return {
        "outcome": "nps",
        "filters": dict(parameters["filters"]),
        "nps": nps_estimate(totals["n"], totals["promoters"], totals["detractors"], min_n=min_n),
        "topics": topics,
        "method": "NPS of all answers minus NPS of the answers not mentioning the topic; "
        "95% interval by the delta method",
    }


def topic_impact_run_execute(run: AnalysisRun) -> RunOutcome:
    result = topic_impact_compute(parameters=run.parameters)
    return RunOutcome(
        result=result, counts={"responses": result["nps"]["n"], "topics": len(result["topics"])}
    )


register_run_kind(
    AnalysisRun.Kind.TOPIC_IMPACT,
    validate=topic_impact_parameters_clean,
    execute=topic_impact_run_execute,
)
