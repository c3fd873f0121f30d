"""Plotly figure builders: plain figure dicts (Plotly's JSON schema) for the page's script.

Figures are built as dicts rather than ``plotly.graph_objects`` so a page pays no
validation cost; tests validate every builder's output with ``go.Figure``. Text that
came from users (action titles, topic names) is HTML-escaped, because Plotly renders a
subset of HTML in labels. Each chart carries a sentence describing it for screen readers.
Every axis title states its unit. The mode bar shows on hover only, with one button
(``static/js/dashboards.js`` makes it download a PNG titled with the chart's title, its
``scope`` and dates). The vendored Plotly bundle holds only ``TRACE_TYPES``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

BRAND = "#0f4c81"
BAND = "rgba(15, 76, 129, 0.18)"
GOOD = "#1d7a46"
BAD = "#b42318"
MUTED = "#556170"
GREY = "#8a94a3"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 13}
# The trace types of static/vendor/plotly/plotly.min.js (plotly.js-basic-dist-min).
TRACE_TYPES = frozenset({"scatter", "bar", "pie"})


@dataclass(frozen=True)
class Chart:
    """A figure ready for the page: ``dom_id`` names its div, ``description`` its alt text,
    ``scope`` the responses and dates it shows (written under the title of its PNG)."""

    dom_id: str
    title: str
    description: str
    figure: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    scope: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "config": self.config,
            "export": {"title": self.title, "scope": self.scope},
        }


def scoped(built: Sequence[Chart], scope: str) -> list[Chart]:
    """The charts with the scope their PNG names ("Billing · 1 Dec 2025 – 30 Nov 2026")."""
    return [replace(chart, scope=scope) for chart in built]


def _config(filename: str) -> dict[str, Any]:
    """On hover only, and only the PNG download: the other buttons covered labels and added
    tab stops without helping anyone read a dashboard."""
    return {
        "displaylogo": False,
        "displayModeBar": "hover",
        "responsive": True,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }


def _layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "closest",
        # At the foot of the figure, in pixels (not a fraction of the plot), so it never
        # lands on the x-axis title however short the chart is.
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0},
    }
    layout.update(extra)
    return layout


def _text(value: str, limit: int = 60) -> str:
    value = value if len(value) <= limit else value[: limit - 1] + "…"
    return html.escape(value)


@dataclass(frozen=True)
class TrendSeries:
    """One score per week with its interval; ``None`` where the week has too few answers."""

    weeks: Sequence[dt.date]
    values: Sequence[float | None]
    lows: Sequence[float | None]
    highs: Sequence[float | None]
    counts: Sequence[int]


@dataclass(frozen=True)
class ActionMarker:
    day: dt.date
    title: str


def score_trend_chart(
    *,
    dom_id: str,
    metric: str,
    series: TrendSeries,
    markers: Sequence[ActionMarker] = (),
    axis_range: tuple[float, float] | None = None,
    axis_title: str = "",
) -> Chart:
    """A weekly score line inside its 95% band, with a dotted line per implemented action;
    ``axis_title`` names the score with its unit (the metric's name if empty)."""
    weeks = [week.isoformat() for week in series.weeks]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": weeks,
            "y": list(series.highs),
            "mode": "lines",
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
            "name": "upper",
        },
        {
            "type": "scatter",
            "x": weeks,
            "y": list(series.lows),
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": BAND,
            "name": "95% interval",
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": weeks,
            "y": list(series.values),
            "mode": "lines+markers",
            "line": {"color": BRAND, "width": 2},
            "marker": {"size": 5},
            "name": metric,
            "customdata": list(series.counts),
            "hovertemplate": f"Week of %{{x|%d %b %Y}}<br>{metric} %{{y:.1f}}"
            "<br>%{customdata} responses<extra></extra>",
        },
    ]
    shapes, annotations = [], []
    for marker in markers:
        day = marker.day.isoformat()
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": day,
                "x1": day,
                "y0": 0,
                "y1": 1,
                "line": {"color": GOOD, "width": 1.5, "dash": "dot"},
            }
        )
        annotations.append(
            {
                "x": day,
                "xref": "x",
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "text": "✓",
                "hovertext": _text(f"Action implemented: {marker.title}", 120),
                "showarrow": False,
                "font": {"color": GOOD, "size": 14},
            }
        )
    if markers:
        data.append(
            {
                "type": "scatter",
                "x": [m.day.isoformat() for m in markers],
                "y": [None for _ in markers],
                "mode": "markers",
                "marker": {"color": GOOD, "symbol": "line-ns-open"},
                "name": "Action implemented",
            }
        )
    yaxis: dict[str, Any] = {
        "title": {"text": axis_title or metric},
        "zeroline": True,
        "gridcolor": "#eef0f3",
    }
    if axis_range:
        yaxis["range"] = list(axis_range)
    layout = _layout(
        xaxis={
            "type": "date",
            "title": {"text": "Week starting (date)"},
            "automargin": True,
            "gridcolor": "#eef0f3",
        },
        yaxis=yaxis,
        shapes=shapes,
        annotations=annotations,
        margin={"l": 60, "r": 20, "t": 30, "b": 80},
    )
    shown = [v for v in series.values if v is not None]
    if shown:
        description = (
            f"Weekly {metric} from {series.weeks[0]:%d %b %Y} to {series.weeks[-1]:%d %b %Y}, "
            f"between {min(shown):.1f} and {max(shown):.1f}, latest {shown[-1]:.1f}, "
            f"with its 95% interval band and {len(markers)} implemented action(s) marked."
        )
    else:
        description = f"Weekly {metric}: no week has enough responses yet."
    return Chart(
        dom_id, f"{metric} by week", description, {"data": data, "layout": layout}, _config(dom_id)
    )


@dataclass(frozen=True)
class BarItem:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    hover: str = ""


def interval_bars_chart(
    *,
    dom_id: str,
    title: str,
    axis_title: str,
    items: Sequence[BarItem],
    signed_colours: bool = True,
    category_title: str = "",
) -> Chart:
    """Horizontal bars with 95% error bars (e.g. NPS by department, topic impact);
    ``axis_title`` is the value with its unit, ``category_title`` what the bars are."""
    shown = [item for item in items if item.value is not None]
    values = [float(item.value or 0) for item in shown]
    colours = [(GOOD if value >= 0 else BAD) if signed_colours else BRAND for value in values]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [_text(item.label) for item in shown],
            "x": values,
            "marker": {"color": colours},
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": [
                    max((item.high if item.high is not None else v) - v, 0)
                    for item, v in zip(shown, values, strict=True)
                ],
                "arrayminus": [
                    max(v - (item.low if item.low is not None else v), 0)
                    for item, v in zip(shown, values, strict=True)
                ],
                "color": MUTED,
            },
            "hovertext": [_text(item.hover or item.label, 160) for item in shown],
            "hoverinfo": "text+x",
            "name": axis_title,
        }
    ]
    layout = _layout(
        xaxis={
            "title": {"text": axis_title},
            "zeroline": True,
            "zerolinecolor": MUTED,
            "gridcolor": "#eef0f3",
        },
        yaxis={
            "autorange": "reversed",
            "automargin": True,
            **({"title": {"text": category_title}} if category_title else {}),
        },
        height=max(220, 36 * len(shown) + 90),
        showlegend=False,
    )
    if shown:
        parts = [f"{item.label}: {float(item.value or 0):.1f}" for item in shown[:8]]
        description = f"{title}. " + "; ".join(parts) + ("; …" if len(shown) > 8 else "") + "."
    else:
        description = f"{title}: nothing to show yet."
    return Chart(dom_id, title, description, {"data": data, "layout": layout}, _config(dom_id))


@dataclass(frozen=True)
class DriverPoint:
    slug: str
    label: str
    share: float  # share of explained variance, 0–1
    low: float | None
    high: float | None
    performance: float  # mean rating as % of its scale, 0–100


LABEL_POSITIONS = ["top center", "bottom center", "middle right", "middle left"]


def _performance_range(drivers: Sequence[DriverPoint]) -> list[float]:
    """Zoom on where the drivers are (at least 10 points wide), within 0–100."""
    if not drivers:
        return [0.0, 100.0]
    low = min(d.performance for d in drivers)
    high = max(d.performance for d in drivers)
    centre, half = (low + high) / 2, max((high - low) / 2 + 3, 5.0)
    return [max(centre - half, 0.0), min(centre + half, 100.0)]


def driver_quadrant_chart(*, dom_id: str, drivers: Sequence[DriverPoint]) -> Chart:
    """Importance (share of R²) against performance; top-left = fix first."""
    if drivers:
        mid_x = sum(d.performance for d in drivers) / len(drivers)
        mid_y = sum(d.share for d in drivers) / len(drivers) * 100
    else:
        mid_x, mid_y = 50.0, 0.0
    data = [
        {
            "type": "scatter",
            "mode": "markers+text",
            "x": [d.performance for d in drivers],
            "y": [d.share * 100 for d in drivers],
            "text": [_text(d.label, 30) for d in drivers],
            # Alternate label sides so that drivers close together stay readable.
            "textposition": [
                LABEL_POSITIONS[i % len(LABEL_POSITIONS)] for i in range(len(drivers))
            ],
            "marker": {
                "size": 12,
                "color": [
                    BAD if d.performance < mid_x and d.share * 100 >= mid_y else BRAND
                    for d in drivers
                ],
            },
            "error_y": {
                "type": "data",
                "symmetric": False,
                "array": [
                    max(((d.high if d.high is not None else d.share) - d.share) * 100, 0)
                    for d in drivers
                ],
                "arrayminus": [
                    max((d.share - (d.low if d.low is not None else d.share)) * 100, 0)
                    for d in drivers
                ],
                "color": GREY,
            },
            "hovertemplate": "%{text}<br>performance %{x:.0f}%<br>importance %{y:.1f}% of explained variance<extra></extra>",
            "name": "Drivers",
        }
    ]
    shapes = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": mid_x,
            "x1": mid_x,
            "y0": 0,
            "y1": 1,
            "line": {"color": GREY, "dash": "dash", "width": 1},
        },
        {
            "type": "line",
            "xref": "paper",
            "yref": "y",
            "x0": 0,
            "x1": 1,
            "y0": mid_y,
            "y1": mid_y,
            "line": {"color": GREY, "dash": "dash", "width": 1},
        },
    ]
    annotations = [
        {
            "xref": "paper",
            "yref": "paper",
            "x": 0.01,
            "y": 0.99,
            "text": "Fix first: important, weak",
            "showarrow": False,
            "font": {"color": BAD},
            "xanchor": "left",
        },
        {
            "xref": "paper",
            "yref": "paper",
            "x": 0.99,
            "y": 0.99,
            "text": "Keep up: important, strong",
            "showarrow": False,
            "font": {"color": GOOD},
            "xanchor": "right",
        },
        {
            "xref": "paper",
            "yref": "paper",
            "x": 0.01,
            "y": 0.01,
            "text": "Watch",
            "showarrow": False,
            "font": {"color": MUTED},
            "xanchor": "left",
        },
        {
            "xref": "paper",
            "yref": "paper",
            "x": 0.99,
            "y": 0.01,
            "text": "Maintain",
            "showarrow": False,
            "font": {"color": MUTED},
            "xanchor": "right",
        },
    ]
    layout = _layout(
        xaxis={
            "title": {"text": "Performance (mean rating, % of scale)"},
            "range": _performance_range(drivers),
            "gridcolor": "#eef0f3",
        },
        yaxis={
            "title": {"text": "Importance (% of explained variance)"},
            "rangemode": "tozero",
            "gridcolor": "#eef0f3",
        },
        shapes=shapes,
        annotations=annotations,
        showlegend=False,
        height=460,
    )
    weak = [d.label for d in drivers if d.performance < mid_x and d.share * 100 >= mid_y]
    description = f"Driver quadrant of {len(drivers)} drivers: importance against performance. " + (
        f"Important but weak (fix first): {', '.join(weak)}."
        if weak
        else "No driver is both important and weak."
    )
    return Chart(
        dom_id,
        "Driver importance × performance",
        description,
        {"data": data, "layout": layout},
        _config(dom_id),
    )


def kpi_unit_text(unit: str, currency: str = "") -> str:
    """A KPI unit as an axis writes it: "%", "EUR", "count", "seconds"."""
    return {
        "percent": "%",
        "currency": currency or "money",
        "count": "count",
        "duration": "seconds",
    }.get(unit, unit)


@dataclass(frozen=True)
class KpiPoint:
    period: dt.date
    value: float


def kpi_series_chart(
    *,
    dom_id: str,
    kpi_label: str,
    treated: Sequence[KpiPoint],
    control: Sequence[KpiPoint] = (),
    implemented_on: dt.date | None = None,
    treated_label: str = "Action scope",
    control_label: str = "Control scope",
    unit: str = "",
    currency: str = "",
) -> Chart:
    """A KPI before and after an action in its scope, and in the control scope if any;
    ``unit`` is the KPI's unit code (``Kpi.Unit``), written on the axis."""
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": [p.period.isoformat() for p in treated],
            "y": [p.value for p in treated],
            "name": _text(treated_label),
            "line": {"color": BRAND, "width": 2},
            "marker": {"size": 4},
        }
    ]
    if control:
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [p.period.isoformat() for p in control],
                "y": [p.value for p in control],
                "name": _text(control_label),
                "line": {"color": GREY, "width": 2, "dash": "dash"},
                "marker": {"size": 4},
            }
        )
    shapes, annotations = [], []
    if implemented_on:
        day = implemented_on.isoformat()
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": day,
                "x1": day,
                "y0": 0,
                "y1": 1,
                "line": {"color": GOOD, "dash": "dot", "width": 2},
            }
        )
        annotations.append(
            {
                "x": day,
                "xref": "x",
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "text": "implemented",
                "showarrow": False,
                "font": {"color": GOOD},
            }
        )
    unit_text = kpi_unit_text(unit, currency)
    layout = _layout(
        xaxis={
            "type": "date",
            "title": {"text": "Period starting (date)"},
            "automargin": True,
            "gridcolor": "#eef0f3",
        },
        yaxis={
            "title": {"text": _text(f"{kpi_label} ({unit_text})" if unit_text else kpi_label)},
            "gridcolor": "#eef0f3",
        },
        shapes=shapes,
        annotations=annotations,
        margin={"l": 60, "r": 20, "t": 30, "b": 80},
    )
    description = (
        f"{kpi_label} per period in the action's scope ({len(treated)} periods)"
        + (f" and in the control scope ({len(control)} periods)" if control else "")
        + (
            f", with the implementation on {implemented_on:%d %b %Y} marked."
            if implemented_on
            else "."
        )
    )
    return Chart(
        dom_id,
        f"{kpi_label} before and after",
        description,
        {"data": data, "layout": layout},
        _config(dom_id),
    )


ACTION_STATUS_ORDER = [
    ("proposed", "Proposed"),
    ("accepted", "Accepted"),
    ("in_progress", "In progress"),
    ("implemented", "Implemented"),
    ("measured", "Measured"),
]


def action_status_chart(*, dom_id: str, status_counts: dict[str, int], overdue: int) -> Chart:
    """Actions at each lifecycle step as bars of counts (a funnel drew hourglasses for empty
    steps), with the overdue ones called out."""
    labels = [label for _, label in ACTION_STATUS_ORDER]
    values = [int(status_counts.get(status, 0)) for status, _ in ACTION_STATUS_ORDER]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": labels,
            "y": values,
            "text": [str(value) for value in values],
            "textposition": "outside",
            "cliponaxis": False,
            "marker": {"color": [BRAND, "#2d6aa3", "#4b86bd", GOOD, "#145a33"]},
            "hovertemplate": "%{x}: %{y} action(s)<extra></extra>",
            "name": "Actions",
        }
    ]
    layout = _layout(
        showlegend=False,
        height=320,
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
        xaxis={"title": {"text": "Status"}},
        yaxis={
            "title": {"text": "Actions (count)"},
            "rangemode": "tozero",
            # Whole actions: no "0.5" ticks while the counts are small.
            **({"dtick": 1} if max(values, default=0) <= 10 else {}),
            "gridcolor": "#eef0f3",
        },
        annotations=[
            {
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 1,
                "yanchor": "bottom",
                "xanchor": "right",
                "text": f"Overdue: {overdue}",
                "showarrow": False,
                "font": {"color": BAD if overdue else MUTED, "size": 14},
            }
        ],
    )
    declined = int(status_counts.get("declined", 0)) + int(status_counts.get("cancelled", 0))
    description = (
        "Actions by status: "
        + ", ".join(f"{label} {value}" for label, value in zip(labels, values, strict=True))
        + f"; {overdue} overdue; {declined} declined or cancelled."
    )
    return Chart(
        dom_id, "Actions by status", description, {"data": data, "layout": layout}, _config(dom_id)
    )


@dataclass(frozen=True)
class ValueItem:
    action: str
    value: float
    low: float | None
    high: float | None
    cost: float | None

    @property
    def roi(self) -> float | None:
        return self.value / self.cost if self.cost else None


def action_value_chart(*, dom_id: str, items: Sequence[ValueItem], currency: str = "EUR") -> Chart:
    """Measured money value per action with its interval, ROI in the hover text."""
    bars = [
        BarItem(
            label=item.action,
            value=item.value,
            low=item.low,
            high=item.high,
            hover=f"{item.action}: value {currency} {item.value:,.0f}"
            + (
                f", cost {currency} {item.cost:,.0f}, ROI {item.roi:.1f}×"
                if item.roi is not None and item.cost
                else ""
            ),
        )
        for item in items
    ]
    chart = interval_bars_chart(
        dom_id=dom_id,
        title="Measured value of actions",
        axis_title=f"Value per year ({currency})",
        category_title="Action",
        items=bars,
    )
    return chart


@dataclass(frozen=True)
class PeriodEstimate:
    """One period's estimate with its 95% interval; ``value`` None when too few answers."""

    start: dt.date
    value: float | None
    low: float | None
    high: float | None
    n: int


def topic_trend_chart(
    *,
    dom_id: str,
    title: str,
    axis_title: str,
    period: str,
    points: Sequence[PeriodEstimate],
    axis_range: tuple[float, float] | None = None,
) -> Chart:
    """A topic's figure per week or month (``period``) as points with 95% error bars; a
    period with too few answers is a gap, not a number."""
    shown = [p for p in points if p.value is not None]
    word = "Week" if period == "week" else "Month"
    date_format = "%d %b %Y" if period == "week" else "%b %Y"
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": [p.start.isoformat() for p in points],
            "y": [p.value for p in points],
            "connectgaps": False,
            "line": {"color": BRAND, "width": 2},
            "marker": {"size": 6},
            "error_y": {
                "type": "data",
                "symmetric": False,
                "array": [
                    max(p.high - p.value, 0) if p.value is not None and p.high is not None else 0
                    for p in points
                ],
                "arrayminus": [
                    max(p.value - p.low, 0) if p.value is not None and p.low is not None else 0
                    for p in points
                ],
                "color": MUTED,
                "thickness": 1,
            },
            "customdata": [[p.n, p.low, p.high] for p in points],
            "name": _text(axis_title),
            "hovertemplate": f"{word} of %{{x|{date_format}}}<br>{_text(axis_title)} %{{y:.1f}}"
            " (95% interval %{customdata[1]:.1f} to %{customdata[2]:.1f})"
            "<br>%{customdata[0]} answers<extra></extra>",
        }
    ]
    yaxis: dict[str, Any] = {
        "title": {"text": _text(axis_title)},
        "zeroline": True,
        "gridcolor": "#eef0f3",
        "rangemode": "tozero",
    }
    if axis_range:
        yaxis["range"] = list(axis_range)
    layout = _layout(
        xaxis={"type": "date", "gridcolor": "#eef0f3"},
        yaxis=yaxis,
        showlegend=False,
        height=280,
        margin={"l": 60, "r": 20, "t": 20, "b": 40},
    )
    if shown:
        description = (
            f"{title}: per {period} from {points[0].start:{date_format}} to "
            f"{points[-1].start:{date_format}}, between {min(p.value or 0 for p in shown):.1f} "
            f"and {max(p.value or 0 for p in shown):.1f}, latest {shown[-1].value:.1f}, "
            "each with its 95% interval."
        )
    else:
        description = f"{title}: no {period} has enough answers yet."
    return Chart(dom_id, title, description, {"data": data, "layout": layout}, _config(dom_id))
