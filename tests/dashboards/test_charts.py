from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go

from dashboards import charts


def _week(n: int) -> dt.date:
    return dt.date(2026, 1, 5) + dt.timedelta(weeks=n)


def test_every_builder_makes_a_valid_plotly_figure() -> None:
    """Plotly's own validator accepts each figure dict (data and layout)."""
    built = [
        charts.score_trend_chart(
            dom_id="t",
            metric="NPS",
            series=charts.TrendSeries(
                [_week(0), _week(1)], [10.0, None], [5.0, None], [15.0, None], [40, 3]
            ),
            markers=[charts.ActionMarker(day=_week(1), title="Call back")],
        ),
        charts.interval_bars_chart(
            dom_id="b",
            title="NPS by department",
            axis_title="NPS",
            items=[charts.BarItem("Billing", 40, 30, 50)],
        ),
        charts.driver_quadrant_chart(
            dom_id="q",
            drivers=[
                charts.DriverPoint("wait", "Wait", 0.4, 0.3, 0.5, 35.0),
                charts.DriverPoint("staff", "Staff", 0.1, 0.05, 0.2, 80.0),
            ],
        ),
        charts.kpi_series_chart(
            dom_id="k",
            kpi_label="Churn",
            treated=[charts.KpiPoint(_week(0), 2.0)],
            control=[charts.KpiPoint(_week(0), 2.1)],
            implemented_on=_week(0),
        ),
        charts.action_status_chart(
            dom_id="f", status_counts={"proposed": 3, "implemented": 1}, overdue=2
        ),
        charts.action_value_chart(
            dom_id="v", items=[charts.ValueItem("Call back", 12000.0, 4000.0, 20000.0, 3000.0)]
        ),
    ]
    for chart in built:
        go.Figure(chart.figure)  # raises on any invalid property
        assert chart.config["toImageButtonOptions"]["format"] == "png"
        assert chart.description
        # The vendored partial bundle draws only these; another type would be a blank chart.
        assert {trace["type"] for trace in chart.figure["data"]} <= charts.TRACE_TYPES
        # On hover only, one button (the titled PNG download of static/js/dashboards.js).
        assert chart.config["displayModeBar"] == "hover"
        assert chart.config["modeBarButtons"] == [["toImage"]]
        layout = chart.figure["layout"]
        horizontal = chart.figure["data"][0].get("orientation") == "h"
        value_axes = ["xaxis"] if horizontal else ["xaxis", "yaxis"]
        for axis in value_axes:
            assert layout[axis]["title"]["text"], (chart.dom_id, axis)


def test_each_value_axis_names_its_unit() -> None:
    """Axis titles carry units: points, %, counts, currency, dates."""
    kpi = charts.kpi_series_chart(
        dom_id="k",
        kpi_label="Revenue",
        treated=[charts.KpiPoint(_week(0), 2.0)],
        unit="currency",
        currency="EUR",
    )
    status = charts.action_status_chart(dom_id="s", status_counts={}, overdue=0)

    assert kpi.figure["layout"]["yaxis"]["title"]["text"] == "Revenue (EUR)"
    assert kpi.figure["layout"]["xaxis"]["title"]["text"] == "Period starting (date)"
    assert status.figure["layout"]["yaxis"]["title"]["text"] == "Actions (count)"
    assert charts.kpi_unit_text("percent") == "%"


def test_the_status_chart_draws_bars_of_counts_with_empty_steps_at_zero() -> None:
    """Actions per lifecycle step as bars (a funnel drew hourglasses for empty steps)."""
    chart = charts.action_status_chart(
        dom_id="s", status_counts={"proposed": 3, "implemented": 1}, overdue=2
    )
    trace = chart.figure["data"][0]

    assert trace["type"] == "bar"
    assert trace["x"] == ["Proposed", "Accepted", "In progress", "Implemented", "Measured"]
    assert trace["y"] == [3, 0, 0, 1, 0]
    assert "Overdue: 2" in chart.figure["layout"]["annotations"][0]["text"]


def test_a_scoped_chart_carries_its_scope_for_the_png() -> None:
    """The payload the page script reads names the title and the scope of the PNG."""
    chart = charts.action_status_chart(dom_id="s", status_counts={}, overdue=0)

    (scoped,) = charts.scoped([chart], "Billing · 1 Dec 2025 – 30 Nov 2026")

    assert scoped.payload["export"] == {
        "title": "Actions by status",
        "scope": "Billing · 1 Dec 2025 – 30 Nov 2026",
    }


def test_user_text_in_charts_is_escaped() -> None:
    """An action title with markup is escaped before Plotly renders it as label HTML."""
    chart = charts.score_trend_chart(
        dom_id="t",
        metric="NPS",
        series=charts.TrendSeries([_week(0)], [1.0], [0.0], [2.0], [50]),
        markers=[charts.ActionMarker(day=_week(0), title="<img src=x onerror=alert(1)>")],
    )
    hover = chart.figure["layout"]["annotations"][0]["hovertext"]
    assert "<img" not in hover
    assert "&lt;img" in hover


def test_quadrant_calls_out_important_weak_drivers() -> None:
    """The description names the drivers above average importance and below average performance."""
    chart = charts.driver_quadrant_chart(
        dom_id="q",
        drivers=[
            charts.DriverPoint("wait", "Wait time", 0.6, None, None, 30.0),
            charts.DriverPoint("staff", "Staff", 0.4, None, None, 90.0),
        ],
    )
    assert "Important but weak (fix first): Wait time." in chart.description
