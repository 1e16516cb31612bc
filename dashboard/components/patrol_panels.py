"""Parts of the Patrols page: the duty roster (edit, import, export), the redesign inputs, and the
current-vs-proposed comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import audit, patrol, schema
from core.errors import GridWatchError, ValidationError
from core.roster import assignments_to_csv, read_assignments_csv, roster_table, validate_assignments
from dashboard import data, state
from dashboard.components import downloads, signin, tables
from dashboard.components.map_view import show_map
from dashboard.components.upload import problem_table
from dashboard.i18n import show_error, t

REPORT_COLUMNS = (
    "team_name",
    "grids",
    "workload_vs_mean",
    "tickets",
    "population",
    "area_km2",
    "polsby_popper",
    "travel_mean_m",
    "travel_max_m",
    "parts",
)
SUMMARY = ("max_min_ratio", "gini", "polsby_popper_mean", "contiguous", "changed_grids")


def district_map(sel, roster: pd.DataFrame, key: str, height: int = 460) -> None:
    base, colours = data.district_map(sel.workspace, sel.version, roster, sel.language)
    show_map(base, key=key, height=height, live=colours)


def render(sel, roster: pd.DataFrame, problems: list) -> None:
    """The roster: the map of today's districts, the table (team editable per grid), CSV import, exports."""
    if problems:
        problem_table(problems)
    district_map(sel, roster, key=state.PATROL_CURRENT_MAP)
    grids = data.layer(sel.workspace, sel.version, schema.GRIDS.name)
    teams = data.layer(sel.workspace, sel.version, schema.PATROL_TEAMS.name)
    # team names need not be unique: the editor shows "name · id" and maps back by id
    labels = {tid: f"{name} · {tid}" for tid, name in zip(teams[schema.TEAM_ID], teams[schema.NAME], strict=True)}
    table = grids[[schema.GRID_ID, schema.NAME, schema.COMMUNITY]].merge(
        roster.drop_duplicates(schema.GRID_ID), on=schema.GRID_ID, how="left"
    )
    table["team"] = table[schema.TEAM_ID].map(labels)
    edited = st.data_editor(
        table[[schema.GRID_ID, schema.NAME, schema.COMMUNITY, "team"]],
        hide_index=True,
        width="stretch",
        height=320,
        key=state.ROSTER_EDITOR,
        disabled=[schema.GRID_ID, schema.NAME, schema.COMMUNITY],
        column_config={
            "team": st.column_config.SelectboxColumn(t("patrol.team"), options=list(labels.values())),
            schema.GRID_ID: t("patrol.col.grid_id"),
            schema.NAME: t("patrol.col.grid_name"),
            schema.COMMUNITY: t("patrol.col.community"),
        },
    )
    by_label = {label: tid for tid, label in labels.items()}
    changed = edited["team"].fillna("").to_numpy() != table["team"].fillna("").to_numpy()
    if not signin.may("roster"):
        st.caption(t("patrol.roster_read_only"))
    elif changed.any() and st.button(t("patrol.save_edits", n=int(changed.sum())), key=state.ROSTER_SAVE):
        new = pd.DataFrame({schema.TEAM_ID: edited["team"].map(by_label), schema.GRID_ID: edited[schema.GRID_ID]})
        save(sel, new.dropna())
    left, right = st.columns(2)
    upload = None
    if signin.may("roster"):
        upload = left.file_uploader(
            t("patrol.import"), type=["csv"], key=state.ROSTER_UPLOAD, help=t("patrol.import_help")
        )
    if upload is not None and left.button(t("patrol.import_save"), key=state.ROSTER_IMPORT):
        try:
            save(sel, read_assignments_csv(upload.getvalue(), grids, teams))
        except ValidationError as exc:
            problem_table(list(exc.problems))
        except GridWatchError as exc:
            show_error(exc)
    with right:
        roster_downloads(sel, roster, "gridwatch_duty_roster", state.ROSTER_DOWNLOADS)


def save(sel, roster: pd.DataFrame) -> None:
    grids = data.layer(sel.workspace, sel.version, schema.GRIDS.name)
    teams = data.layer(sel.workspace, sel.version, schema.PATROL_TEAMS.name)
    checked = validate_assignments(roster, grids, teams)
    account = signin.require("roster")
    data.save_assignments(sel.workspace, checked, author=signin.author(account))
    audit.record("roster_saved", account.username, workspace=sel.workspace, detail=f"{len(checked)} assignments")
    st.session_state[state.FLASH] = t("patrol.saved", n=len(checked))
    st.rerun()


def roster_downloads(sel, roster: pd.DataFrame, name: str, key: str) -> None:
    grids = data.layer(sel.workspace, sel.version, schema.GRIDS.name)
    teams = data.layer(sel.workspace, sel.version, schema.PATROL_TEAMS.name)
    table = roster_table(roster, teams, grids).rename(columns=lambda c: t(f"patrol.col.{c}"))
    files = downloads.table_files(
        lambda: assignments_to_csv(roster, teams, grids),
        lambda: data.xlsx_bytes(table, t("patrol.tab.roster")),
        t("patrol.roster_csv"),
        t("patrol.roster_xlsx"),
    )
    downloads.file_downloads(name, key, files, stacked=True)


def _table(frame: pd.DataFrame, height: int, key: str) -> None:
    st.dataframe(
        frame.rename(columns=lambda c: t(f"patrol.col.{c}")), hide_index=True, width="stretch", height=height, key=key
    )


def gaps(sel, roster: pd.DataFrame) -> None:
    days = st.number_input(t("patrol.unvisited_days"), 1, 90, patrol.UNVISITED_DAYS, key=state.PATROL_DAYS)
    unvisited, versus = data.patrol_gaps(sel.workspace, sel.version, sel.first, sel.last, roster, int(days))
    st.subheader(t("patrol.unvisited", n=len(unvisited), days=days))
    shown = unvisited.copy()
    shown["last_visit"] = shown["last_visit"].dt.strftime("%Y-%m-%d").fillna(t("patrol.never"))
    _table(shown, 260, state.PATROL_UNVISITED)
    if versus is None:
        return
    st.subheader(t("patrol.versus"))
    st.caption(t("patrol.versus_help"))
    top = tables.rounded(
        versus.sort_values("gap_rank").head(30).reset_index(),
        {"visits_per_100_tickets": 1, "ticket_percentile": 0, "gap": 2},
        percent=("ticket_percentile", "gap"),
    )
    _table(top, 300, state.PATROL_VERSUS)


def lock_picker(sel, roster: pd.DataFrame) -> dict[str, str]:
    """Grids that must stay with their current team."""
    grids = data.layer(sel.workspace, sel.version, schema.GRIDS.name)
    names = dict(zip(grids[schema.GRID_ID], grids[schema.NAME], strict=True))
    assigned = [g for g in roster[schema.GRID_ID] if g in names]
    chosen = st.multiselect(
        t("patrol.locks"),
        assigned,
        key=state.PATROL_LOCKS,
        help=t("patrol.locks_help"),
        format_func=lambda g: names[g],
        placeholder=t("patrol.no_locks"),
    )
    owner = roster.drop_duplicates(schema.GRID_ID).set_index(schema.GRID_ID)[schema.TEAM_ID]
    return {g: owner[g] for g in chosen}


def shown(value) -> str:
    """A summary figure as the comparison table shows it."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return t("patrol.yes") if value else t("patrol.no")
    if isinstance(value, float):
        return f"{value:,.3f}" if np.isfinite(value) else "–"  # max/min with a team of no workload
    return f"{value:,}"


def proposal_text(seconds: float, now_summary: dict, new_summary: dict) -> str:
    """The one-line result of a redesign; without a current roster on these grids there is nothing to
    compare, which is said rather than "0 grids change team"."""
    if new_summary["changed_grids"] is None:
        return t("patrol.proposed_no_roster", seconds=f"{seconds:.1f}", after=shown(new_summary["max_min_ratio"]))
    return t(
        "patrol.proposed",
        seconds=f"{seconds:.1f}",
        count=f"{new_summary['changed_grids']:,}",
        before=shown(now_summary["max_min_ratio"]),
        after=shown(new_summary["max_min_ratio"]),
    )


def comparison(sel, roster: pd.DataFrame, proposed: pd.DataFrame, workload: pd.DataFrame, seconds: float) -> None:
    """Current and proposed districts side by side, their figures, and what to do with the proposal."""
    current = data.usable_roster(sel.workspace, sel.version, roster)
    new, new_summary = data.district_report(sel.workspace, sel.version, proposed, workload, current)
    if current is not None:
        now, now_summary = data.district_report(sel.workspace, sel.version, current, workload, None)
    else:
        now, now_summary = new.iloc[:0], dict.fromkeys(SUMMARY)

    st.success(proposal_text(seconds, now_summary, new_summary))
    left, right = st.columns(2)
    for box, title, table, key in (
        (left, "patrol.current_plan", roster, state.PATROL_MAP_NOW),
        (right, "patrol.proposed_plan", proposed, state.PATROL_MAP_NEW),
    ):
        with box:
            st.subheader(t(title))
            district_map(sel, table, key=key, height=420)
    st.table(
        pd.DataFrame(
            {
                t("patrol.current_plan"): [shown(now_summary[c]) for c in SUMMARY],
                t("patrol.proposed_plan"): [shown(new_summary[c]) for c in SUMMARY],
            },
            index=[t(f"patrol.sum.{c}") for c in SUMMARY],
        )
    )
    both = now[list(REPORT_COLUMNS)].join(new[list(REPORT_COLUMNS[1:])], lsuffix="_now", rsuffix="_new", how="right")
    both = both.round(2).rename(
        columns=lambda c: (
            t(f"patrol.col.{c.removesuffix('_now').removesuffix('_new')}")
            + (f" ({t('patrol.now')})" if c.endswith("_now") else f" ({t('patrol.new')})" if c.endswith("_new") else "")
        )
    )
    st.dataframe(both.reset_index(drop=True), hide_index=True, width="stretch", key=state.PATROL_COMPARE)
    adopt, dl = st.columns([1, 2])
    if signin.may("roster") and adopt.button(t("patrol.adopt"), key=state.PATROL_ADOPT):
        st.session_state.pop(state.PROPOSAL, None)
        save(sel, proposed)
    with dl:
        roster_downloads(sel, proposed, "gridwatch_proposed_roster", state.PROPOSAL_DOWNLOADS)
