"""What the command center watches: per-grid live measures, the overdue list, today's counters,
tonight's patrol sign-ins and the card of one grid.

Every function takes canonical frames whose point layers already carry ``grid_id`` from
``core.joins.join_to_grids``, and a reference time ``as_of`` (the data's own clock, see
``core.metrics.data_as_of``). "Today" is the calendar day of ``as_of`` in the workspace timezone; a
patrol *night* runs from noon to noon, so a 00:40 sign-in belongs to the night before.

Open and overdue are states at ``as_of`` and ignore the period; the period selects ticket flows
(tickets created in it, deadlines due in it). ``TicketFilter`` (category, source, stage, community)
applies to both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from core import metrics, schema
from core.privacy import mask_phone

__all__ = [
    "MEASURES",
    "NIGHT_STARTS_AT_HOUR",
    "Counters",
    "GridCard",
    "TicketFilter",
    "counters",
    "grid_card",
    "grid_measures",
    "night_of",
    "overdue_list",
    "today",
    "tonight_checkins",
]

MEASURES = ("open", "overdue", "per_1000", "on_time_rate", "members")
"""Grid colourings offered on the command-center map (columns of ``grid_measures``)."""

NIGHT_STARTS_AT_HOUR = 12

OPEN_TICKET_COLUMNS = (
    schema.TICKET_ID,
    schema.CREATED_AT,
    schema.CATEGORY,
    schema.SUBCATEGORY,
    schema.DESCRIPTION,
    schema.SOURCE,
    schema.STAGE,
    schema.DEADLINE_AT,
    "overdue",
)


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets count; an empty tuple means no restriction."""

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()

    def mask(self, tickets: pd.DataFrame) -> pd.Series:
        keep = pd.Series(True, index=tickets.index)
        for column, allowed in (
            (schema.CATEGORY, self.categories),
            (schema.SOURCE, self.sources),
            (schema.STAGE, self.stages),
            (schema.COMMUNITY, self.communities),
        ):
            if allowed:
                keep &= tickets[column].isin(allowed)
        return keep

    def apply(self, tickets: pd.DataFrame) -> pd.DataFrame:
        return tickets[self.mask(tickets)] if self != TicketFilter() else tickets


def today(as_of: pd.Timestamp) -> metrics.Period:
    """The calendar day of ``as_of`` in its own time zone (the workspace's: the data carry it)."""
    day = as_of.tz_localize(None).normalize()
    return metrics.Period(
        metrics.local_midnight(day, as_of.tz),  # 23 or 25 hours on a DST change
        metrics.local_midnight(day + pd.Timedelta(days=1), as_of.tz),
    )


def night_of(as_of: pd.Timestamp) -> metrics.Period:
    """The patrol night (noon to noon on the wall clock of ``as_of``'s time zone) that contains ``as_of``."""
    noon = pd.Timedelta(hours=NIGHT_STARTS_AT_HOUR)
    day = (as_of.tz_localize(None) - noon).normalize()
    start, end = day + noon, day + pd.Timedelta(days=1) + noon
    return metrics.Period(start.tz_localize(as_of.tz), end.tz_localize(as_of.tz))


def grid_measures(
    grids: gpd.GeoDataFrame, tickets: pd.DataFrame, members: pd.DataFrame, period: metrics.Period, as_of: pd.Timestamp
) -> pd.DataFrame:
    """One row per grid (index ``grid_id``, in ``grids`` order):

    * ``tickets`` created in ``period`` (cancelled excluded), ``per_1000`` of them per 1,000 residents;
    * ``open`` and ``overdue`` at ``as_of``;
    * ``due`` (deadline in ``period``), ``on_time`` (of those, closed by the deadline) and
      ``on_time_rate`` = on_time / due (empty when nothing was due);
    * ``members`` (party members living or posted in the grid).
    """
    ids = grids[schema.GRID_ID]
    due = metrics.due_mask(tickets, period)

    def per_grid(mask: pd.Series) -> pd.Series:
        return tickets.loc[mask, schema.GRID_ID].value_counts().reindex(ids, fill_value=0).astype("int64")

    out = pd.DataFrame(
        {
            "tickets": per_grid(period.contains(tickets[schema.CREATED_AT]) & metrics.registered_mask(tickets)),
            "open": per_grid(metrics.open_mask(tickets)),
            "overdue": per_grid(metrics.overdue_mask(tickets, as_of)),
            "due": per_grid(due),
            "on_time": per_grid(due & metrics.on_time_mask(tickets)),
            "members": members[schema.GRID_ID].value_counts().reindex(ids, fill_value=0).astype("int64"),
        }
    )
    population = pd.to_numeric(grids[schema.POPULATION], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_1000"] = np.where(population > 0, out["tickets"].to_numpy() * 1000 / population, np.nan)
        out["on_time_rate"] = np.where(out["due"] > 0, out["on_time"] / out["due"].where(out["due"] > 0), np.nan)
    return out


def overdue_list(tickets: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Open tickets past their deadline at ``as_of``, latest first, with ``hours_late``."""
    late = tickets[metrics.overdue_mask(tickets, as_of)].copy()
    late["hours_late"] = (as_of - late[schema.DEADLINE_AT]).dt.total_seconds() / 3600
    return late.sort_values(["hours_late", schema.TICKET_ID], ascending=[False, True])


@dataclass(frozen=True)
class Counters:
    """The command center's headline counters."""

    new_today: int
    new_yesterday: int
    open: int
    overdue: int
    cameras_down: int
    cameras_total: int
    teams_signed_in: int
    teams_total: int

    @property
    def new_change(self) -> int:
        """New tickets today minus yesterday."""
        return self.new_today - self.new_yesterday


def counters(
    tickets: pd.DataFrame, cameras: pd.DataFrame, teams: pd.DataFrame, checkins: pd.DataFrame, as_of: pd.Timestamp
) -> Counters:
    day = today(as_of)
    yesterday = metrics.Period(day.start - pd.Timedelta(days=1), day.start)
    registered = metrics.registered_mask(tickets)
    tonight = checkins[night_of(as_of).contains(checkins[schema.CHECKED_AT])]
    return Counters(
        new_today=int((registered & day.contains(tickets[schema.CREATED_AT])).sum()),
        new_yesterday=int((registered & yesterday.contains(tickets[schema.CREATED_AT])).sum()),
        open=int(metrics.open_mask(tickets).sum()),
        overdue=int(metrics.overdue_mask(tickets, as_of).sum()),
        cameras_down=int((cameras[schema.STATUS] != "online").sum()),
        cameras_total=len(cameras),
        teams_signed_in=tonight.loc[tonight[schema.TEAM_ID].isin(teams[schema.TEAM_ID]), schema.TEAM_ID].nunique(),
        teams_total=len(teams),
    )


def tonight_checkins(checkins: gpd.GeoDataFrame, teams: pd.DataFrame, as_of: pd.Timestamp) -> gpd.GeoDataFrame:
    """Sign-ins of the patrol night that contains ``as_of``, with the team's name, earliest first."""
    tonight = checkins[night_of(as_of).contains(checkins[schema.CHECKED_AT])]
    names = teams.set_index(schema.TEAM_ID)[schema.NAME]
    return tonight.assign(team_name=tonight[schema.TEAM_ID].map(names)).sort_values(schema.CHECKED_AT)


@dataclass(frozen=True)
class GridCard:
    """Everything the command center shows about one grid (phone already masked)."""

    grid_id: str
    name: str
    community: str
    street: str
    leader: str
    worker: str
    worker_phone: str
    households: int | None
    population: int | None
    open_tickets: pd.DataFrame = field(repr=False)  # OPEN_TICKET_COLUMNS, newest first
    overdue: int
    cameras_online: int
    cameras_total: int
    last_checkin_at: pd.Timestamp | None
    last_checkin_team: str | None
    members: int
    linked_households: int


def grid_card(
    grid_id: str,
    grids: gpd.GeoDataFrame,
    tickets: pd.DataFrame,
    cameras: pd.DataFrame,
    checkins: pd.DataFrame,
    teams: pd.DataFrame,
    members: pd.DataFrame,
    as_of: pd.Timestamp,
) -> GridCard:
    """The card of ``grid_id`` (a ``KeyError`` if no such grid)."""
    matches = grids.index[grids[schema.GRID_ID] == grid_id]
    if matches.empty:
        raise KeyError(grid_id)
    row = grids.loc[matches[0]]
    mine = tickets[tickets[schema.GRID_ID] == grid_id]
    open_now = mine[metrics.open_mask(mine)]
    open_now = open_now.assign(overdue=metrics.overdue_mask(open_now, as_of)).sort_values(
        schema.CREATED_AT, ascending=False
    )
    in_grid_cameras = cameras[cameras[schema.GRID_ID] == grid_id]
    visits = checkins[(checkins[schema.GRID_ID] == grid_id) & (checkins[schema.CHECKED_AT] <= as_of)]
    last = visits.loc[visits[schema.CHECKED_AT].idxmax()] if not visits.empty else None
    team_names = teams.set_index(schema.TEAM_ID)[schema.NAME]
    in_grid_members = members[members[schema.GRID_ID] == grid_id]

    def whole(value: float | None) -> int | None:
        return None if value is None or pd.isna(value) else int(value)

    def text(value: object) -> str:
        return "" if pd.isna(value) else str(value)

    return GridCard(
        grid_id=grid_id,
        name=text(row[schema.NAME]),
        community=text(row[schema.COMMUNITY]),
        street=text(row[schema.STREET]),
        leader=text(row.get(schema.LEADER)),
        worker=text(row.get(schema.WORKER)),
        worker_phone=mask_phone(row.get(schema.WORKER_PHONE)),
        households=whole(row.get(schema.HOUSEHOLDS)),
        population=whole(row.get(schema.POPULATION)),
        open_tickets=open_now.reindex(columns=list(OPEN_TICKET_COLUMNS)).reset_index(drop=True),
        overdue=int(open_now["overdue"].sum()),
        cameras_online=int((in_grid_cameras[schema.STATUS] == "online").sum()),
        cameras_total=len(in_grid_cameras),
        last_checkin_at=None if last is None else last[schema.CHECKED_AT],
        last_checkin_team=None if last is None else str(team_names.get(last[schema.TEAM_ID], last[schema.TEAM_ID])),
        members=len(in_grid_members),
        linked_households=int(in_grid_members[schema.LINKED_HOUSEHOLDS].sum()),
    )
