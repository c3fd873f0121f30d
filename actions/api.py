"""REST endpoints of actions and alerts: parse, find what the user may see, call a service.

Objects a user may not read answer 404; actions they may read but not change answer 403.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from actions import selectors, services
from actions.filters import ActionFilter
from actions.models import ActionUpdate, Alert, AlertStatus, Notification
from actions.permissions import can_transition, transition_refusal
from actions.serializers import (
    ActionCreateSerializer,
    ActionDetailSerializer,
    ActionEditSerializer,
    ActionSerializer,
    ActionUpdateCreateSerializer,
    ActionUpdateSerializer,
    AlertAssignSerializer,
    AlertBulkResultSerializer,
    AlertBulkSerializer,
    AlertContactInputSerializer,
    AlertContactSerializer,
    AlertCountsSerializer,
    AlertHandleSerializer,
    AlertListQuerySerializer,
    AlertSerializer,
    CancelSerializer,
    DeclineSerializer,
    HistoryEntrySerializer,
    ImplementSerializer,
    NotificationPreferenceSerializer,
    NotificationSerializer,
    ReassignSerializer,
    contact_record,
)
from cxhub import access
from cxhub.errors import Forbidden, InvalidInput, NotFound
from cxhub.users import request_user

ERROR_RESPONSES = {
    400: OpenApiResponse(description='Invalid input: {"errors": {field: [messages]}}'),
    403: OpenApiResponse(description="Not allowed to do this to this object."),
    404: OpenApiResponse(description="No such object, or not one you may see."),
}


class NewestFirstPagination(CursorPagination):
    ordering = ("-created_at", "-id")


def _context(request: Request) -> dict[str, Any]:
    return {"request": request, "today": timezone.localdate()}


class ActionListCreateApi(GenericAPIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.CX_MANAGER
    pagination_class = NewestFirstPagination
    filterset_class = ActionFilter
    serializer_class = ActionSerializer

    def get_queryset(self) -> Any:
        return selectors.action_list(user=self.request.user)

    @extend_schema(
        summary="List the actions you may see", responses={200: ActionSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        serializer = ActionSerializer(page, many=True, context=_context(request))
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="Create an action from an insight (CX managers)",
        request=ActionCreateSerializer,
        responses={201: ActionDetailSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        serializer = ActionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        evidence = data.pop("evidence", None) or {}
        evidence_id = data.pop("evidence_id", None)
        draft = None
        if evidence_id is not None:
            try:
                draft = selectors.evidence_draft_get(user=request.user, draft_id=evidence_id)
            except NotFound:
                raise InvalidInput(
                    "Unknown evidence.",
                    field_errors={"evidence_id": ["No such evidence, or it is not yours."]},
                ) from None
            data["insight_kind"] = draft.insight_kind
        alert = data.pop("alert", None)
        if alert is not None:
            alert = selectors.alert_get(user=request.user, alert_id=alert.pk)
            if alert.status != AlertStatus.OPEN:
                raise InvalidInput(
                    "Alert closed.", field_errors={"alert": ["This alert is already closed."]}
                )
        action = services.action_create(
            created_by=request_user(request),
            evidence_reference=evidence.get("reference", ""),
            evidence_label=evidence.get("label", ""),
            evidence_figures=evidence.get("figures") or {},
            alert=alert,
            evidence_draft=draft,
            **data,
        )
        action = selectors.action_get(user=request.user, action_id=action.pk)
        return Response(
            ActionDetailSerializer(action, context=_context(request)).data,
            status=status.HTTP_201_CREATED,
        )


class ActionDetailApi(APIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.MANAGERS

    @extend_schema(summary="One action", responses={200: ActionDetailSerializer, **ERROR_RESPONSES})
    def get(self, request: Request, action_id: int) -> Response:
        action = selectors.action_get(user=request.user, action_id=action_id)
        return Response(ActionDetailSerializer(action, context=_context(request)).data)

    @extend_schema(
        summary="Change editable fields (owners: description and progress only)",
        request=ActionEditSerializer,
        responses={200: ActionDetailSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request: Request, action_id: int) -> Response:
        action = selectors.action_get(user=request.user, action_id=action_id)
        if not isinstance(request.data, dict):
            raise InvalidInput("Send a JSON object of the fields to change.")
        unknown = set(request.data) - set(ActionEditSerializer().fields)
        if unknown:
            raise InvalidInput(
                "Not editable.",
                field_errors={
                    name: ["This field cannot be changed here."] for name in sorted(unknown)
                },
            )
        serializer = ActionEditSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.action_edit(
            action=action, by=request_user(request), changes=serializer.validated_data
        )
        action = selectors.action_get(user=request.user, action_id=action_id)
        return Response(ActionDetailSerializer(action, context=_context(request)).data)


class ActionTransitionApi(APIView):
    """``POST actions/{id}/<transition>/``; the body depends on the transition."""

    permission_classes = [access.Policy]
    access_writes = access.Writes.MANAGERS
    transition: str = ""
    input_serializer: type[serializers.Serializer] | None = None

    def post(self, request: Request, action_id: int) -> Response:
        action = selectors.action_get(user=request.user, action_id=action_id)
        # Who may take this step is asked before the body is read: a refusal never depends
        # on what was sent (and never names other users).
        if not can_transition(request.user, action, self.transition):
            raise Forbidden(transition_refusal(action, self.transition))
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
        service = getattr(services, f"action_{self.transition}")
        service(action=action, by=request_user(request), **data)
        action = selectors.action_get(user=request.user, action_id=action_id)
        return Response(ActionDetailSerializer(action, context=_context(request)).data)


def _transition_view(name: str, serializer: type[serializers.Serializer] | None, doc: str) -> Any:
    # Each transition needs its own ``post`` function: the schema annotations live on it.
    def post(self: ActionTransitionApi, request: Request, action_id: int) -> Response:
        return ActionTransitionApi.post(self, request, action_id)

    documented = extend_schema(
        summary=doc,
        request=serializer,
        responses={200: ActionDetailSerializer, **ERROR_RESPONSES},
        operation_id=f"actions_{name}",
    )(post)
    view: Any = type(
        f"Action{name.title()}Api",
        (ActionTransitionApi,),
        {"transition": name, "input_serializer": serializer, "post": documented},
    )
    return view.as_view()


transition_views = {
    "accept": _transition_view("accept", None, "Accept an action you own (proposed → accepted)"),
    "decline": _transition_view(
        "decline", DeclineSerializer, "Decline an action you own, with a reason"
    ),
    "start": _transition_view("start", None, "Start work (accepted → in progress)"),
    "implement": _transition_view(
        "implement", ImplementSerializer, "Mark implemented on a date (in progress → implemented)"
    ),
    "cancel": _transition_view("cancel", CancelSerializer, "Cancel an open action (CX managers)"),
    "reassign": _transition_view(
        "reassign", ReassignSerializer, "Give the action to another owner (back to proposed)"
    ),
}


class ActionUpdatesApi(GenericAPIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.MANAGERS
    queryset = ActionUpdate.objects.none()
    pagination_class = NewestFirstPagination
    serializer_class = ActionUpdateSerializer

    @extend_schema(
        summary="The action's progress timeline", responses={200: ActionUpdateSerializer(many=True)}
    )
    def get(self, request: Request, action_id: int) -> Response:
        action = selectors.action_get(user=request.user, action_id=action_id)
        page = self.paginate_queryset(action.updates.select_related("author"))
        return self.get_paginated_response(ActionUpdateSerializer(page, many=True).data)

    @extend_schema(
        summary="Post progress (owner or CX manager)",
        request=ActionUpdateCreateSerializer,
        responses={201: ActionUpdateSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request, action_id: int) -> Response:
        action = selectors.action_get(user=request.user, action_id=action_id)
        serializer = ActionUpdateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update = services.action_update_post(
            action=action, by=request_user(request), **serializer.validated_data
        )
        return Response(ActionUpdateSerializer(update).data, status=status.HTTP_201_CREATED)


class ActionHistoryApi(APIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.NONE

    @extend_schema(
        summary="Who changed what and when, newest first",
        responses={200: HistoryEntrySerializer(many=True)},
    )
    def get(self, request: Request, action_id: int) -> Response:
        action = selectors.action_get(user=request.user, action_id=action_id)
        entries = selectors.action_history(action=action)
        return Response(HistoryEntrySerializer(entries, many=True).data)


class AlertPagination(PageNumberPagination):
    """The queue is ordered by severity, so pages are numbered (a cursor over a few severity
    values would degrade into offsets); ``count`` states the total under the filters."""

    page_size = 50


def _alert_filters(request: Request) -> tuple[selectors.AlertFilters, str]:
    query = AlertListQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    department, touchpoint = data.get("department"), data.get("touchpoint")
    status_value = data["status"]
    filters = selectors.AlertFilters(
        status=None if status_value == "all" else status_value,
        department=department.slug if department else None,
        touchpoint=touchpoint.slug if touchpoint else None,
        assignee=data.get("assignee"),
        overdue=data["overdue"],
    )
    return filters, status_value


def _alert_scope(filters: selectors.AlertFilters) -> dict[str, list[str]]:
    """The departments the filters name, for the policy's refusal of someone else's."""
    return {
        "department": [filters.department] if filters.department else [],
        "touchpoint": [filters.touchpoint] if filters.touchpoint else [],
    }


class AlertListApi(GenericAPIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.NONE
    access_reads = access.Reads.MANAGERS
    queryset = Alert.objects.none()
    pagination_class = AlertPagination
    serializer_class = AlertSerializer

    @extend_schema(
        summary="The alert queue you may see, worst first, with its counts",
        parameters=[AlertListQuerySerializer],
        responses={
            200: inline_serializer(
                "AlertQueuePage",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "counts": AlertCountsSerializer(),
                    "results": AlertSerializer(many=True),
                },
            ),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request: Request) -> Response:
        filters, _ = _alert_filters(request)
        now = timezone.now()
        access.scope_restrict(request.user, _alert_scope(filters), records=False)
        counts = selectors.alert_counts(user=request.user, filters=filters, now=now)
        page = self.paginate_queryset(
            selectors.alert_list(user=request.user, filters=filters, now=now)
        )
        data = AlertSerializer(page, many=True, context={"now": now}).data
        response = self.get_paginated_response(data)
        response.data["counts"] = counts.as_dict()
        return response


class AlertHandleApi(APIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.MANAGERS
    access_reads = access.Reads.NONE

    @extend_schema(
        summary="Close an alert: the contact with the customer (now or before), a note",
        request=AlertHandleSerializer,
        responses={200: AlertSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request, alert_id: int) -> Response:
        alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        serializer = AlertHandleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.alert_handle(
            alert=alert,
            by=request_user(request),
            note=serializer.validated_data["note"],
            contact=contact_record(serializer.validated_data.get("contact")),
        )
        return Response(
            AlertSerializer(selectors.alert_get(user=request.user, alert_id=alert_id)).data
        )


class AlertAssignApi(APIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.MANAGERS
    access_reads = access.Reads.NONE

    @extend_schema(
        summary="Assign, reassign or take an open alert",
        request=AlertAssignSerializer,
        responses={200: AlertSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request, alert_id: int) -> Response:
        alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        serializer = AlertAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.alert_assign(
            alert=alert, assignee=serializer.validated_data["assignee"], by=request_user(request)
        )
        return Response(
            AlertSerializer(selectors.alert_get(user=request.user, alert_id=alert_id)).data
        )


class AlertContactsApi(APIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.MANAGERS
    access_reads = access.Reads.MANAGERS

    @extend_schema(
        summary="The contacts with the customer of an alert, newest first",
        responses={200: AlertContactSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request: Request, alert_id: int) -> Response:
        alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        return Response(
            AlertContactSerializer(selectors.alert_contacts(alert=alert), many=True).data
        )

    @extend_schema(
        summary="Record a contact with the customer (the alert stays open)",
        request=AlertContactInputSerializer,
        responses={201: AlertContactSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request, alert_id: int) -> Response:
        alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        serializer = AlertContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.alert_contact_record(
            alert=alert, by=request_user(request), contact=serializer.to_record()
        )
        return Response(AlertContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class AlertBulkApi(APIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.MANAGERS
    access_reads = access.Reads.NONE

    @extend_schema(
        summary="Assign or close several alerts; refused ones are reported, the rest done",
        request=AlertBulkSerializer,
        responses={200: AlertBulkResultSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        serializer = AlertBulkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.alerts_bulk(
            alert_ids=data["ids"],
            by=request_user(request),
            operation=data["operation"],
            assignee=data.get("assignee"),
            contact=contact_record(data.get("contact")),
            note=data["note"],
        )
        return Response(AlertBulkResultSerializer(result).data)


class NotificationListApi(GenericAPIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.NONE
    queryset = Notification.objects.none()
    pagination_class = NewestFirstPagination
    serializer_class = NotificationSerializer

    @extend_schema(
        summary="Your notifications, newest first",
        responses={200: NotificationSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.notification_list(user=request_user(request)))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.ROLE
    access_reads = access.Reads.NONE

    @extend_schema(
        summary="Mark notifications read (all, or the given ids)",
        request=inline_serializer(
            "NotificationReadInput",
            {"ids": serializers.ListField(child=serializers.IntegerField(), required=False)},
        ),
        responses={
            200: inline_serializer("NotificationReadOutput", {"marked": serializers.IntegerField()})
        },
    )
    def post(self, request: Request) -> Response:
        serializer = inline_serializer(
            "NotificationReadInput",
            {"ids": serializers.ListField(child=serializers.IntegerField(), required=False)},
            data=request.data,
        )
        serializer.is_valid(raise_exception=True)
        marked = services.notifications_mark_read(
            user=request_user(request), ids=serializer.validated_data.get("ids")
        )
        return Response({"marked": marked})


class NotificationPreferenceApi(APIView):
    permission_classes = [access.Policy]
    access_writes = access.Writes.ROLE

    @extend_schema(
        summary="Which notifications you receive", responses={200: NotificationPreferenceSerializer}
    )
    def get(self, request: Request) -> Response:
        preference = selectors.notification_preference_get(user=request_user(request))
        return Response(NotificationPreferenceSerializer(preference).data)

    @extend_schema(
        summary="Turn notification kinds (or e-mail) on or off",
        request=NotificationPreferenceSerializer,
        responses={200: NotificationPreferenceSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidInput("Send a JSON object of the preferences to change.")
        unknown = set(request.data) - set(NotificationPreferenceSerializer().fields)
        if unknown:
            raise InvalidInput(
                "Unknown preference.",
                field_errors={name: ["No such preference."] for name in sorted(unknown)},
            )
        serializer = NotificationPreferenceSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preference = services.notification_preferences_set(
            user=request_user(request), preferences=serializer.validated_data
        )
        return Response(NotificationPreferenceSerializer(preference).data)
