"""core.roster: assignment tables read from CSV (Chinese headers, GBK, names for ids), every problem
at once with row numbers, and the duty roster written back out."""

from __future__ import annotations

import pytest
from patrol_cases import small_assignments, small_grids, small_teams

from core import roster, schema
from core.errors import ReadError, ValidationError


def test_csv_with_chinese_headers_in_gbk():
    text = "队伍编号,网格编号,备注\nA,g1,\n A , g2 ,东片\nB,g3,\nC,g4,\nC,g5,\n"
    table = roster.read_assignments_csv(text.encode("gbk"), small_grids(), small_teams())
    assert table.to_dict("list") == small_assignments().to_dict("list")


def test_csv_in_utf8_with_bom_names_teams_by_name():
    text = "巡查队,网格编码\n甲队,g1\n甲队,g2\n乙队,g3\nC,g4\n丙队,g5\n"
    table = roster.read_assignments_csv(text.encode("utf-8-sig"), small_grids(), small_teams())
    assert table.to_dict("list") == small_assignments().to_dict("list")
    text = "team_name,grid_id\n甲队,g1\n"
    table = roster.read_assignments_csv(text.encode("utf-8"), small_grids(), small_teams())
    assert table.to_dict("list") == {schema.TEAM_ID: ["A"], schema.GRID_ID: ["g1"]}


def test_csv_lists_every_problem_at_once_with_row_numbers():
    text = (
        "team_id,grid_id\n"
        "A,g1\n"  # 1 fine
        "X,g2\n"  # 2 unknown team
        "B,g9\n"  # 3 unknown grid
        "\n"  # 4 blank: skipped, still counted
        ",g3\n"  # 5 empty team
        "B,\n"  # 6 empty grid
        "C,g4\n"  # 7 g4 given to C …
        "B,g4\n"  # 8 … and to B
        "A,g1\n"
    )  # 9 the same row again (a warning)
    with pytest.raises(ValidationError) as caught:
        roster.read_assignments_csv(text.encode("utf-8"), small_grids(), small_teams())
    problems = {p.code: p for p in caught.value.problems}
    assert caught.value.layer == roster.LAYER
    assert problems["unknown_team"].rows == ("2",) and "X" in problems["unknown_team"].what
    assert problems["unknown_grid"].rows == ("3",) and "g9" in problems["unknown_grid"].what
    missing = {p.column: p.rows for p in caught.value.problems if p.code == "missing_value"}
    assert missing == {schema.TEAM_ID: ("5",), schema.GRID_ID: ("6",)}
    assert problems["grid_assigned_twice"].rows == ("7", "8")
    assert problems["duplicate_row"].rows == ("9",) and problems["duplicate_row"].severity == "warning"
    assert problems["grid_uncovered"].severity == "warning" and problems["grid_uncovered"].params["count"] == 3


def test_csv_without_the_needed_columns_or_text():
    with pytest.raises(ValidationError) as caught:
        roster.read_assignments_csv("名称,备注\nA,b\n".encode(), small_grids(), small_teams())
    assert {p.column for p in caught.value.problems} == {schema.TEAM_ID, schema.GRID_ID}
    with pytest.raises(ReadError):
        roster.read_assignments_csv(b"", small_grids(), small_teams())


def test_uncovered_grids_warn_but_do_not_block():
    partial = small_assignments().iloc[:3]
    assert roster.validate_assignments(partial, small_grids(), small_teams()).shape == (3, 2)
    warnings = roster.assignment_problems(partial, small_grids(), small_teams())
    assert [(p.code, p.severity) for p in warnings] == [("grid_uncovered", "warning")]
    assert "g4, g5" in warnings[0].what


def test_roster_round_trips_through_csv():
    shuffled = small_assignments().iloc[[4, 2, 0, 3, 1]]
    table = roster.roster_table(shuffled, small_teams(), small_grids())
    assert table.columns.tolist() == [
        schema.TEAM_ID,
        roster.TEAM_NAME,
        schema.GRID_ID,
        roster.GRID_NAME,
        schema.COMMUNITY,
    ]
    assert table[schema.GRID_ID].tolist() == ["g1", "g2", "g3", "g4", "g5"]
    assert table[roster.TEAM_NAME].tolist() == ["甲队", "甲队", "乙队", "丙队", "丙队"]
    data = roster.assignments_to_csv(shuffled, small_teams(), small_grids())
    assert data.startswith(b"\xef\xbb\xbf") and "一网格".encode() in data
    back = roster.read_assignments_csv(data, small_grids(), small_teams())
    assert back.to_dict("list") == small_assignments().to_dict("list")


# ---- workload -----------------------------------------------------------------------------------------
