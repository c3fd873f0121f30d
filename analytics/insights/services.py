"""Insights writes: score snapshots, driver analysis and value-of-experience runs.

Driver runs validate parameters, read sufficient statistics, compute and store: the run
result is the JSON of ``analytics.stats.drivers.analysis.drivers_analyse`` plus the
parameters and the drivers' declared scales. ``driver_analysis_from_database`` is the entry
point the benchmark times ("driver analysis from the database"). Score runs store a snapshot
of ``scores_summary``; value runs relate churn and revenue to the score, find the threshold
and put money values on it. The kinds are declared in ``analytics.insights.kinds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.insights.selectors import (
    DEFAULT_CHUNKS,
    chunk_ranges,
    customers_by_latest_score,
    driver_attributes,
    driver_chunk_rows_fetch,
    driver_moments_fetch,
    driver_moments_from_rows,
    scores_summary,
)
from analytics.responses.sample import min_responses
from analytics.runs.kinds import RunOutcome
from analytics.runs.models import AnalysisRun
from analytics.runs.services import parameter_int, parameter_scope, run_fail, run_succeed
from analytics.stats.drivers.analysis import DriverSpec, NotEnoughData, drivers_analyse
from analytics.stats.drivers.shapley import MAX_EXACT_DRIVERS
from analytics.stats.value import value_of_experience
from cxhub.errors import InvalidInput

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
    filters = parameter_scope(errors, data)
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


def scores_run_execute(run: AnalysisRun) -> RunOutcome:
    result = scores_summary(run.parameters)
    return RunOutcome(result=result, counts={"responses": result["overall"]["responses"]})


def value_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    replicates = parameter_int(errors, data, "replicates", 500, 0, 5000)
    seed = parameter_int(errors, data, "seed", 0, 0, 2**31 - 1)
    filters = parameter_scope(errors, data)
    if errors:
        raise InvalidInput(field_errors=errors)
    return {"replicates": replicates, "seed": seed, "filters": filters}


def value_analysis_compute(*, parameters: Mapping[str, Any]) -> dict[str, Any]:
    by_score = customers_by_latest_score(parameters["filters"])
    if not by_score:
        raise InvalidInput(
            "No customers with an NPS answer in this selection; link responses to customers."
        )
    result = value_of_experience(
        by_score,
        min_n=min_responses(),
        replicates=parameters["replicates"],
        seed=parameters["seed"],
    )
    result["filters"] = dict(parameters["filters"])
    result["definition"] = (
        "Each customer counts once, at the NPS score of their latest response in the "
        "selection; churned means the customer has a churn date; revenue is annual revenue."
    )
    return result


def value_run_execute(run: AnalysisRun) -> RunOutcome:
    result = value_analysis_compute(parameters=run.parameters)
    return RunOutcome(result=result, counts={"customers": result["customers"]})
