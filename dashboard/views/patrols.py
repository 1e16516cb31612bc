"""Patrols: who patrols which grids (the duty roster), whether the teams signed in every night and where,
the grids nobody visits, whether patrols go where the tickets are, and a redesign into balanced,
contiguous patrol districts with the roster to download.

The analysis is ``core.patrol``; the roster is a workspace setting (``data.assignments``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import patrol, schema
from core.errors import GridWatchError
from core.workload import WorkloadWeights
from dashboard import data, state
from dashboard.components import charts, hints, tables
from dashboard.components import patrol_panels as panels
from dashboard.components.filters import category_weights
from dashboard.i18n import show_error, t

WEIGHTS = WorkloadWeights()  # the sliders start at core's defaults


def render() -> None:
    sel = st.session_state[state.SELECTION]
    st.title(t("patrol.title"))
    st.caption(t("patrol.caption", first=sel.first.isoformat(), last=sel.last.isoformat()))
    if state.FLASH in st.session_state:
        st.success(st.session_state.pop(state.FLASH))
    if hints.needs(sel, (schema.GRIDS.name, schema.PATROL_TEAMS.name)):
        return
    roster = data.assignments(sel.workspace)
    problems = data.roster_problems(sel.workspace, sel.version, roster)
    if roster.empty:
        st.warning(t("patrol.no_roster"))
    elif any(p.severity == "error" for p in problems):
        st.error(t("patrol.roster_stale"))
    signed = not hints.load_next(sel, (schema.PATROL_CHECKINS.name,))
    if signed:
        nights, per_team = data.patrol_compliance(sel.workspace, sel.version, sel.first, sel.last, roster)
        headline(nights, per_team)

    tabs = st.tabs([t("patrol.tab.compliance"), t("patrol.tab.gaps"), t("patrol.tab.roster"), t("patrol.tab.redesign")])
    if signed:
        with tabs[0]:
            compliance_calendar(nights, per_team)
        with tabs[1]:
            panels.gaps(sel, roster)
    with tabs[2]:
        roster_tab(sel, roster, problems)
    with tabs[3]:
        redesign(sel, roster)


@st.fragment
def roster_tab(sel, roster: pd.DataFrame, problems: list) -> None:
    """Editing the roster reruns only this tab (until it is saved)."""
    panels.render(sel, roster, problems)


def headline(nights: pd.DataFrame, per_team: pd.DataFrame) -> None:
    summary = patrol.ComplianceSummary.of(nights, per_team)
    rate = "–" if pd.isna(summary.compliance_rate) else f"{summary.compliance_rate:.1%}"
    row = st.columns(5)
    row[0].metric(t("patrol.teams"), f"{summary.teams:,}")
    row[1].metric(t("patrol.compliance_rate"), rate, help=t("patrol.compliance_help"))
    row[2].metric(t("patrol.missed"), f"{summary.missed:,}")
    row[3].metric(t("patrol.outside"), f"{summary.outside_sign_ins:,}", help=t("patrol.outside_help"))
    row[4].metric(t("patrol.called_off"), f"{summary.called_off:,}", help=t("patrol.called_off_help"))


def compliance_calendar(nights: pd.DataFrame, per_team: pd.DataFrame) -> None:
    labels = {s: t(f"patrol.status.{s}") for s in charts.COMPLIANCE_COLORS}
    titles = {
        "team_name": t("patrol.team"),
        "night": t("patrol.night"),
        "label": t("patrol.state"),
        "sign_ins": t("patrol.sign_ins"),
        "first": t("patrol.first_at"),
    }
    chart = charts.compliance_calendar(nights, list(per_team["team_name"]), labels, titles, t("patrol.calendar"))
    st.altair_chart(chart, width="stretch")
    table = tables.rounded(per_team, {"compliance_rate": 1}, percent=("compliance_rate",))
    st.dataframe(
        table.reset_index().rename(columns=lambda c: t(f"patrol.col.{c}")),
        hide_index=True,
        width="stretch",
        key=state.PATROL_PER_TEAM,
    )


@st.fragment
def redesign(sel, roster: pd.DataFrame) -> None:
    """The redesign inputs, the run and the comparison; moving a slider reruns only this tab."""
    st.caption(t("patrol.redesign_help"))
    cols = st.columns(3)
    weights = WorkloadWeights(
        tickets=cols[0].slider(t("patrol.w.tickets"), 0.0, 1.0, WEIGHTS.tickets, 0.05, key=state.PATROL_W_TICKETS),
        area=cols[1].slider(t("patrol.w.area"), 0.0, 1.0, WEIGHTS.area, 0.05, key=state.PATROL_W_AREA),
        population=cols[2].slider(
            t("patrol.w.population"), 0.0, 1.0, WEIGHTS.population, 0.05, key=state.PATROL_W_POPULATION
        ),
    )
    severity = category_weights(sel, state.PATROL_SEVERITY, t("patrol.severity"))
    locks = panels.lock_picker(sel, roster)
    try:
        workload = data.patrol_workload(sel.workspace, sel.version, sel.first, sel.last, weights, severity)
    except GridWatchError as exc:
        show_error(exc)
        return
    inputs = (sel.workspace, sel.version, sel.first, sel.last, weights, severity, tuple(sorted(locks.items())))
    if st.button(t("patrol.run"), type="primary", key=state.PATROL_RUN):
        bar = st.progress(0.0, text=t("patrol.solving"))
        try:
            result = data.propose_districts(
                sel.workspace,
                sel.version,
                workload,
                roster,
                locks,
                lambda stage, f: bar.progress(min(max(f, 0.0), 1.0), text=t(f"patrol.stage.{stage}")),
            )
        except GridWatchError as exc:
            bar.empty()
            show_error(exc)
            return
        bar.empty()
        st.session_state[state.PROPOSAL] = (
            inputs,
            result.assignment.rename_axis(schema.GRID_ID).rename(schema.TEAM_ID).reset_index(),
            round(result.seconds, 2),
        )
    proposal = st.session_state.get(state.PROPOSAL)
    if proposal and proposal[0] == inputs:  # a proposal is shown only with the inputs it was made from
        panels.comparison(sel, roster, proposal[1], workload, proposal[2])
