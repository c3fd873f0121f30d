"""Insights API: scores, driver analysis and value of experience.

Reads are for signed-in people; only CX managers start runs; source API keys get nothing.
Scores are computed on request (one aggregate query); driver and value results come
from the latest succeeded run for the same outcome and filters.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.insights.selectors import scores_parameters_clean, scores_summary
from analytics.insights.services import OUTCOMES
from analytics.runs.api import (
    FILTER_PARAMETERS,
    AnalysisView,
    latest_run_response,
    query_params_dict,
)
from analytics.runs.models import AnalysisRun
from cxhub import access


class ScoresView(AnalysisView):
    @extend_schema(
        summary="NPS, CSAT and CES with 95% intervals, by period and group",
        parameters=[
            OpenApiParameter("period", str, enum=["day", "week", "month"]),
            OpenApiParameter(
                "by",
                str,
                description="touchpoint, department, journey, channel, segment, region, plan, "
                "attribute:<key> or customer_attribute:<key>.",
            ),
            OpenApiParameter("compare_from", str, description="Start of a comparison window."),
            OpenApiParameter("compare_to", str, description="End of a comparison window."),
            *FILTER_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        parameters = scores_parameters_clean(query_params_dict(request))
        access.scope_restrict(request.user, parameters["filters"], records=False)
        return Response(scores_summary(parameters))


class DriversView(AnalysisView):
    @extend_schema(
        summary="Latest driver analysis for an outcome and filters",
        parameters=[
            OpenApiParameter("outcome", str, enum=["nps", "csat", "ces"]),
            *FILTER_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="No run yet.")},
    )
    def get(self, request: Request) -> Response:
        return latest_run_response(
            request, AnalysisRun.Kind.DRIVERS, "driver analysis", outcomes=OUTCOMES
        )


class ValueView(AnalysisView):
    @extend_schema(
        summary="Latest value-of-experience analysis for the filters",
        parameters=FILTER_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="No run yet.")},
    )
    def get(self, request: Request) -> Response:
        return latest_run_response(request, AnalysisRun.Kind.VALUE, "value-of-experience analysis")


urlpatterns = [
    path("analytics/scores/", ScoresView.as_view(), name="analytics-scores"),
    path("analytics/drivers/", DriversView.as_view(), name="analytics-drivers"),
    path("analytics/value/", ValueView.as_view(), name="analytics-value"),
]
