"""Ticket and district indicators, each a plain function over canonical frames.

Definitions used here (DESIGN.md lists the full indicator set):

* **open** — stage is one of ``schema.OPEN_STAGES`` (not closed, not cancelled);
* **overdue** — open and its ``deadline_at`` is before the reference time ``as_of``;
* **in period** — ``period.start <= created_at < period.end``.

``as_of`` is the data's own clock (``data_as_of``: the newest time recorded in the tickets), so a
snapshot loaded weeks later does not turn every open ticket overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import geopandas as gpd
import pandas as pd

from core import schema


@dataclass(frozen=True)
class Period:
    """A half-open time window ``[start, end)`` in the workspace timezone."""

    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def from_dates(cls, first: date, last: date) -> "Period":
        """The whole days ``first`` … ``last`` inclusive."""
        start = pd.Timestamp(first).tz_localize(schema.TIMEZONE)
        end = pd.Timestamp(last + timedelta(days=1)).tz_localize(schema.TIMEZONE)
        return cls(start, end)

    def contains(self, times: pd.Series) -> pd.Series:
        return (times >= self.start) & (times < self.end)


@dataclass(frozen=True)
class HeadlineFigures:
    """The district at a glance (the Overview page's figures)."""

    grids: int
    communities: int
    streets: int
    cameras_online: int
    cameras_total: int
    tickets_in_period: int
    open_tickets: int
    overdue_tickets: int
    members: int
    unassigned_tickets: int


def data_as_of(tickets: pd.DataFrame) -> pd.Timestamp | None:
    """The newest time recorded in ``tickets`` (created, dispatched or closed); None if there is none."""
    columns = [c for c in (schema.CREATED_AT, schema.DISPATCHED_AT, schema.CLOSED_AT) if c in tickets]
    if tickets.empty or not columns:
        return None
    latest = max(tickets[c].max() for c in columns)
    return None if pd.isna(latest) else latest


def open_mask(tickets: pd.DataFrame) -> pd.Series:
    """Tickets still being handled."""
    return tickets[schema.STAGE].isin(schema.OPEN_STAGES)


def overdue_mask(tickets: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Open tickets whose committed deadline passed before ``as_of``."""
    return open_mask(tickets) & (tickets[schema.DEADLINE_AT] < as_of).fillna(False).astype(bool)


def registered_mask(tickets: pd.DataFrame) -> pd.Series:
    """立案: every ticket that was not cancelled."""
    return tickets[schema.STAGE] != "cancelled"


def due_mask(tickets: pd.DataFrame, period: Period) -> pd.Series:
    """应结案: registered tickets whose deadline falls in ``period``."""
    return registered_mask(tickets) & period.contains(tickets[schema.DEADLINE_AT]).fillna(False).astype(bool)


def on_time_mask(tickets: pd.DataFrame) -> pd.Series:
    """按期结案: closed no later than the deadline (combine with ``due_mask`` for the rate)."""
    closed_by = tickets[schema.CLOSED_AT] <= tickets[schema.DEADLINE_AT]
    return (tickets[schema.STAGE] == "closed") & closed_by.fillna(False).astype(bool)


def ticket_count_by_grid(tickets: pd.DataFrame, grids: gpd.GeoDataFrame, period: Period) -> pd.Series:
    """Tickets created in ``period`` per grid (indexed by grid_id, zeros included; cancelled excluded).

    ``tickets`` must already carry ``grid_id`` from ``core.joins.join_to_grids``.
    """
    counted = tickets[period.contains(tickets[schema.CREATED_AT])
                      & (tickets[schema.STAGE] != "cancelled")]
    counts = counted[schema.GRID_ID].value_counts()
    return counts.reindex(grids[schema.GRID_ID], fill_value=0).astype("int64").rename("tickets")


def headline_figures(grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame, tickets: pd.DataFrame,
                     members: pd.DataFrame, period: Period, as_of: pd.Timestamp) -> HeadlineFigures:
    """The Overview figures. ``tickets`` must carry ``grid_id``/``assigned`` from ``core.joins``.

    Open and overdue count every ticket open at ``as_of`` (a state, not a flow); tickets in period
    counts those created in ``period``, cancelled ones excluded.
    """
    in_period = period.contains(tickets[schema.CREATED_AT]) & (tickets[schema.STAGE] != "cancelled")
    return HeadlineFigures(
        grids=len(grids),
        communities=grids[[schema.STREET, schema.COMMUNITY]].drop_duplicates().shape[0],
        streets=grids[schema.STREET].nunique(),
        cameras_online=int((cameras[schema.STATUS] == "online").sum()),
        cameras_total=len(cameras),
        tickets_in_period=int(in_period.sum()),
        open_tickets=int(open_mask(tickets).sum()),
        overdue_tickets=int(overdue_mask(tickets, as_of).sum()),
        members=len(members),
        unassigned_tickets=int((~tickets[schema.ASSIGNED]).sum()),
    )
