"""Feedback API: responses (single, bulk JSON/CSV, list, detail) and customers.

Views parse, check permission, call a service and shape the answer; the rules live in
``feedback.validation`` and ``feedback.services``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, parsers, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse

from cxhub import access
from cxhub.errors import ApplicationError, Forbidden, InvalidInput
from cxhub.input_guard import StrictJSONParser
from feedback import selectors, services
from feedback.authentication import SourceAPIKeyAuthentication, request_source
from feedback.filters import CustomerFilterSet, ResponseFilterSet, renamed_parameters_refuse
from feedback.models import Customer, CustomerErasure, Response, Source
from feedback.serializers import (
    BulkCustomerResultSerializer,
    BulkIngestResultSerializer,
    CustomerInputSerializer,
    CustomerSerializer,
    ResponseInputSerializer,
    ResponseSerializer,
)
from feedback.validation import CSVFormatError, decode_csv_bytes, iter_csv_items

AUTHENTICATION = [SourceAPIKeyAuthentication, TokenAuthentication, SessionAuthentication]

ErrorsSerializer = inline_serializer(
    name="Errors",
    fields={
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text='Messages per field, e.g. {"nps": ["Must be a whole number from 0 to 10; got 11."]}',
        )
    },
)
ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(ErrorsSerializer, description="Invalid input; messages per field."),
    401: OpenApiResponse(ErrorsSerializer, description="No or invalid credentials."),
    403: OpenApiResponse(ErrorsSerializer, description="Not allowed for this user or key."),
}

RESPONSE_EXAMPLE = {
    "external_id": "resp-000123",
    "submitted_at": "2026-03-01T10:15:00Z",
    "customer_id": "C-42",
    "channel": "phone",
    "touchpoint": "billing-call",
    "nps": 3,
    "csat": 2,
    "ces": 6,
    "ratings": {"staff_friendliness": 4, "wait_time": 1},
    "comment": "Waited 40 minutes and the agent could not fix my bill.",
    "attributes": {"region": "north", "plan": "premium"},
}
STORED_EXAMPLE = {
    "id": 1017,
    "source": "survey-tool",
    **RESPONSE_EXAMPLE,
    "nps_category": "detractor",
    "content_hash": "3f1c…",
    "created_at": "2026-03-01T10:15:02Z",
    "processed_at": None,
}
CUSTOMER_EXAMPLE = {
    "external_id": "C-42",
    "segment": "smb",
    "region": "north",
    "plan": "premium",
    "attributes": {"tenure_months": 26},
    "annual_revenue": "1200.00",
    "cost_to_serve": "180.50",
    "churned_at": None,
}


class SourceAPIKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "feedback.authentication.SourceAPIKeyAuthentication"
    name = "SourceApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A source's key: `Authorization: Api-Key <key>` (create one with "
            "`manage.py create_api_key --source NAME`).",
        }


class CSVParser(parsers.BaseParser):
    """``text/csv`` bodies are handed over as bytes; decoding and parsing happen in the view."""

    media_type = "text/csv"

    def parse(  # type: ignore[override]
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        return stream.read() if stream is not None else b""


class ResponseCursorPagination(CursorPagination):
    ordering = ("-submitted_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CustomerCursorPagination(CursorPagination):
    ordering = ("external_id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _posting_source(request: Request, named: Any) -> Source:
    """The source a post is recorded under; an API key may only name its own source."""
    key_source = request_source(request)
    if key_source is not None:
        if named not in (None, "") and named != key_source.name:
            raise Forbidden(
                f"This API key belongs to the source {key_source.name!r} and may only post for it.",
                field_errors={
                    "source": [f"This API key may only post for the source {key_source.name!r}."]
                },
            )
        return key_source
    return services.source_for_user_post(name=named)


def _bulk_limit() -> int:
    return int(settings.CXHUB.get("BULK_MAX_ITEMS", 10_000))


class PayloadTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def _check_body_size(request: Request) -> None:
    """Refuse bodies over DATA_UPLOAD_MAX_MEMORY_SIZE before parsing (DRF does not check it)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit:
        raise PayloadTooLarge(
            f"The request body has {length:,} bytes; at most {limit:,} are accepted. Split the batch."
        )


def _bulk_items(request: Request, *, kind: str) -> tuple[list[Any], list[int] | None]:
    """The items of a bulk body (a JSON array, or for feedback a CSV with a header row),
    and for CSV the line each item starts on."""
    _check_body_size(request)
    data = request.data
    limit = _bulk_limit()
    lines: list[int] | None = None
    if isinstance(data, bytes):
        if kind != "feedback":
            raise InvalidInput("CSV is accepted for feedback only; post a JSON array.")
        try:
            _, rows = iter_csv_items(decode_csv_bytes(data))
            items = []
            lines = []
            for row in rows:
                items.append(row.item)
                lines.append(row.line)
                if len(items) > limit:
                    break
        except CSVFormatError as exc:
            raise InvalidInput(str(exc)) from None
    elif isinstance(data, list):
        items = data
    else:
        raise InvalidInput(
            f"Expected a JSON array of {kind} objects (or a CSV body with Content-Type: text/csv)."
        )
    if len(items) > limit:
        raise InvalidInput(f"At most {limit:,} items per bulk request; split the batch.")
    if not items:
        raise InvalidInput("The bulk request holds no items.")
    return items, lines


class FeedbackListCreateApi(generics.GenericAPIView[Response]):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_writes = access.Writes.SOURCE_OR_CX_MANAGER
    parser_classes = [StrictJSONParser]
    serializer_class = ResponseSerializer
    pagination_class = ResponseCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ResponseFilterSet

    def get_queryset(self) -> QuerySet[Response]:
        return access.visible(self.request.user, selectors.responses_list())

    @extend_schema(
        summary="List feedback responses",
        description="Newest first, cursor-paginated. Readable by signed-in users, not by API keys.",
        responses={200: ResponseSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> ApiResponse:
        renamed_parameters_refuse(request.query_params)
        access.request_scope(request.user, request.query_params, records=True)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Post one feedback response",
        description=(
            "201 with the stored response on first receipt; 200 with the same response when the "
            "same external_id arrives again with the same content; 409 when it arrives with "
            "different content. API keys post for their own source; CX managers may name one."
        ),
        request=ResponseInputSerializer,
        responses={
            201: ResponseSerializer,
            200: OpenApiResponse(
                ResponseSerializer, description="A retry: already stored, same content."
            ),
            409: OpenApiResponse(
                ErrorsSerializer, description="Same external_id, different content."
            ),
            **ERROR_RESPONSES,
        },
        examples=[
            OpenApiExample("A phone survey response", value=RESPONSE_EXAMPLE, request_only=True),
            OpenApiExample(
                "Stored", value=STORED_EXAMPLE, response_only=True, status_codes=["201", "200"]
            ),
        ],
    )
    def post(self, request: Request) -> ApiResponse:
        _check_body_size(request)
        data = request.data
        if not isinstance(data, dict):
            raise InvalidInput("Expected one JSON object; post arrays to /api/v1/feedback/bulk/.")
        item = dict(data)
        source = _posting_source(request, item.pop("source", None))
        response, created = services.response_ingest(
            source=source, data=item, customers_owner=request_source(request)
        )
        return ApiResponse(
            ResponseSerializer(response).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class FeedbackDetailApi(generics.RetrieveAPIView[Response]):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_writes = access.Writes.NONE
    serializer_class = ResponseSerializer

    def get_queryset(self) -> QuerySet[Response]:
        return access.visible(self.request.user, selectors.responses_list())

    @extend_schema(
        summary="One feedback response",
        responses={200: ResponseSerializer, 404: ErrorsSerializer, **ERROR_RESPONSES},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        return super().get(request, *args, **kwargs)


class FeedbackBulkApi(generics.GenericAPIView[Response]):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_reads = access.Reads.NONE
    access_writes = access.Writes.SOURCE_OR_CX_MANAGER
    parser_classes = [StrictJSONParser, CSVParser]
    serializer_class = BulkIngestResultSerializer  # type: ignore[assignment]

    @extend_schema(
        summary="Post many feedback responses (JSON array or CSV)",
        description=(
            "Up to 10,000 items as a JSON array, or a CSV with a header row (Content-Type: text/csv; "
            "ratings as rating_<slug> columns, attributes as attr_<name>, empty cell = absent). "
            "Valid items are stored, invalid ones listed in errors with their index (0-based item "
            "or data row); nothing is dropped silently. 201 when something was created, else 200. "
            "CX managers may choose the source with ?source=NAME."
        ),
        request={
            "application/json": ResponseInputSerializer(many=True),
            "text/csv": OpenApiTypes.STR,
        },
        responses={
            201: BulkIngestResultSerializer,
            200: BulkIngestResultSerializer,
            **ERROR_RESPONSES,
        },
        examples=[
            OpenApiExample(
                "Two items",
                value=[
                    RESPONSE_EXAMPLE,
                    {**RESPONSE_EXAMPLE, "external_id": "resp-000124", "nps": 10},
                ],
                request_only=True,
                media_type="application/json",
            ),
            OpenApiExample(
                "CSV",
                value="external_id,submitted_at,nps,rating_wait_time,attr_region,comment\n"
                "resp-1,2026-03-01T10:15:00Z,9,4,north,Quick and friendly\n",
                request_only=True,
                media_type="text/csv",
            ),
            OpenApiExample(
                "Partial success",
                value={
                    "created": 9990,
                    "duplicates": 5,
                    "rejected": 5,
                    "conflicts": 0,
                    "errors": [
                        {
                            "index": 17,
                            "external_id": "resp-17",
                            "errors": {"nps": ["Must be a whole number from 0 to 10; got 11."]},
                        }
                    ],
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> ApiResponse:
        source = _posting_source(request, request.query_params.get("source"))
        items, lines = _bulk_items(request, kind="feedback")
        result = services.responses_ingest_bulk(
            source=source, items=items, customers_owner=request_source(request)
        )
        if lines is not None:
            for error in result.errors:
                error["line"] = lines[error["index"]]
        return ApiResponse(
            result.as_dict(),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class CustomerListCreateApi(generics.GenericAPIView[Customer]):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_reads = access.Reads.CX_MANAGER
    access_writes = access.Writes.SOURCE_OR_CX_MANAGER
    parser_classes = [StrictJSONParser]
    serializer_class = CustomerSerializer
    pagination_class = CustomerCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = CustomerFilterSet

    def get_queryset(self) -> QuerySet[Customer]:
        return access.visible(self.request.user, selectors.customers_list())

    @extend_schema(
        summary="List customers", responses={200: CustomerSerializer(many=True), **ERROR_RESPONSES}
    )
    def get(self, request: Request) -> ApiResponse:
        renamed_parameters_refuse(request.query_params)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Create or update a customer by external id",
        description=(
            "201 when created, 200 when updated; only the fields given change. An API key "
            "creates customers and updates only those its source created (403 otherwise, "
            "unless its source may update every customer); CX managers update any."
        ),
        request=CustomerInputSerializer,
        responses={201: CustomerSerializer, 200: CustomerSerializer, **ERROR_RESPONSES},
        examples=[OpenApiExample("A customer", value=CUSTOMER_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> ApiResponse:
        if not isinstance(request.data, dict):
            raise InvalidInput("Expected one JSON object; post arrays to /api/v1/customers/bulk/.")
        customer, created = services.customer_upsert(
            data=dict(request.data), source=request_source(request)
        )
        return ApiResponse(
            CustomerSerializer(customer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CustomerDetailApi(generics.GenericAPIView[Customer]):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_reads = access.Reads.CX_MANAGER
    access_writes = access.Writes.SOURCE_OR_CX_MANAGER
    access_writes_by_method = {"DELETE": access.Writes.CX_MANAGER}  # erasure
    parser_classes = [StrictJSONParser]
    serializer_class = CustomerSerializer

    def get_queryset(self) -> QuerySet[Customer]:
        if access.access_for(self.request.user).is_source:
            # A key gets here only to PATCH (the policy refuses its reads); the service
            # checks that its source owns the customer.
            return selectors.customers_list()
        return access.visible(self.request.user, selectors.customers_list())

    @extend_schema(
        summary="One customer",
        responses={200: CustomerSerializer, 404: ErrorsSerializer, **ERROR_RESPONSES},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        return ApiResponse(CustomerSerializer(self.get_object()).data)

    @extend_schema(
        summary="Change some fields of a customer",
        description=(
            "Only the fields given change; the external id cannot. API keys may change only "
            "customers their source created (403 naming why otherwise), CX managers any."
        ),
        request=CustomerInputSerializer,
        responses={200: CustomerSerializer, 404: ErrorsSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        _check_body_size(request)
        customer = services.customer_update(
            customer=self.get_object(), data=request.data, source=request_source(request)
        )
        return ApiResponse(CustomerSerializer(customer).data)

    @extend_schema(
        summary="Erase a customer's personal data",
        description=(
            "CX managers and administrators. The external id becomes an irreversible "
            "pseudonym; revenue, cost and personal attributes go; the comments of the "
            "customer's responses are erased wherever they were copied (topic snippets, "
            "notifications, action evidence, history, cached figures). Scores, touchpoints and "
            "dates stay, so aggregates do not change. 204; erasing an erased customer again "
            "changes nothing."
        ),
        request=None,
        responses={204: None, 404: ErrorsSerializer, **ERROR_RESPONSES},
    )
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        user = request.user
        services.customer_erase(
            customer=self.get_object(),
            by=user if isinstance(user, User) else None,
            via=CustomerErasure.Via.API,
        )
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)


class CustomerExportApi(generics.GenericAPIView[Customer]):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_reads = access.Reads.CX_MANAGER
    access_writes = access.Writes.NONE
    serializer_class = CustomerSerializer

    def get_queryset(self) -> QuerySet[Customer]:
        return access.visible(self.request.user, selectors.customers_list())

    @extend_schema(
        summary="Everything stored about one customer",
        description=(
            "CX managers and administrators. The customer record, its responses with scores, "
            "ratings and comments, their topics and tag corrections, alerts and the actions "
            "linked to them; the same JSON as `manage.py export_customer`."
        ),
        responses={200: OpenApiTypes.OBJECT, 404: ErrorsSerializer, **ERROR_RESPONSES},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        return ApiResponse(selectors.customer_export(customer=self.get_object()))


class CustomerBulkApi(generics.GenericAPIView[Customer]):
    authentication_classes = AUTHENTICATION
    permission_classes = [access.Policy]
    access_reads = access.Reads.NONE
    access_writes = access.Writes.SOURCE_OR_CX_MANAGER
    parser_classes = [StrictJSONParser]
    serializer_class = BulkCustomerResultSerializer  # type: ignore[assignment]

    @extend_schema(
        summary="Create or update many customers (JSON array)",
        description=(
            "Always 200 with the counts: valid items are stored; invalid items, and items an "
            "API key may not write (customers its source did not create), are counted in "
            "rejected and listed in errors by index with the reason. Nothing valid is lost."
        ),
        request=CustomerInputSerializer(many=True),
        responses={200: BulkCustomerResultSerializer, **ERROR_RESPONSES},
        examples=[OpenApiExample("Customers", value=[CUSTOMER_EXAMPLE], request_only=True)],
    )
    def post(self, request: Request) -> ApiResponse:
        items, _ = _bulk_items(request, kind="customer")
        result, _ = services.customers_upsert_bulk(items=items, source=request_source(request))
        return ApiResponse(result.as_dict(), status=status.HTTP_200_OK)
