"""core.patrol: assignment tables, nightly compliance, patrol gaps, workload and balanced, contiguous
patrol districts."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, box

from core import metrics, patrol, schema
from core.errors import GridWatchError, ReadError, ValidationError

TZ = schema.DEFAULT_TIMEZONE
UTM = 32651  # UTM 51N, Hangzhou
X0, Y0 = 300_000.0, 3_357_000.0  # near Hangzhou (120.9° E), metres


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


# ---- a five-grid district with three teams ---------------------------------------------------------


def small_grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2", "g3", "g4", "g5"],
            schema.NAME: ["一网格", "二网格", "三网格", "四网格", "五网格"],
            schema.COMMUNITY: ["c1", "c1", "c2", "c2", "c2"],
            schema.POPULATION: [1000, 1000, 2000, 0, 1000],
        },
        geometry=[box(X0 + k * 1000, Y0, X0 + (k + 1) * 1000, Y0 + 1000) for k in range(5)],
        crs=UTM,
    ).to_crs(4326)


def small_teams() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.TEAM_ID: ["A", "B", "C"], schema.NAME: ["甲队", "乙队", "丙队"]},
        geometry=gpd.points_from_xy([X0, X0 + 2500, X0 + 5000], [Y0, Y0 + 500, Y0 + 500]),
        crs=UTM,
    ).to_crs(4326)


def small_assignments() -> pd.DataFrame:
    return pd.DataFrame({schema.TEAM_ID: ["A", "A", "B", "C", "C"], schema.GRID_ID: ["g1", "g2", "g3", "g4", "g5"]})


def checkins() -> pd.DataFrame:
    """Sign-ins with a known count (comments: the night each one counts for, and why)."""
    rows = [
        ("A", "2026-10-01 21:00", "g1"),  # Oct 1, inside
        ("A", "2026-10-02 00:40", "g2"),  # Oct 1 (before noon: the night before), inside
        ("A", "2026-10-02 20:00", "g3"),  # Oct 2, outside (B's grid)
        ("A", "2026-10-03 22:00", "g1"),  # Oct 3, inside
        ("A", "2026-10-03 23:00", None),  # Oct 3, outside every grid            -> partly outside
        # A misses Oct 4
        ("B", "2026-10-01 20:00", "g3"),  # Oct 1
        ("B", "2026-10-03 21:00", "g3"),  # Oct 3 (B misses Oct 2)
        ("B", "2026-10-04 19:00", "g3"),  # Oct 4
        ("C", "2026-10-02 23:30", "g4"),  # Oct 2 (C misses Oct 1 and Oct 3)
        ("C", "2026-10-04 12:30", "g4"),  # Oct 4 (just after noon)
        ("C", "2026-10-05 11:59", "g5"),  # Oct 4 (just before noon)
        ("C", "2026-10-01 11:00", "g4"),  # Sep 30: not one of the nights asked for
        ("Z", "2026-10-02 21:00", "g1"),  # a team not in the teams layer: ignored
    ]
    frame = pd.DataFrame(rows, columns=[schema.TEAM_ID, schema.CHECKED_AT, schema.GRID_ID])
    frame[schema.CHECKED_AT] = pd.to_datetime(frame[schema.CHECKED_AT]).dt.tz_localize(TZ)
    frame[schema.CHECKIN_ID] = [f"k{i}" for i in range(len(frame))]
    return frame


NIGHTS = pd.date_range("2026-10-01", "2026-10-04", freq="D")


def test_compliance_equals_a_hand_count():
    table = patrol.compliance(checkins(), small_assignments(), small_teams(), NIGHTS)
    assert len(table) == 12
    got = {
        (r.night.strftime("%m-%d"), r.team_id): (r.sign_ins, r.inside, r.outside, r.status) for r in table.itertuples()
    }
    assert got == {
        ("10-01", "A"): (2, 2, 0, "inside"),
        ("10-01", "B"): (1, 1, 0, "inside"),
        ("10-01", "C"): (0, 0, 0, "missed"),
        ("10-02", "A"): (1, 0, 1, "outside"),
        ("10-02", "B"): (0, 0, 0, "missed"),
        ("10-02", "C"): (1, 1, 0, "inside"),
        ("10-03", "A"): (2, 1, 1, "partly_outside"),
        ("10-03", "B"): (1, 1, 0, "inside"),
        ("10-03", "C"): (0, 0, 0, "missed"),
        ("10-04", "A"): (0, 0, 0, "missed"),
        ("10-04", "B"): (1, 1, 0, "inside"),
        ("10-04", "C"): (2, 2, 0, "inside"),
    }
    a_oct1 = table[(table[patrol.NIGHT] == "2026-10-01") & (table[schema.TEAM_ID] == "A")].iloc[0]
    assert a_oct1[patrol.FIRST_AT] == ts("2026-10-01 21:00")
    assert a_oct1[patrol.LAST_AT] == ts("2026-10-02 00:40")
    assert a_oct1[patrol.TEAM_NAME] == "甲队"
    missed = table[table["status"] == "missed"]
    assert missed[patrol.FIRST_AT].isna().all() and not missed[patrol.SIGNED_IN].any()
    assert not table[patrol.CALLED_OFF].any()


def test_nights_missed_per_team():
    summary = patrol.nights_missed(patrol.compliance(checkins(), small_assignments(), small_teams(), NIGHTS))
    assert summary.index.tolist() == ["A", "B", "C"]
    assert summary["signed_in"].tolist() == [3, 3, 2]
    assert summary["missed"].tolist() == [1, 1, 2]
    assert summary["compliance_rate"].tolist() == [0.75, 0.75, 0.5]
    assert summary["sign_ins"].tolist() == [5, 3, 3]
    assert summary["outside_sign_ins"].tolist() == [2, 0, 0]
    assert summary["nights_outside"].tolist() == [2, 0, 0]


def test_a_night_no_team_went_out_is_called_off_not_missed():
    nights = pd.date_range("2026-10-01", "2026-10-05", freq="D")
    table = patrol.compliance(checkins(), small_assignments(), small_teams(), nights)
    oct5 = table[table[patrol.NIGHT] == "2026-10-05"]
    assert oct5[patrol.CALLED_OFF].all() and (oct5["status"] == "missed").all()
    assert not table.loc[table[patrol.NIGHT] != "2026-10-05", patrol.CALLED_OFF].any()
    summary = patrol.nights_missed(table)
    assert summary["called_off"].tolist() == [1, 1, 1]
    assert summary["missed"].tolist() == [1, 1, 2]
    assert summary["compliance_rate"].tolist() == [0.75, 0.75, 0.5]


def test_compliance_summary_counts_the_district_and_leaves_called_off_nights_out():
    nights = pd.date_range("2026-10-01", "2026-10-05", freq="D")  # Oct 5: called off
    table = patrol.compliance(checkins(), small_assignments(), small_teams(), nights)
    summary = patrol.ComplianceSummary.of(table, patrol.nights_missed(table))
    assert summary == patrol.ComplianceSummary(
        teams=3, compliance_rate=8 / 12, missed=4, outside_sign_ins=2, called_off=1
    )
    every_night_off = table.assign(**{patrol.CALLED_OFF: True})
    assert np.isnan(patrol.ComplianceSummary.of(every_night_off, patrol.nights_missed(every_night_off)).compliance_rate)


def test_nights_in_a_period_start_at_noon_inside_it():
    october = metrics.Period(ts("2026-10-01"), ts("2026-11-01"))
    nights = patrol.nights_in(october)
    assert nights[0] == pd.Timestamp("2026-10-01") and nights[-1] == pd.Timestamp("2026-10-31")
    assert len(nights) == 31
    assert len(patrol.nights_in(metrics.Period(ts("2026-10-01 12:00"), ts("2026-10-02 12:00")))) == 1


def test_unvisited_grids_worst_first():
    gaps = patrol.unvisited_grids(
        checkins(), small_assignments(), small_grids(), ts("2026-10-05 12:00"), days=2, teams=small_teams()
    )
    # g5 was visited at Oct 5 11:59; g2 last on Oct 2 00:40; every other grid within two days
    assert gaps[schema.GRID_ID].tolist() == ["g2"]
    assert gaps.loc[0, "last_visit"] == ts("2026-10-02 00:40")
    assert gaps.loc[0, "days_since_visit"] == pytest.approx(3 + 11.33 / 24, abs=1e-3)
    assert gaps.loc[0, patrol.TEAM_NAME] == "甲队"
    early = patrol.unvisited_grids(checkins(), small_assignments(), small_grids(), ts("2026-10-02 12:00"), days=1)
    # by Oct 2 noon: g5 never visited; g4 last at Oct 1 11:00, 25 hours before
    assert early[schema.GRID_ID].tolist() == ["g5", "g4"]
    assert pd.isna(early.loc[0, "last_visit"]) and math.isnan(early.loc[0, "days_since_visit"])
    assert early.loc[1, "days_since_visit"] == pytest.approx(25 / 24)
    none_yet = patrol.unvisited_grids(checkins().iloc[:0], small_assignments(), small_grids(), ts("2026-10-02 12:00"))
    assert len(none_yet) == len(small_assignments()) and none_yet["last_visit"].isna().all()


def test_visits_against_tickets_put_hot_grids_with_few_visits_first():
    grids = small_grids().iloc[:4]
    tickets = pd.DataFrame(
        {
            schema.GRID_ID: ["g1"] * 5 + ["g2"] * 3 + ["g4", "g4", None],
            schema.CREATED_AT: [ts("2026-10-10")] * 10 + [ts("2026-10-10")],
            schema.STAGE: ["closed"] * 10 + ["closed"],
        }
    )
    tickets.loc[9, schema.STAGE] = "cancelled"  # one of g4's: not registered, not counted
    visits = pd.DataFrame({schema.GRID_ID: ["g2"] * 4 + ["g3"] * 2 + ["g4"], schema.CHECKED_AT: [ts("2026-10-11")] * 7})
    out = patrol.visits_vs_tickets(grids, tickets, visits, metrics.Period(ts("2026-10-01"), ts("2026-11-01")))
    assert out.index.tolist() == ["g1", "g4", "g2", "g3"]
    assert out["tickets"].tolist() == [5, 1, 3, 0]
    assert out["visits"].tolist() == [0, 1, 4, 2]
    assert out["hot"].tolist() == [True, False, False, False]
    assert out["ticket_rank"].tolist() == [1, 3, 2, 4]
    assert out["gap_rank"].tolist() == [1, 2, 3, 4]
    assert out.loc["g1", "gap"] == pytest.approx(5 / 9)
    assert out.loc["g4", "gap"] == pytest.approx(1 / 9 - 1 / 7)
    assert out.loc["g2", "visits_per_100_tickets"] == pytest.approx(400 / 3)
    assert math.isnan(out.loc["g3", "visits_per_100_tickets"])


# ---- assignment tables ------------------------------------------------------------------------------


def test_csv_with_chinese_headers_in_gbk():
    text = "队伍编号,网格编号,备注\nA,g1,\n A , g2 ,东片\nB,g3,\nC,g4,\nC,g5,\n"
    table = patrol.read_assignments_csv(text.encode("gbk"), small_grids(), small_teams())
    assert table.to_dict("list") == small_assignments().to_dict("list")


def test_csv_in_utf8_with_bom_names_teams_by_name():
    text = "巡查队,网格编码\n甲队,g1\n甲队,g2\n乙队,g3\nC,g4\n丙队,g5\n"
    table = patrol.read_assignments_csv(text.encode("utf-8-sig"), small_grids(), small_teams())
    assert table.to_dict("list") == small_assignments().to_dict("list")
    text = "team_name,grid_id\n甲队,g1\n"
    table = patrol.read_assignments_csv(text.encode("utf-8"), small_grids(), small_teams())
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
        patrol.read_assignments_csv(text.encode("utf-8"), small_grids(), small_teams())
    problems = {p.code: p for p in caught.value.problems}
    assert caught.value.layer == patrol.LAYER
    assert problems["unknown_team"].rows == ("2",) and "X" in problems["unknown_team"].what
    assert problems["unknown_grid"].rows == ("3",) and "g9" in problems["unknown_grid"].what
    missing = {p.column: p.rows for p in caught.value.problems if p.code == "missing_value"}
    assert missing == {schema.TEAM_ID: ("5",), schema.GRID_ID: ("6",)}
    assert problems["grid_assigned_twice"].rows == ("7", "8")
    assert problems["duplicate_row"].rows == ("9",) and problems["duplicate_row"].severity == "warning"
    assert problems["grid_uncovered"].severity == "warning" and problems["grid_uncovered"].params["count"] == 3


def test_csv_without_the_needed_columns_or_text():
    with pytest.raises(ValidationError) as caught:
        patrol.read_assignments_csv("名称,备注\nA,b\n".encode(), small_grids(), small_teams())
    assert {p.column for p in caught.value.problems} == {schema.TEAM_ID, schema.GRID_ID}
    with pytest.raises(ReadError):
        patrol.read_assignments_csv(b"", small_grids(), small_teams())


def test_uncovered_grids_warn_but_do_not_block():
    partial = small_assignments().iloc[:3]
    assert patrol.validate_assignments(partial, small_grids(), small_teams()).shape == (3, 2)
    warnings = patrol.assignment_problems(partial, small_grids(), small_teams())
    assert [(p.code, p.severity) for p in warnings] == [("grid_uncovered", "warning")]
    assert "g4, g5" in warnings[0].what


def test_roster_round_trips_through_csv():
    shuffled = small_assignments().iloc[[4, 2, 0, 3, 1]]
    roster = patrol.roster_table(shuffled, small_teams(), small_grids())
    assert roster.columns.tolist() == [
        schema.TEAM_ID,
        patrol.TEAM_NAME,
        schema.GRID_ID,
        patrol.GRID_NAME,
        schema.COMMUNITY,
    ]
    assert roster[schema.GRID_ID].tolist() == ["g1", "g2", "g3", "g4", "g5"]
    assert roster[patrol.TEAM_NAME].tolist() == ["甲队", "甲队", "乙队", "丙队", "丙队"]
    data = patrol.assignments_to_csv(shuffled, small_teams(), small_grids())
    assert data.startswith(b"\xef\xbb\xbf") and "一网格".encode() in data
    back = patrol.read_assignments_csv(data, small_grids(), small_teams())
    assert back.to_dict("list") == small_assignments().to_dict("list")


# ---- workload -----------------------------------------------------------------------------------------


def test_workload_components_are_shares_before_weighting():
    grids = small_grids().iloc[:2]
    tickets = pd.DataFrame(
        {
            schema.GRID_ID: ["g1", "g1", "g2", None],
            schema.CATEGORY: ["消防安全", "噪音", "噪音", "噪音"],
            schema.CREATED_AT: [ts("2026-10-02")] * 4,
            schema.STAGE: ["closed"] * 4,
        }
    )
    period = metrics.Period(ts("2026-10-01"), ts("2026-11-01"))
    out = patrol.workload(
        grids,
        tickets,
        period,
        patrol.WorkloadWeights(tickets=2, area=1, population=1),
        category_severity={"消防安全": 3.0},
    )
    assert out["tickets"].tolist() == [2, 1]
    assert out["weighted_tickets"].tolist() == [4.0, 1.0]
    # tickets 4/5 vs 1/5 (weight 1/2), equal areas and populations (1/4 each)
    assert out[patrol.WORKLOAD].tolist() == pytest.approx([0.5 * 0.8 + 0.25, 0.5 * 0.2 + 0.25])
    nothing = patrol.workload(grids, tickets.iloc[:0], period)
    assert nothing[patrol.WORKLOAD].tolist() == pytest.approx([0.5, 0.5])  # tickets drop out
    with pytest.raises(patrol.DistrictPlanError):
        patrol.workload(grids, tickets, period, patrol.WorkloadWeights(0, 0, 0))


def test_balance_figures():
    assert patrol.gini([1, 1, 1, 1]) == 0
    assert patrol.gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert patrol.max_min_ratio([2, 1, 4]) == 4
    assert patrol.max_min_ratio([0, 1]) == math.inf


# ---- awkward shapes ---------------------------------------------------------------------------------

ISLAND, INNER, RING, MULTI = "island", "inner", "ring", "multi"


def awkward_grids() -> gpd.GeoDataFrame:
    """A 6 × 4 block of 200 m cells; above it a row of four cells flanked by the two pieces of one
    MultiPolygon grid; east of it a ring grid whose hole is another grid; 400 m further east an island."""
    s = 200.0
    cells = {
        f"r{r}c{c}": box(X0 + c * s, Y0 + r * s, X0 + (c + 1) * s, Y0 + (r + 1) * s) for r in range(4) for c in range(6)
    }
    cells.update({f"top{c}": box(X0 + c * s, Y0 + 4 * s, X0 + (c + 1) * s, Y0 + 5 * s) for c in range(1, 5)})
    cells[MULTI] = MultiPolygon(
        [box(X0, Y0 + 4 * s, X0 + s, Y0 + 5 * s), box(X0 + 5 * s, Y0 + 4 * s, X0 + 6 * s, Y0 + 5 * s)]
    )
    hole = box(X0 + 7 * s, Y0 + s, X0 + 8 * s, Y0 + 2 * s)
    cells[RING] = box(X0 + 6 * s, Y0, X0 + 9 * s, Y0 + 3 * s).difference(hole)
    cells[INNER] = hole
    cells[ISLAND] = box(X0 + 11 * s, Y0, X0 + 12 * s, Y0 + s)
    rng = np.random.default_rng(7)
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: list(cells),
            schema.NAME: list(cells),
            schema.COMMUNITY: "c",
            schema.POPULATION: rng.integers(100, 1000, len(cells)),
        },
        geometry=list(cells.values()),
        crs=UTM,
    ).to_crs(4326)


def teams_at(grids: gpd.GeoDataFrame, k: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    points = grids.geometry.representative_point().iloc[rng.choice(len(grids), k, replace=False)]
    return gpd.GeoDataFrame(
        {schema.TEAM_ID: [f"T{t}" for t in range(k)], schema.NAME: [f"队{t}" for t in range(k)]},
        geometry=points.to_numpy(),
        crs=grids.crs,
    )


def random_workload(grids: gpd.GeoDataFrame, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.lognormal(0, 0.5, len(grids)), index=grids[schema.GRID_ID])


def geometric_parts_ok(grids: gpd.GeoDataFrame, assignment: pd.Series) -> None:
    """Each district's union is one piece, except for a piece the island grid or the second piece of
    the MultiPolygon grid genuinely adds."""
    for team, ids in assignment.groupby(assignment).groups.items():
        mine = grids[grids[schema.GRID_ID].isin(ids)]
        union = shapely.union_all(mine.geometry.to_numpy())
        allowed = 1 + (ISLAND in ids) + (MULTI in ids)
        assert shapely.get_num_geometries(union) <= allowed, (team, sorted(ids))


def test_contiguity_of_awkward_shapes():
    grids = awkward_grids()
    graph = patrol.Contiguity.from_grids(grids)
    pos = {g: i for i, g in enumerate(grids[schema.GRID_ID])}
    nbrs = graph.neighbours()
    assert nbrs[pos[INNER]] == [pos[RING]]
    assert {pos["top1"], pos["r3c0"], pos["top4"], pos["r3c5"]} <= set(nbrs[pos[MULTI]])
    assert pos["r1c1"] not in nbrs[pos["r0c0"]]  # a corner is not a border
    assert graph.bridges.tolist() == [sorted([pos[ISLAND], pos[RING]])]
    assert graph.parts(np.zeros(len(grids))).tolist() == [1]


@pytest.mark.parametrize("k", [2, 3, 5, 8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_proposed_districts_are_contiguous(k, seed):
    grids = awkward_grids()
    teams = teams_at(grids, k, seed)
    graph = patrol.Contiguity.from_grids(grids)
    plan = patrol.DistrictPlan.from_geodataframes(grids, teams, random_workload(grids, seed), contiguity=graph)
    result = plan.solve(seed=seed, patience=10)
    assert result.assignment.index.tolist() == grids[schema.GRID_ID].tolist()
    assert set(result.assignment) == set(teams[schema.TEAM_ID])
    assert (graph.parts(result.assignment.to_numpy()) == 1).all()
    geometric_parts_ok(grids, result.assignment)
    assert result.team_workload.sum() == pytest.approx(random_workload(grids, seed).sum())


def test_locks_are_kept_and_joined_by_a_path():
    grids = awkward_grids()
    teams = teams_at(grids, 4, 3)
    locks = {ISLAND: "T0", "r0c0": "T0", INNER: "T2", "top2": "T3"}
    graph = patrol.Contiguity.from_grids(grids)
    plan = patrol.DistrictPlan.from_geodataframes(
        grids, teams, random_workload(grids, 3), locks=locks, contiguity=graph
    )
    for seed in range(3):
        result = plan.solve(seed=seed, patience=10)
        assert {g: result.assignment[g] for g in locks} == locks
        assert (graph.parts(result.assignment.to_numpy()) == 1).all()
        geometric_parts_ok(grids, result.assignment)


def test_infeasible_requests_raise():
    grids = awkward_grids()
    work = random_workload(grids, 0)
    with pytest.raises(patrol.DistrictPlanError, match="needs grids and teams"):
        patrol.DistrictPlan.from_geodataframes(grids, teams_at(grids, 3, 0).iloc[:0], work)
    too_many = gpd.GeoDataFrame(
        {schema.TEAM_ID: [f"T{i}" for i in range(len(grids) + 1)], schema.NAME: "n"},
        geometry=[grids.geometry.iloc[0].centroid] * (len(grids) + 1),
        crs=4326,
    )
    with pytest.raises(patrol.DistrictPlanError, match="33 teams cannot each get a district from 32 grids"):
        patrol.DistrictPlan.from_geodataframes(grids, too_many, work)
    teams = teams_at(grids, 3, 0)
    twice = pd.DataFrame({schema.GRID_ID: ["r0c0", "r0c0"], schema.TEAM_ID: ["T0", "T1"]})
    with pytest.raises(patrol.DistrictPlanError, match="more than one team"):
        patrol.DistrictPlan.from_geodataframes(grids, teams, work, locks=twice)
    walled = {INNER: "T0", RING: "T1", "r0c0": "T0"}  # the inner grid can only reach out through the ring
    with pytest.raises(patrol.DistrictPlanError, match="cannot form one connected district"):
        patrol.DistrictPlan.from_geodataframes(grids, teams, work, locks=walled)
    with pytest.raises(patrol.DistrictPlanError, match="unknown grid"):
        patrol.DistrictPlan.from_geodataframes(grids, teams, work, locks={"nowhere": "T0"})
    everything = dict.fromkeys(grids[schema.GRID_ID], "T0")
    with pytest.raises(patrol.DistrictPlanError, match="left unlocked"):
        patrol.DistrictPlan.from_geodataframes(grids, teams, work, locks=everything)
    with pytest.raises(patrol.DistrictPlanError, match="no workload"):
        patrol.DistrictPlan.from_geodataframes(grids, teams, work.iloc[1:])
    assert issubclass(patrol.DistrictPlanError, GridWatchError)


def test_a_non_contiguous_current_plan_becomes_contiguous_and_no_less_balanced():
    grids = awkward_grids()
    teams = teams_at(grids, 3, 5)
    ids = grids[schema.GRID_ID].to_numpy()
    current = pd.DataFrame(
        {schema.TEAM_ID: np.array(["T0", "T1", "T2"])[np.arange(len(ids)) % 3], schema.GRID_ID: ids}
    )  # striped: every district in many pieces
    work = random_workload(grids, 5)
    graph = patrol.Contiguity.from_grids(grids)
    plan = patrol.DistrictPlan.from_geodataframes(grids, teams, work, current=current, contiguity=graph)
    seen = []
    result = plan.solve(progress=lambda stage, fraction: seen.append((stage, fraction)), patience=10)
    assert (graph.parts(result.assignment.to_numpy()) == 1).all()
    _, before = patrol.plan_report(grids, current, teams, work, contiguity=graph)
    assert not before["contiguous"]
    assert result.not_worse_than_current
    assert result.max_min_ratio <= before["max_min_ratio"] and result.gini <= before["gini"]
    fractions = [f for _, f in seen]
    assert seen[0] == ("seed", 0.0) and seen[-1] == ("done", 1.0)
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)


def test_heavy_shape_weights_still_leave_the_plan_as_balanced_as_the_current_one():
    grids = awkward_grids()
    teams = teams_at(grids, 2, 0)
    ids = grids[schema.GRID_ID].to_numpy()
    striped = pd.DataFrame({schema.TEAM_ID: np.array(["T0", "T1"])[np.arange(len(ids)) % 2], schema.GRID_ID: ids})
    plan = patrol.DistrictPlan.from_geodataframes(
        grids, teams, pd.Series(1.0, index=ids), current=striped, compactness=5, travel=5
    )
    stages = []
    result = plan.solve(progress=lambda stage, fraction: stages.append(stage), patience=10)
    assert "balance" in stages  # neither start was as balanced: the balance-only search ran
    assert result.team_workload.tolist() == [16.0, 16.0] and result.not_worse_than_current


def test_no_improvement_returns_the_repaired_start():
    grids = awkward_grids()
    teams = teams_at(grids, 4, 1)
    plan = patrol.DistrictPlan.from_geodataframes(grids, teams, random_workload(grids, 1))
    start = plan.solve(max_iterations=0)
    improved = plan.solve()
    assert start.status == "iteration_limit" and start.iterations == 0
    assert improved.status == "local_optimum" and improved.objective <= start.objective
    rushed = plan.solve(time_limit_s=0)
    assert rushed.status == "time_limit"
    assert (patrol.Contiguity.from_grids(grids).parts(rushed.assignment.to_numpy()) == 1).all()
    table = improved.table()
    assert patrol.validate_assignments(table, grids, teams).shape == (len(grids), 2)


def test_plan_report_measures_in_metres():
    grids = small_grids()
    teams = small_teams()
    assignment = pd.Series(["A", "A", "B", "C", "C"], index=grids[schema.GRID_ID])
    work = pd.Series([1.0, 1.0, 1.0, 0.5, 1.5], index=grids[schema.GRID_ID])
    per_team, summary = patrol.plan_report(grids, assignment, teams, work, current=small_assignments())
    assert per_team["grids"].tolist() == [2, 1, 2]
    assert per_team[patrol.WORKLOAD].tolist() == [2.0, 1.0, 2.0]
    assert per_team["area_km2"].tolist() == pytest.approx([2, 1, 2], rel=1e-3)
    assert per_team["population"].tolist() == [2000, 2000, 1000]
    assert per_team["polsby_popper"].tolist() == pytest.approx(
        [4 * math.pi * 2 / 36, math.pi / 4, 4 * math.pi * 2 / 36], rel=1e-3
    )
    # A's base at the south-west corner: grid centres at (500, 500) and (1500, 500)
    assert per_team.loc["A", "travel_mean_m"] == pytest.approx(
        (math.hypot(500, 500) + math.hypot(1500, 500)) / 2, rel=1e-3
    )
    assert per_team.loc["B", "travel_max_m"] == pytest.approx(0, abs=1)
    assert summary["max_min_ratio"] == 2.0
    assert summary["contiguous"] and summary["changed_grids"] == 0
    moved = assignment.copy()
    moved["g3"] = "A"
    _, summary = patrol.plan_report(grids, moved, teams, work, current=small_assignments())
    assert summary["changed_grids"] == 1 and summary["teams_without_grids"] == 1
    assert summary["max_min_ratio"] == math.inf


# ---- the demo district --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    from core.joins import join_to_grids
    from geodata.generate import load_demo, load_demo_assignments

    layers = load_demo()
    grids, teams = layers["grids"], layers["patrol_teams"]
    tickets = join_to_grids(layers["tickets"], grids)
    period = metrics.Period(ts("2026-08-01"), ts("2026-11-01"))
    return grids, teams, patrol.workload(grids, tickets, period), load_demo_assignments()  # the dealt roster


def test_demo_proposal_is_contiguous_and_better_balanced_than_the_dealt_plan(demo):
    grids, teams, work, current = demo
    graph = patrol.Contiguity.from_grids(grids)
    plan = patrol.DistrictPlan.from_geodataframes(grids, teams, work, current=current, contiguity=graph)
    result = plan.solve()
    proposed, after = patrol.plan_report(grids, result.assignment, teams, work, current=current, contiguity=graph)
    _, before = patrol.plan_report(grids, current, teams, work, contiguity=graph)
    assert after["contiguous"]
    assert after["max_min_ratio"] <= before["max_min_ratio"] and after["gini"] <= before["gini"]
    assert after["max_min_ratio"] < 1.15 and after["gini"] < 0.03  # from 1.35 and 0.055
    assert result.not_worse_than_current
    assert (proposed["grids"] > 0).all() and proposed["tickets"].sum() == work["tickets"].sum()
