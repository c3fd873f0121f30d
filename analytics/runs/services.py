"""Analysis runs: create, queue, execute and record every computation done in a worker.

A run moves ``queued → running → succeeded | failed``. The engine knows no run kind: it
looks the run's kind up in the table of ``analytics.runs.kinds`` (filled by the features),
whose ``validate`` cleans the requested parameters (raising ``InvalidInput`` with field
messages) and whose ``execute`` does the work and returns the result and the counts. ``run_execute`` wraps the handler:
it stamps start and finish times, stores a readable error when the handler raises, and
never leaves a run in ``running``. Executing an already finished run is a no-op, so the
task is safe to retry after a worker died.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from analytics.runs.kinds import RunKind, run_kind_get, run_kinds_available
from analytics.runs.models import AnalysisRun
from cxhub.access import scope_department_ids
from cxhub.errors import InvalidInput, NotFound
from feedback.filters import response_scope_clean

logger = logging.getLogger(__name__)


def parameter_scope(errors: dict[str, list[str]], data: Mapping[str, Any]) -> dict[str, Any]:
    """The run's ``filters`` cleaned as the one response scope; field messages go into
    ``errors`` as ``filters.<name>`` (an empty scope when they are missing or wrong)."""
    raw_filters = data.get("filters", {})
    if not isinstance(raw_filters, Mapping):
        errors["filters"] = ["Must be an object of filters."]
        return {}
    try:
        return response_scope_clean(raw_filters)
    except InvalidInput as exc:
        errors.update({f"filters.{k}": v for k, v in exc.field_errors.items()})
        return {}


def parameter_int(
    errors: dict[str, list[str]], data: Mapping[str, Any], name: str, default: int, lo: int, hi: int
) -> int:
    """An integer parameter in [lo, hi]; records a field message in ``errors`` if not."""
    raw = data.get(name, default)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
        if isinstance(raw, float) and raw != value:
            raise ValueError
        if isinstance(raw, bool):
            raise ValueError
    except (TypeError, ValueError):
        errors[name] = [f"Must be a whole number between {lo} and {hi}."]
        return default
    if not lo <= value <= hi:
        errors[name] = [f"Must be between {lo} and {hi}."]
    return value


def _handler_for(kind: str) -> RunKind:
    handler = run_kind_get(kind)
    if handler is None:
        available = ", ".join(run_kinds_available()) or "none"
        raise InvalidInput(
            field_errors={"kind": [f"'{kind}' cannot be started. Available kinds: {available}."]}
        )
    return handler


def run_parameters_clean(*, kind: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The validated, normalised parameters for ``kind`` (raises ``InvalidInput``)."""
    if parameters is not None and not isinstance(parameters, Mapping):
        raise InvalidInput(field_errors={"parameters": ["Must be a JSON object."]})
    return _handler_for(kind).validate(parameters or {})


@transaction.atomic
def run_create(
    *,
    kind: str,
    parameters: Mapping[str, Any] | None,
    requested_by: AbstractBaseUser | AnonymousUser | None,
) -> AnalysisRun:
    """Record a queued run with validated parameters; nothing is computed yet."""
    cleaned = run_parameters_clean(kind=kind, parameters=parameters)
    departments = run_scope(kind=kind, parameters=cleaned)
    run = AnalysisRun.objects.create(
        kind=kind,
        parameters=cleaned,
        requested_by=requested_by if requested_by and requested_by.is_authenticated else None,  # type: ignore[misc]
        status=AnalysisRun.Status.QUEUED,
        scope_every_department=departments is None,
    )
    if departments:
        run.scope_departments.set(sorted(departments))
    return run


def run_scope(*, kind: str, parameters: Mapping[str, Any]) -> set[int] | None:
    """The departments whose data a run of ``kind`` reads (``RunKind.scope``): empty for an
    aggregate across departments, None when the result holds every department's records."""
    handler = _handler_for(kind)
    if handler.scope is not None:
        return handler.scope(parameters)
    filters = parameters.get("filters")
    return (scope_department_ids(filters) if isinstance(filters, Mapping) else None) or set()


def run_enqueue(*, run: AnalysisRun) -> None:
    """Queue the run's task once the surrounding transaction has committed."""
    from analytics.runs.tasks import analysis_run_execute_task

    run_id = run.pk
    transaction.on_commit(lambda: analysis_run_execute_task.delay(run_id))


def run_request(
    *,
    kind: str,
    parameters: Mapping[str, Any] | None,
    requested_by: AbstractBaseUser | AnonymousUser | None,
) -> AnalysisRun:
    """Create a run and queue it for a worker (the API's ``POST runs/``)."""
    with transaction.atomic():
        run = run_create(kind=kind, parameters=parameters, requested_by=requested_by)
        run_enqueue(run=run)
    return run


def run_start(*, run_id: int) -> AnalysisRun | None:
    """Mark a run as running; None when it is already finished (a retried message)."""
    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise NotFound(f"Analysis run {run_id} does not exist.")
        if run.status in (AnalysisRun.Status.SUCCEEDED, AnalysisRun.Status.FAILED):
            return None
        run.status = AnalysisRun.Status.RUNNING
        run.started_at = timezone.now()
        run.finished_at = None
        run.error = ""
        run.save(update_fields=["status", "started_at", "finished_at", "error", "updated_at"])
    return run


def run_succeed(
    *, run_id: int, result: dict[str, Any], counts: dict[str, Any] | None = None
) -> AnalysisRun:
    run = AnalysisRun.objects.get(pk=run_id)
    run.status = AnalysisRun.Status.SUCCEEDED
    run.result = result
    run.counts = counts or {}
    run.error = ""
    run.finished_at = timezone.now()
    run.started_at = run.started_at or run.finished_at
    run.save(
        update_fields=[
            "status",
            "result",
            "counts",
            "error",
            "started_at",
            "finished_at",
            "updated_at",
        ]
    )
    return run


def run_fail(*, run_id: int, error: str) -> AnalysisRun:
    run = AnalysisRun.objects.get(pk=run_id)
    run.status = AnalysisRun.Status.FAILED
    run.error = error[:5000] or "The analysis failed for an unknown reason."
    run.finished_at = timezone.now()
    run.started_at = run.started_at or run.finished_at
    run.save(update_fields=["status", "error", "started_at", "finished_at", "updated_at"])
    return run


def _readable_error(exc: BaseException) -> str:
    if hasattr(exc, "field_errors"):
        parts = [
            f"{name}: {' '.join(str(m) for m in messages)}"
            for name, messages in exc.field_errors.items()
        ]
        return "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"


def run_execute(*, run_id: int) -> AnalysisRun:
    """Run the handler of the run's kind and record success (with timings) or failure.

    A failure is stored on the run as a readable message instead of being raised, so a
    bad filter or empty data never leaves the run stuck in ``running``.
    """
    run = run_start(run_id=run_id)
    if run is None:
        return AnalysisRun.objects.get(pk=run_id)
    started = time.perf_counter()
    try:
        outcome = _handler_for(run.kind).execute(run)
    except Exception as exc:
        logger.exception("Analysis run %s (%s) failed", run_id, run.kind)
        return run_fail(run_id=run_id, error=_readable_error(exc))
    counts = {**outcome.counts, "compute_seconds": round(time.perf_counter() - started, 4)}
    return run_succeed(run_id=run_id, result=outcome.result, counts=counts)


def run_execute_now(
    *,
    kind: str,
    parameters: Mapping[str, Any] | None,
    requested_by: AbstractBaseUser | AnonymousUser | None = None,
) -> AnalysisRun:
    """Create and execute a run in this process (nightly jobs, commands, tests)."""
    run = run_create(kind=kind, parameters=parameters, requested_by=requested_by)
    return run_execute(run_id=run.pk)


def run_dispatch(*, run_id: int) -> str:
    """What the worker does with a queued run: the kind's ``dispatch`` or ``run_execute``.

    A kind with a ``dispatch`` (driver runs that fan out over workers) may take the run
    over and answer a status text; otherwise the run is executed here and its status is
    the answer.
    """
    run = AnalysisRun.objects.filter(pk=run_id).first()
    handler = run_kind_get(run.kind) if run is not None else None
    if run is not None and handler is not None and handler.dispatch is not None:
        answer = handler.dispatch(run)
        if answer is not None:
            return answer
    return str(run_execute(run_id=run_id).status)
