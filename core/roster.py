"""The duty roster: which patrol team covers which grids — the assignment table read from a
spreadsheet, checked, and written back out.

The assignment table is a plain frame with ``team_id`` and ``grid_id``, one row per assigned grid (a
grid belongs to at most one team; a team may have none). ``read_assignments_csv`` reads one from a
spreadsheet export, ``assignment_problems`` / ``validate_assignments`` check it (every problem at
once, with the file's row numbers) and ``roster_table`` / ``assignments_to_csv`` write the duty roster.
``assignment_rows``, ``id_text`` and ``examples_text`` are the small helpers the patrol and district
modules share with it.

Not here: nightly sign-ins against the roster (``core.patrol``), grid workloads (``core.workload``)
and proposing new districts (``core.districts``).

Errors: ``core.errors.ReadError`` for a file that is not a table, ``core.errors.ValidationError`` for
an assignment table with problems.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from core import exports, schema
from core.encodings import decode_text
from core.errors import Problem, ReadError, ValidationError
from core.tables import normalised_header, sniff_delimiter

__all__ = [
    "GRID_NAME",
    "LAYER",
    "TEAM_NAME",
    "assignment_problems",
    "assignment_rows",
    "assignments_to_csv",
    "examples_text",
    "id_text",
    "read_assignments_csv",
    "roster_table",
    "validate_assignments",
]

LAYER = schema.PATROL_ASSIGNMENTS
"""Layer name used in the problems of an assignment table."""

# ---- output columns ------------------------------------------------------------------------------
TEAM_NAME = "team_name"
GRID_NAME = "grid_name"

# ---- CSV headers accepted for an assignment table (compared after normalised_header) -----------
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
    delimiter = sniff_delimiter(text.lstrip("\ufeff"))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))
    if not rows:
        raise ReadError(
            "the assignment file is empty; it needs a header row (team_id, grid_id) and a row per assigned grid",
            code="roster_empty",
        )
    header, body = [normalised_header(h) for h in rows[0]], rows[1:]
    columns = {
        role: next((header.index(normalised_header(h)) for h in names if normalised_header(h) in header), None)
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
    return _problems(assignment_rows(assignments), grids, teams)


def validate_assignments(assignments: pd.DataFrame, grids: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """The assignment table cleaned (ids stripped, repeated rows dropped, ``team_id`` and ``grid_id``
    only) if it has no errors; else one ``ValidationError`` listing every problem, warnings included.
    Warnings alone do not block: ``assignment_problems`` lists them."""
    return _checked(assignment_rows(assignments), grids, teams)


def roster_table(assignments: pd.DataFrame, teams: pd.DataFrame, grids: pd.DataFrame) -> pd.DataFrame:
    """The duty roster: one row per assigned grid with ``team_id``, ``team_name``, ``grid_id``,
    ``grid_name`` and ``community``, in team order and then grid order."""
    table = assignment_rows(assignments)
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


def _resolve(values: list[str], ids: pd.Series, names: pd.Series) -> list[str]:
    """Each value as an id: ids stay, a unique name becomes its id, anything else is kept (and reported
    as unknown by the checks)."""
    known = set(ids.astype(str))
    unique_names = names.astype(str)[~names.duplicated(keep=False)]
    by_name = dict(zip(unique_names, ids.astype(str)[unique_names.index]))
    return [v if v in known or v not in by_name else by_name[v] for v in values]


def assignment_rows(assignments: pd.DataFrame) -> pd.DataFrame:
    """The two id columns of an assignment table as stripped text ("" where empty), rows numbered
    from 1 (as text, the index); a ``ValidationError`` if either column is missing."""
    missing = [c for c in (schema.TEAM_ID, schema.GRID_ID) if c not in assignments.columns]
    if missing:
        raise ValidationError(LAYER, [Problem.missing_column(LAYER, c, f"add a `{c}` column") for c in missing])
    out = pd.DataFrame(
        {c: [id_text(v) for v in assignments[c]] for c in (schema.TEAM_ID, schema.GRID_ID)}, dtype=object
    )
    out.index = pd.Index([str(n) for n in range(1, len(out) + 1)])
    return out


def id_text(value: Any) -> str:
    """An id cell as stripped text; "" for a missing value."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def _checked(table: pd.DataFrame, grids: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    problems = _problems(table, grids, teams)
    if any(p.severity == "error" for p in problems):
        raise ValidationError(LAYER, problems)
    clean = table.drop_duplicates().reset_index(drop=True)
    return clean.astype({schema.TEAM_ID: str, schema.GRID_ID: str})


def examples_text(values: Iterable[str]) -> str:
    """The first five distinct values, comma-separated, with how many more there are."""
    values = list(dict.fromkeys(values))
    return ", ".join(values[:5]) + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def _problems(table: pd.DataFrame, grids: pd.DataFrame, teams: pd.DataFrame) -> list[Problem]:
    """The checks of an assignment table whose index holds the row numbers to report."""
    team, grid = table[schema.TEAM_ID], table[schema.GRID_ID]
    team_ids, grid_ids = teams[schema.TEAM_ID].astype(str), grids[schema.GRID_ID].astype(str)
    problems = []

    def problem(
        column: str | None,
        mask: pd.Series | None,
        what: str,
        fix: str,
        /,
        *,
        code: str,
        severity: str = "error",
        **params: object,
    ) -> Problem:
        """A problem of the table in the rows where ``mask`` holds (None: of the whole table)."""
        rows = () if mask is None else tuple(table.index[mask.to_numpy()])
        return Problem(LAYER, column, rows, what, fix, severity=severity, code=code, params=params)

    for column, values, what in ((schema.TEAM_ID, team, "team"), (schema.GRID_ID, grid, "grid")):
        if (values == "").any():
            empty, fill = f"the {what} is empty", f"fill in the {what} id (or name), or delete the row"
            problems.append(problem(column, values == "", empty, fill, code="missing_value", column=column))
    unknown_team = (team != "") & ~team.isin(team_ids)
    unknown_grid = (grid != "") & ~grid.isin(grid_ids)
    for column, values, unknown, what, code, fix in (
        (
            schema.TEAM_ID,
            team,
            unknown_team,
            "team",
            "unknown_team",
            f"use the id or name of a patrol team ({examples_text(team_ids)})",
        ),
        (
            schema.GRID_ID,
            grid,
            unknown_grid,
            "grid",
            "unknown_grid",
            "use the grid_id of an active grid (check that Excel kept all 14 digits: format the column as text)",
        ),
    ):
        if unknown.any():
            examples = examples_text(values[unknown])
            problems.append(
                problem(column, unknown, f"unknown {what}(s) {examples}", fix, code=code, examples=examples)
            )
    valid = (team != "") & (grid != "") & ~unknown_team & ~unknown_grid
    pairs = table[valid].drop_duplicates()
    teams_per_grid = pairs.groupby(schema.GRID_ID)[schema.TEAM_ID].nunique()
    twice = teams_per_grid.index[teams_per_grid > 1]
    if len(twice):
        examples = examples_text(twice)
        given_twice = f"grid(s) {examples} given to more than one team"
        keep_one = "keep one team per grid and delete the other rows"
        in_twice = valid & grid.isin(twice)
        problems.append(
            problem(schema.GRID_ID, in_twice, given_twice, keep_one, code="grid_assigned_twice", examples=examples)
        )
    repeated = valid & table.duplicated(keep="first")
    if repeated.any():
        again, ignored = "the same team and grid are listed again", "nothing to do: the repeated rows are ignored"
        problems.append(problem(None, repeated, again, ignored, code="duplicate_row", severity="warning"))
    uncovered = grid_ids[~grid_ids.isin(grid[valid])]
    if len(uncovered):
        examples = examples_text(uncovered)
        count = len(uncovered)
        no_team = f"{count} grid(s) have no team: {examples}"
        go_on = "assign them to a team, or go on if nobody is meant to patrol them"
        problems.append(
            problem(
                schema.GRID_ID,
                None,
                no_team,
                go_on,
                code="grid_uncovered",
                severity="warning",
                count=count,
                examples=examples,
            )
        )
    return problems
