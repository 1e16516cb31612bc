"""Performance: the standard indicators per grid, community or street for a meeting — district totals
with their formulas, a map of any indicator, the ranking (fair: rates smoothed towards the district's),
the tickets behind any number, monthly trends, category and time patterns, CSV/XLSX exports.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import hotspots, metrics, schema
from dashboard import data, state
from dashboard.components import charts, hints
from dashboard.components import perf_panels as panels
from dashboard.components.downloads import table_downloads
from dashboard.components.map_view import show_map
from dashboard.i18n import t

LEVELS = ("grid", "community", "street")
MAPPABLE = (
    "composite_score",
    "closure_rate_smoothed",
    "on_time_rate_smoothed",
    "satisfaction_rate_smoothed",
    "rework_rate_smoothed",
    "public_report_rate_smoothed",
    "closure_rate",
    "on_time_rate",
    "satisfaction_rate",
    "rework_rate",
    "public_report_rate",
    "handling_hours_median",
    "handling_hours_p90",
    "per_1000",
    "per_km2",
    "registered",
    "due",
    "closed",
    "on_time",
    "open",
    "overdue",
)


def render() -> None:
    sel = st.session_state[state.SELECTION]
    st.title(t("perf.title"))
    st.caption(t("perf.caption", first=sel.first.isoformat(), last=sel.last.isoformat()))
    if hints.needs(sel, (schema.GRIDS.name, schema.TICKETS.name)):  # every indicator counts tickets
        return
    level = st.radio(
        t("perf.level"), LEVELS, horizontal=True, key=state.PERF_LEVEL, format_func=lambda v: t(f"perf.level.{v}")
    )
    weights = data.composite_weights(sel.workspace)
    table = data.performance(sel.workspace, sel.version, sel.first, sel.last, level, tuple(sorted(weights.items())))
    panels.headline(table)
    notes = []
    outside = data.outside_grids(sel.workspace, sel.version, sel.first, sel.last)
    if outside:
        notes.append(t("perf.outside_grids", count=f"{outside:,}"))
    dropped = table.attrs.get("composite_dropped", ())
    if dropped:
        notes.append(t("perf.composite_dropped", names=t("hint.separator").join(t(f"perf.col.{c}") for c in dropped)))
    if notes:
        st.caption(" · ".join(notes))

    indicator_map(sel, table, level)

    st.subheader(t("perf.ranking"))
    shown = panels.ranking_frame(sel, table, level)
    event = st.dataframe(
        shown,
        key=state.PERF_TABLE,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        width="stretch",
        height=380,
    )
    table_downloads(shown, f"gridwatch_{level}_ranking", state.PERF_DOWNLOADS, t("perf.ranking"))
    if event.selection.rows:
        panels.drill_down(sel, level, table.index[event.selection.rows[0]])
    else:
        st.caption(t("perf.select_hint"))
    patterns(sel, level)
    panels.meeting_report(sel, level, weights)
    panels.weight_editor(sel.workspace, weights)


@st.fragment
def indicator_map(sel, table: pd.DataFrame, level: str) -> None:
    """The map of one indicator; choosing another reruns only this part."""
    chosen = st.selectbox(
        t("perf.map_indicator"), MAPPABLE, key=state.PERF_MAP_INDICATOR, format_func=lambda c: t(f"perf.col.{c}")
    )
    base, colours = data.performance_map(sel.workspace, sel.version, table, level, chosen, sel.language)
    show_map(base, key=state.PERF_MAP, height=460, live=colours)


def patterns(sel, level: str) -> None:
    trend_tab, heat_tab, time_tab = st.tabs([t("perf.trends"), t("perf.heat"), t("perf.time")])
    with trend_tab:
        column = st.selectbox(
            t("perf.trend_indicator"),
            ("registered",) + tuple(metrics.RATES),
            key=state.PERF_TREND,
            format_func=lambda c: t(f"perf.col.{c}"),
        )
        monthly = data.monthly(sel.workspace, sel.version, "community")
        if not monthly.empty:
            st.altair_chart(charts.trend_lines(monthly, column, t(f"perf.col.{column}"), t("perf.level.community")))
    flow = data.period_tickets(sel.workspace, sel.version, sel.first, sel.last)
    with heat_tab:
        st.altair_chart(
            charts.heat_table(flow, metrics.LEVELS[level], t(f"perf.level.{level}"), t("perf.col.registered")),
            width="stretch",
        )
    with time_tab:
        weekdays = [t(f"perf.weekday.{d}") for d in range(7)]
        st.altair_chart(
            charts.hour_weekday(hotspots.hour_weekday(flow), weekdays, t("perf.col.registered")), width="stretch"
        )
