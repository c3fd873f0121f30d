"""The table of run kinds that the features fill and the generic engine reads."""

from __future__ import annotations

from typing import Any

import pytest

from analytics.models import AnalysisRun, ResponseAnalysis
from analytics.runs.kinds import RunKind, run_kind_get, run_kinds_available, run_kinds_register
from analytics.runs.services import run_execute_now, run_parameters_clean
from cxhub.errors import InvalidInput
from tests.feedback.factories import ResponseFactory


def test_every_run_kind_has_a_handler_and_no_handler_lacks_a_kind() -> None:
    """The registry holds exactly the kinds of AnalysisRun.Kind, each with validate and execute."""
    assert run_kinds_available() == sorted(AnalysisRun.Kind.values)
    for kind in AnalysisRun.Kind.values:
        handler = run_kind_get(kind)
        assert isinstance(handler, RunKind), kind
        assert callable(handler.validate) and callable(handler.execute)


def test_only_driver_runs_can_take_over_their_dispatch() -> None:
    """Fanning out over workers is the drivers kind's business; every other kind runs in place."""
    with_dispatch = [k for k in AnalysisRun.Kind.values if run_kind_get(k).dispatch is not None]  # type: ignore[union-attr]
    assert with_dispatch == [AnalysisRun.Kind.DRIVERS]


def test_a_kind_outside_analysis_run_kind_cannot_be_registered() -> None:
    """A feature cannot add a kind the model (and its migration) does not know."""
    handler = RunKind(validate=dict, execute=lambda run: None)  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="Unknown analysis kind 'sorcery'"):
        run_kinds_register({"sorcery": handler})
    assert "sorcery" not in run_kinds_available()


def test_a_tagging_run_tags_the_comments_not_yet_tagged(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    """kind=tagging re-tags every comment without an analysis for the current taxonomy."""
    with django_capture_on_commit_callbacks(execute=False):
        responses = [
            ResponseFactory(comment="The engineer was friendly and fixed it fast."),
            ResponseFactory(comment="Billing charged me twice this month."),
        ]
    ResponseAnalysis.objects.filter(response__in=responses).delete()
    run = run_execute_now(kind="tagging", parameters={})
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    assert run.counts["responses"] == 2
    assert run.result["analysed"] == 2
    assert ResponseAnalysis.objects.filter(response__in=responses).count() == 2


def test_a_tagging_run_refuses_a_limit_that_is_not_a_whole_number(db: None) -> None:
    """A bad ``limit`` is a field message, not a failed run."""
    with pytest.raises(InvalidInput) as raised:
        run_parameters_clean(kind="tagging", parameters={"limit": "many"})
    assert "limit" in raised.value.field_errors
