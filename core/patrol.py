"""Patrols on the ground: whether teams signed in each night, and inside their own grids; where
patrols are missing; and whether the visits go where the tickets are.

A patrol *night* runs from noon to noon (``core.command.NIGHT_STARTS_AT_HOUR``), so a 00:40 sign-in
counts for the night before. ``compliance`` gives one row per night and team, ``nights_missed`` sums
it per team, ``unvisited_grids`` lists assigned grids nobody visited lately and ``visits_vs_tickets``
sets patrol visits against tickets per grid. Sign-ins and tickets arrive joined to grids
(``core.joins.join_to_grids``: ``grid_id`` missing outside every grid).

Not here: reading and checking the assignment table (``core.roster``), grid workloads
(``core.workload``) and balanced patrol districts (``core.districts``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import metrics, schema
from core.command import NIGHT_STARTS_AT_HOUR
from core.roster import GRID_NAME, TEAM_NAME, assignment_rows, id_text

__all__ = [
    "CALLED_OFF",
    "COMPLIANCE_STATUSES",
    "FIRST_AT",
    "INSIDE",
    "LAST_AT",
    "NIGHT",
    "OUTSIDE",
    "SIGNED_IN",
    "SIGN_INS",
    "UNVISITED_DAYS",
    "ComplianceSummary",
    "compliance",
    "night_dates",
    "nights_in",
    "nights_missed",
    "unvisited_grids",
    "visits_vs_tickets",
]

# ---- output columns ------------------------------------------------------------------------------
NIGHT = "night"
SIGN_INS = "sign_ins"
INSIDE = "inside"
OUTSIDE = "outside"
FIRST_AT = "first_at"
LAST_AT = "last_at"
SIGNED_IN = "signed_in"
CALLED_OFF = "called_off"

COMPLIANCE_STATUSES = ("missed", "inside", "partly_outside", "outside")


def nights_in(period: metrics.Period) -> pd.DatetimeIndex:
    """The nights that start (at noon, in the period's time zone) within ``period``, as the dates they
    start on."""
    noon = pd.Timedelta(hours=NIGHT_STARTS_AT_HOUR)
    first = (period.start.tz_localize(None) - noon).ceil("D")
    last = (period.end.tz_convert(period.start.tz).tz_localize(None) - noon - pd.Timedelta(1, "us")).floor("D")
    return pd.date_range(first, last, freq="D", name=NIGHT)


def night_dates(times: pd.Series) -> pd.Series:
    """The date each time's patrol night started on (a 00:40 sign-in belongs to the day before), in the
    times' own zone (the workspace's)."""
    local = times - pd.Timedelta(hours=NIGHT_STARTS_AT_HOUR)
    return local.dt.normalize().dt.tz_localize(None)


def compliance(
    checkins: pd.DataFrame, assignments: pd.DataFrame, teams: pd.DataFrame, nights: pd.DatetimeIndex
) -> pd.DataFrame:
    """One row per night and team: did the team sign in, and inside its own grids?

    ``nights`` are the dates the nights start on (``nights_in(period)``). Columns: ``night``,
    ``team_id``, ``team_name``, ``sign_ins``, ``inside`` (sign-ins in one of the team's assigned grids),
    ``outside`` (elsewhere, including outside every grid; a team without grids has every sign-in
    outside), ``first_at``/``last_at`` (NaT when none), ``signed_in``, ``status`` (one of
    ``COMPLIANCE_STATUSES``) and ``called_off``: no team at all signed in that night (storms, holidays:
    with two or more teams that is the district's decision, not one team's miss). Sign-ins of teams not
    in ``teams`` are ignored.
    """
    nights = pd.DatetimeIndex(nights)
    if nights.tz is not None:
        nights = nights.tz_localize(None)  # their own calendar dates
    nights = nights.normalize()
    team_ids = teams[schema.TEAM_ID].astype(str)
    table = assignment_rows(assignments)
    own = set(zip(table[schema.TEAM_ID], table[schema.GRID_ID]))
    checked = checkins[schema.CHECKED_AT].reset_index(drop=True)
    team_of = checkins[schema.TEAM_ID].astype(str).reset_index(drop=True)
    frame = pd.DataFrame(
        {
            NIGHT: night_dates(checked),
            schema.TEAM_ID: team_of,
            schema.CHECKED_AT: checked,
            INSIDE: [(t, id_text(g)) in own for t, g in zip(team_of, checkins[schema.GRID_ID])],
        }
    )
    frame = frame[frame[NIGHT].isin(nights) & frame[schema.TEAM_ID].isin(team_ids)]
    grouped = frame.groupby([NIGHT, schema.TEAM_ID])
    counts = pd.DataFrame(
        {
            SIGN_INS: grouped.size(),
            INSIDE: grouped[INSIDE].sum(),
            FIRST_AT: grouped[schema.CHECKED_AT].min(),
            LAST_AT: grouped[schema.CHECKED_AT].max(),
        }
    )
    full = pd.MultiIndex.from_product([nights, team_ids], names=[NIGHT, schema.TEAM_ID])
    out = counts.reindex(full)
    out[SIGN_INS] = out[SIGN_INS].fillna(0).astype("int64")
    out[INSIDE] = out[INSIDE].fillna(0).astype("int64")
    out[OUTSIDE] = out[SIGN_INS] - out[INSIDE]
    out = out.reset_index()
    out.insert(2, TEAM_NAME, out[schema.TEAM_ID].map(pd.Series(teams[schema.NAME].to_numpy(), index=team_ids)))
    out[SIGNED_IN] = out[SIGN_INS] > 0
    out[schema.STATUS] = np.select(
        [~out[SIGNED_IN], out[OUTSIDE] == 0, out[INSIDE] == 0], ["missed", "inside", "outside"], "partly_outside"
    )
    out_per_night = out.groupby(NIGHT)[SIGN_INS].transform("sum")
    out[CALLED_OFF] = (out_per_night == 0) & (len(team_ids) >= 2)
    columns = [
        NIGHT,
        schema.TEAM_ID,
        TEAM_NAME,
        SIGN_INS,
        INSIDE,
        OUTSIDE,
        FIRST_AT,
        LAST_AT,
        SIGNED_IN,
        schema.STATUS,
        CALLED_OFF,
    ]
    return out[columns]


def nights_missed(compliance_table: pd.DataFrame) -> pd.DataFrame:
    """Per team (index ``team_id``, in the table's order): ``team_name``, ``nights``, ``called_off``
    (nights no team went out), ``signed_in``, ``missed`` (nights not called off without a sign-in),
    ``compliance_rate`` = signed_in / (nights − called_off) (NaN when every night was called off),
    ``sign_ins``, ``outside_sign_ins`` and ``nights_outside`` (nights with a sign-in outside its
    grids)."""
    c = compliance_table
    grouped = c.assign(_out=c[schema.STATUS].isin(["outside", "partly_outside"])).groupby(schema.TEAM_ID, sort=False)
    out = pd.DataFrame(
        {
            TEAM_NAME: grouped[TEAM_NAME].first(),
            "nights": grouped.size(),
            CALLED_OFF: grouped[CALLED_OFF].sum().astype("int64"),
            SIGNED_IN: grouped[SIGNED_IN].sum().astype("int64"),
        }
    )
    out["missed"] = out["nights"] - out[CALLED_OFF] - out[SIGNED_IN]
    counted = out["nights"] - out[CALLED_OFF]
    out["compliance_rate"] = out[SIGNED_IN] / counted.where(counted > 0)
    out[SIGN_INS] = grouped[SIGN_INS].sum()
    out["outside_sign_ins"] = grouped[OUTSIDE].sum()
    out["nights_outside"] = grouped["_out"].sum().astype("int64")
    return out


@dataclass(frozen=True)
class ComplianceSummary:
    """The district's patrol nights at a glance, from ``compliance`` and its ``nights_missed``."""

    teams: int
    compliance_rate: float  # nights signed in / nights not called off, over every team; NaN if none counted
    missed: int  # team-nights missed
    outside_sign_ins: int
    called_off: int  # nights no team went out

    @classmethod
    def of(cls, compliance_table: pd.DataFrame, per_team: pd.DataFrame) -> ComplianceSummary:
        counted = per_team["nights"].sum() - per_team[CALLED_OFF].sum()
        return cls(
            teams=len(per_team),
            compliance_rate=float(per_team[SIGNED_IN].sum() / counted) if counted else np.nan,
            missed=int(per_team["missed"].sum()),
            outside_sign_ins=int(per_team["outside_sign_ins"].sum()),
            called_off=int(compliance_table.loc[compliance_table[CALLED_OFF], NIGHT].nunique()),
        )


UNVISITED_DAYS = 14  # a grid not visited for this many days is a gap


def unvisited_grids(
    checkins: pd.DataFrame,
    assignments: pd.DataFrame,
    grids: pd.DataFrame,
    as_of: pd.Timestamp,
    days: int = UNVISITED_DAYS,
    teams: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Assigned grids where no team signed in during the ``days`` days up to ``as_of``, worst first.

    A visit by any team counts. Columns: ``grid_id``, ``grid_name``, ``community``, ``team_id`` (the
    owner), ``team_name`` (with ``teams``), ``last_visit`` (NaT if never, up to ``as_of``) and
    ``days_since_visit``. Never-visited grids come first, then the longest unvisited.
    """
    table = assignment_rows(assignments)
    table = table[(table[schema.TEAM_ID] != "") & (table[schema.GRID_ID] != "")]
    owner = pd.Series(table[schema.TEAM_ID].to_numpy(), index=table[schema.GRID_ID].to_numpy())
    seen = checkins[(checkins[schema.CHECKED_AT] <= as_of) & checkins[schema.GRID_ID].notna()]
    last = seen.groupby(seen[schema.GRID_ID].astype(str))[schema.CHECKED_AT].max()
    ids = grids[schema.GRID_ID].astype(str).reset_index(drop=True)
    out = pd.DataFrame(
        {
            schema.GRID_ID: ids,
            GRID_NAME: grids[schema.NAME].to_numpy(),
            schema.COMMUNITY: grids[schema.COMMUNITY].to_numpy(),
            schema.TEAM_ID: ids.map(owner),
        }
    )
    if teams is not None:
        names = pd.Series(teams[schema.NAME].to_numpy(), index=teams[schema.TEAM_ID].astype(str))
        out[TEAM_NAME] = out[schema.TEAM_ID].map(names)
    out["last_visit"] = (
        last.reindex(ids).to_numpy()
        if len(last)
        else pd.Series(pd.NaT, index=ids.index, dtype=checkins[schema.CHECKED_AT].dtype)
    )
    out["days_since_visit"] = (as_of - out["last_visit"]).dt.total_seconds() / 86400
    stale = out[out[schema.TEAM_ID].notna() & ~(out["days_since_visit"] < days)]
    order = np.lexsort((np.arange(len(stale)), -stale["days_since_visit"].fillna(np.inf).to_numpy()))
    return stale.iloc[order].reset_index(drop=True)


def visits_vs_tickets(
    grids: pd.DataFrame,
    tickets: pd.DataFrame,
    checkins: pd.DataFrame,
    period: metrics.Period,
    hot_quantile: float = 0.8,
) -> pd.DataFrame:
    """Are we patrolling where the problems are? One row per grid, hot grids with few visits first.

    Columns (index ``grid_id``): ``grid_name``, ``community``, ``tickets`` (registered, created in
    ``period``), ``visits`` (sign-ins in ``period``), ``ticket_rank`` (1 = most tickets),
    ``ticket_percentile`` (share of grids with no more tickets), ``hot`` (tickets at or above the
    ``hot_quantile`` of grids, and at least one), ``visits_per_100_tickets`` (NaN without tickets),
    ``gap`` = share of the district's tickets − share of its visits (positive: less patrolled than
    its problems) and ``gap_rank``. Rows are sorted hot first, then by ``gap`` descending.
    """
    ids = grids[schema.GRID_ID].astype(str)
    in_period = period.contains(tickets[schema.CREATED_AT]) & metrics.registered_mask(tickets)
    ticket_count = tickets.loc[in_period, schema.GRID_ID].dropna().astype(str).value_counts()
    visited = period.contains(checkins[schema.CHECKED_AT])
    visit_count = checkins.loc[visited, schema.GRID_ID].dropna().astype(str).value_counts()
    out = pd.DataFrame(
        {
            GRID_NAME: grids[schema.NAME].to_numpy(),
            schema.COMMUNITY: grids[schema.COMMUNITY].to_numpy(),
            "tickets": ids.map(ticket_count).fillna(0).astype("int64").to_numpy(),
            "visits": ids.map(visit_count).fillna(0).astype("int64").to_numpy(),
        },
        index=pd.Index(ids.to_numpy(), name=schema.GRID_ID),
    )
    out["ticket_rank"] = out["tickets"].rank(ascending=False, method="min").astype("int64")
    out["ticket_percentile"] = out["tickets"].rank(method="max", pct=True)
    threshold = out["tickets"].quantile(hot_quantile) if len(out) else 0
    out["hot"] = (out["tickets"] >= threshold) & (out["tickets"] > 0)
    out["visits_per_100_tickets"] = 100 * out["visits"] / out["tickets"].where(out["tickets"] > 0)
    ticket_share = out["tickets"] / max(int(out["tickets"].sum()), 1)
    visit_share = out["visits"] / max(int(out["visits"].sum()), 1)
    out["gap"] = ticket_share - visit_share
    out = out.iloc[np.lexsort((-out["tickets"].to_numpy(), -out["gap"].to_numpy(), ~out["hot"].to_numpy()))]
    out["gap_rank"] = np.arange(1, len(out) + 1)
    return out
