"""Business KPIs (churn rate, revenue, cost to serve, …), their observations, and the
measured impact of actions on them and on the experience scores."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from cxhub.models import TimeStampedModel

__all__ = ["ImpactEstimate", "Kpi", "KpiObservation"]


class Kpi(TimeStampedModel):
    """A business outcome series: its unit, whether higher is better, and how periods add up.

    ``aggregation`` says how observations combine over a longer period or over scopes:
    ``sum`` for flows (revenue, cost), ``mean`` for rates (churn rate), ``last`` for stocks.
    """

    class Unit(models.TextChoices):
        PERCENT = "percent", "Percent"
        CURRENCY = "currency", "Currency"
        COUNT = "count", "Count"
        DURATION = "duration", "Duration (seconds)"

    class Aggregation(models.TextChoices):
        MEAN = "mean", "Mean over periods"
        SUM = "sum", "Sum over periods"
        LAST = "last", "Last value of the period"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    unit = models.CharField(max_length=16, choices=Unit.choices)
    higher_is_better = models.BooleanField(default=True)
    aggregation = models.CharField(
        max_length=8, choices=Aggregation.choices, default=Aggregation.MEAN
    )
    currency = models.CharField(
        max_length=3, blank=True, help_text="ISO 4217 code; required for currency KPIs."
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(unit="currency") | ~Q(currency=""),
                name="kpi_currency_has_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KpiObservation(TimeStampedModel):
    """The value of one KPI for one period (a week from Monday, or a calendar month) and scope.

    The scope is any combination of department, touchpoint, segment and region, all empty
    meaning the whole organisation. ``scope_key`` is their normalised text form
    (``department=care|region=north``); the database keeps one value per KPI, period and
    scope key, which is what makes re-posting an observation safe.
    """

    class Granularity(models.TextChoices):
        WEEK = "week", "Week (starting Monday)"
        MONTH = "month", "Month"

    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="observations")
    granularity = models.CharField(max_length=8, choices=Granularity.choices)
    period_start = models.DateField(db_index=True)
    department = models.ForeignKey(
        "feedback.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kpi_observations",
    )
    touchpoint = models.ForeignKey(
        "feedback.Touchpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kpi_observations",
    )
    segment = models.CharField(max_length=64, blank=True)
    region = models.CharField(max_length=64, blank=True)
    scope_key = models.CharField(max_length=400, blank=True)
    value = models.DecimalField(max_digits=20, decimal_places=6)
    source = models.ForeignKey(
        "feedback.Source",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="kpi_observations",
    )

    class Meta:
        ordering = ["kpi", "scope_key", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "granularity", "period_start", "scope_key"],
                name="kpi_observation_unique_period_scope",
            ),
        ]
        indexes = [
            models.Index(
                fields=["kpi", "granularity", "scope_key", "period_start"],
                name="kpi_observation_series",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period_start} [{self.scope_key or 'all'}] = {self.value}"


class ImpactEstimate(TimeStampedModel):
    """What one estimation found about an action's effect on one metric, by one method.

    ``metric`` is ``nps``, ``csat`` or ``ces`` (from the responses in the action's scope) or
    a KPI slug. Each estimation writes new rows; the previous current row of the same
    action, metric and method is kept, marked ``is_current=False`` and linked through
    ``superseded_by``, so the history of what was believed when is never overwritten.
    ``status`` is ``insufficient_data`` (with ``message`` saying what is missing) when the
    data cannot support an estimate yet. Money values are per year, in ``currency``.
    """

    class Method(models.TextChoices):
        DID = "did", "Difference-in-differences"
        ITS = "its", "Interrupted time series"
        BEFORE_AFTER = "before_after", "Before/after"

    class Status(models.TextChoices):
        OK = "ok", "Estimated"
        INSUFFICIENT_DATA = "insufficient_data", "Not enough data yet"

    action = models.ForeignKey(
        "actions.Action", on_delete=models.CASCADE, related_name="impact_estimates"
    )
    metric = models.CharField(max_length=64)
    kpi = models.ForeignKey(
        Kpi, on_delete=models.PROTECT, null=True, blank=True, related_name="impact_estimates"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    is_primary = models.BooleanField(
        default=False, help_text="The causal estimate (DiD or ITS) rather than before/after."
    )
    status = models.CharField(max_length=24, choices=Status.choices)
    message = models.TextField(blank=True)
    run = models.ForeignKey(
        "analytics.AnalysisRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="impact_estimates",
    )
    granularity = models.CharField(max_length=8, blank=True)
    pre_start = models.DateField(null=True, blank=True)
    pre_end = models.DateField(null=True, blank=True)
    post_start = models.DateField(null=True, blank=True)
    post_end = models.DateField(null=True, blank=True)
    effect = models.FloatField(null=True, blank=True)
    std_error = models.FloatField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)
    baseline = models.FloatField(null=True, blank=True)
    after = models.FloatField(null=True, blank=True)
    n_pre = models.PositiveIntegerField(null=True, blank=True)
    n_post = models.PositiveIntegerField(null=True, blank=True)
    periods_pre = models.PositiveIntegerField(null=True, blank=True)
    periods_post = models.PositiveIntegerField(null=True, blank=True)
    parallel_trend_slope = models.FloatField(null=True, blank=True)
    parallel_trend_p_value = models.FloatField(null=True, blank=True)
    higher_is_better = models.BooleanField(default=True)
    annual_value = models.FloatField(null=True, blank=True)
    annual_value_ci_low = models.FloatField(null=True, blank=True)
    annual_value_ci_high = models.FloatField(null=True, blank=True)
    annual_value_std_error = models.FloatField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    roi = models.FloatField(null=True, blank=True)
    roi_ci_low = models.FloatField(null=True, blank=True)
    roi_ci_high = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    is_current = models.BooleanField(default=True, db_index=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="supersedes"
    )

    class Meta:
        ordering = ["action", "metric", "method", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "metric", "method"],
                condition=Q(is_current=True),
                name="impact_estimate_one_current",
            ),
            models.CheckConstraint(
                condition=Q(ci_low__isnull=True)
                | Q(ci_high__isnull=True)
                | Q(ci_low__lte=models.F("ci_high")),
                name="impact_estimate_interval_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["action", "is_current"], name="impact_estimate_action_current"),
        ]

    def __str__(self) -> str:
        return f"{self.action_id} {self.metric} {self.method}: {self.effect}"

    @property
    def improvement(self) -> float | None:
        """The effect signed so that positive means better for the business."""
        if self.effect is None:
            return None
        return self.effect if self.higher_is_better else -self.effect

    @property
    def is_significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05
