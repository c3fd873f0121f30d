"""Runs API: start analysis runs and follow them; what every feature's API shares.

Reads are for people with a role, each run shown only to those who may see the scope it was
computed for (``cxhub.access``); only CX managers start runs; source API keys get nothing.
``AnalysisView`` (that access rule), ``FILTER_PARAMETERS`` and ``latest_run_response`` (the
latest succeeded run for the same outcome and filters) serve the features' read endpoints.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.runs.models import AnalysisRun
from analytics.runs.selectors import run_latest_matching
from analytics.runs.services import run_request
from cxhub import access
from cxhub.errors import InvalidInput, NotFound
from feedback.authentication import SourceAPIKeyAuthentication
from feedback.filters import SCOPE_PARAMETERS, response_scope_clean, scope_parameter_help

AUTHENTICATION = [SourceAPIKeyAuthentication, TokenAuthentication, SessionAuthentication]

FILTER_PARAMETERS = [
    OpenApiParameter(name, str, description=description)
    for name, description in scope_parameter_help().items()
]


class AnalysisView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_writes = access.Writes.NONE


def query_params_dict(request: Request) -> dict[str, Any]:
    """Query parameters as a dict; repeated parameters become a comma-separated list."""
    return {key: ",".join(request.query_params.getlist(key)) for key in request.query_params}


class AnalysisRunSerializer(serializers.ModelSerializer[AnalysisRun]):
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
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


def latest_run_response(
    request: Request, kind: str, label: str, *, outcomes: tuple[str, ...] | None = None
) -> Response:
    """The latest succeeded run of ``kind`` for the query's outcome and filters, or a 404.

    ``outcomes``, when given, are the outcomes this kind accepts (others answer 400).
    """
    query = query_params_dict(request)
    outcome = query.get("outcome") or "nps"
    if outcomes is not None and outcome not in outcomes:
        raise InvalidInput(field_errors={"outcome": [f"Must be one of: {', '.join(outcomes)}."]})
    filters = response_scope_clean({k: v for k, v in query.items() if k in SCOPE_PARAMETERS})
    access.scope_restrict(request.user, filters, records=False)
    run = run_latest_matching(kind=kind, outcome=outcome, filters=filters)
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


class RunListCreateView(generics.ListAPIView[AnalysisRun]):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    serializer_class = AnalysisRunListSerializer
    pagination_class = RunPagination

    def get_queryset(self) -> QuerySet[AnalysisRun]:
        qs = access.visible(self.request.user, AnalysisRun.objects.select_related("requested_by"))
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
    permission_classes = [access.Policy]
    serializer_class = AnalysisRunSerializer
    access_writes = access.Writes.NONE

    def get_queryset(self) -> QuerySet[AnalysisRun]:
        return access.visible(self.request.user, AnalysisRun.objects.select_related("requested_by"))


urlpatterns = [
    path("analytics/runs/", RunListCreateView.as_view(), name="analytics-runs"),
    path("analytics/runs/<int:pk>/", RunDetailView.as_view(), name="analytics-run-detail"),
]
