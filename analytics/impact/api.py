"""Impact API: an action's measured effects (and re-estimation), the roll-up, and KPIs.

Reading impact follows the action's visibility (``actions.permissions.actions_visible_to``);
a re-estimation may be asked by CX managers and by the action's owner. KPIs: reads are for
signed-in people; observations may be posted by CX managers and by source systems with an
API key; only CX managers declare new KPIs.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from actions.permissions import actions_visible_to
from actions.selectors import action_get
from analytics.impact import services as kpi_services
from analytics.impact.models import Kpi, KpiObservation
from analytics.impact.selectors import (
    action_impact_summary,
    actions_with_estimates,
    impact_rollup,
    kpi_list,
    kpi_observations,
)
from analytics.impact.services import MEASURABLE_STATUSES, impact_request
from cxhub import access
from cxhub.errors import Forbidden, InvalidInput, NotFound
from feedback.authentication import SourceAPIKeyAuthentication, request_source
from feedback.models import Department

AUTHENTICATION = [SourceAPIKeyAuthentication, TokenAuthentication, SessionAuthentication]


class ActionImpactApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_writes = access.Writes.MANAGERS

    @extend_schema(
        summary="An action's measured impact",
        description=(
            "Current estimates per metric (NPS, CSAT, CES and each target KPI): the causal "
            "one (difference-in-differences with a control scope, interrupted time series "
            "without) next to the plain before/after comparison, each with effect, 95% "
            "interval, p-value, windows, sample sizes, money value and ROI where available; "
            "then every earlier estimate (history)."
        ),
        responses={
            200: OpenApiResponse(description="Impact summary."),
            404: OpenApiResponse(description="No such action."),
        },
    )
    def get(self, request: Request, action_id: int) -> Response:
        action = action_get(user=request.user, action_id=action_id)
        return Response(action_impact_summary(action=action))

    @extend_schema(
        summary="Re-estimate an action's impact",
        request=None,
        responses={202: OpenApiResponse(description="Queued: {run_id, status, url}.")},
    )
    def post(self, request: Request, action_id: int) -> Response:
        action = action_get(user=request.user, action_id=action_id)
        if not (
            access.access_for(request.user).is_cx_manager or action.owner_id == request.user.pk
        ):
            raise Forbidden("Only CX managers and the action's owner may re-estimate its impact.")
        if action.status not in MEASURABLE_STATUSES:
            message = f"The action is '{action.status}'; impact is measured once it is implemented."
            raise InvalidInput(message, field_errors={"status": [message]})
        run = impact_request(action=action, requested_by=request.user)
        return Response(
            {"run_id": run.pk, "status": run.status, "url": f"/api/v1/analytics/runs/{run.pk}/"},
            status=status.HTTP_202_ACCEPTED,
        )


class ImpactRollupApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_writes = access.Writes.NONE

    @extend_schema(
        summary="Measured value of actions, per department or organisation",
        parameters=[
            OpenApiParameter(
                "department", str, description="Department slug; omit for the whole organisation."
            )
        ],
        responses={200: OpenApiResponse(description="Roll-up.")},
    )
    def get(self, request: Request) -> Response:
        slug = request.query_params.get("department") or None
        department = Department.objects.filter(slug=slug).first() if slug else None
        if slug is not None and department is None:
            valid = ", ".join(Department.objects.order_by("slug").values_list("slug", flat=True))
            raise InvalidInput(
                field_errors={
                    "department": [f"Unknown department '{slug}'. Valid: {valid or 'none'}."]
                }
            )
        access.require_department(request.user, department.pk if department else None)
        actions = actions_with_estimates(
            department_slug=slug, visible=actions_visible_to(request.user)
        )
        return Response(impact_rollup(actions=actions, department_slug=slug))


urlpatterns = [
    path("actions/<int:action_id>/impact/", ActionImpactApi.as_view(), name="api-action-impact"),
    path("analytics/impact/rollup/", ImpactRollupApi.as_view(), name="analytics-impact-rollup"),
]


KPI_AUTHENTICATION = [SourceAPIKeyAuthentication, TokenAuthentication, SessionAuthentication]


class KpiSerializer(serializers.ModelSerializer[Kpi]):
    class Meta:
        model = Kpi
        fields = [
            "slug",
            "name",
            "unit",
            "higher_is_better",
            "aggregation",
            "currency",
            "description",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class KpiInputSerializer(serializers.Serializer[Any]):
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=120)
    unit = serializers.ChoiceField(choices=Kpi.Unit.choices)
    higher_is_better = serializers.BooleanField(default=True)
    aggregation = serializers.ChoiceField(choices=Kpi.Aggregation.choices, default="mean")
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class KpiObservationSerializer(serializers.ModelSerializer[KpiObservation]):
    kpi: serializers.SlugRelatedField[Kpi] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    touchpoint: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    value = serializers.DecimalField(max_digits=20, decimal_places=6, coerce_to_string=False)

    class Meta:
        model = KpiObservation
        fields = [
            "id",
            "kpi",
            "granularity",
            "period_start",
            "department",
            "touchpoint",
            "segment",
            "region",
            "scope_key",
            "value",
            "created_at",
        ]


OBSERVATION_INPUT = inline_serializer(
    name="KpiObservationInput",
    fields={
        "period_start": serializers.DateField(help_text="A Monday for weeks, the 1st for months."),
        "granularity": serializers.ChoiceField(
            choices=KpiObservation.Granularity.choices, default="week"
        ),
        "value": serializers.DecimalField(max_digits=20, decimal_places=6),
        "department": serializers.SlugField(required=False),
        "touchpoint": serializers.SlugField(required=False),
        "segment": serializers.CharField(required=False),
        "region": serializers.CharField(required=False),
    },
)
BULK_RESULT = inline_serializer(
    name="KpiObservationBulkResult",
    fields={
        "created": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "rejected": serializers.IntegerField(),
        "conflicts": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
        "warnings": serializers.ListField(child=serializers.CharField()),
    },
)


class ObservationPagination(CursorPagination):
    ordering = ("period_start", "id")
    page_size = 200
    max_page_size = 2000
    page_size_query_param = "page_size"


def _kpi_or_error(slug: str, *, reading: bool) -> Kpi:
    try:
        return kpi_services.kpi_for_slug(slug=slug)
    except InvalidInput as exc:
        if reading:
            raise NotFound(field_errors=exc.field_errors) from None
        raise


class KpiListCreateApi(APIView):
    authentication_classes = KPI_AUTHENTICATION
    permission_classes = [access.Policy]

    @extend_schema(responses={200: KpiSerializer(many=True)}, summary="List the KPIs")
    def get(self, request: Request) -> Response:
        return Response(KpiSerializer(kpi_list(), many=True).data)

    @extend_schema(
        request=KpiInputSerializer, responses={201: KpiSerializer}, summary="Declare a KPI"
    )
    def post(self, request: Request) -> Response:
        serializer = KpiInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kpi = kpi_services.kpi_create(**serializer.validated_data)
        return Response(KpiSerializer(kpi).data, status=status.HTTP_201_CREATED)


class KpiObservationListCreateApi(generics.GenericAPIView[KpiObservation]):
    authentication_classes = KPI_AUTHENTICATION
    permission_classes = [access.Policy]
    access_writes = access.Writes.SOURCE_OR_CX_MANAGER
    serializer_class = KpiObservationSerializer
    pagination_class = ObservationPagination

    def get_queryset(self) -> QuerySet[KpiObservation]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, with no slug
            return KpiObservation.objects.none()
        kpi = _kpi_or_error(self.kwargs["slug"], reading=True)
        params = self.request.query_params
        return access.visible(
            self.request.user,
            kpi_observations(
                kpi=kpi,
                granularity=params.get("granularity") or None,
                scope_key=params.get("scope"),
                date_from=params.get("from") or None,
                date_to=params.get("to") or None,
            ),
        )

    @extend_schema(
        summary="List a KPI's observations",
        parameters=[
            OpenApiParameter("granularity", str, enum=KpiObservation.Granularity.values),
            OpenApiParameter(
                "scope",
                str,
                description="Scope key, e.g. 'region=north'; '' for the whole organisation.",
            ),
            OpenApiParameter("from", str, description="First period start (YYYY-MM-DD)."),
            OpenApiParameter("to", str, description="Last period start (YYYY-MM-DD)."),
        ],
        responses={200: KpiObservationSerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=OBSERVATION_INPUT,
        responses={
            201: KpiObservationSerializer,
            200: OpenApiResponse(
                KpiObservationSerializer, description="Already stored with the same value."
            ),
            409: OpenApiResponse(description="The period and scope already hold another value."),
        },
        summary="Post one observation",
    )
    def post(self, request: Request, slug: str) -> Response:
        kpi = _kpi_or_error(slug, reading=False)
        row, created = kpi_services.observation_record(
            kpi=kpi, item=request.data, source=request_source(request)
        )
        return Response(
            KpiObservationSerializer(row).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class KpiObservationBulkApi(APIView):
    authentication_classes = KPI_AUTHENTICATION
    permission_classes = [access.Policy]
    access_reads = access.Reads.NONE
    access_writes = access.Writes.SOURCE_OR_CX_MANAGER

    @extend_schema(
        request=OBSERVATION_INPUT.__class__(many=True),
        responses={200: BULK_RESULT},
        summary="Post many observations",
        description=(
            "A JSON array. Valid items are stored; the same KPI, period and scope with the "
            "same value counts as a duplicate; another value is a conflict reported for that "
            "item. Gaps in the touched series come back as warnings."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        kpi = _kpi_or_error(slug, reading=False)
        items = request.data
        limit = int(settings.CXHUB.get("BULK_MAX_ITEMS", 10_000))
        if not isinstance(items, list):
            raise InvalidInput("Expected a JSON array of observation objects.")
        if not items:
            raise InvalidInput("The bulk request holds no items.")
        if len(items) > limit:
            raise InvalidInput(f"At most {limit:,} items per bulk request; split the batch.")
        outcome = kpi_services.observations_bulk_record(
            items=items, kpi=kpi, source=request_source(request)
        )
        return Response(outcome.as_dict(), status=status.HTTP_200_OK)


urlpatterns += [
    path("kpis/", KpiListCreateApi.as_view(), name="kpi-list"),
    path(
        "kpis/<slug:slug>/observations/",
        KpiObservationListCreateApi.as_view(),
        name="kpi-observation-list",
    ),
    path(
        "kpis/<slug:slug>/observations/bulk/",
        KpiObservationBulkApi.as_view(),
        name="kpi-observation-bulk",
    ),
]
