"""Parts of the Performance page: the district totals with their formulas, the tickets behind a number,
the ranking as shown, the meeting report's downloads and the composite's weights."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import audit, metrics, schema
from dashboard import data, state
from dashboard.components import signin, tables
from dashboard.components.downloads import Download, file_downloads
from dashboard.components.tickets import readable
from dashboard.i18n import t

RANKING = (
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
DRILLABLE = (*metrics.RATES, "registered", "due", "closed", "on_time", "open", "overdue")
HEADLINE = ("registered", "due", "closed", "on_time")


def headline(table: pd.DataFrame) -> None:
    """District totals with the formula of each rate (the sums of the units' counts)."""
    total = metrics.district_counts(table)
    rates = metrics.district_rates(total)
    row = st.columns(6)
    for box, column in zip(row, HEADLINE):
        box.metric(t(f"perf.col.{column}"), f"{int(total[column]):,}")
    formulas = {}
    for rate in metrics.RATES:
        formulas[rate] = (rates[rate], tables.rate_formula(t, rate, total))
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
    """The ranking table as the page shows it: unit names, year-over-year beside the changes, rates in
    percent, figures rounded, headings translated."""
    names = data.unit_names(sel.workspace, sel.version, level)
    frame = table[list(RANKING)].copy()
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
        if signin.may("weights") and st.button(t("perf.save_weights"), key=state.PERF_SAVE_WEIGHTS):
            if sum(chosen.values()) <= 0:
                st.error(t("perf.weights_zero"))
            else:
                account = signin.require("weights")
                data.save_composite_weights(name, chosen)
                audit.record("weights_saved", account.username, workspace=name)
                st.rerun()
