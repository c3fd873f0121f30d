"""The roll-up tables over responses (re-exported by ``analytics.models``).

Each holds, per local calendar day (project time zone), counts that add up, so a figure
over any window of whole days is a sum of rows whose number depends on days, touchpoints
and channels, never on how many responses there are. They are recomputed from raw
responses by ``analytics.responses.rollups`` for the days marked changed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from feedback.models import Touchpoint

__all__ = ["ScoreDay"]


class ScoreDay(models.Model):
    """The score counts of one day, touchpoint and channel: the sums of
    ``analytics.responses.counts.score_aggregates`` (keys ``COUNT_KEYS``) over the responses
    submitted that day (erased ones included: they keep their scores, not their comment)."""

    day = models.DateField()
    touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=16, blank=True)
    responses = models.IntegerField()
    comments = models.IntegerField()
    nps_n = models.IntegerField()
    promoters = models.IntegerField()
    detractors = models.IntegerField()
    csat_n = models.IntegerField()
    csat_satisfied = models.IntegerField()
    csat_sum = models.BigIntegerField()
    csat_sumsq = models.BigIntegerField()
    ces_n = models.IntegerField()
    ces_sum = models.BigIntegerField()
    ces_sumsq = models.BigIntegerField()

    class Meta:
        ordering = ["day", "touchpoint_id", "channel"]
        indexes = [models.Index(fields=["day"], name="score_day_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "touchpoint", "channel"],
                condition=Q(touchpoint__isnull=False),
                name="score_day_unique_grain",
            ),
            models.UniqueConstraint(
                fields=["day", "channel"],
                condition=Q(touchpoint__isnull=True),
                name="score_day_unique_grain_no_touchpoint",
            ),
            models.CheckConstraint(condition=Q(responses__gt=0), name="score_day_has_responses"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.touchpoint_id or '-'} {self.channel or '-'}: {self.responses}"
