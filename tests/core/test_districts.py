"""core.districts: proposed districts are contiguous, keep their locks, are no less balanced than
the current plan, and infeasible requests raise; the demo district's proposal beats the dealt plan."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from patrol_cases import INNER, ISLAND, RING, awkward_grids, geometric_parts_ok, random_workload, teams_at, ts

from core import metrics, schema
from core.contiguity import Contiguity
from core.districts import DistrictPlan
from core.errors import DistrictPlanError, GridWatchError
from core.roster import validate_assignments
from core.workload import plan_report, workload


@pytest.mark.parametrize("k", [2, 3, 5, 8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_proposed_districts_are_contiguous(k, seed):
    grids = awkward_grids()
    teams = teams_at(grids, k, seed)
    graph = Contiguity.from_grids(grids)
    plan = DistrictPlan.from_geodataframes(grids, teams, random_workload(grids, seed), contiguity=graph)
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
    graph = Contiguity.from_grids(grids)
    plan = DistrictPlan.from_geodataframes(grids, teams, random_workload(grids, 3), locks=locks, contiguity=graph)
    for seed in range(3):
        result = plan.solve(seed=seed, patience=10)
        assert {g: result.assignment[g] for g in locks} == locks
        assert (graph.parts(result.assignment.to_numpy()) == 1).all()
        geometric_parts_ok(grids, result.assignment)


def test_infeasible_requests_raise():
    grids = awkward_grids()
    work = random_workload(grids, 0)
    with pytest.raises(DistrictPlanError, match="needs grids and teams"):
        DistrictPlan.from_geodataframes(grids, teams_at(grids, 3, 0).iloc[:0], work)
    too_many = gpd.GeoDataFrame(
        {schema.TEAM_ID: [f"T{i}" for i in range(len(grids) + 1)], schema.NAME: "n"},
        geometry=[grids.geometry.iloc[0].centroid] * (len(grids) + 1),
        crs=4326,
    )
    with pytest.raises(DistrictPlanError, match="33 teams cannot each get a district from 32 grids"):
        DistrictPlan.from_geodataframes(grids, too_many, work)
    teams = teams_at(grids, 3, 0)
    twice = pd.DataFrame({schema.GRID_ID: ["r0c0", "r0c0"], schema.TEAM_ID: ["T0", "T1"]})
    with pytest.raises(DistrictPlanError, match="more than one team"):
        DistrictPlan.from_geodataframes(grids, teams, work, locks=twice)
    walled = {INNER: "T0", RING: "T1", "r0c0": "T0"}  # the inner grid can only reach out through the ring
    with pytest.raises(DistrictPlanError, match="cannot form one connected district"):
        DistrictPlan.from_geodataframes(grids, teams, work, locks=walled)
    with pytest.raises(DistrictPlanError, match="unknown grid"):
        DistrictPlan.from_geodataframes(grids, teams, work, locks={"nowhere": "T0"})
    everything = dict.fromkeys(grids[schema.GRID_ID], "T0")
    with pytest.raises(DistrictPlanError, match="left unlocked"):
        DistrictPlan.from_geodataframes(grids, teams, work, locks=everything)
    with pytest.raises(DistrictPlanError, match="no workload"):
        DistrictPlan.from_geodataframes(grids, teams, work.iloc[1:])
    assert issubclass(DistrictPlanError, GridWatchError)


def test_a_non_contiguous_current_plan_becomes_contiguous_and_no_less_balanced():
    grids = awkward_grids()
    teams = teams_at(grids, 3, 5)
    ids = grids[schema.GRID_ID].to_numpy()
    current = pd.DataFrame(
        {schema.TEAM_ID: np.array(["T0", "T1", "T2"])[np.arange(len(ids)) % 3], schema.GRID_ID: ids}
    )  # striped: every district in many pieces
    work = random_workload(grids, 5)
    graph = Contiguity.from_grids(grids)
    plan = DistrictPlan.from_geodataframes(grids, teams, work, current=current, contiguity=graph)
    seen = []
    result = plan.solve(progress=lambda stage, fraction: seen.append((stage, fraction)), patience=10)
    assert (graph.parts(result.assignment.to_numpy()) == 1).all()
    _, before = plan_report(grids, current, teams, work, contiguity=graph)
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
    plan = DistrictPlan.from_geodataframes(
        grids, teams, pd.Series(1.0, index=ids), current=striped, compactness=5, travel=5
    )
    stages = []
    result = plan.solve(progress=lambda stage, fraction: stages.append(stage), patience=10)
    assert "balance" in stages  # neither start was as balanced: the balance-only search ran
    assert result.team_workload.tolist() == [16.0, 16.0] and result.not_worse_than_current


def test_no_improvement_returns_the_repaired_start():
    grids = awkward_grids()
    teams = teams_at(grids, 4, 1)
    plan = DistrictPlan.from_geodataframes(grids, teams, random_workload(grids, 1))
    start = plan.solve(max_iterations=0)
    improved = plan.solve()
    assert start.status == "iteration_limit" and start.iterations == 0
    assert improved.status == "local_optimum" and improved.objective <= start.objective
    rushed = plan.solve(time_limit_s=0)
    assert rushed.status == "time_limit"
    assert (Contiguity.from_grids(grids).parts(rushed.assignment.to_numpy()) == 1).all()
    table = improved.table()
    assert validate_assignments(table, grids, teams).shape == (len(grids), 2)


# ---- the demo district --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    from core.joins import join_to_grids
    from geodata.generate import load_demo, load_demo_assignments

    layers = load_demo()
    grids, teams = layers["grids"], layers["patrol_teams"]
    tickets = join_to_grids(layers["tickets"], grids)
    period = metrics.Period(ts("2026-08-01"), ts("2026-11-01"))
    return grids, teams, workload(grids, tickets, period), load_demo_assignments()  # the dealt roster


def test_demo_proposal_is_contiguous_and_better_balanced_than_the_dealt_plan(demo):
    grids, teams, work, current = demo
    graph = Contiguity.from_grids(grids)
    plan = DistrictPlan.from_geodataframes(grids, teams, work, current=current, contiguity=graph)
    result = plan.solve()
    proposed, after = plan_report(grids, result.assignment, teams, work, current=current, contiguity=graph)
    _, before = plan_report(grids, current, teams, work, contiguity=graph)
    assert after["contiguous"]
    assert after["max_min_ratio"] <= before["max_min_ratio"] and after["gini"] <= before["gini"]
    assert after["max_min_ratio"] < 1.15 and after["gini"] < 0.03  # from 1.35 and 0.055
    assert result.not_worse_than_current
    assert (proposed["grids"] > 0).all() and proposed["tickets"].sum() == work["tickets"].sum()
