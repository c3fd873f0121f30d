"""Action impact API: an action's measured effects (and re-estimation), and the roll-up.

Reading follows the action's visibility (``actions.permissions.actions_visible_to``); a
re-estimation may be asked by CX managers and by the action's owner.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from actions.permissions import actions_visible_to
from actions.selectors import action_get
from analytics.selectors.impact import action_impact_summary, actions_with_estimates, impact_rollup
from analytics.services.impact import MEASURABLE_STATUSES, impact_request
from cxhub.errors import Forbidden, InvalidInput
from feedback.models import Department
from feedback.roles import user_is_cx_manager

AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


class ActionImpactApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

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
        if not (user_is_cx_manager(request.user) or action.owner_id == request.user.pk):
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
    permission_classes = [IsAuthenticated]

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
        if slug is not None and not Department.objects.filter(slug=slug).exists():
            valid = ", ".join(Department.objects.order_by("slug").values_list("slug", flat=True))
            raise InvalidInput(
                field_errors={
                    "department": [f"Unknown department '{slug}'. Valid: {valid or 'none'}."]
                }
            )
        actions = actions_with_estimates(
            department_slug=slug, visible=actions_visible_to(request.user)
        )
        return Response(impact_rollup(actions=actions, department_slug=slug))


urlpatterns = [
    path("actions/<int:action_id>/impact/", ActionImpactApi.as_view(), name="api-action-impact"),
    path("analytics/impact/rollup/", ImpactRollupApi.as_view(), name="analytics-impact-rollup"),
]
