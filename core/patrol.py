"""Patrols: who patrols which grids, whether they signed in, where patrols are missing, and balanced
patrol districts.

**Assignments.** The assignment table is a plain frame with ``team_id`` and ``grid_id``, one row per
assigned grid (a grid belongs to at most one team; a team may have none). ``read_assignments_csv``
reads one from a spreadsheet export, ``assignment_problems`` / ``validate_assignments`` check it
(every problem at once, with the file's row numbers) and ``roster_table`` / ``assignments_to_csv``
write the duty roster.

**Compliance.** A patrol *night* runs from noon to noon (``core.command.NIGHT_STARTS_AT_HOUR``), so a
00:40 sign-in counts for the night before. ``compliance`` gives one row per night and team,
``nights_missed`` sums it per team, ``unvisited_grids`` lists assigned grids nobody visited lately and
``visits_vs_tickets`` sets patrol visits against tickets per grid. Sign-ins and tickets arrive joined
to grids (``core.joins.join_to_grids``: ``grid_id`` missing outside every grid).

**Districts.** ``workload`` scores each grid (tickets by category severity, area, population, each as
its share of the district total, then weighted). ``DistrictPlan`` partitions the grids into one
connected district per team:

1. *Contiguity* (``Contiguity.from_grids``): grids sharing a border (libpysal rook contiguity: a shared
   line, not just a corner, so a district's union is one piece, holes and MultiPolygons included),
   plus borders that miss each other by digitizing noise. Pieces the borders leave apart (an island
   grid, a cluster across a river) are joined to their nearest grid(s) by *bridges*.
2. *Starts*: spopt's contiguity-constrained Ward clustering of the grids' positions (compact connected
   regions), labelled with teams by ``scipy.optimize.linear_sum_assignment``; and, when given, the
   current plan. Each start is repaired into a feasible plan: locks applied (and joined by shortest
   paths), stray pieces of a district handed to neighbours, every team given a district.
3. *Local improvement* (iterated local search): a boundary grid moves to, or swaps with, a
   neighbouring district whenever that lowers the objective and both districts stay connected (a
   removal is checked by searching the district from the grid's neighbours); then a few random moves
   shake the plan and the descent runs again, keeping whatever is better. The objective is

   ``sum(((W_k - mean) / mean) ** 2)`` (workload imbalance)
   + ``compactness`` × spread (squared distances of grids to their district's centre, in units of
   a district's radius: a k-means term, so districts stay round)
   + ``travel`` × distance of each grid from its team's base (in district radii, weighted by workload)
   + ``stability`` × each grid that changes team against the current plan (weighted by workload).

   The last two are per grid and team, so labelling districts with teams is an assignment problem
   solved exactly.

The best start wins, preferring one no less balanced (max/min ratio and Gini of team workloads) than
the current plan; if neither is, a balance-only search runs from the better one. Locked grids stay
with their team.

Errors: ``DistrictPlanError`` (a ``core.errors.GridWatchError``) for a plan that cannot be made as
asked; ``core.errors.ValidationError`` for an assignment table with problems.
"""

from __future__ import annotations

import csv
import io
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sparse
import shapely
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components, dijkstra

from core import exports, metrics, schema
from core.command import NIGHT_STARTS_AT_HOUR
from core.encodings import decode_text
from core.errors import GridWatchError, Problem, ReadError, ValidationError
from core.geometry import area_km2, metric_crs

# libpysal and spopt are imported where they are used: together they take ~2 s to import (spopt pulls in
# networkx, scikit-learn and matplotlib), which every page that merely reads assignments would pay.


class DistrictPlanError(GridWatchError):
    """Patrol districts cannot be made as asked (more teams than grids, conflicting locks …)."""


LAYER = schema.PATROL_ASSIGNMENTS
"""Layer name used in the problems of an assignment table."""

# ---- output columns ------------------------------------------------------------------------------
TEAM_NAME = "team_name"
GRID_NAME = "grid_name"
NIGHT = "night"
SIGN_INS = "sign_ins"
INSIDE = "inside"
OUTSIDE = "outside"
FIRST_AT = "first_at"
LAST_AT = "last_at"
SIGNED_IN = "signed_in"
CALLED_OFF = "called_off"
WORKLOAD = "workload"

COMPLIANCE_STATUSES = ("missed", "inside", "partly_outside", "outside")

# ---- CSV headers accepted for an assignment table (compared after _header_key) -----------------
_TEAM_ID_HEADERS = (
    "team_id",
    "teamid",
    "team",
    "team_code",
    "队伍编号",
    "巡防队编号",
    "巡查队编号",
    "巡查队",
    "巡防队",
    "队伍",
    "队伍id",
    "巡防队id",
    "巡查队id",
)
_TEAM_NAME_HEADERS = ("team_name", "teamname", "队伍名称", "巡防队名称", "巡查队名称", "队名")
_GRID_ID_HEADERS = ("grid_id", "gridid", "grid", "grid_code", "网格编号", "网格编码", "网格代码", "网格id", "网格")
_GRID_NAME_HEADERS = ("grid_name", "gridname", "网格名称")


# ==== assignments ================================================================================


def read_assignments_csv(data: bytes, grids: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """The assignment table in a CSV file, checked against ``grids`` and ``teams``.

    The text may be UTF-8 (with or without BOM) or GBK, the usual exports of Excel in China. Headers
    may be English or Chinese (``team_id``/队伍编号/巡防队编号/巡查队, ``grid_id``/网格编号/网格编码); a
    team (or grid) may be named instead of coded, in a name column or in the id column itself, and is
    matched to the team (grid) of that name. Cells are stripped; blank lines skipped; other columns
    (the roster's names and communities) ignored, so an exported roster reads back. Raises
    ``ReadError`` for a file that is not a table, ``ValidationError`` listing every problem with its
    row number (1 = the first row under the header).
    """
    try:
        text, _, _ = decode_text(data, None)
    except UnicodeDecodeError as exc:
        raise ReadError(
            "the assignment file is neither UTF-8 nor GBK text; save it from Excel as 'CSV UTF-8'",
            code="roster_encoding",
        ) from exc
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))
    if not rows:
        raise ReadError(
            "the assignment file is empty; it needs a header row (team_id, grid_id) and a row per assigned grid",
            code="roster_empty",
        )
    header, body = [_header_key(h) for h in rows[0]], rows[1:]
    columns = {
        role: next((header.index(h) for h in names if h in header), None)
        for role, names in (
            ("team", _TEAM_ID_HEADERS),
            ("team_name", _TEAM_NAME_HEADERS),
            ("grid", _GRID_ID_HEADERS),
            ("grid_name", _GRID_NAME_HEADERS),
        )
    }
    missing = [
        (column, others)
        for column, others, roles in (
            (schema.TEAM_ID, "队伍编号 / 巡防队编号 / team_name", ("team", "team_name")),
            (schema.GRID_ID, "网格编号 / 网格编码", ("grid", "grid_name")),
        )
        if all(columns[r] is None for r in roles)
    ]
    if missing:
        found = ", ".join(h for h in rows[0] if h.strip()) or "none"
        raise ValidationError(
            LAYER,
            [
                Problem(
                    LAYER,
                    column,
                    (),
                    f"no `{column}` column (found: {found})",
                    f"add a column headed `{column}` (or {others})",
                    code="missing_column",
                    params={"column": column},
                )
                for column, others in missing
            ],
        )

    def cell(row: list[str], role: str) -> str:
        index = columns[role]
        return row[index].strip() if index is not None and index < len(row) else ""

    numbers, team_values, grid_values = [], [], []
    for number, row in enumerate(body, start=1):
        if not any(c.strip() for c in row):
            continue
        numbers.append(str(number))
        team_values.append(cell(row, "team") or cell(row, "team_name"))
        grid_values.append(cell(row, "grid") or cell(row, "grid_name"))
    table = pd.DataFrame(
        {
            schema.TEAM_ID: _resolve(team_values, teams[schema.TEAM_ID], teams[schema.NAME]),
            schema.GRID_ID: _resolve(grid_values, grids[schema.GRID_ID], grids[schema.NAME]),
        },
        index=pd.Index(numbers),
        dtype=object,
    )
    return _checked(table, grids, teams)


def assignment_problems(assignments: pd.DataFrame, grids: pd.DataFrame, teams: pd.DataFrame) -> list[Problem]:
    """Every problem of an assignment table: errors (empty cells, unknown team or grid ids, a grid given
    to two teams) and warnings (a row listed twice, grids no team covers). Rows are numbered from 1 in
    table order."""
    return _problems(_numbered(assignments), grids, teams)


def validate_assignments(assignments: pd.DataFrame, grids: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """The assignment table cleaned (ids stripped, repeated rows dropped, ``team_id`` and ``grid_id``
    only) if it has no errors; else one ``ValidationError`` listing every problem, warnings included.
    Warnings alone do not block: ``assignment_problems`` lists them."""
    return _checked(_numbered(assignments), grids, teams)


def roster_table(assignments: pd.DataFrame, teams: pd.DataFrame, grids: pd.DataFrame) -> pd.DataFrame:
    """The duty roster: one row per assigned grid with ``team_id``, ``team_name``, ``grid_id``,
    ``grid_name`` and ``community``, in team order and then grid order."""
    table = _numbered(assignments)
    team_order = pd.Series(np.arange(len(teams)), index=teams[schema.TEAM_ID].astype(str))
    grid_order = pd.Series(np.arange(len(grids)), index=grids[schema.GRID_ID].astype(str))
    ordered = table.assign(_t=table[schema.TEAM_ID].map(team_order), _g=table[schema.GRID_ID].map(grid_order))
    ordered = ordered.sort_values(["_t", "_g"], kind="stable")
    team_names = pd.Series(teams[schema.NAME].to_numpy(), index=team_order.index)
    grid_info = pd.DataFrame(
        {GRID_NAME: grids[schema.NAME].to_numpy(), schema.COMMUNITY: grids[schema.COMMUNITY].to_numpy()},
        index=grid_order.index,
    )
    return pd.DataFrame(
        {
            schema.TEAM_ID: ordered[schema.TEAM_ID].to_numpy(),
            TEAM_NAME: ordered[schema.TEAM_ID].map(team_names).to_numpy(),
            schema.GRID_ID: ordered[schema.GRID_ID].to_numpy(),
            GRID_NAME: ordered[schema.GRID_ID].map(grid_info[GRID_NAME]).to_numpy(),
            schema.COMMUNITY: ordered[schema.GRID_ID].map(grid_info[schema.COMMUNITY]).to_numpy(),
        }
    )


def assignments_to_csv(assignments: pd.DataFrame, teams: pd.DataFrame, grids: pd.DataFrame) -> bytes:
    """The duty roster (``roster_table``) as CSV in UTF-8 with a byte-order mark, which Excel needs to
    show Chinese; ``read_assignments_csv`` reads it back."""
    return exports.csv_bytes(roster_table(assignments, teams, grids))


def _header_key(header: str) -> str:
    return header.strip().strip("\ufeff").lower().replace(" ", "_").replace("-", "_")


def _resolve(values: list[str], ids: pd.Series, names: pd.Series) -> list[str]:
    """Each value as an id: ids stay, a unique name becomes its id, anything else is kept (and reported
    as unknown by the checks)."""
    known = set(ids.astype(str))
    unique_names = names.astype(str)[~names.duplicated(keep=False)]
    by_name = dict(zip(unique_names, ids.astype(str)[unique_names.index]))
    return [v if v in known or v not in by_name else by_name[v] for v in values]


def _numbered(assignments: pd.DataFrame) -> pd.DataFrame:
    """The two id columns as stripped text ("" where empty), rows numbered from 1."""
    missing = [c for c in (schema.TEAM_ID, schema.GRID_ID) if c not in assignments.columns]
    if missing:
        raise ValidationError(
            LAYER,
            [
                Problem(
                    LAYER,
                    c,
                    (),
                    f"required column `{c}` is missing",
                    f"add a `{c}` column",
                    code="missing_column",
                    params={"column": c},
                )
                for c in missing
            ],
        )
    out = pd.DataFrame({c: [_text(v) for v in assignments[c]] for c in (schema.TEAM_ID, schema.GRID_ID)}, dtype=object)
    out.index = pd.Index([str(n) for n in range(1, len(out) + 1)])
    return out


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def _checked(table: pd.DataFrame, grids: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    problems = _problems(table, grids, teams)
    if any(p.severity == "error" for p in problems):
        raise ValidationError(LAYER, problems)
    clean = table.drop_duplicates().reset_index(drop=True)
    return clean.astype({schema.TEAM_ID: str, schema.GRID_ID: str})


def _examples(values) -> str:
    values = list(dict.fromkeys(values))
    return ", ".join(values[:5]) + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def _problems(table: pd.DataFrame, grids: pd.DataFrame, teams: pd.DataFrame) -> list[Problem]:
    """The checks of an assignment table whose index holds the row numbers to report."""
    team, grid = table[schema.TEAM_ID], table[schema.GRID_ID]
    team_ids, grid_ids = teams[schema.TEAM_ID].astype(str), grids[schema.GRID_ID].astype(str)
    problems = []

    def rows(mask: pd.Series) -> tuple[str, ...]:
        return tuple(table.index[mask.to_numpy()])

    for column, values, what in ((schema.TEAM_ID, team, "team"), (schema.GRID_ID, grid, "grid")):
        if (values == "").any():
            problems.append(
                Problem(
                    LAYER,
                    column,
                    rows(values == ""),
                    f"the {what} is empty",
                    f"fill in the {what} id (or name), or delete the row",
                    code="missing_value",
                    params={"column": column},
                )
            )
    unknown_team = (team != "") & ~team.isin(team_ids)
    if unknown_team.any():
        examples = _examples(team[unknown_team])
        problems.append(
            Problem(
                LAYER,
                schema.TEAM_ID,
                rows(unknown_team),
                f"unknown team(s) {examples}",
                f"use the id or name of a patrol team ({_examples(team_ids)})",
                code="unknown_team",
                params={"examples": examples},
            )
        )
    unknown_grid = (grid != "") & ~grid.isin(grid_ids)
    if unknown_grid.any():
        examples = _examples(grid[unknown_grid])
        problems.append(
            Problem(
                LAYER,
                schema.GRID_ID,
                rows(unknown_grid),
                f"unknown grid(s) {examples}",
                "use the grid_id of an active grid (check that Excel kept all 14 digits: format the column as text)",
                code="unknown_grid",
                params={"examples": examples},
            )
        )
    valid = (team != "") & (grid != "") & ~unknown_team & ~unknown_grid
    pairs = table[valid].drop_duplicates()
    teams_per_grid = pairs.groupby(schema.GRID_ID)[schema.TEAM_ID].nunique()
    twice = teams_per_grid.index[teams_per_grid > 1]
    if len(twice):
        examples = _examples(twice)
        problems.append(
            Problem(
                LAYER,
                schema.GRID_ID,
                rows(valid & grid.isin(twice)),
                f"grid(s) {examples} given to more than one team",
                "keep one team per grid and delete the other rows",
                code="grid_assigned_twice",
                params={"examples": examples},
            )
        )
    repeated = valid & table.duplicated(keep="first")
    if repeated.any():
        problems.append(
            Problem(
                LAYER,
                None,
                rows(repeated),
                "the same team and grid are listed again",
                "nothing to do: the repeated rows are ignored",
                severity="warning",
                code="duplicate_row",
            )
        )
    uncovered = grid_ids[~grid_ids.isin(grid[valid])]
    if len(uncovered):
        examples = _examples(uncovered)
        problems.append(
            Problem(
                LAYER,
                schema.GRID_ID,
                (),
                f"{len(uncovered)} grid(s) have no team: {examples}",
                "assign them to a team, or go on if nobody is meant to patrol them",
                severity="warning",
                code="grid_uncovered",
                params={"count": len(uncovered), "examples": examples},
            )
        )
    return problems


# ==== compliance and gaps =========================================================================


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
    table = _numbered(assignments)
    own = set(zip(table[schema.TEAM_ID], table[schema.GRID_ID]))
    checked = checkins[schema.CHECKED_AT].reset_index(drop=True)
    team_of = checkins[schema.TEAM_ID].astype(str).reset_index(drop=True)
    frame = pd.DataFrame(
        {
            NIGHT: night_dates(checked),
            schema.TEAM_ID: team_of,
            schema.CHECKED_AT: checked,
            INSIDE: [(t, _text(g)) in own for t, g in zip(team_of, checkins[schema.GRID_ID])],
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
    table = _numbered(assignments)
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


# ==== workload ====================================================================================


@dataclass(frozen=True)
class WorkloadWeights:
    """How much tickets, area and population count in a grid's workload (any non-negative scale)."""

    tickets: float = 0.5
    area: float = 0.25
    population: float = 0.25


def workload(
    grids: gpd.GeoDataFrame,
    tickets: pd.DataFrame,
    period: metrics.Period,
    weights: WorkloadWeights = WorkloadWeights(),
    category_severity: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Each grid's patrol workload, as a share of the whole district's (the column sums to 1).

    Columns (index ``grid_id``, grids' order): ``tickets`` (registered tickets created in ``period``),
    ``weighted_tickets`` (each counted by its category's severity; categories not in
    ``category_severity`` count 1), ``area_km2``, ``population`` and ``workload``. Each component is
    divided by its district total first, so the weights compare like with like; a component that is
    zero everywhere (no tickets in the period) drops out and the others share its weight.
    """
    given = {"tickets": weights.tickets, "area": weights.area, "population": weights.population}
    if any(not math.isfinite(v) or v < 0 for v in given.values()) or sum(given.values()) <= 0:
        raise DistrictPlanError(
            f"workload weights must be non-negative and not all zero; got {given}",
            code="workload_weights",
            params={"values": ", ".join(f"{k}={v}" for k, v in given.items())},
        )
    severity = dict(category_severity or {})
    bad = {k: v for k, v in severity.items() if not math.isfinite(v) or v < 0}
    if bad:
        raise DistrictPlanError(
            f"category severities must be non-negative numbers; got {bad}",
            code="severities",
            params={"values": ", ".join(f"{k}={v}" for k, v in bad.items())},
        )
    ids = grids[schema.GRID_ID].astype(str)
    counted = tickets[
        period.contains(tickets[schema.CREATED_AT]) & metrics.registered_mask(tickets) & tickets[schema.GRID_ID].notna()
    ]
    grid_of = counted[schema.GRID_ID].astype(str)
    weight = counted[schema.CATEGORY].map(severity).astype(float).fillna(1.0)
    out = pd.DataFrame(
        {
            "tickets": ids.map(grid_of.value_counts()).fillna(0).astype("int64").to_numpy(),
            "weighted_tickets": ids.map(weight.groupby(grid_of).sum()).fillna(0.0).to_numpy(),
            "area_km2": area_km2(grids).to_numpy(),
            "population": pd.to_numeric(grids[schema.POPULATION], errors="coerce").fillna(0).to_numpy(dtype=float),
        },
        index=pd.Index(ids.to_numpy(), name=schema.GRID_ID),
    )
    parts = {"tickets": out["weighted_tickets"], "area": out["area_km2"], "population": out["population"]}
    used = {k: given[k] for k, v in parts.items() if v.sum() > 0 and given[k] > 0}
    if not used:
        raise DistrictPlanError(
            "the workload is zero everywhere: the weighted components (tickets, area, "
            "population) are all empty; give weight to one the grids have",
            code="workload_zero",
        )
    total = sum(used.values())
    out[WORKLOAD] = sum((w / total) * parts[k] / parts[k].sum() for k, w in used.items())
    return out


# ==== contiguity ==================================================================================


@dataclass(frozen=True, eq=False)
class Contiguity:
    """Which grids border which: the graph districts must stay connected in.

    ``edges`` (E × 2, positions in the grids' order, i < j) are the rook neighbours (a shared border
    line; grids meeting only at a corner are not neighbours), grids whose borders run together within
    ``SNAP_M``, and ``bridges``: while the graph is in pieces, the smallest piece is linked to every
    grid of the rest within ``BRIDGE_SLACK`` times its nearest distance, so that every grid can belong
    to some connected district.
    """

    grid_ids: np.ndarray
    edges: np.ndarray
    bridges: np.ndarray

    SNAP_M = 1.0
    MIN_BORDER_M = 5.0
    """Grids whose boundaries run within ``SNAP_M`` of each other for ``MIN_BORDER_M`` or more are
    neighbours too: digitizing noise, and the vertex of one grid that lies on another's edge (a
    T-junction) but leaves it by a millimetre once reprojected, would otherwise cut borders."""
    BRIDGE_SLACK = 1.25
    """A piece is bridged to every grid within this factor (plus a metre) of its nearest one."""

    @classmethod
    def from_grids(cls, grids: gpd.GeoDataFrame) -> Contiguity:
        """The contiguity of ``grids`` (any CRS; measured in its metric CRS)."""
        from libpysal.graph import Graph

        geoms = np.asarray(gpd.GeoSeries(grids.geometry.to_numpy(), crs=grids.crs).to_crs(metric_crs(grids)).array)
        n = len(geoms)
        adjacency = Graph.build_contiguity(gpd.GeoSeries(geoms), rook=True, strict=True).adjacency.reset_index()
        adjacency = adjacency[adjacency["weight"] > 0]
        rook = adjacency[["focal", "neighbor"]].to_numpy(dtype=np.int64).reshape(-1, 2)
        heads, tails = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=cls.SNAP_M)
        pairs = np.column_stack([heads, tails])[heads < tails]
        padded = shapely.buffer(geoms, cls.SNAP_M, quad_segs=2)
        along = np.minimum(
            shapely.length(shapely.intersection(shapely.boundary(geoms[pairs[:, 0]]), padded[pairs[:, 1]])),
            shapely.length(shapely.intersection(shapely.boundary(geoms[pairs[:, 1]]), padded[pairs[:, 0]])),
        )
        edges = np.unique(np.vstack([np.sort(rook, axis=1), pairs[along >= cls.MIN_BORDER_M]]), axis=0)
        bridges = np.empty((0, 2), np.int64)
        while n:
            count, labels = connected_components(_matrix(n, np.vstack([edges, bridges])), directed=False)
            if count == 1:
                break
            piece = np.flatnonzero(labels == np.argmin(np.bincount(labels)))
            rest = np.flatnonzero(labels != labels[piece[0]])
            tree = shapely.STRtree(geoms[rest])
            _, distance = tree.query_nearest(geoms[piece], return_distance=True)
            near = tree.query(geoms[piece], predicate="dwithin", distance=distance.min() * cls.BRIDGE_SLACK + 1.0)
            pairs = np.column_stack([piece[near[0]], rest[near[1]]])
            bridges = np.vstack([bridges, np.sort(pairs, axis=1)])
        return cls(grids[schema.GRID_ID].astype(str).to_numpy(), np.vstack([edges, bridges]), bridges)

    def matrix(self) -> sparse.csr_matrix:
        """The symmetric adjacency matrix (1 where two grids are neighbours)."""
        return _matrix(len(self.grid_ids), self.edges)

    def neighbours(self) -> list[list[int]]:
        """Each grid's neighbours, as positions."""
        return _neighbours(len(self.grid_ids), self.edges)

    def parts(self, labels: np.ndarray) -> pd.Series:
        """How many connected pieces each label's district has in this graph (1 = contiguous)."""
        labels = np.asarray(labels)
        m = self.matrix()
        out = {}
        for label in pd.unique(labels[pd.notna(labels)]):
            members = np.flatnonzero(labels == label)
            out[label] = connected_components(m[members][:, members], directed=False)[0]
        return pd.Series(out, dtype="int64")


def _matrix(n: int, edges: np.ndarray) -> sparse.csr_matrix:
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    m = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    m.data[:] = 1.0
    return m


# ==== districts ===================================================================================

Progress = Callable[[str, float], None]


def max_min_ratio(values) -> float:
    """Largest over smallest (inf when the smallest is 0, NaN when empty)."""
    values = np.asarray(values, dtype=float)
    if not values.size:
        return math.nan
    low = values.min()
    return math.inf if low <= 0 else float(values.max() / low)


def gini(values) -> float:
    """Gini coefficient: 0 when all are equal, towards 1 when one holds everything."""
    values = np.sort(np.asarray(values, dtype=float))
    n = values.size
    if not n or values.sum() <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ values / (n * values.sum()))


@dataclass(frozen=True, eq=False)
class PlanResult:
    """A proposed plan. ``assignment``: grid_id → team_id for every grid; ``team_workload``: team_id →
    summed workload; ``objective`` = ``imbalance`` + spread, travel and stability terms (lower is
    better); ``iterations``: rounds of local search behind the plan; ``status``: "local_optimum" (no
    move or swap improves, and ``patience`` perturbations in a row found nothing better), "time_limit"
    or "iteration_limit"; ``start``: "seed" or "current", the start the plan grew from;
    ``not_worse_than_current``: max/min ratio and Gini at most the current plan's (None without one)."""

    assignment: pd.Series
    team_workload: pd.Series
    objective: float
    imbalance: float
    iterations: int
    status: str
    seconds: float
    start: str
    not_worse_than_current: bool | None

    @property
    def max_min_ratio(self) -> float:
        return max_min_ratio(self.team_workload)

    @property
    def gini(self) -> float:
        return gini(self.team_workload)

    def table(self) -> pd.DataFrame:
        """The plan as an assignment table (``team_id``, ``grid_id``), the workspace's shape."""
        return pd.DataFrame({schema.TEAM_ID: self.assignment.to_numpy(), schema.GRID_ID: self.assignment.index})


@dataclass(frozen=True, eq=False)
class DistrictPlan:
    """The districting problem as arrays: build it with ``from_geodataframes``, then ``solve``.

    ``workload`` (N), ``edges`` (E × 2 neighbour positions, a connected graph), ``distance_m`` (K × N:
    team base to grid), ``xy`` (N × 2 metric positions), ``current`` and ``locks`` (N team positions,
    -1 for none). ``compactness``, ``travel`` and ``stability`` weigh the objective's terms besides
    imbalance (see the module docstring); the defaults keep districts within a few percent of an equal
    share. Raises ``DistrictPlanError`` when no plan can satisfy the request.
    """

    grid_ids: np.ndarray
    team_ids: np.ndarray
    workload: np.ndarray
    edges: np.ndarray
    distance_m: np.ndarray
    xy: np.ndarray
    current: np.ndarray | None = None
    locks: np.ndarray | None = None
    compactness: float = 0.05
    travel: float = 0.02
    stability: float = 0.05
    _cost: np.ndarray = field(init=False, repr=False)
    _spread_xy: np.ndarray = field(init=False, repr=False)
    _pinned: np.ndarray = field(init=False, repr=False)

    TRAVEL_FLOOR = 0.1
    """Grids count at least this share of the mean workload in the travel term, so that grids without
    work still prefer compact districts."""

    def __post_init__(self) -> None:
        n, k = len(self.grid_ids), len(self.team_ids)
        if k == 0 or n == 0:
            raise DistrictPlanError(
                f"a plan needs grids and teams; got {n} grid(s) and {k} team(s)",
                code="plan_empty",
                params={"grids": n, "teams": k},
            )
        if k > n:
            raise DistrictPlanError(
                f"{k} teams cannot each get a district from {n} grids; use at most {n} teams or add grids",
                code="too_many_teams",
                params={"grids": n, "teams": k},
            )
        w = np.asarray(self.workload, dtype=float)
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise DistrictPlanError("workloads must be non-negative numbers, not all zero", code="workloads")
        if connected_components(_matrix(n, self.edges), directed=False)[0] != 1:
            raise DistrictPlanError(
                "the grids do not form one connected map; build edges with Contiguity", code="not_connected"
            )
        locks = np.full(n, -1) if self.locks is None else np.asarray(self.locks)
        current = np.full(n, -1) if self.current is None else np.asarray(self.current)
        object.__setattr__(self, "locks", locks)
        object.__setattr__(self, "current", current)
        target = w.sum() / k
        radius = np.sqrt(max(np.ptp(self.xy[:, 0]) * np.ptp(self.xy[:, 1]), 1.0) / (math.pi * k))
        travel_weight = (w + self.TRAVEL_FLOOR * w.mean()) / target
        changed = (current[None, :] >= 0) & (current[None, :] != np.arange(k)[:, None])
        cost = travel_weight[None, :] * (self.travel * self.distance_m / radius + self.stability * changed)
        object.__setattr__(self, "_cost", cost)
        spread_scale = np.sqrt(self.compactness * k / (n * radius**2 / 2))
        object.__setattr__(self, "_spread_xy", (self.xy - self.xy.mean(axis=0)) * spread_scale)
        object.__setattr__(self, "_pinned", self._lock_skeleton())

    @classmethod
    def from_geodataframes(
        cls,
        grids: gpd.GeoDataFrame,
        teams: gpd.GeoDataFrame,
        workload: pd.Series | pd.DataFrame,
        current: pd.DataFrame | None = None,
        locks: Mapping[str, str] | pd.DataFrame | None = None,
        compactness: float = 0.05,
        travel: float = 0.02,
        stability: float = 0.05,
        contiguity: Contiguity | None = None,
    ) -> DistrictPlan:
        """The problem for ``grids`` and ``teams`` (bases = team points).

        ``workload``: per grid_id, a Series or the frame ``workload()`` returns. ``current``: the
        assignment table in force (checked with ``validate_assignments``). ``locks``: grid_id → team_id,
        as a mapping or a table with ``grid_id`` and ``team_id`` (a grid locked to two teams is an error).
        """
        grid_ids = grids[schema.GRID_ID].astype(str).to_numpy()
        team_ids = teams[schema.TEAM_ID].astype(str).to_numpy()
        values = _workload_values(workload, grid_ids)
        crs = metric_crs(grids)
        shapes = gpd.GeoSeries(grids.geometry.to_numpy(), crs=grids.crs).to_crs(crs)
        points = np.asarray(shapes.representative_point().array)
        bases = gpd.GeoSeries(teams.geometry.to_numpy(), crs=teams.crs).to_crs(crs)
        no_base = bases.is_empty.to_numpy() | bases.isna().to_numpy()
        if no_base.any():
            raise DistrictPlanError(
                f"team(s) {_examples(team_ids[no_base])} have no base location; place each "
                "team's point at the base it starts from",
                code="no_base",
                params={"teams": _examples(team_ids[no_base])},
            )
        xy = shapely.get_coordinates(points)
        base_xy = shapely.get_coordinates(np.asarray(bases.array))
        distance = np.hypot(base_xy[:, None, 0] - xy[None, :, 0], base_xy[:, None, 1] - xy[None, :, 1])
        team_pos = pd.Series(np.arange(len(team_ids)), index=team_ids)
        grid_pos = pd.Series(np.arange(len(grid_ids)), index=grid_ids)
        current_labels = None
        if current is not None:
            table = validate_assignments(current, grids, teams)
            current_labels = np.full(len(grid_ids), -1)
            current_labels[grid_pos[table[schema.GRID_ID]].to_numpy()] = team_pos[table[schema.TEAM_ID]].to_numpy()
        lock_labels = _lock_labels(locks, grid_pos, team_pos) if locks is not None else None
        graph = contiguity if contiguity is not None else Contiguity.from_grids(grids)
        return cls(
            grid_ids,
            team_ids,
            values,
            graph.edges,
            distance,
            xy,
            current_labels,
            lock_labels,
            compactness,
            travel,
            stability,
        )

    # ---- solving -------------------------------------------------------------------------------

    def solve(
        self,
        progress: Progress | None = None,
        seed: int = 0,
        time_limit_s: float | None = None,
        max_iterations: int | None = None,
        patience: int = 50,
    ) -> PlanResult:
        """The best plan found from each start (the spopt seed; the current plan if given).

        ``progress(stage, fraction)`` is called as the work goes on (stages "seed", "current",
        "balance", "done"; fraction of the whole, 0 to 1). ``seed`` drives the random choices of the
        local search. Each start is improved until ``patience`` rounds of perturbation in a row find
        nothing better, or its share of ``time_limit_s`` is spent, or after ``max_iterations`` rounds
        (0 = the repaired start itself). The balance-only search, run only when no start is as balanced
        as the current plan, is not bound by ``time_limit_s``.
        """
        began = time.perf_counter()
        report = progress or (lambda stage, fraction: None)
        starts = [("seed", None)]
        if (self.current >= 0).any():
            starts.append(("current", self.current))
        neighbours = _neighbours(len(self.grid_ids), self.edges)
        finished = []
        for index, (name, labels) in enumerate(starts):
            report(name, index / len(starts))
            if labels is None:
                labels = self._label(self._ward_labels())
            labels = self._repair(labels, neighbours)
            deadline = None if time_limit_s is None else began + time_limit_s * (index + 1) / len(starts)
            search = _LocalSearch(self, neighbours, labels, seed + index, deadline, max_iterations, patience)
            status = search.run(lambda f, i=index, s=name: report(s, (i + f) / len(starts)))
            finished.append((name, self._label(np.asarray(search.labels)), search.rounds, status))
        balance = self._current_balance()
        if balance is not None and not any(self._balanced_as(f[1], balance) for f in finished):
            report("balance", 1.0)
            name, labels, rounds, _ = min(finished, key=lambda f: self._objective(f[1]))
            search = _LocalSearch(self, neighbours, labels, seed, None, max_iterations, patience, balance_only=True)
            status = search.run(lambda f: None)
            finished.append((name, self._label(np.asarray(search.labels)), rounds + search.rounds, status))
        name, labels, rounds, status = min(
            finished, key=lambda f: (not self._balanced_as(f[1], balance), self._objective(f[1]))
        )
        report("done", 1.0)
        loads = np.bincount(labels, weights=self.workload, minlength=len(self.team_ids))
        return PlanResult(
            assignment=pd.Series(
                self.team_ids[labels], index=pd.Index(self.grid_ids, name=schema.GRID_ID), name=schema.TEAM_ID
            ),
            team_workload=pd.Series(loads, index=pd.Index(self.team_ids, name=schema.TEAM_ID), name=WORKLOAD),
            objective=self._objective(labels),
            imbalance=self._imbalance(labels),
            iterations=rounds,
            status=status,
            seconds=time.perf_counter() - began,
            start=name,
            not_worse_than_current=None if balance is None else self._balanced_as(labels, balance),
        )

    def _imbalance(self, labels: np.ndarray) -> float:
        loads = np.bincount(labels, weights=self.workload, minlength=len(self.team_ids))
        target = self.workload.sum() / len(self.team_ids)
        return float((((loads - target) / target) ** 2).sum())

    def _objective(self, labels: np.ndarray) -> float:
        k = len(self.team_ids)
        sizes = np.bincount(labels, minlength=k)
        sums = np.column_stack([np.bincount(labels, weights=c, minlength=k) for c in self._spread_xy.T])
        spread = (self._spread_xy**2).sum() - ((sums**2).sum(axis=1) / np.maximum(sizes, 1)).sum()
        return self._imbalance(labels) + float(spread) + float(self._cost[labels, np.arange(len(labels))].sum())

    def _current_balance(self) -> tuple[float, float] | None:
        """(max/min, Gini) of the current plan's team workloads; None without a current plan."""
        if not (self.current >= 0).any():
            return None
        assigned = self.current >= 0
        loads = np.bincount(self.current[assigned], weights=self.workload[assigned], minlength=len(self.team_ids))
        return max_min_ratio(loads), gini(loads)

    def _balanced_as(self, labels: np.ndarray, balance: tuple[float, float] | None) -> bool:
        if balance is None:
            return True
        loads = np.bincount(labels, weights=self.workload, minlength=len(self.team_ids))
        return max_min_ratio(loads) <= balance[0] + 1e-12 and gini(loads) <= balance[1] + 1e-12

    def _ward_labels(self) -> np.ndarray:
        """spopt's contiguity-constrained Ward clustering of grid positions into K compact regions."""
        from libpysal.weights import W
        from spopt.region import WardSpatial

        weights = W(dict(enumerate(_neighbours(len(self.grid_ids), self.edges))), silence_warnings=True)
        model = WardSpatial(
            pd.DataFrame(self.xy, columns=["x", "y"]), weights, ["x", "y"], n_clusters=len(self.team_ids)
        )
        model.solve()
        return np.asarray(model.labels_, dtype=np.int64)

    def _label(self, regions: np.ndarray) -> np.ndarray:
        """Teams for regions (labels 0..K-1), by the least total cost; a region holding a grid locked to
        another team costs prohibitively."""
        k = len(self.team_ids)
        onehot = sparse.csr_matrix((np.ones(len(regions)), (np.arange(len(regions)), regions)), shape=(len(regions), k))
        cost = np.asarray(onehot.T.dot(self._cost.T).T)
        locked = self.locks >= 0
        if locked.any():
            held = sparse.csr_matrix(
                (np.ones(locked.sum()), (self.locks[locked], regions[locked])), shape=(k, k)
            ).toarray()
            cost += 1e9 * (held.sum(axis=0)[None, :] - held)
        teams, regions_of = linear_sum_assignment(cost)
        team_of_region = np.empty(k, dtype=np.int64)
        team_of_region[regions_of] = teams
        return team_of_region[regions]

    def _lock_skeleton(self) -> np.ndarray:
        """Locked grids, plus for each team the grids that join its locked grids by the shortest path
        that crosses no grid locked (or joined) to another team. Raises if there is no such path."""
        n, k = len(self.grid_ids), len(self.team_ids)
        pinned = self.locks.copy()
        if (pinned >= k).any() or (pinned < -1).any():
            raise DistrictPlanError("locks name a team position that does not exist", code="lock_position")
        free_teams = k - len(np.unique(pinned[pinned >= 0]))
        if free_teams > (pinned < 0).sum():
            raise DistrictPlanError(
                f"{free_teams} team(s) without locked grids but only {(pinned < 0).sum()} "
                "grid(s) left unlocked; unlock grids or plan for fewer teams",
                code="too_few_unlocked",
                params={"teams": free_teams, "grids": int((pinned < 0).sum())},
            )
        length = np.hypot(*(self.xy[self.edges[:, 0]] - self.xy[self.edges[:, 1]]).T) + 1.0
        graph = sparse.csr_matrix(
            (
                np.r_[length, length],
                (np.r_[self.edges[:, 0], self.edges[:, 1]], np.r_[self.edges[:, 1], self.edges[:, 0]]),
            ),
            shape=(n, n),
        )
        counts = np.bincount(pinned[pinned >= 0], minlength=k)
        for team in np.argsort(-counts, kind="stable"):
            locked = np.flatnonzero(pinned == team)
            if locked.size < 2:
                continue
            allowed = np.flatnonzero((pinned < 0) | (pinned == team))
            position = pd.Series(np.arange(allowed.size), index=allowed)
            sub = graph[allowed][:, allowed]
            _, comp = connected_components(sub, directed=False)
            if len(set(comp[position[locked]])) > 1:
                raise DistrictPlanError(
                    f"the grids locked to team {self.team_ids[team]} ({_examples(self.grid_ids[locked])}) cannot "
                    "form one connected district: grids locked to other teams (or joining their locked grids) "
                    "lie between them; change the locks",
                    code="locks_split",
                    params={"team": self.team_ids[team], "grids": _examples(self.grid_ids[locked])},
                )
            tree = [position[locked[0]]]
            remaining = set(position[locked].tolist()) - set(tree)
            while remaining:
                dist, pred, _ = dijkstra(sub, indices=tree, min_only=True, return_predecessors=True)
                node = min(remaining, key=lambda r: dist[r])
                path = []
                while node >= 0 and node not in tree:
                    path.append(node)
                    node = pred[node]
                tree.extend(path)
                remaining -= set(path)
            pinned[allowed[tree]] = team
        return pinned

    def _repair(self, labels: np.ndarray, neighbours: list[list[int]]) -> np.ndarray:
        """A feasible plan near ``labels``: locks (and the paths joining them) applied, each district cut
        to its piece holding its locks (else its heaviest piece), every team given a grid, and the grids
        left over handed to the lightest neighbouring district until none is left."""
        k, w = len(self.team_ids), self.workload
        lab = np.asarray(labels, dtype=np.int64).copy()
        pinned = self._pinned >= 0
        lab[pinned] = self._pinned[pinned]
        m = _matrix(len(lab), self.edges)
        for team in range(k):
            members = np.flatnonzero(lab == team)
            if members.size < 2:
                continue
            count, comp = connected_components(m[members][:, members], directed=False)
            if count == 1:
                continue
            has_pin = np.bincount(comp, weights=pinned[members], minlength=count)
            keep = (
                int(np.argmax(has_pin))
                if has_pin.max() > 0
                else int(np.argmax(np.bincount(comp, weights=w[members] + 1e-12, minlength=count)))
            )
            lab[members[comp != keep]] = -1
        for team in range(k):
            if (lab == team).any():
                continue
            free = np.flatnonzero(lab < 0)
            if free.size:
                lab[free[np.argmin(self.distance_m[team, free])]] = team
                continue
            sizes = np.bincount(lab, minlength=k)
            movable = [
                i
                for i in np.argsort(self.distance_m[team])
                if not pinned[i] and sizes[lab[i]] > 1 and _stays_connected(neighbours, lab, i)
            ]
            if not movable:
                raise DistrictPlanError(
                    f"team {self.team_ids[team]} cannot be given a district: every grid is "
                    "locked or holds its district together; unlock some grids",
                    code="no_district",
                    params={"team": self.team_ids[team]},
                )
            lab[movable[0]] = team
        loads = np.bincount(lab[lab >= 0], weights=w[lab >= 0], minlength=k)
        while (lab < 0).any():
            grew = False
            for i in np.flatnonzero(lab < 0):
                options = {lab[j] for j in neighbours[i] if lab[j] >= 0}
                if options:
                    team = min(options, key=lambda t: (loads[t], self._cost[t, i]))
                    lab[i] = team
                    loads[team] += w[i]
                    grew = True
            if not grew:
                raise DistrictPlanError("some grids cannot be reached from any district", code="unreachable")
        return lab


def _workload_values(workload: pd.Series | pd.DataFrame, grid_ids: np.ndarray) -> np.ndarray:
    series = workload[WORKLOAD] if isinstance(workload, pd.DataFrame) else workload
    series = pd.Series(series.to_numpy(dtype=float), index=series.index.astype(str))
    values = series.reindex(grid_ids)
    if values.isna().any():
        raise DistrictPlanError(
            f"no workload for grid(s) {_examples(grid_ids[values.isna().to_numpy()])}; "
            "compute it with patrol.workload for the same grids",
            code="no_workload",
            params={"grids": _examples(grid_ids[values.isna().to_numpy()])},
        )
    return values.to_numpy()


def _lock_labels(locks: Mapping[str, str] | pd.DataFrame, grid_pos: pd.Series, team_pos: pd.Series) -> np.ndarray:
    if isinstance(locks, pd.DataFrame):
        pairs = [(_text(g), _text(t)) for g, t in zip(locks[schema.GRID_ID], locks[schema.TEAM_ID])]
    else:
        pairs = [(_text(g), _text(t)) for g, t in locks.items()]
    unknown_grids = [g for g, _ in pairs if g not in grid_pos.index]
    unknown_teams = [t for _, t in pairs if t not in team_pos.index]
    if unknown_grids or unknown_teams:
        raise DistrictPlanError(
            "locks name unknown "
            + "; ".join(
                f"{what} {_examples(values)}"
                for what, values in (("grid(s)", unknown_grids), ("team(s)", unknown_teams))
                if values
            )
            + "; lock active grids to existing teams",
            code="locks_unknown",
            params={
                "grids": _examples(unknown_grids) if unknown_grids else "–",
                "teams": _examples(unknown_teams) if unknown_teams else "–",
            },
        )
    teams_of = pd.DataFrame(pairs, columns=["g", "t"]).drop_duplicates().groupby("g")["t"].agg(list)
    twice = teams_of[teams_of.map(len) > 1]
    if len(twice):
        raise DistrictPlanError(
            "grid(s) locked to more than one team: "
            + "; ".join(f"{g} ({', '.join(t)})" for g, t in twice.items())
            + "; lock each grid to one team",
            code="locked_twice",
            params={"grids": "; ".join(f"{g} ({', '.join(t)})" for g, t in twice.items())},
        )
    labels = np.full(len(grid_pos), -1)
    labels[grid_pos[teams_of.index].to_numpy()] = team_pos[[t[0] for t in teams_of]].to_numpy()
    return labels


def _neighbours(n: int, edges: np.ndarray) -> list[list[int]]:
    m = _matrix(n, edges)
    return [m.indices[m.indptr[i] : m.indptr[i + 1]].tolist() for i in range(n)]


def _stays_connected(neighbours: list[list[int]], lab, i: int) -> bool:
    """Whether grid ``i``'s district stays connected without it: its neighbours in the district must
    still reach one another (the district was connected, so then all of it is)."""
    a = lab[i]
    near = [j for j in neighbours[i] if lab[j] == a]
    if len(near) <= 1:
        return True
    targets = set(near[1:])
    seen = {i, near[0]}
    stack = [near[0]]
    while stack:
        u = stack.pop()
        for v in neighbours[u]:
            if v not in seen and lab[v] == a:
                if v in targets:
                    targets.discard(v)
                    if not targets:
                        return True
                seen.add(v)
                stack.append(v)
    return False


class _LocalSearch:
    """Iterated local search over boundary grids, every district kept connected.

    *Descent*: a grid moves to a neighbouring district, or swaps with a grid of one, whenever that
    lowers the objective and both districts stay connected; only grids in or next to districts that
    changed are looked at again. *Perturbation*: a few random connected moves around one boundary
    grid, then descent again; the result is kept if it beats the best plan so far, else undone.
    Stops after ``patience`` rounds without improvement, or at the deadline or round limit.

    The spread term of a district is ``Q - |S|² / n`` over its grids' scaled positions (``S`` their
    sum, ``Q`` the sum of their squared lengths), so a move changes it by a constant-time update. The
    state is kept in plain Python lists: the hot loop reads single items, which lists serve several
    times faster than numpy arrays.
    """

    EPS = 1e-12
    CHECK_EVERY = 128  # grids looked at between clock checks

    def __init__(
        self,
        plan: DistrictPlan,
        neighbours: list[list[int]],
        labels: np.ndarray,
        seed: int,
        deadline: float | None,
        max_rounds: int | None,
        patience: int,
        balance_only: bool = False,
    ):
        k = len(plan.team_ids)
        spread_xy = np.zeros_like(plan._spread_xy) if balance_only else plan._spread_xy
        cost = np.zeros_like(plan._cost) if balance_only else plan._cost
        self.neighbours = neighbours
        self.w = plan.workload.tolist()
        self.cost = cost.tolist()
        self.locked = (plan.locks >= 0).tolist()
        self.x, self.y = spread_xy[:, 0].tolist(), spread_xy[:, 1].tolist()
        self.labels = labels.tolist()
        self.members = [set(np.flatnonzero(labels == d).tolist()) for d in range(k)]
        self.loads = np.bincount(labels, weights=plan.workload, minlength=k).tolist()
        self.sizes = np.bincount(labels, minlength=k).tolist()
        self.sx = np.bincount(labels, weights=spread_xy[:, 0], minlength=k).tolist()
        self.sy = np.bincount(labels, weights=spread_xy[:, 1], minlength=k).tolist()
        target = plan.workload.sum() / k
        self.scale = 1.0 / (target * target)
        self.value = 0.0  # objective relative to the start
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.max_rounds = max_rounds
        self.patience = patience
        self.strength = max(2, round(math.sqrt(len(labels) / k)))
        self.rounds = 0
        self.stopped = ""
        self.log: list[tuple[int, int, int]] = []  # moves since the best plan, to undo

    def run(self, report: Callable[[float], None]) -> str:
        """Descend, then perturb and descend until out of patience or budget; returns the status."""
        if self._out_of_budget():
            return self.stopped
        self.rounds += 1
        self._descend(range(len(self.sizes)))
        best, since, shown = self.value, 0, 0.0
        self.log.clear()
        while since < self.patience and not self._out_of_budget():
            self.rounds += 1
            touched = self._perturb()
            self._descend(touched)
            if self.value < best - self.EPS:
                best, since = self.value, 0
            else:
                self._undo()
                self.value = best
                since += 1
            self.log.clear()
            shown = max(shown, since / self.patience)
            report(min(shown, 0.99))
        report(1.0)
        return self.stopped or "local_optimum"

    def _out_of_budget(self) -> bool:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.stopped = "time_limit"
        elif self.max_rounds is not None and self.rounds >= self.max_rounds:
            self.stopped = "iteration_limit"
        return bool(self.stopped)

    def _descend(self, districts) -> None:
        """Moves, then swaps, of the grids in and next to ``districts``, and then around whatever
        changes, until none helps."""
        swap_dirty = set(districts)
        pending = self._around(swap_dirty)
        while pending:
            order = list(pending)
            self.rng.shuffle(order)
            changed = set()
            for count, i in enumerate(order):
                if count % self.CHECK_EVERY == 0 and self.deadline is not None and time.perf_counter() > self.deadline:
                    return
                if not self.locked[i]:
                    changed.update(self._try_move(i))
            if not changed:
                order = list(self._around(swap_dirty))
                self.rng.shuffle(order)
                for i in order:
                    if not self.locked[i]:
                        changed.update(self._try_swap(i))
                swap_dirty = set()
            swap_dirty |= changed
            pending = self._around(changed)

    def _around(self, districts) -> set[int]:
        """The grids of ``districts`` and their neighbours (whose moves into them changed value)."""
        out = set()
        for d in districts:
            for i in self.members[d]:
                out.add(i)
                out.update(self.neighbours[i])
        return out

    def _perturb(self) -> set[int]:
        """A few random moves around a random boundary grid; returns the districts they touched."""
        lab, nbrs, n = self.labels, self.neighbours, len(self.labels)
        for _ in range(64):
            i = self.rng.randrange(n)
            if not self.locked[i] and any(lab[j] != lab[i] for j in nbrs[i]):
                break
        else:
            return set()
        area = list({i, *nbrs[i], *(v for u in nbrs[i] for v in nbrs[u])})
        self.rng.shuffle(area)
        touched, left = set(), self.rng.randint(1, self.strength)
        for g in area:
            a = lab[g]
            others = [lab[j] for j in nbrs[g] if lab[j] != a]
            if left and others and not self.locked[g] and self.sizes[a] > 1 and _stays_connected(nbrs, lab, g):
                b = self.rng.choice(others)
                self.value += self._leaving(g, a) + self._joining(g, b)
                self._place(g, a, b)
                touched.update((a, b))
                left -= 1
        return touched

    def _undo(self) -> None:
        for i, a, b in reversed(self.log):
            self._place(i, b, a, log=False)
        self.log.clear()

    def _spread_change(self, d: int, dx: float, dy: float, dn: int) -> float:
        """Change of ``-|S|² / n`` for district ``d`` when ``S`` grows by (dx, dy) and ``n`` by dn (the
        ``Q`` parts of a move cancel between the two districts)."""
        sx, sy, n = self.sx[d], self.sy[d], self.sizes[d]
        return (sx * sx + sy * sy) / n - ((sx + dx) ** 2 + (sy + dy) ** 2) / (n + dn)

    def _leaving(self, i: int, a: int) -> float:
        """The part of the change for moving ``i`` out of ``a`` that does not depend on where it goes."""
        wi, sx, sy, n = self.w[i], self.sx[a], self.sy[a], self.sizes[a]
        return (
            2 * wi * (wi - self.loads[a]) * self.scale
            - self.cost[a][i]
            + (sx * sx + sy * sy) / n
            - ((sx - self.x[i]) ** 2 + (sy - self.y[i]) ** 2) / (n - 1)
        )

    def _joining(self, i: int, b: int) -> float:
        """The rest of the change, for ``i`` joining ``b``."""
        sx, sy, n = self.sx[b], self.sy[b], self.sizes[b]
        return (
            2 * self.w[i] * self.loads[b] * self.scale
            + self.cost[b][i]
            + (sx * sx + sy * sy) / n
            - ((sx + self.x[i]) ** 2 + (sy + self.y[i]) ** 2) / (n + 1)
        )

    def _try_move(self, i: int) -> tuple[int, ...]:
        """Move ``i`` to its best neighbouring district if that helps; returns the districts changed."""
        lab = self.labels
        a = lab[i]
        others = {lab[j] for j in self.neighbours[i]}
        others.discard(a)
        if not others or self.sizes[a] == 1:
            return ()
        leaving = self._leaving(i, a)
        best, best_b = -self.EPS, -1
        for b in others:
            delta = leaving + self._joining(i, b)
            if delta < best:
                best, best_b = delta, b
        if best_b < 0 or not _stays_connected(self.neighbours, lab, i):
            return ()
        self.value += best
        self._place(i, a, best_b)
        return a, best_b

    def _try_swap(self, i: int) -> tuple[int, ...]:
        """Swap ``i`` with a neighbouring grid of another district, if that helps; returns the districts
        changed."""
        lab, loads, cost, w, x, y = self.labels, self.loads, self.cost, self.w, self.x, self.y
        a = lab[i]
        best, pair = -self.EPS, None
        for j in self.neighbours[i]:
            b = lab[j]
            if b == a or self.locked[j]:
                continue
            net, dx, dy = w[i] - w[j], x[j] - x[i], y[j] - y[i]
            delta = (
                2 * net * (loads[b] - loads[a] + net) * self.scale
                + cost[b][i]
                - cost[a][i]
                + cost[a][j]
                - cost[b][j]
                + self._spread_change(a, dx, dy, 0)
                + self._spread_change(b, -dx, -dy, 0)
            )
            if delta < best:
                best, pair = delta, (j, b)
        if pair is None:
            return ()
        j, b = pair
        lab[i], lab[j] = b, a
        connected = self._connected(a, j) and self._connected(b, i)
        lab[i], lab[j] = a, b
        if not connected:
            return ()
        self.value += best
        self._place(i, a, b)
        self._place(j, b, a)
        return a, b

    def _connected(self, district: int, start: int) -> bool:
        lab, nbrs = self.labels, self.neighbours
        seen = {start}
        stack = [start]
        while stack:
            u = stack.pop()
            for v in nbrs[u]:
                if v not in seen and lab[v] == district:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == self.sizes[district]

    def _place(self, i: int, a: int, b: int, log: bool = True) -> None:
        self.labels[i] = b
        self.members[a].discard(i)
        self.members[b].add(i)
        self.loads[a] -= self.w[i]
        self.loads[b] += self.w[i]
        self.sizes[a] -= 1
        self.sizes[b] += 1
        self.sx[a] -= self.x[i]
        self.sx[b] += self.x[i]
        self.sy[a] -= self.y[i]
        self.sy[b] += self.y[i]
        if log:
            self.log.append((i, a, b))


# ==== report ======================================================================================


def plan_report(
    grids: gpd.GeoDataFrame,
    assignment: pd.Series | pd.DataFrame,
    teams: gpd.GeoDataFrame,
    workload: pd.Series | pd.DataFrame,
    current: pd.Series | pd.DataFrame | None = None,
    contiguity: Contiguity | None = None,
) -> tuple[pd.DataFrame, dict]:
    """How a plan shares the work: one row per team and a summary.

    ``assignment`` (and ``current``) is a grid_id → team_id Series or an assignment table. Per team
    (index ``team_id``): ``team_name``, ``grids``, ``workload``, ``workload_vs_mean`` (1 = a fair
    share), ``area_km2``, ``population``, ``tickets`` (when ``workload`` is the frame ``workload()``
    returns), ``polsby_popper`` (4πA/P² of the district's outline: 1 for a disc, near 0 for a ragged or
    stretched one), ``travel_mean_m``/``travel_max_m`` (straight line from the team's base to its
    grids' representative points) and ``parts`` (connected pieces; 1 = contiguous). Summary:
    ``max_min_ratio``, ``gini``, ``polsby_popper_mean``, ``contiguous``, ``unassigned_grids``,
    ``teams_without_grids`` and ``changed_grids`` (grids whose team differs from ``current``; None
    without it). Areas and distances are measured in the grids' metric CRS.
    """
    grid_ids = grids[schema.GRID_ID].astype(str)
    team_ids = teams[schema.TEAM_ID].astype(str)
    owner = grid_ids.map(_owner_series(assignment))
    table = workload if isinstance(workload, pd.DataFrame) else pd.DataFrame({WORKLOAD: workload})
    table = table.set_axis(table.index.astype(str)).reindex(grid_ids.to_numpy())
    crs = metric_crs(grids)
    shapes = gpd.GeoSeries(grids.geometry.to_numpy(), crs=grids.crs).to_crs(crs)
    points = np.asarray(shapes.representative_point().array)
    bases = np.asarray(gpd.GeoSeries(teams.geometry.to_numpy(), crs=teams.crs).to_crs(crs).array)
    frame = pd.DataFrame(
        {
            schema.TEAM_ID: owner.to_numpy(),
            WORKLOAD: table[WORKLOAD].to_numpy(),
            "area_km2": shapes.area.to_numpy() / 1e6,
            "population": pd.to_numeric(grids[schema.POPULATION], errors="coerce").fillna(0).to_numpy(),
        }
    )
    if "tickets" in table.columns:
        frame["tickets"] = table["tickets"].to_numpy()
    by_team = frame.groupby(schema.TEAM_ID)
    out = pd.DataFrame(index=pd.Index(team_ids.to_numpy(), name=schema.TEAM_ID))
    out[TEAM_NAME] = teams[schema.NAME].to_numpy()
    out["grids"] = by_team.size().reindex(out.index).fillna(0).astype("int64")
    for column in [c for c in frame.columns if c != schema.TEAM_ID]:
        out[column] = by_team[column].sum().reindex(out.index).fillna(0)
    out.insert(3, "workload_vs_mean", out[WORKLOAD] / out[WORKLOAD].mean())
    graph = contiguity if contiguity is not None else Contiguity.from_grids(grids)
    parts = graph.parts(owner.to_numpy(dtype=object))
    pp, mean_m, max_m = [], [], []
    for t, team in enumerate(out.index):
        mine = (owner == team).to_numpy()
        if not mine.any():
            pp.append(np.nan)
            mean_m.append(np.nan)
            max_m.append(np.nan)
            continue
        outline = shapely.union_all(np.asarray(shapes.array)[mine])
        pp.append(4 * math.pi * outline.area / outline.length**2)
        travel = shapely.distance(bases[t], points[mine])
        mean_m.append(float(travel.mean()))
        max_m.append(float(travel.max()))
    out["polsby_popper"] = pp
    out["travel_mean_m"] = mean_m
    out["travel_max_m"] = max_m
    out["parts"] = parts.reindex(out.index).fillna(0).astype("int64")
    changed = None
    if current is not None:
        before = grid_ids.map(_owner_series(current))
        changed = int((before.fillna("") != owner.fillna("")).sum())
    summary = {
        "max_min_ratio": max_min_ratio(out[WORKLOAD]),
        "gini": gini(out[WORKLOAD]),
        "polsby_popper_mean": float(np.nanmean(pp)) if any(np.isfinite(pp)) else math.nan,
        "contiguous": bool((out.loc[out["grids"] > 0, "parts"] == 1).all()),
        "unassigned_grids": int(owner.isna().sum()),
        "teams_without_grids": int((out["grids"] == 0).sum()),
        "changed_grids": changed,
    }
    return out, summary


def _owner_series(assignment: pd.Series | pd.DataFrame) -> pd.Series:
    """grid_id → team_id from a Series or an assignment table."""
    if isinstance(assignment, pd.DataFrame):
        return pd.Series(
            assignment[schema.TEAM_ID].astype(str).to_numpy(), index=assignment[schema.GRID_ID].astype(str).to_numpy()
        )
    return pd.Series(assignment.astype(str).to_numpy(), index=assignment.index.astype(str))
