"""Text analytics: the topic taxonomy, what each comment was tagged with, and corrections."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from analytics.text.choices import SentimentLabel
from cxhub.models import TimeStampedModel

__all__ = [
    "ResponseAnalysis",
    "SentimentLabel",
    "TagCorrection",
    "ThemeProposal",
    "Topic",
    "TopicDay",
    "TopicDepartmentDay",
    "TopicMention",
]

_SENTIMENT_RANGE = Q(sentiment__isnull=True) | Q(sentiment__gte=-1, sentiment__lte=1)


class Topic(TimeStampedModel):
    """A theme of the taxonomy with the phrases that find it in comments.

    Two levels only: a parent groups leaves ("Customer service" → "Wait time"). Topics are
    deactivated rather than deleted so past tags and corrections keep their meaning.
    """

    class Origin(models.TextChoices):
        DEFAULT = "default", "Default taxonomy"
        DISCOVERED = "discovered", "Discovered theme"
        MANUAL = "manual", "Added by a person"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    keywords = models.JSONField(
        default=list,
        blank=True,
        help_text='Phrases matched on word boundaries; an entry starting with "re:" is a regular expression.',
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="topics_created",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="topic_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ResponseAnalysis(models.Model):
    """The text analysis of one response's comment: language and overall sentiment.

    Sentiment is null when the language is not supported (only English is analysed): a
    comment that cannot be read is not scored as neutral.
    """

    response = models.OneToOneField(
        "feedback.Response", on_delete=models.CASCADE, primary_key=True, related_name="analysis"
    )
    language = models.CharField(max_length=8, blank=True)
    language_supported = models.BooleanField(default=True)
    sentiment = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(
        max_length=8, choices=SentimentLabel.choices, null=True, blank=True
    )
    analysed_at = models.DateTimeField()
    taxonomy_version = models.CharField(max_length=16, db_index=True)

    class Meta:
        verbose_name_plural = "response analyses"
        constraints = [
            models.CheckConstraint(condition=_SENTIMENT_RANGE, name="analysis_sentiment_range"),
            models.CheckConstraint(
                condition=Q(language_supported=True) | Q(sentiment__isnull=True),
                name="analysis_unsupported_unscored",
            ),
        ]
        indexes = [models.Index(fields=["sentiment_label"], name="analysis_sentiment_label")]

    def __str__(self) -> str:
        return f"analysis of response {self.response_id}"


class TopicMention(models.Model):
    """A topic found in (or attached by a person to) one response, with its own sentiment."""

    class Origin(models.TextChoices):
        RULE = "rule", "Taxonomy rule"
        MODEL = "model", "Model"
        PERSON = "person", "Person"

    # No single-column indexes on the two keys: the unique (response, topic) and the
    # (topic, sentiment_label) indexes start with them and serve every lookup, and each
    # index is paid on every one of the ~20 mentions a comment can get.
    response = models.ForeignKey(
        "feedback.Response",
        on_delete=models.CASCADE,
        related_name="topic_mentions",
        db_index=False,
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="mentions", db_index=False
    )
    sentence = models.TextField(blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(
        max_length=8, choices=SentimentLabel.choices, null=True, blank=True
    )
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.RULE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "topic"], name="mention_unique_response_topic"
            ),
            models.CheckConstraint(condition=_SENTIMENT_RANGE, name="mention_sentiment_range"),
        ]
        indexes = [
            # A topic's mentions of one sentiment, strongest first: the quotes (ORDER BY
            # sentiment LIMIT n on one topic) and the topic's negative mentions.
            models.Index(
                fields=["topic", "sentiment_label", "sentiment"], name="mention_topic_sentiment"
            ),
            models.Index(fields=["response", "origin"], name="mention_response_origin"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} in response {self.response_id}"


class TopicCounts(models.Model):
    """The counts of one topic's mentions on one day (``analytics.text.topic_counts``):
    the topic's own mentions, or (``with_subtopics``, parent topics only) those of the
    topic or any sub-topic, each response once. Every column adds up across days."""

    day = models.DateField(help_text="The responses' day in the project's time zone.")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    with_subtopics = models.BooleanField()
    # Over the responses mentioning the topic, each once (analytics.stats.scores.COUNT_KEYS).
    responses = models.PositiveIntegerField()
    comments = models.PositiveIntegerField()
    nps_n = models.PositiveIntegerField()
    promoters = models.PositiveIntegerField()
    detractors = models.PositiveIntegerField()
    csat_n = models.PositiveIntegerField()
    csat_satisfied = models.PositiveIntegerField()
    csat_sum = models.PositiveIntegerField()
    csat_sumsq = models.PositiveIntegerField()
    ces_n = models.PositiveIntegerField()
    ces_sum = models.PositiveIntegerField()
    ces_sumsq = models.PositiveIntegerField()
    positive_responses = models.PositiveIntegerField()
    negative_responses = models.PositiveIntegerField()
    # Over the mentions.
    mentions = models.PositiveIntegerField()
    positive = models.PositiveIntegerField()
    neutral = models.PositiveIntegerField()
    negative = models.PositiveIntegerField()
    sentiment_n = models.PositiveIntegerField()
    sentiment_sum = models.DecimalField(max_digits=24, decimal_places=8)
    sentiment_sumsq = models.DecimalField(max_digits=32, decimal_places=16)

    class Meta:
        abstract = True


class TopicDay(TopicCounts):
    """A topic's counts over all responses of one day: the roll-up the Topics page, the
    topics API and the overview read for the whole organisation (``analytics.text.rollup``)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "topic", "with_subtopics"], name="topicday_unique_day_topic"
            ),
        ]
        indexes = [models.Index(fields=["topic", "with_subtopics", "day"], name="topicday_trend")]

    def __str__(self) -> str:
        return f"topic {self.topic_id} on {self.day}"


class TopicDepartmentDay(TopicCounts):
    """A topic's counts over one department's responses of one day (``department`` null:
    responses whose touchpoint has no department, or no touchpoint): the roll-up read for a
    department's pages and filters (``analytics.text.rollup``)."""

    department = models.ForeignKey(
        "feedback.Department", on_delete=models.CASCADE, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department", "topic", "with_subtopics"],
                condition=Q(department__isnull=False),
                name="topicdeptday_unique",
            ),
            models.UniqueConstraint(
                fields=["day", "topic", "with_subtopics"],
                condition=Q(department__isnull=True),
                name="topicdeptday_unique_none",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "day"], name="topicdeptday_department_day"),
        ]

    def __str__(self) -> str:
        return f"topic {self.topic_id}, department {self.department_id} on {self.day}"


class TagCorrection(TimeStampedModel):
    """A person's correction of a response's tags; the audit trail of who changed what.

    The latest correction for a response and topic wins over the rules whenever the
    response is tagged again.
    """

    class Action(models.TextChoices):
        ADD = "add", "Add topic"
        REMOVE = "remove", "Remove topic"

    response = models.ForeignKey(
        "feedback.Response", on_delete=models.CASCADE, related_name="tag_corrections"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="corrections")
    action = models.CharField(max_length=8, choices=Action.choices)
    sentiment = models.FloatField(
        null=True, blank=True, help_text="Sentiment set by the person (−1..1), if any."
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tag_corrections"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_SENTIMENT_RANGE, name="correction_sentiment_range"),
            models.CheckConstraint(
                condition=Q(action="add") | Q(sentiment__isnull=True),
                name="correction_remove_has_no_sentiment",
            ),
        ]
        indexes = [
            models.Index(
                fields=["response", "topic", "created_at"], name="correction_response_topic"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.topic_id} on response {self.response_id}"


class ThemeProposal(TimeStampedModel):
    """A theme found in comments no topic matched, waiting for a CX manager's decision."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    run = models.ForeignKey(
        "analytics.AnalysisRun",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="theme_proposals",
    )
    label = models.CharField(max_length=200)
    top_terms = models.JSONField(default=list)
    example_response_ids = models.JSONField(default=list)
    size = models.PositiveIntegerField()
    share = models.FloatField(default=0.0, help_text="Share of the untagged comments analysed.")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROPOSED, db_index=True
    )
    accepted_topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, null=True, blank=True, related_name="proposals"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="theme_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-size"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(accepted_topic__isnull=False),
                name="theme_accepted_has_topic",
            ),
        ]

    def __str__(self) -> str:
        return self.label
