"""What the Patrols page's analyses start from, worked out the same way for the dashboard, the CLI and a
notebook: the rows of a saved roster that still fit the grids and teams, the clock and the two tables of
the patrol gaps, and the workload of a period (area and population alone when there are no tickets).

What is NOT here: the analyses themselves (roster checks, compliance, unvisited grids, visits against
tickets, the workload score and the district plan: ``core.patrol``), and where the roster is kept
(``core.workspaces.patrol_assignments``).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from core import metrics, patrol, schema
from core.workload import WorkloadWeights
from core.workload import workload as grid_workload

__all__ = ["gaps_clock", "no_tickets", "patrol_gaps", "period_workload", "usable_roster"]


def usable_roster(roster: pd.DataFrame, grids: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame | None:
    """The roster rows whose grid and team still exist, one team per grid (the first listed), numbered
    from 0; None if nothing is left. What a redesign starts from and is compared with, even while the
    saved roster needs fixing."""
    known = roster[
        roster[schema.GRID_ID].isin(grids[schema.GRID_ID]) & roster[schema.TEAM_ID].isin(teams[schema.TEAM_ID])
    ].drop_duplicates(schema.GRID_ID)
    return None if known.empty else known.reset_index(drop=True)


def gaps_clock(as_of: pd.Timestamp | None, checkins: pd.DataFrame, fallback: pd.Timestamp) -> pd.Timestamp:
    """The moment the patrol gaps are counted back from: the later of the data's clock ``as_of`` (the
    latest ticket) and the latest sign-in; ``fallback`` (the period's end) when there is neither."""
    latest = checkins[schema.CHECKED_AT].max() if len(checkins) else None
    times = [c for c in (as_of, latest) if c is not None and not pd.isna(c)]
    return max(times) if times else fallback


def patrol_gaps(
    grids: gpd.GeoDataFrame,
    checkins: gpd.GeoDataFrame,
    roster: pd.DataFrame,
    teams: pd.DataFrame,
    tickets: pd.DataFrame | None,
    period: metrics.Period,
    as_of: pd.Timestamp | None,
    days: int,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(assigned grids not visited in the ``days`` days up to ``gaps_clock``, grids by the tickets of
    ``period`` against patrol visits — None without ``tickets``)."""
    clock = gaps_clock(as_of, checkins, period.end)
    unvisited = patrol.unvisited_grids(checkins, roster, grids, clock, days, teams=teams)
    versus = None if tickets is None else patrol.visits_vs_tickets(grids, tickets, checkins, period)
    return unvisited, versus


def no_tickets(tz: str) -> pd.DataFrame:
    """An empty ticket table with the columns ``workload.workload`` reads (created times in ``tz``)."""
    return pd.DataFrame(
        {
            schema.GRID_ID: pd.Series(dtype="str"),
            schema.CATEGORY: pd.Series(dtype="str"),
            schema.STAGE: pd.Series(dtype="str"),
            schema.CREATED_AT: pd.Series(dtype=f"datetime64[ns, {tz}]"),
        }
    )


def period_workload(
    grids: gpd.GeoDataFrame,
    tickets: pd.DataFrame | None,
    period: metrics.Period,
    weights: WorkloadWeights,
    severity: Mapping[str, float] | None,
    tz: str,
) -> pd.DataFrame:
    """``workload.workload`` of ``period``; without ``tickets`` (no ticket layer) it is area and population
    alone. ``severity`` weighs categories (None or empty: every category counts 1); ``tz`` is the
    workspace's zone."""
    return grid_workload(
        grids, no_tickets(tz) if tickets is None else tickets, period, weights, dict(severity or {}) or None
    )
