"""Text analytics API: the topic taxonomy, a response's tags and corrections, theme proposals
and the latest topic impact.

Everyone signed in reads; only CX managers change the taxonomy, correct tags or decide on
proposed themes. Refusals are 403 with a message; unknown ids and slugs are 404.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.runs.api import FILTER_PARAMETERS, AnalysisView, latest_run_response
from analytics.runs.models import AnalysisRun
from analytics.runs.services import run_request
from analytics.text import selectors as text_selectors
from analytics.text import services as text_services
from analytics.text.models import ThemeProposal, Topic
from cxhub import access
from cxhub.errors import InvalidInput, NotFound
from feedback.filters import (
    renamed_parameters_refuse,
    response_scope_clean,
    scope_parameter_help,
)
from feedback.models import Response as FeedbackResponse


def _errors_from(serializer: serializers.Serializer[Any]) -> InvalidInput:
    return InvalidInput(
        field_errors={
            field: [str(m) for m in messages] for field, messages in serializer.errors.items()
        }
    )


def _topic_or_400(slug: Any, field: str) -> Topic | None:
    if slug in (None, ""):
        return None
    topic = Topic.objects.filter(slug=str(slug)).first()
    if topic is None:
        raise InvalidInput(field_errors={field: [f"Unknown topic '{slug}'."]})
    return topic


def _keywords_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=False, trim_whitespace=True),
        max_length=text_services.MAX_KEYWORDS,
        **kwargs,
    )


class TopicInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=80, required=False, allow_blank=True)
    keywords = _keywords_field()
    # A field called "parent" shadows Field.parent in the type stubs only; DRF moves declared
    # fields off the class, so the name is safe at run time.
    parent = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_null=True, allow_blank=True, max_length=80
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )


class TopicUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120, required=False)
    keywords = _keywords_field(required=False)
    # A field called "parent" shadows Field.parent in the type stubs only; DRF moves declared
    # fields off the class, so the name is safe at run time.
    parent = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_null=True, allow_blank=True, max_length=80
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    is_active = serializers.BooleanField(required=False)


class TopicOutSerializer(serializers.Serializer[Any]):
    """The shape of a topic in answers (documentation of the schema)."""

    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    parent = serializers.CharField(allow_null=True)  # type: ignore[assignment]
    description = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    origin = serializers.ChoiceField(choices=Topic.Origin.choices)
    is_active = serializers.BooleanField()


class ThemeOutSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # Field.label in the stubs only
    top_terms = serializers.ListField(child=serializers.CharField())
    size = serializers.IntegerField()
    share = serializers.FloatField()
    status = serializers.ChoiceField(choices=ThemeProposal.Status.choices)
    run = serializers.IntegerField(allow_null=True)
    accepted_topic = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    examples = serializers.ListField(child=serializers.DictField())


RESPONSE_TAGS = inline_serializer(
    "ResponseTags",
    {
        "response_id": serializers.IntegerField(),
        "comment": serializers.CharField(),
        "analysis": serializers.DictField(allow_null=True),
        "topics": serializers.ListField(child=serializers.DictField()),
        "corrections": serializers.ListField(child=serializers.DictField()),
    },
)


TOPIC_FILTERS = [
    *[
        OpenApiParameter(name, str, description=description)
        for name, description in scope_parameter_help().items()
    ],
    OpenApiParameter("include_inactive", bool, description="Also list deactivated topics."),
]


class TopicFilterSerializer(serializers.Serializer[Any]):
    include_inactive = serializers.BooleanField(required=False, default=False)


class TopicListApi(APIView):
    """The taxonomy with mention counts and mean sentiment; CX managers add topics."""

    permission_classes = [access.Policy]

    @extend_schema(
        parameters=TOPIC_FILTERS, responses={200: OpenApiResponse(description="Topics with stats")}
    )
    def get(self, request: Request) -> Response:
        params = TopicFilterSerializer(data=request.query_params)
        errors: dict[str, list[str]] = {}
        scope: dict[str, Any] = {}
        try:
            renamed_parameters_refuse(request.query_params)
        except InvalidInput as exc:
            errors.update(exc.field_errors)
        try:
            scope = response_scope_clean(request.query_params)
        except InvalidInput as exc:
            errors.update(exc.field_errors)
        if not params.is_valid():
            errors.update({k: [str(m) for m in v] for k, v in params.errors.items()})
        if errors:
            raise InvalidInput(field_errors=errors)
        scope = access.scope_restrict(request.user, scope, records=False)
        data = params.validated_data
        filters = text_selectors.TopicFilters(scope=scope)
        topics = text_selectors.topics_with_stats(
            filters=filters, include_inactive=data.get("include_inactive", False)
        )
        return Response({"count": len(topics), "results": topics})

    @extend_schema(request=TopicInputSerializer, responses={201: TopicOutSerializer})
    def post(self, request: Request) -> Response:
        serializer = TopicInputSerializer(data=request.data)
        if not serializer.is_valid():
            raise _errors_from(serializer)
        data = serializer.validated_data
        topic = text_services.topic_create(
            name=data["name"],
            slug=data.get("slug") or None,
            keywords=data["keywords"],
            parent=_topic_or_400(data.get("parent"), "parent"),
            description=data.get("description", ""),
            created_by=request.user,  # type: ignore[arg-type]
        )
        return Response(text_selectors.topic_row(topic), status=status.HTTP_201_CREATED)


class TopicDetailApi(APIView):
    """One topic; CX managers edit it or deactivate it (DELETE keeps it for history)."""

    permission_classes = [access.Policy]

    @extend_schema(operation_id="analytics_topic_retrieve", responses=TopicOutSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(text_selectors.topic_row(text_selectors.topic_get(slug=slug)))

    @extend_schema(request=TopicUpdateSerializer, responses=TopicOutSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        topic = text_selectors.topic_get(slug=slug)
        serializer = TopicUpdateSerializer(data=request.data, partial=True)
        if not serializer.is_valid():
            raise _errors_from(serializer)
        data = dict(serializer.validated_data)
        if not data:
            raise InvalidInput(
                "Nothing to change: send name, keywords, parent, description or is_active."
            )
        if "parent" in data:
            data["parent"] = _topic_or_400(data["parent"], "parent")
        topic = text_services.topic_update(topic=topic, **data)
        return Response(text_selectors.topic_row(topic))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str) -> Response:
        text_services.topic_deactivate(topic=text_selectors.topic_get(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagCorrectionSerializer(serializers.Serializer[Any]):
    topic = serializers.SlugField(max_length=80)
    action = serializers.ChoiceField(choices=["add", "remove"])
    sentiment = serializers.FloatField(required=False, allow_null=True, min_value=-1, max_value=1)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ResponseTagsApi(APIView):
    """A response's language, sentiment and topics; CX managers correct them."""

    permission_classes = [access.Policy]

    def _response(self, pk: int) -> FeedbackResponse:
        response = access.visible(self.request.user, FeedbackResponse.objects.filter(pk=pk)).first()
        if response is None:
            raise NotFound(f"Response {pk} does not exist.")
        return response

    @extend_schema(responses=RESPONSE_TAGS)
    def get(self, request: Request, pk: int) -> Response:
        return Response(text_selectors.response_tags(response=self._response(pk)))

    @extend_schema(request=TagCorrectionSerializer, responses={201: RESPONSE_TAGS})
    def post(self, request: Request, pk: int) -> Response:
        response = self._response(pk)
        serializer = TagCorrectionSerializer(data=request.data)
        if not serializer.is_valid():
            raise _errors_from(serializer)
        data = serializer.validated_data
        topic = _topic_or_400(data["topic"], "topic")
        assert topic is not None
        text_services.tag_correct(
            response=response,
            topic=topic,
            action=data["action"],
            sentiment=data.get("sentiment"),
            note=data.get("note", ""),
            corrected_by=request.user,  # type: ignore[arg-type]
        )
        return Response(
            text_selectors.response_tags(response=response), status=status.HTTP_201_CREATED
        )


def _theme_row(theme: ThemeProposal, examples: dict[int, str]) -> dict[str, Any]:
    return {
        "id": theme.pk,
        "label": theme.label,
        "top_terms": theme.top_terms,
        "size": theme.size,
        "share": theme.share,
        "status": theme.status,
        "run": theme.run_id,
        "accepted_topic": theme.accepted_topic.slug if theme.accepted_topic else None,
        "decided_at": theme.decided_at,
        "created_at": theme.created_at,
        "examples": [
            {"response_id": pk, "comment": examples[pk]}
            for pk in theme.example_response_ids
            if pk in examples
        ],
    }


class ThemeListApi(APIView):
    """Themes proposed from comments no topic matched (default: the undecided ones)."""

    permission_classes = [access.Policy]
    access_reads = access.Reads.CX_MANAGER
    access_writes = access.Writes.NONE

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, description="proposed (default), accepted, dismissed or all"
            )
        ],
        responses=inline_serializer(
            "ThemeList",
            {"count": serializers.IntegerField(), "results": ThemeOutSerializer(many=True)},
        ),
    )
    def get(self, request: Request) -> Response:
        status_filter = request.query_params.get("status", ThemeProposal.Status.PROPOSED)
        themes = list(
            text_selectors.themes_list(status=None if status_filter == "all" else status_filter)[
                :100
            ]
        )
        examples = text_selectors.theme_examples(proposals=themes)
        return Response(
            {"count": len(themes), "results": [_theme_row(t, examples) for t in themes]}
        )


class ThemeDiscoverApi(APIView):
    """Start theme discovery on untagged comments; poll the returned analysis run."""

    permission_classes = [access.Policy]
    access_reads = access.Reads.NONE

    @extend_schema(
        request=inline_serializer(
            "ThemeDiscoveryRequest",
            {
                "limit": serializers.IntegerField(required=False),
                "n_themes": serializers.IntegerField(required=False),
            },
        ),
        responses={
            202: inline_serializer(
                "ThemeDiscoveryStarted",
                {"run_id": serializers.IntegerField(), "status": serializers.CharField()},
            )
        },
    )
    def post(self, request: Request) -> Response:
        parameters = request.data if isinstance(request.data, dict) else None
        if parameters is None:
            raise InvalidInput("Send a JSON object (it may be empty).")
        run = run_request(
            kind=AnalysisRun.Kind.THEME_DISCOVERY,
            parameters=parameters,
            requested_by=request.user,  # type: ignore[arg-type]
        )
        return Response({"run_id": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)


class ThemeAcceptSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120, required=False)
    slug = serializers.SlugField(max_length=80, required=False)
    keywords = _keywords_field(required=False)
    # A field called "parent" shadows Field.parent in the type stubs only; DRF moves declared
    # fields off the class, so the name is safe at run time.
    parent = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_null=True, allow_blank=True, max_length=80
    )


def _theme(pk: int) -> ThemeProposal:
    theme = ThemeProposal.objects.filter(pk=pk).first()
    if theme is None:
        raise NotFound(f"Theme {pk} does not exist.")
    return theme


class ThemeAcceptApi(APIView):
    """Accept a theme into the taxonomy in one step (its terms become keywords)."""

    permission_classes = [access.Policy]
    access_reads = access.Reads.NONE

    @extend_schema(request=ThemeAcceptSerializer, responses={201: TopicOutSerializer})
    def post(self, request: Request, pk: int) -> Response:
        theme = _theme(pk)
        serializer = ThemeAcceptSerializer(data=request.data)
        if not serializer.is_valid():
            raise _errors_from(serializer)
        data = serializer.validated_data
        topic = text_services.theme_accept(
            proposal=theme,
            accepted_by=request.user,  # type: ignore[arg-type]
            name=data.get("name"),
            slug=data.get("slug"),
            keywords=data.get("keywords"),
            parent=_topic_or_400(data.get("parent"), "parent"),
        )
        return Response(text_selectors.topic_row(topic), status=status.HTTP_201_CREATED)


class ThemeDismissApi(APIView):
    permission_classes = [access.Policy]
    access_reads = access.Reads.NONE

    @extend_schema(request=None, responses=ThemeOutSerializer)
    def post(self, request: Request, pk: int) -> Response:
        theme = text_services.theme_dismiss(
            proposal=_theme(pk),
            dismissed_by=request.user,  # type: ignore[arg-type]
        )
        return Response(_theme_row(theme, {}))


class TopicImpactView(AnalysisView):
    @extend_schema(
        summary="Latest topic impact (NPS points each topic costs or earns)",
        parameters=FILTER_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="No run yet.")},
    )
    def get(self, request: Request) -> Response:
        return latest_run_response(request, AnalysisRun.Kind.TOPIC_IMPACT, "topic impact analysis")


urlpatterns = [
    path("analytics/topics/", TopicListApi.as_view(), name="analytics-topics"),
    path("analytics/topics/<slug:slug>/", TopicDetailApi.as_view(), name="analytics-topic-detail"),
    path(
        "analytics/responses/<int:pk>/tags/",
        ResponseTagsApi.as_view(),
        name="analytics-response-tags",
    ),
    path("analytics/themes/", ThemeListApi.as_view(), name="analytics-themes"),
    path(
        "analytics/themes/discover/", ThemeDiscoverApi.as_view(), name="analytics-themes-discover"
    ),
    path(
        "analytics/themes/<int:pk>/accept/", ThemeAcceptApi.as_view(), name="analytics-theme-accept"
    ),
    path(
        "analytics/themes/<int:pk>/dismiss/",
        ThemeDismissApi.as_view(),
        name="analytics-theme-dismiss",
    ),
    path("analytics/topic-impact/", TopicImpactView.as_view(), name="analytics-topic-impact"),
]
