"""Caches of the Patrols page (views/patrols.py): roster, compliance, gaps, workload, districts."""

from __future__ import annotations

from datetime import date

import folium
import pandas as pd
import streamlit as st

from core import metrics, patrol, schema, workspaces
from dashboard.components import map_builders, maps
from dashboard.data.workspace import (
    as_of,
    boundary_version,
    display_boundaries,
    grid_base,
    joined,
    layer,
    workspace,
    workspace_timezone,
)
from dashboard.i18n import translate


# ---- Patrols ------------------------------------------------------------------------------------
def assignments(name: str) -> pd.DataFrame:
    """The workspace's patrol duty roster (``team_id``, ``grid_id``; empty until one is saved)."""
    saved = workspace(name).get_setting(schema.PATROL_ASSIGNMENTS, {})
    return pd.DataFrame(saved.get("rows", []), columns=list(schema.PATROL_ASSIGNMENT_COLUMNS), dtype="str")


def save_assignments(name: str, roster: pd.DataFrame, *, author: str) -> None:
    """Replace the duty roster (a workspace setting: who set it and when are kept with it)."""
    workspace(name).set_setting(
        schema.PATROL_ASSIGNMENTS, workspaces.roster_record(roster, author=author, tz=workspace_timezone(name))
    )


def roster_problems(name: str, ver: int, roster: pd.DataFrame) -> list:
    """Errors and warnings of the saved roster against the active grids and teams (e.g. grids that a new
    boundary version removed)."""
    if roster.empty:
        return []
    return patrol.assignment_problems(
        roster, layer(name, ver, schema.GRIDS.name), layer(name, ver, schema.PATROL_TEAMS.name)
    )


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_compliance(
    name: str, ver: int, first: date, last: date, roster: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(night × team compliance of the period, per-team summary)."""
    teams = layer(name, ver, schema.PATROL_TEAMS.name)
    nights = patrol.nights_in(metrics.Period.from_dates(first, last, workspace_timezone(name)))
    table = patrol.compliance(joined(name, ver, schema.PATROL_CHECKINS.name), roster, teams, nights)
    return table, patrol.nights_missed(table)


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_gaps(
    name: str, ver: int, first: date, last: date, roster: pd.DataFrame, days: int
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(assigned grids not visited in the ``days`` days up to the data's latest sign-in or ticket, grids
    by tickets against patrol visits — None without tickets)."""
    grids = layer(name, ver, schema.GRIDS.name)
    checkins = joined(name, ver, schema.PATROL_CHECKINS.name)
    times = [
        c
        for c in (as_of(name, ver), checkins[schema.CHECKED_AT].max() if len(checkins) else None)
        if c is not None and not pd.isna(c)
    ]
    clock = max(times) if times else metrics.Period.from_dates(first, last, workspace_timezone(name)).end
    unvisited = patrol.unvisited_grids(
        checkins, roster, grids, clock, days, teams=layer(name, ver, schema.PATROL_TEAMS.name)
    )
    tickets = joined(name, ver, schema.TICKETS.name) if as_of(name, ver) is not None else None
    versus = (
        None
        if tickets is None
        else patrol.visits_vs_tickets(
            grids, tickets, checkins, metrics.Period.from_dates(first, last, workspace_timezone(name))
        )
    )
    return unvisited, versus


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_workload(
    name: str,
    ver: int,
    first: date,
    last: date,
    weights: patrol.WorkloadWeights,
    severity: tuple[tuple[str, float], ...],
) -> pd.DataFrame:
    if as_of(name, ver) is not None:
        tickets = joined(name, ver, schema.TICKETS.name)
    else:  # no tickets layer: the workload is area and population
        tickets = pd.DataFrame(
            {
                schema.GRID_ID: pd.Series(dtype="str"),
                schema.CATEGORY: pd.Series(dtype="str"),
                schema.STAGE: pd.Series(dtype="str"),
                schema.CREATED_AT: pd.Series(dtype=f"datetime64[ns, {workspace_timezone(name)}]"),
            }
        )
    return patrol.workload(
        layer(name, ver, schema.GRIDS.name),
        tickets,
        metrics.Period.from_dates(first, last, workspace_timezone(name)),
        weights,
        dict(severity) or None,
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def patrol_contiguity(name: str, boundary_ver: int) -> patrol.Contiguity:
    return patrol.Contiguity.from_grids(layer(name, boundary_ver, schema.GRIDS.name))


def usable_roster(name: str, ver: int, roster: pd.DataFrame) -> pd.DataFrame | None:
    """The roster rows whose grid and team still exist, one team per grid (None if nothing is left): what
    a redesign starts from and is compared with, even while the saved roster needs fixing."""
    grids = layer(name, ver, schema.GRIDS.name)
    teams = layer(name, ver, schema.PATROL_TEAMS.name)
    known = roster[
        roster[schema.GRID_ID].isin(grids[schema.GRID_ID]) & roster[schema.TEAM_ID].isin(teams[schema.TEAM_ID])
    ].drop_duplicates(schema.GRID_ID)
    return None if known.empty else known.reset_index(drop=True)


def propose_districts(
    name: str, ver: int, workload: pd.DataFrame, roster: pd.DataFrame, locks: dict[str, str], progress
) -> patrol.PlanResult:
    """Solve the balanced, contiguous districts (not cached: the page keeps the result in the session)."""
    plan = patrol.DistrictPlan.from_geodataframes(
        layer(name, ver, schema.GRIDS.name),
        layer(name, ver, schema.PATROL_TEAMS.name),
        workload,
        current=usable_roster(name, ver, roster),
        locks=locks or None,
        contiguity=patrol_contiguity(name, boundary_version(name, ver)),
    )
    return plan.solve(progress=progress)


@st.cache_data(show_spinner=False, max_entries=8)
def district_report(
    name: str, ver: int, assignment: pd.DataFrame, workload: pd.DataFrame, current: pd.DataFrame | None
) -> tuple[pd.DataFrame, dict]:
    return patrol.plan_report(
        layer(name, ver, schema.GRIDS.name),
        assignment,
        layer(name, ver, schema.PATROL_TEAMS.name),
        workload,
        current=current,
        contiguity=patrol_contiguity(name, boundary_version(name, ver)),
    )


def district_map(name: str, ver: int, roster: pd.DataFrame, lang: str) -> tuple[folium.Map, folium.FeatureGroup]:
    """Grids coloured by their team (drawn once per boundary version) with the teams' bases marked."""
    boundary_ver = boundary_version(name, ver)
    grids, _ = display_boundaries(name, boundary_ver)
    teams = layer(name, ver, schema.PATROL_TEAMS.name)
    labels = {key: translate(lang, f"patrol.{key}") for key in ("legend", "team", "no_team", "bases")} | {
        "base_of": {
            tid: translate(lang, "patrol.base_of", team=n) for tid, n in zip(teams[schema.TEAM_ID], teams[schema.NAME])
        }
    }
    return (
        maps.choropleth_base_map(grid_base(name, boundary_ver)),
        map_builders.team_update(grids[schema.GRID_ID], roster, teams, labels=labels),
    )
