"""Shapes of the feedback API: the stored representations, and the documented inputs.

Input is validated by ``feedback.validation`` (one rule set for JSON, CSV and the CLI,
fast enough for 10,000-item bulk posts); the input serializers here describe that contract
for the OpenAPI schema and are not used to validate.
"""

from __future__ import annotations

from rest_framework import serializers

from feedback.models import Channel, Customer, NpsCategory, Response, Touchpoint


class ResponseSerializer(serializers.ModelSerializer[Response]):
    """A stored feedback response."""

    source = serializers.CharField(  # type: ignore[assignment]
        source="source.name", read_only=True, help_text="Name of the posting source."
    )
    customer_id = serializers.CharField(
        source="customer.external_id",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The customer's external id.",
    )
    touchpoint: serializers.SlugRelatedField[Touchpoint] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    nps_category = serializers.ChoiceField(
        choices=NpsCategory.choices, read_only=True, allow_null=True
    )
    ratings = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    attributes = serializers.DictField(read_only=True)

    class Meta:
        model = Response
        fields = [
            "id",
            "source",
            "external_id",
            "submitted_at",
            "customer_id",
            "channel",
            "touchpoint",
            "nps",
            "csat",
            "ces",
            "nps_category",
            "ratings",
            "comment",
            "attributes",
            "content_hash",
            "created_at",
            "processed_at",
        ]
        read_only_fields = fields


class ResponseInputSerializer(serializers.Serializer[None]):
    """One feedback item as posted (documentation of the rules in ``feedback.validation``)."""

    external_id = serializers.CharField(
        max_length=200, help_text="Your id for this response; unique per source."
    )
    submitted_at = serializers.DateTimeField(
        help_text="ISO 8601 with a time zone, e.g. 2026-03-01T10:15:00Z."
    )
    customer_id = serializers.CharField(
        max_length=200,
        required=False,
        help_text="Customer external id; unknown customers are created.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    touchpoint = serializers.SlugField(required=False, help_text="Slug of an existing touchpoint.")
    nps = serializers.IntegerField(min_value=0, max_value=10, required=False)
    csat = serializers.IntegerField(min_value=1, max_value=5, required=False)
    ces = serializers.IntegerField(min_value=1, max_value=7, required=False)
    ratings = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Declared attribute slug -> whole number on that attribute's scale.",
    )
    comment = serializers.CharField(
        max_length=10_000, required=False, help_text="Verbatim, any Unicode."
    )
    attributes = serializers.DictField(
        required=False, help_text="Flat object of strings, numbers or booleans."
    )
    source = serializers.CharField(  # type: ignore[assignment]
        required=False,
        help_text="Users only: name of the source to record under (default 'api'). "
        "With an API key it must be the key's own source.",
    )


class BulkErrorSerializer(serializers.Serializer[None]):
    index = serializers.IntegerField(
        help_text="Position of the item in the posted array or CSV rows."
    )
    external_id = serializers.CharField(allow_null=True)
    line = serializers.IntegerField(
        required=False, help_text="CSV only: the line the row starts on."
    )
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


class BulkIngestResultSerializer(serializers.Serializer[None]):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField(
        help_text="Already stored with the same content; not duplicated."
    )
    rejected = serializers.IntegerField(
        help_text="Invalid items and conflicts; each listed in errors."
    )
    conflicts = serializers.IntegerField(
        help_text="Rejected because the external id holds different content."
    )
    errors = BulkErrorSerializer(many=True)  # type: ignore[assignment]


class CustomerSerializer(serializers.ModelSerializer[Customer]):
    """A customer with attributes and business outcomes."""

    attributes = serializers.DictField(read_only=True)
    source = serializers.CharField(  # type: ignore[assignment]
        source="source.name",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The source whose API key created the customer; null for people's.",
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "source",
            "segment",
            "region",
            "plan",
            "attributes",
            "annual_revenue",
            "cost_to_serve",
            "churned_at",
            "erased_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerInputSerializer(serializers.Serializer[None]):
    """A customer as posted: created, or updated field by field, by external id."""

    external_id = serializers.CharField(max_length=200)
    segment = serializers.CharField(max_length=64, required=False)
    region = serializers.CharField(max_length=64, required=False)
    plan = serializers.CharField(max_length=64, required=False)
    attributes = serializers.DictField(
        required=False, help_text="Flat object of strings, numbers or booleans."
    )
    annual_revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    cost_to_serve = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    churned_at = serializers.DateTimeField(required=False, allow_null=True)


class BulkCustomerResultSerializer(serializers.Serializer[None]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = BulkErrorSerializer(many=True)  # type: ignore[assignment]
