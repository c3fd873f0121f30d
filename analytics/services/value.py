"""Value-of-experience runs: churn and revenue by score, the threshold, money values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.models import AnalysisRun
from analytics.selectors.scores import min_responses
from analytics.selectors.value import customers_by_latest_score
from analytics.services.runs import RunOutcome, parameter_int, register_run_kind
from analytics.stats.value import value_of_experience
from cxhub.errors import InvalidInput
from feedback.filters import response_scope_clean


def value_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    replicates = parameter_int(errors, data, "replicates", 500, 0, 5000)
    seed = parameter_int(errors, data, "seed", 0, 0, 2**31 - 1)
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


register_run_kind(
    AnalysisRun.Kind.VALUE, validate=value_parameters_clean, execute=value_run_execute
)
