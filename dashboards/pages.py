"""Context builders shared by the dashboard pages, exports and the printable report.

They glue selectors (figures), charts (pictures) and narrative (words) together so the
views stay thin; nothing here writes.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from actions.permissions import can_create_action
from analytics.stats.scores import Score
from analytics.text import selectors as text_selectors
from dashboards import charts, impact, permissions, selectors
from dashboards.filters import DashboardFilterForm, DashboardFilters, filters_parse
from dashboards.models import DashboardComment
from dashboards.narrative import Narrative, narrative_build


def trend_series(trend: list[selectors.TrendPoint], metric: str) -> charts.TrendSeries:
    """One metric's weekly series; weeks with too few answers become gaps, not numbers."""
    values: list[float | None] = []
    lows: list[float | None] = []
    highs: list[float | None] = []
    counts: list[int] = []
    for point in trend:
        estimate: Score = getattr(point.summary, metric)
        counts.append(estimate.n)
        if estimate.ok and estimate.value is not None:
            values.append(round(estimate.value, 2))
            lows.append(round(estimate.low, 2) if estimate.low is not None else None)
            highs.append(round(estimate.high, 2) if estimate.high is not None else None)
        else:
            values.append(None)
            lows.append(None)
            highs.append(None)
    return charts.TrendSeries([p.week for p in trend], values, lows, highs, counts)


METRICS = {
    "nps": ("NPS", (-100.0, 100.0)),
    "csat_pct": ("CSAT % satisfied (4–5)", (0.0, 100.0)),
    "ces_mean": ("CES (mean effort, 1–7)", (1.0, 7.0)),
}
# Each trend chart's value axis, with its unit.
METRIC_AXES = {
    "nps": "NPS (points, −100 to 100)",
    "csat_pct": "CSAT (% satisfied, 4–5 of 5)",
    "ces_mean": "CES (mean effort, 1–7, lower is better)",
}


def chart_scope(filters: DashboardFilters, department: selectors.DepartmentInfo | None) -> str:
    """What a chart shows, as its PNG says under the title: whose responses, which other
    filters, and the dates written out (not "last 12 months", which moves)."""
    others = [
        part for part in filters.summary if not (department and part.startswith("department "))
    ]
    dates = f"{filters.date_from:%-d %b %Y} – {filters.date_to:%-d %b %Y}"
    return " · ".join([department.name if department else "All departments", *others, dates])


def dashboard_charts(
    *,
    figures: selectors.ResponseFigures,
    actions: selectors.ActionSummary,
    department: selectors.DepartmentInfo | None,
    extra: dict[str, Any],
) -> list[charts.Chart]:
    markers = [
        charts.ActionMarker(day=line.implemented_on, title=line.title)
        for line in actions.implemented_in_window
        if line.implemented_on
    ]
    built = []
    for metric, (label, _) in METRICS.items():
        series = trend_series(figures.trend, metric)
        if metric != "nps" and not any(value is not None for value in series.values):
            continue  # no week has enough CSAT/CES answers: an empty chart says nothing
        built.append(
            charts.score_trend_chart(
                dom_id=f"chart-trend-{metric}",
                metric=label,
                series=series,
                markers=markers,
                axis_title=METRIC_AXES[metric],
            )
        )
    rows = figures.breakdown.touchpoints if department else figures.breakdown.departments
    built.append(
        charts.interval_bars_chart(
            dom_id="chart-nps-by-" + ("touchpoint" if department else "department"),
            title="NPS by " + ("touchpoint" if department else "department"),
            axis_title="NPS (points, −100 to 100)",
            category_title="Touchpoint" if department else "Department",
            items=[
                charts.BarItem(
                    label=row.label,
                    value=row.summary.nps.value,
                    low=row.summary.nps.low,
                    high=row.summary.nps.high,
                    hover=f"{row.label}: {row.summary.responses} responses",
                )
                for row in rows
                if row.summary.nps.ok
            ],
        )
    )
    built.append(
        charts.action_status_chart(
            dom_id="chart-action-status",
            status_counts=actions.status_counts,
            overdue=actions.overdue,
        )
    )
    topic_items = extra.get("topic_bars")
    if topic_items:
        built.append(
            charts.interval_bars_chart(
                dom_id="chart-topic-impact",
                title="NPS points each topic costs or earns",
                axis_title="NPS points (change where the topic is mentioned)",
                category_title="Topic",
                items=topic_items,
            )
        )
    value_items = extra.get("value_items")
    if value_items:
        built.append(
            charts.action_value_chart(
                dom_id="chart-action-value",
                items=value_items,
                currency=extra["impacts"][0].get("currency") or "EUR",
            )
        )
    return built


def narrative_figures(
    *,
    audience: str,
    figures: selectors.ResponseFigures,
    actions: selectors.ActionSummary,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The small dict of figures the narrative is written from."""
    total = figures.breakdown.total
    return {
        "audience": audience,
        "responses": total.responses,
        "min_responses": selectors.min_responses(),
        "nps": total.nps,
        "nps_change": (
            {"weeks": figures.nps_change.weeks, "change": figures.nps_change.change}
            if figures.nps_change
            else None
        ),
        "top_issues": extra.get("top_issues", []),
        "actions": [
            {
                "title": line.title,
                "owner": line.owner,
                "status": line.status,
                "implemented_on": line.implemented_on,
            }
            for line in actions.recent
        ],
        "overdue": actions.overdue,
        "impacts": extra.get("impacts", []),
    }


def comments_context(
    request: HttpRequest,
    *,
    department: selectors.DepartmentInfo | None,
    errors: dict[str, list[str]] | None = None,
    body: str = "",
    view_query: str = "",
) -> dict[str, Any]:
    comments = list(
        DashboardComment.objects.filter(department_id=department.id)
        if department
        else DashboardComment.objects.filter(department__isnull=True)
        .select_related("author")
        .order_by("-created_at", "-id")[:30]
    )
    return {
        "comments": comments,
        "comment_errors": errors or {},
        "comment_body": body,
        "comment_department": department,
        "comment_view_query": view_query or request.GET.urlencode(),
        "comment_kinds": DashboardComment.Kind.choices,
        "can_manage_comments": permissions.user_can_manage_comments(request.user),
    }


def analytics_extra(
    figures: selectors.ResponseFigures, actions: selectors.ActionSummary
) -> dict[str, Any]:
    """Topics (table, impact bars, the narrative's top issues), measured impacts and value."""
    impacts = selectors.story_impacts_get(actions.recent)
    extra: dict[str, Any] = {
        "impacts": impacts,
        "value_items": [
            charts.ValueItem(
                action=impact["action"],
                value=float(impact["value_amount"]),
                low=impact["value_low"],
                high=impact["value_high"],
                cost=impact["cost"],
            )
            for impact in impacts
            if impact["value_amount"] is not None
        ],
    }
    topics = figures.topics
    extra["topics"] = topics
    extra["topic_bars"] = [
        charts.BarItem(
            label=topic["label"],
            value=topic["impact"].value,
            low=topic["impact"].low,
            high=topic["impact"].high,
            hover=f"{topic['label']}: {topic['mentions']} mentions, "
            f"{topic['negative_share']:.0f}% negative",
        )
        for topic in sorted(topics, key=lambda t: t["impact"].value if t["impact"].ok else 0)
        if topic["impact"].ok
    ][:12]
    ordered = sorted(topics, key=lambda t: (t["id"] != figures.top_issue_id, -t["mentions"]))
    extra["top_issues"] = [
        {
            "topic": topic["label"],
            "mentions": topic["mentions"],
            "negative_share": topic["negative_share"] / 100.0,
            "nps_cost": topic["impact"].value if topic["impact"].ok else None,
            "nps_cost_low": topic["impact"].low if topic["impact"].ok else None,
            "nps_cost_high": topic["impact"].high if topic["impact"].ok else None,
            "quotes": figures.top_issue_quotes if topic["id"] == figures.top_issue_id else [],
        }
        for topic in ordered
        if figures.top_issue_id is not None or topic["negative_share"] > 0
    ][:3]
    return extra


def dashboard_filters_get(
    request: HttpRequest,
    department: selectors.DepartmentInfo | None,
    catalogue: selectors.Catalogue,
    version: selectors.DataVersion,
) -> tuple[DashboardFilters | None, DashboardFilterForm]:
    """The dashboard's filters as its URL gives them (None and the form's errors when a
    value cannot be used), for the page and for its CSV tables."""
    slug = department.slug if department else ""
    return filters_parse(
        request.GET,
        options=catalogue.options(department_slug=slug),
        latest_day=version.latest_day,
        user=request.user,
        fixed_department=slug,
    )


def dashboard_context(
    request: HttpRequest,
    *,
    department: selectors.DepartmentInfo | None,
    with_comments: bool = True,
) -> dict[str, Any]:
    catalogue = selectors.catalogue_get()
    version = selectors.data_version_get()
    slug = department.slug if department else ""
    filters, form = dashboard_filters_get(request, department, catalogue, version)
    context: dict[str, Any] = {
        "department": department,
        "form": form,
        "filters": filters,
        "swap_target": "dashboard-body",
        "status": 200,
        "min_responses": selectors.min_responses(),
    }
    if with_comments:
        context.update(comments_context(request, department=department))
        value = impact.impact_value(user=request.user, department_slug=slug or None)
        context.update(
            {
                "value": value,
                "value_tables": impact.value_tables(value),
                "value_scope": department.name if department else "",
            }
        )
    if filters is None:
        context["status"] = 400
        return context
    figures = selectors.response_figures_get(filters, catalogue, version)
    actions = selectors.action_summary_get(filters, catalogue, user=request.user)
    extra = analytics_extra(figures, actions)
    audience = department.name if department else "all departments"
    narrative: Narrative = narrative_build(
        narrative_figures(audience=audience, figures=figures, actions=actions, extra=extra)
    )
    department_rows: list[tuple[selectors.ScoreRow, bool]] = []
    if department is None:
        visible_ids = (
            None
            if permissions.user_sees_all_departments(request.user)
            else permissions.user_department_ids(request.user)
        )
        department_rows = [
            (row, visible_ids is None or _visible(catalogue, row.key, visible_ids))
            for row in figures.breakdown.departments
        ]
    context.update(
        {
            "figures": figures,
            "total": figures.breakdown.total,
            "actions": actions,
            "extra": extra,
            "narrative": narrative,
            "charts": charts.scoped(
                dashboard_charts(
                    figures=figures, actions=actions, department=department, extra=extra
                ),
                chart_scope(filters, department),
            ),
            "department_rows": department_rows,
            "can_act": can_create_action(request.user),
            "chart_insights": chart_insights(figures=figures, department=department),
            "top_issue_slug": next(
                (t["slug"] for t in figures.topics if t["id"] == figures.top_issue_id), ""
            ),
            "query": filters.as_query(department=""),
            "export_query": filters.as_query(),
            "topic_query": filters.as_query(topic=""),
            "window": filters.window_label,
        }
    )
    return context


def chart_insights(
    *, figures: selectors.ResponseFigures, department: selectors.DepartmentInfo | None
) -> list[tuple[str, str]]:
    """The elements of the charts that show insights, as ``("kind:reference", label)``: the
    topics of the topic impact bars and, on a department page, the touchpoints of its NPS
    bars. "Create action" under the charts starts from the one chosen."""
    elements = [
        (f"topic:{topic['slug']}", f"Topic: {topic['label']}")
        for topic in figures.topics
        if topic["impact"].ok and topic["slug"]
    ]
    if department is not None:
        elements.extend(
            (f"touchpoint:{row.key}", f"Touchpoint: {row.label}")
            for row in figures.breakdown.touchpoints
            if row.summary.nps.ok
        )
    return elements


def _visible(catalogue: selectors.Catalogue, slug: str, visible: frozenset[int] | set[int]) -> bool:
    info = catalogue.department_by_slug(slug)
    return bool(info and info.id in visible)


def comment_inbox_context(request: HttpRequest, *, error: str = "") -> dict[str, Any]:
    status_filter = request.GET.get("status", "open")
    queryset = DashboardComment.objects.select_related("author", "department", "resolved_by")
    valid = {"all", *DashboardComment.Status.values}
    context: dict[str, Any] = {"status": 200, "error": error, "status_filter": status_filter}
    if status_filter not in valid:
        context.update(
            status=400,
            error=f"Unknown status {status_filter!r}; choose one of: {', '.join(sorted(valid))}.",
            status_filter="open",
        )
        status_filter = "open"
    if status_filter != "all":
        queryset = queryset.filter(status=status_filter)
    ordered = queryset.order_by("-created_at", "-id")
    context["comments"] = list(ordered[:200])
    # Every comment of the status, unevaluated: the CSV streams them all.
    context["comments_all"] = ordered
    context["statuses"] = [
        ("open", "Open"),
        ("actioned", "Turned into an action"),
        ("closed", "Closed"),
        ("all", "All"),
    ]
    return context


QUADRANT_LABELS = {
    "fix_first": "Fix first",
    "strength": "Keep up",
    "maintain": "Maintain",
    "monitor": "Watch",
}


def driver_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's drivers with readable quadrant names."""
    return [
        {**driver, "quadrant_label": QUADRANT_LABELS.get(str(driver.get("quadrant")), "")}
        for driver in result.get("drivers") or []
    ]


def _period_estimates(periods: list[Any], figure: str) -> list[charts.PeriodEstimate]:
    points = []
    for period in periods:
        estimate: Score = getattr(period, figure)
        shown = estimate.ok and estimate.value is not None
        points.append(
            charts.PeriodEstimate(
                start=period.start,
                value=round(estimate.value, 2) if shown and estimate.value is not None else None,
                low=round(estimate.low, 2) if shown and estimate.low is not None else None,
                high=round(estimate.high, 2) if shown and estimate.high is not None else None,
                n=estimate.n,
            )
        )
    return points


def topic_trend_charts(*, topic_name: str, trend: text_selectors.TopicTrend) -> list[charts.Chart]:
    """The topic page's two charts: how often the topic comes up, and how negatively; a
    chart with no period of enough answers is left out (the page says why)."""
    word = trend.period
    built = [
        charts.topic_trend_chart(
            dom_id="chart-topic-share",
            title=f"Comments mentioning {topic_name}, by {word}",
            axis_title="% of comments",
            period=word,
            points=_period_estimates(trend.periods, "share"),
        ),
        charts.topic_trend_chart(
            dom_id="chart-topic-negative",
            title=f"Mentions of {topic_name} that are negative, by {word}",
            axis_title="% negative",
            period=word,
            points=_period_estimates(trend.periods, "negative_share"),
            axis_range=(0.0, 100.0),
        ),
    ]
    return [chart for chart in built if any(v is not None for v in chart.figure["data"][0]["y"])]
