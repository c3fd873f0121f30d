"""REST API for dashboard comments (list and post, a CX manager's status change) and the
server-built evidence of an insight that an action is created from."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListCreateAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub import access
from cxhub.errors import InvalidInput, NotFound
from cxhub.users import request_user
from dashboards import evidence, services
from dashboards.models import COMMENT_MAX_LENGTH, DashboardComment
from feedback.models import Department


class DashboardCommentSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(
        slug_field="slug", queryset=Department.objects.all(), required=False, allow_null=True
    )
    author = serializers.CharField(source="author.username", read_only=True)
    body = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH, allow_blank=False, trim_whitespace=True
    )

    class Meta:
        model = DashboardComment
        fields = [
            "id",
            "department",
            "author",
            "kind",
            "body",
            "view_query",
            "status",
            "created_at",
        ]
        read_only_fields = ["id", "author", "status", "created_at"]


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")


class DashboardCommentListCreate(ListCreateAPIView):
    """Comments on the dashboards the caller can see (CX managers: all); post a new one."""

    serializer_class = DashboardCommentSerializer
    pagination_class = NewestFirst
    permission_classes = [access.Policy]
    access_writes = access.Writes.ROLE

    def get_queryset(self) -> QuerySet[DashboardComment]:
        queryset = access.visible(
            self.request.user,
            DashboardComment.objects.select_related("author", "department").order_by(
                "-created_at", "-id"
            ),
        )
        department = self.request.query_params.get("department")
        if department == "":
            queryset = queryset.filter(department__isnull=True)
        elif department:
            queryset = queryset.filter(department__slug=department)
        state = self.request.query_params.get("status")
        if state:
            if state not in DashboardComment.Status.values:
                raise InvalidInput(
                    field_errors={
                        "status": [f"Choose one of: {', '.join(DashboardComment.Status.values)}."]
                    }
                )
            queryset = queryset.filter(status=state)
        return queryset

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        comment = services.dashboard_comment_create(
            author=request_user(request),
            body=data["body"],
            kind=data.get("kind", DashboardComment.Kind.COMMENT),
            department=data.get("department"),
            view_query=data.get("view_query", ""),
        )
        return Response(self.get_serializer(comment).data, status=status.HTTP_201_CREATED)


class DashboardCommentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DashboardComment.Status.choices)


class DashboardCommentStatus(APIView):
    """``POST {"status": "actioned" | "closed" | "open"}`` (CX managers)."""

    serializer_class = DashboardCommentStatusSerializer
    permission_classes = [access.Policy]
    access_reads = access.Reads.NONE

    @extend_schema(request=DashboardCommentStatusSerializer, responses=DashboardCommentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        serializer = DashboardCommentStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not DashboardComment.objects.filter(pk=pk).exists():
            raise NotFound("No such comment.")
        comment = services.dashboard_comment_resolve(
            comment_id=pk,
            user=request_user(request),
            status=serializer.validated_data["status"],
        )
        return Response(DashboardCommentSerializer(comment).data)


class EvidenceRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(evidence.BUILDABLE_KINDS))
    reference = serializers.CharField(max_length=200)
    outcome = serializers.ChoiceField(
        choices=list(evidence.OUTCOME_LABELS), required=False, default="nps"
    )
    department = serializers.SlugField(required=False, allow_blank=True, default="")


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(source="insight_kind")
    run_id = serializers.IntegerField(allow_null=True)
    snapshot = serializers.JSONField()
    created_at = serializers.DateTimeField()


class EvidenceCreate(APIView):
    """``POST {"kind", "reference"}`` (CX managers): the server looks the insight up and
    keeps its evidence (figure with interval, run, supporting verbatims) for the caller;
    ``POST /api/v1/actions/`` with ``"evidence_id"`` creates the action from it."""

    permission_classes = [access.Policy]
    access_reads = access.Reads.NONE
    access_writes = access.Writes.CX_MANAGER

    @extend_schema(
        summary="Build the evidence of an insight on the server (CX managers)",
        request=EvidenceRequestSerializer,
        responses={201: EvidenceSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = EvidenceRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        draft = services.evidence_draft_build(
            created_by=request_user(request),
            kind=data["kind"],
            reference=data["reference"],
            outcome=data["outcome"],
            department=data["department"],
        )
        return Response(EvidenceSerializer(draft).data, status=status.HTTP_201_CREATED)
