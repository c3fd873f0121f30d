"""Who owns the experience (departments, journeys, touchpoints) and what customers said.

Scores are checked in the database as well as in code: a response that slips past the
API's validation still cannot store an NPS of 11.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from rest_framework_api_key.models import AbstractAPIKey
from simple_history.models import HistoricalRecords

from cxhub.models import TimeStampedModel


class Department(TimeStampedModel):
    """A part of the organisation that owns touchpoints, actions and a dashboard."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="departments", blank=True
    )
    alert_response_hours = models.PositiveSmallIntegerField(
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text="Hours the department has to call back an unhappy customer after an alert.",
    )
    cx_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cx_owned_departments",
        help_text="The CX manager overdue alerts are escalated to (empty: every CX manager).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(alert_response_hours__gte=1), name="department_alert_hours_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Journey(TimeStampedModel):
    """A customer journey (e.g. 'Get help'), made of ordered steps with touchpoints."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Touchpoint(TimeStampedModel):
    """A moment where the customer meets the organisation, owned by one department."""

    journey = models.ForeignKey(Journey, on_delete=models.PROTECT, related_name="touchpoints")
    step = models.CharField(
        max_length=120, help_text="The journey step this touchpoint belongs to."
    )
    step_position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="touchpoints")

    class Meta:
        ordering = ["journey__position", "step_position", "name"]

    def __str__(self) -> str:
        return self.name


class Source(TimeStampedModel):
    """An external system (survey tool, CRM, contact centre, billing) that posts data."""

    class Kind(models.TextChoices):
        SURVEY = "survey", "Survey tool"
        CRM = "crm", "CRM"
        CONTACT_CENTRE = "contact_centre", "Contact centre"
        BILLING = "billing", "Billing"
        IMPORT = "import", "File import"
        OTHER = "other", "Other"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    may_write_customers = models.BooleanField(
        "may update every customer",
        default=False,
        help_text="Its API keys may update customers that other sources (or people) created. "
        "Without it a key creates customers and updates only those its source created.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceAPIKey(AbstractAPIKey):
    """A hashed API key that lets one source post data for itself and nothing else."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="api_keys")
    # When the key last authenticated a call, to the minute (feedback.services).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "source API key"
        verbose_name_plural = "source API keys"


class Customer(TimeStampedModel):
    """A customer known by an external id, with attributes and business outcomes.

    ``source`` is the source whose API key created the customer (directly or as the
    customer of a posted response); customers created by people, imports and the demo seed
    have none. A key may update only its own source's customers unless its source
    ``may_write_customers``. ``erased_at`` is set when the customer's personal data were
    erased (``external_id`` is then a pseudonym).
    """

    external_id = models.CharField(max_length=200, unique=True)
    source = models.ForeignKey(
        Source,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers_created",
        help_text="The source whose API key created this customer; empty for people's.",
    )
    segment = models.CharField(max_length=64, blank=True, db_index=True)
    region = models.CharField(max_length=64, blank=True, db_index=True)
    plan = models.CharField(max_length=64, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True)
    annual_revenue = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cost_to_serve = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    churned_at = models.DateTimeField(null=True, blank=True, db_index=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0),
                name="customer_revenue_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(cost_to_serve__isnull=True) | Q(cost_to_serve__gte=0),
                name="customer_cost_to_serve_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class Attribute(TimeStampedModel):
    """A declared driver rating (e.g. staff friendliness on 1–5) that responses may carry."""

    slug = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    scale_min = models.SmallIntegerField(default=1)
    scale_max = models.SmallIntegerField(default=5)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scale_min__lt=models.F("scale_max")), name="attribute_scale_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Channel(models.TextChoices):
    WEB = "web", "Web"
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    APP = "app", "Mobile app"
    IN_PERSON = "in_person", "In person"
    SOCIAL = "social", "Social media"
    OTHER = "other", "Other"


class NpsCategory(models.TextChoices):
    PROMOTER = "promoter", "Promoter (9–10)"
    PASSIVE = "passive", "Passive (7–8)"
    DETRACTOR = "detractor", "Detractor (0–6)"


class Response(TimeStampedModel):
    """One feedback response, unique per source and external id so that re-posting is safe.

    ``content_hash`` fingerprints what was posted: the same id with the same content is a
    harmless retry (200), with other content a conflict (409). ``processed_at`` is set once
    analysis (tagging) has run; the periodic sweep re-queues rows that were never processed,
    for example because the broker was down when they arrived.
    """

    # Only the indexes a measured query needs (docs/performance.md, "Indexes of
    # feedback_response"): each is paid on every write, and at a million rows ingest and
    # processing write more than anything reads. The foreign keys' own indexes are left out
    # (db_index=False) because an index that starts with the column covers each of them, and
    # the time stamps serve no query: the processing sweep has its partial index.
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Covered by response_unique_source_external_id.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="responses", db_index=False
    )
    external_id = models.CharField(max_length=200)
    submitted_at = models.DateTimeField(db_index=True)
    # Covered by response_customer_time.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responses",
        db_index=False,
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    # Covered by response_touchpoint_time.
    touchpoint = models.ForeignKey(
        Touchpoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
        db_index=False,
    )
    nps = models.SmallIntegerField(null=True, blank=True)
    csat = models.SmallIntegerField(null=True, blank=True)
    ces = models.SmallIntegerField(null=True, blank=True)
    nps_category = models.GeneratedField(
        expression=Case(
            When(nps__gte=9, then=Value(NpsCategory.PROMOTER.value)),
            When(nps__gte=7, then=Value(NpsCategory.PASSIVE.value)),
            When(nps__gte=0, then=Value(NpsCategory.DETRACTOR.value)),
            default=None,
        ),
        output_field=models.CharField(max_length=16, choices=NpsCategory.choices, null=True),
        db_persist=True,
    )
    ratings = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)
    processing_queued_at = models.DateTimeField(null=True, blank=True)
    # A worker processing the response holds it until this moment and renews it as it goes;
    # past it, unprocessed, the worker is taken for dead and the sweep hands the response on.
    processing_lease_until = models.DateTimeField(null=True, blank=True)
    # How many workers died (or failed) holding it; at CXHUB["PROCESSING_MAX_ATTEMPTS"] it is
    # parked: no longer handed on, shown to administrators, retried from the admin.
    processing_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    processing_parked_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When the comment was erased with its customer's data."
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="response_unique_source_external_id"
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10), name="response_nps_0_10"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                name="response_csat_1_5",
            ),
            models.CheckConstraint(
                condition=Q(ces__isnull=True) | Q(ces__gte=1, ces__lte=7), name="response_ces_1_7"
            ),
        ]
        indexes = [
            models.Index(fields=["touchpoint", "submitted_at"], name="response_touchpoint_time"),
            models.Index(fields=["nps_category", "submitted_at"], name="response_category_time"),
            models.Index(fields=["channel", "submitted_at"], name="response_channel_time"),
            models.Index(fields=["customer", "submitted_at"], name="response_customer_time"),
            models.Index(
                fields=["created_at"],
                name="response_unprocessed",
                condition=Q(processed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"


class CustomerErasure(models.Model):
    """The record that a customer's personal data were erased: who, when, and the pseudonym
    the customer is now known by. It holds no personal data itself."""

    class Via(models.TextChoices):
        API = "api", "API"
        COMMAND = "command", "Command line"

    pseudonym = models.CharField(max_length=200, unique=True)
    customer = models.OneToOneField(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="erasure"
    )
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer_erasures",
    )
    via = models.CharField(max_length=16, choices=Via.choices)
    responses = models.PositiveIntegerField(
        default=0, help_text="How many of the customer's responses had their comment erased."
    )
    erased_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return f"Erasure of {self.pseudonym}"


class ResponseDayChange(models.Model):
    """A calendar day (project time zone) whose responses changed since the roll-ups last
    saw it: a response of that day was stored, erased or deleted.

    Every write that changes what a response counts as upserts the day's row in its own
    transaction (``feedback.services.response_days_changed``); the roll-up refresh
    (``analytics.responses.rollups``) recomputes the day and deletes the row. Readers treat
    a day with a row as dirty and read its raw responses, so a roll-up is never stale.
    """

    day = models.DateField(unique=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} changed at {self.changed_at:%Y-%m-%d %H:%M:%S}"
