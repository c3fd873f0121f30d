"""Choice lists of text analytics that pages and forms use without touching the models."""

from __future__ import annotations

from django.db import models


class SentimentLabel(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"
