"""Insights API: scores, driver analysis, value of experience, topic impact and runs.

Reads are for signed-in people; only CX managers start runs; source API keys get nothing.
Scores are computed on request (one aggregate query); driver, value and topic results come
from the latest succeeded run for the same outcome and filters.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import AnalysisRun
from analytics.selectors.drivers import driver_run_latest
from analytics.selectors.scores import scores_parameters_clean, scores_summary
from analytics.services.runs import run_request
from cxhub.errors import InvalidInput, NotFound
from feedback.authentication import SourceAPIKeyAuthentication, SourceClient
from feedback.filters import SCOPE_PARAMETERS, response_scope_clean, scope_parameter_help
from feedback.roles import user_is_cx_manager

AUTHENTICATION = [SourceAPIKeyAuthentication, TokenAuthentication, SessionAuthentication]

FILTER_PARAMETERS = [
    OpenApiParameter(name, str, description=description)
    for name, description in scope_parameter_help().items()
]


class InsightsAccess(permissions.BasePermission):
    """Reads: any signed-in person. Starting runs: CX managers. API keys: nothing."""

    message: str = "You may not do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if isinstance(user, SourceClient):
            self.message = "An API key may post data for its source but cannot use analytics."
            return False
        if not (user and user.is_authenticated):
            self.message = "Authentication credentials were not provided."
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if user_is_cx_manager(user):
            return True
        self.message = "Only CX managers may start analysis runs."
        return False


class InsightsView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [InsightsAccess]


def _query(request: Request) -> dict[str, Any]:
    """Query parameters as a dict; repeated parameters become a comma-separated list."""
    return {key: ",".join(request.query_params.getlist(key)) for key in request.query_params}


class AnalysisRunSerializer(serializers.ModelSerializer[AnalysisRun]):
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "kind",
            "status",
            "parameters",
            "counts",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "result",
        ]
        read_only_fields = fields


class AnalysisRunListSerializer(AnalysisRunSerializer):
    class Meta(AnalysisRunSerializer.Meta):
        fields = [f for f in AnalysisRunSerializer.Meta.fields if f != "result"]
        read_only_fields = fields


class AnalysisRunCreateSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=AnalysisRun.Kind.choices)
    parameters = serializers.DictField(required=False, default=dict)


class RunPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50


class ScoresView(InsightsView):
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
        parameters = scores_parameters_clean(_query(request))
        return Response(scores_summary(parameters))


def _latest_result(request: Request, kind: str, label: str) -> Response:
    query = _query(request)
    outcome = query.get("outcome") or "nps"
    if kind == AnalysisRun.Kind.DRIVERS and outcome not in ("nps", "csat", "ces"):
        raise InvalidInput(field_errors={"outcome": ["Must be one of: nps, csat, ces."]})
    filters = response_scope_clean({k: v for k, v in query.items() if k in SCOPE_PARAMETERS})
    run = driver_run_latest(outcome=outcome, filters=filters, kind=kind)
    if run is None:
        raise NotFound(
            f"No {label} has been run for these filters yet. A CX manager can start one with "
            f'POST /api/v1/analytics/runs/ {{"kind": "{kind}", "parameters": '
            f'{{"filters": {{...}}}}}}.'
        )
    return Response(
        {
            "run": {
                "id": run.pk,
                "finished_at": run.finished_at,
                "parameters": run.parameters,
                "counts": run.counts,
            },
            "result": run.result,
        }
    )


class DriversView(InsightsView):
    @extend_schema(
        summary="Latest driver analysis for an outcome and filters",
        parameters=[
            OpenApiParameter("outcome", str, enum=["nps", "csat", "ces"]),
            *FILTER_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="No run yet.")},
    )
    def get(self, request: Request) -> Response:
        return _latest_result(request, AnalysisRun.Kind.DRIVERS, "driver analysis")


class ValueView(InsightsView):
    @extend_schema(
        summary="Latest value-of-experience analysis for the filters",
        parameters=FILTER_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="No run yet.")},
    )
    def get(self, request: Request) -> Response:
        return _latest_result(request, AnalysisRun.Kind.VALUE, "value-of-experience analysis")


class TopicImpactView(InsightsView):
    @extend_schema(
        summary="Latest topic impact (NPS points each topic costs or earns)",
        parameters=FILTER_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="No run yet.")},
    )
    def get(self, request: Request) -> Response:
        return _latest_result(request, AnalysisRun.Kind.TOPIC_IMPACT, "topic impact analysis")


class RunListCreateView(generics.ListAPIView[AnalysisRun]):
    authentication_classes = AUTHENTICATION
    permission_classes = [InsightsAccess]
    serializer_class = AnalysisRunListSerializer
    pagination_class = RunPagination

    def get_queryset(self) -> QuerySet[AnalysisRun]:
        qs = AnalysisRun.objects.select_related("requested_by")
        kind = self.request.query_params.get("kind")
        if kind:
            if kind not in AnalysisRun.Kind.values:
                raise InvalidInput(
                    field_errors={
                        "kind": [f"Must be one of: {', '.join(AnalysisRun.Kind.values)}."]
                    }
                )
            qs = qs.filter(kind=kind)
        run_status = self.request.query_params.get("status")
        if run_status:
            if run_status not in AnalysisRun.Status.values:
                raise InvalidInput(
                    field_errors={
                        "status": [f"Must be one of: {', '.join(AnalysisRun.Status.values)}."]
                    }
                )
            qs = qs.filter(status=run_status)
        return qs

    @extend_schema(
        summary="Start an analysis run (CX managers)",
        request=AnalysisRunCreateSerializer,
        responses={202: AnalysisRunListSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = AnalysisRunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = run_request(
            kind=serializer.validated_data["kind"],
            parameters=serializer.validated_data.get("parameters") or {},
            requested_by=request.user,  # type: ignore[arg-type]
        )
        run.refresh_from_db()
        return Response(
            AnalysisRunListSerializer(run).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/analytics/runs/{run.pk}/"},
        )


class RunDetailView(generics.RetrieveAPIView[AnalysisRun]):
    authentication_classes = AUTHENTICATION
    permission_classes = [InsightsAccess]
    serializer_class = AnalysisRunSerializer
    queryset = AnalysisRun.objects.select_related("requested_by")


urlpatterns = [
    path("analytics/scores/", ScoresView.as_view(), name="analytics-scores"),
    path("analytics/drivers/", DriversView.as_view(), name="analytics-drivers"),
    path("analytics/value/", ValueView.as_view(), name="analytics-value"),
    path("analytics/topic-impact/", TopicImpactView.as_view(), name="analytics-topic-impact"),
    path("analytics/runs/", RunListCreateView.as_view(), name="analytics-runs"),
    path("analytics/runs/<int:pk>/", RunDetailView.as_view(), name="analytics-run-detail"),
]
