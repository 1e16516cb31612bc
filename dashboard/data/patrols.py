"""Caches of the Patrols page (views/patrols.py): roster, compliance, gaps, workload, districts."""

from __future__ import annotations

from datetime import date

import folium
import pandas as pd
import streamlit as st

from core import contiguity, districts, metrics, patrol, patrol_inputs, schema, workspaces
from core.roster import assignment_problems
from core.workload import WorkloadWeights, plan_report
from dashboard.components import map_builders, maps
from dashboard.data import shared
from dashboard.i18n import translate


# ---- Patrols ------------------------------------------------------------------------------------
def assignments(name: str) -> pd.DataFrame:
    """The workspace's patrol duty roster (``team_id``, ``grid_id``; empty until one is saved); in a
    scoped view only the rows of the scope's grids."""
    roster = workspaces.patrol_assignments(shared.workspace(name))
    if shared.view_of(name)[1].name is None:
        return roster
    grids = shared.layer(name, shared.version(name), schema.GRIDS.name)
    return roster[roster[schema.GRID_ID].isin(grids[schema.GRID_ID])].reset_index(drop=True)


def save_assignments(name: str, roster: pd.DataFrame, *, author: str) -> None:
    """Replace the duty roster (a workspace setting: who set it and when are kept with it)."""
    workspaces.save_patrol_assignments(shared.workspace(name), roster, author=author)


def roster_problems(name: str, ver: int, roster: pd.DataFrame) -> list:
    """Errors and warnings of the saved roster against the active grids and teams (e.g. grids that a new
    boundary version removed)."""
    if roster.empty:
        return []
    return assignment_problems(
        roster, shared.layer(name, ver, schema.GRIDS.name), shared.layer(name, ver, schema.PATROL_TEAMS.name)
    )


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_compliance(
    name: str, ver: int, first: date, last: date, roster: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(night × team compliance of the period, per-team summary)."""
    teams = shared.layer(name, ver, schema.PATROL_TEAMS.name)
    nights = patrol.nights_in(metrics.Period.from_dates(first, last, shared.workspace_timezone(name)))
    table = patrol.compliance(shared.joined(name, ver, schema.PATROL_CHECKINS.name), roster, teams, nights)
    return table, patrol.nights_missed(table)


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_gaps(
    name: str, ver: int, first: date, last: date, roster: pd.DataFrame, days: int
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(assigned grids not visited in the ``days`` days up to the data's latest sign-in or ticket, grids
    by tickets against patrol visits — None without tickets)."""
    clock = shared.as_of(name, ver)
    return patrol_inputs.patrol_gaps(
        shared.layer(name, ver, schema.GRIDS.name),
        shared.joined(name, ver, schema.PATROL_CHECKINS.name),
        roster,
        shared.layer(name, ver, schema.PATROL_TEAMS.name),
        shared.joined(name, ver, schema.TICKETS.name) if clock is not None else None,
        metrics.Period.from_dates(first, last, shared.workspace_timezone(name)),
        clock,
        days,
    )


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_workload(
    name: str,
    ver: int,
    first: date,
    last: date,
    weights: WorkloadWeights,
    severity: tuple[tuple[str, float], ...],
) -> pd.DataFrame:
    """The workload per grid of the period (area and population alone without a ticket layer)."""
    tz = shared.workspace_timezone(name)
    return patrol_inputs.period_workload(
        shared.layer(name, ver, schema.GRIDS.name),
        shared.joined(name, ver, schema.TICKETS.name) if shared.as_of(name, ver) is not None else None,
        metrics.Period.from_dates(first, last, tz),
        weights,
        dict(severity),
        tz,
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def patrol_contiguity(name: str, boundary_ver: int) -> contiguity.Contiguity:
    return contiguity.Contiguity.from_grids(shared.layer(name, boundary_ver, schema.GRIDS.name))


def usable_roster(name: str, ver: int, roster: pd.DataFrame) -> pd.DataFrame | None:
    """The roster rows whose grid and team still exist, one team per grid (None if nothing is left): what
    a redesign starts from and is compared with, even while the saved roster needs fixing."""
    return patrol_inputs.usable_roster(
        roster, shared.layer(name, ver, schema.GRIDS.name), shared.layer(name, ver, schema.PATROL_TEAMS.name)
    )


def propose_districts(
    name: str, ver: int, workload: pd.DataFrame, roster: pd.DataFrame, locks: dict[str, str], progress
) -> districts.PlanResult:
    """Solve the balanced, contiguous districts (not cached: the page keeps the result in the session)."""
    plan = districts.DistrictPlan.from_geodataframes(
        shared.layer(name, ver, schema.GRIDS.name),
        shared.layer(name, ver, schema.PATROL_TEAMS.name),
        workload,
        current=usable_roster(name, ver, roster),
        locks=locks or None,
        contiguity=patrol_contiguity(name, shared.boundary_version(name, ver)),
    )
    return plan.solve(progress=progress)


@st.cache_data(show_spinner=False, max_entries=8)
def district_report(
    name: str, ver: int, assignment: pd.DataFrame, workload: pd.DataFrame, current: pd.DataFrame | None
) -> tuple[pd.DataFrame, dict]:
    return plan_report(
        shared.layer(name, ver, schema.GRIDS.name),
        assignment,
        shared.layer(name, ver, schema.PATROL_TEAMS.name),
        workload,
        current=current,
        contiguity=patrol_contiguity(name, shared.boundary_version(name, ver)),
    )


def district_map(name: str, ver: int, roster: pd.DataFrame, lang: str) -> tuple[folium.Map, folium.FeatureGroup]:
    """Grids coloured by their team (drawn once per boundary version) with the teams' bases marked."""
    boundary_ver = shared.boundary_version(name, ver)
    grids, _ = shared.display_boundaries(name, boundary_ver)
    teams = shared.layer(name, ver, schema.PATROL_TEAMS.name)
    labels = {key: translate(lang, f"patrol.{key}") for key in ("legend", "team", "no_team", "bases")} | {
        "base_of": {
            tid: translate(lang, "patrol.base_of", team=n) for tid, n in zip(teams[schema.TEAM_ID], teams[schema.NAME])
        }
    }
    return (
        maps.choropleth_base_map(shared.grid_base(name, boundary_ver)),
        map_builders.team_update(grids[schema.GRID_ID], roster, teams, labels=labels),
    )
