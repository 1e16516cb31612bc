"""Performance: the standard indicators per grid, community or street for a meeting — district totals
with their formulas, a map of any indicator, the ranking (fair: rates smoothed towards the district's),
the tickets behind any number, monthly trends, category and time patterns, CSV/XLSX exports.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import hotspots, metrics, schema
from dashboard import data, state
from dashboard.components import charts, hints, tables
from dashboard.components.downloads import Download, file_downloads, table_downloads
from dashboard.components.map_view import show_map
from dashboard.components.tickets import readable
from dashboard.i18n import t

LEVELS = ("grid", "community", "street")
TABLE = (
    "rank",
    "composite_score",
    "registered",
    "registered_change",
    "due",
    "closed",
    "closure_rate",
    "closure_rate_change",
    "on_time",
    "on_time_rate",
    "on_time_rate_smoothed",
    "on_time_rate_change",
    "rework_rate",
    "satisfaction_rate",
    "public_report_rate",
    "handling_hours_median",
    "handling_hours_p90",
    "open",
    "overdue",
    "per_1000",
    "per_km2",
)
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
DRILLABLE = (*metrics.RATES, "registered", "due", "closed", "on_time", "open", "overdue")
HEADLINE = ("registered", "due", "closed", "on_time")


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
    headline(table)
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
    shown = ranking_frame(sel, table, level)
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
        drill_down(sel, level, table.index[event.selection.rows[0]])
    else:
        st.caption(t("perf.select_hint"))
    patterns(sel, level)
    meeting_report(sel, level, weights)
    weight_editor(sel.workspace, weights)


@st.fragment
def indicator_map(sel, table: pd.DataFrame, level: str) -> None:
    """The map of one indicator; choosing another reruns only this part."""
    chosen = st.selectbox(
        t("perf.map_indicator"), MAPPABLE, key=state.PERF_MAP_INDICATOR, format_func=lambda c: t(f"perf.col.{c}")
    )
    base, colours = data.performance_map(sel.workspace, sel.version, table, level, chosen, sel.language)
    show_map(base, key=state.PERF_MAP, height=460, live=colours)


def headline(table: pd.DataFrame) -> None:
    """District totals with the formula of each rate (the sums of the units' counts)."""
    total = metrics.district_counts(table)
    rates = metrics.district_rates(total)
    row = st.columns(6)
    for box, column in zip(row, HEADLINE):
        box.metric(t(f"perf.col.{column}"), f"{int(total[column]):,}")
    formulas = {}
    for rate, (numerator, denominator) in metrics.RATES.items():
        formulas[rate] = (
            rates[rate],
            t(
                "perf.formula",
                rate=t(f"perf.col.{rate}"),
                numerator=t(f"perf.col.{numerator}"),
                denominator=t(f"perf.col.{denominator}"),
                n=f"{int(total[numerator]):,}",
                d=f"{int(total[denominator]):,}",
            ),
        )
    for box, rate in zip(row[4:], ("closure_rate", "on_time_rate")):
        value, formula = formulas[rate]
        box.metric(t(f"perf.col.{rate}"), "–" if pd.isna(value) else f"{value:.2%}", help=formula)
    with st.expander(t("perf.formulas")):
        st.markdown(
            "\n".join(
                f"- {formula} = {'–' if pd.isna(value) else f'{value:.2%}'}" for value, formula in formulas.values()
            )
        )
        st.caption(t("perf.definitions"))


def ranking_frame(sel, table: pd.DataFrame, level: str) -> pd.DataFrame:
    names = data.unit_names(sel.workspace, sel.version, level)
    frame = table[list(TABLE)].copy()
    yoy = data.year_over_year(sel.workspace, sel.version, sel.first, sel.last, level).reindex(table.index)
    frame.insert(frame.columns.get_loc("registered_change") + 1, "registered_yoy", yoy["registered"])
    frame.insert(frame.columns.get_loc("on_time_rate_change") + 1, "on_time_rate_yoy", yoy["on_time_rate"])
    frame = tables.percent_rounded(frame, ("rate", "rate_smoothed", "rate_change", "rate_yoy"))
    frame.insert(0, "unit", table.index.map(lambda k: names.get(k, k)))
    return frame.rename(columns=lambda c: t(f"perf.col.{c}"))


def drill_down(sel, level: str, unit: str) -> None:
    """The tickets behind one indicator of the selected unit: its denominator's, numerator flagged."""
    rate = st.selectbox(
        t("perf.drill_indicator"), DRILLABLE, key=state.PERF_DRILL, format_func=lambda c: t(f"perf.col.{c}")
    )
    numerator, denominator = metrics.RATES.get(rate, (rate, rate))  # a count is its own denominator
    tickets = data.behind(sel.workspace, sel.version, sel.first, sel.last, level, unit, numerator, denominator)
    name = data.unit_names(sel.workspace, sel.version, level).get(unit, unit)
    st.markdown(
        t(
            "perf.drill_caption",
            unit=name,
            rate=t(f"perf.col.{rate}"),
            n=int(tickets["counted"].sum()),
            d=len(tickets),
            numerator=t(f"perf.col.{numerator}"),
            denominator=t(f"perf.col.{denominator}"),
        )
    )
    columns = [
        schema.TICKET_ID,
        "counted",
        schema.CREATED_AT,
        schema.CATEGORY,
        schema.DESCRIPTION,
        schema.STAGE,
        schema.DEADLINE_AT,
        schema.CLOSED_AT,
        schema.REWORK_COUNT,
        schema.SATISFACTION,
        schema.SOURCE,
    ]
    shown = readable(tickets, columns)
    st.dataframe(
        shown.rename(columns=lambda c: t(f"perf.ticket.{c}")),
        hide_index=True,
        width="stretch",
        key=state.PERF_DRILL_TABLE,
    )


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


def meeting_report(sel, level: str, weights: dict[str, float]) -> None:
    st.subheader(t("report.heading"))
    st.caption(t("report.help"))
    args = (sel.workspace, sel.version, sel.first, sel.last, level, tuple(sorted(weights.items())), sel.language)
    name = f"gridwatch_report_{sel.first.isoformat()}_{sel.last.isoformat()}"
    # deferred: the report is made when a button is clicked, not on every visit of the page
    files = (
        Download(t("report.pdf"), lambda: data.meeting_report(*args)[0], "pdf", "application/pdf"),
        Download(t("report.html"), lambda: data.meeting_report(*args)[1].encode("utf-8"), "html", "text/html"),
    )
    file_downloads(name, state.REPORT_DOWNLOADS, files)


def weight_editor(name: str, weights: dict[str, float]) -> None:
    with st.expander(t("perf.weights")):
        st.caption(t("perf.weights_help"))
        chosen = {
            key: st.number_input(
                t(f"perf.col.{key}"),
                0.0,
                10.0,
                float(weights.get(key, 0.0)),
                0.05,
                key=state.key_of(state.PERF_WEIGHT, key),
            )
            for key in metrics.HIGHER_IS_BETTER
        }
        if st.button(t("perf.save_weights"), key=state.PERF_SAVE_WEIGHTS):
            if sum(chosen.values()) <= 0:
                st.error(t("perf.weights_zero"))
            else:
                data.save_composite_weights(name, chosen)
                st.rerun()
