"""Parts of the Performance page: the district totals with their formulas, the tickets behind a number,
the meeting report's downloads and the composite's weights."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import metrics, schema
from dashboard import data, state
from dashboard.components.downloads import Download, file_downloads
from dashboard.components.tickets import readable
from dashboard.i18n import t

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
        if st.button(t("perf.save_weights"), key=state.PERF_SAVE_WEIGHTS):
            if sum(chosen.values()) <= 0:
                st.error(t("perf.weights_zero"))
            else:
                data.save_composite_weights(name, chosen)
                st.rerun()
