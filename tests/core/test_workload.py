"""core.workload: grid workloads as shares before weighting, balance figures, and the plan report
measured in metres."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from patrol_cases import small_assignments, small_grids, small_teams, ts

from core import metrics, schema, workload
from core.errors import DistrictPlanError


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
    out = workload.workload(
        grids,
        tickets,
        period,
        workload.WorkloadWeights(tickets=2, area=1, population=1),
        category_severity={"消防安全": 3.0},
    )
    assert out["tickets"].tolist() == [2, 1]
    assert out["weighted_tickets"].tolist() == [4.0, 1.0]
    # tickets 4/5 vs 1/5 (weight 1/2), equal areas and populations (1/4 each)
    assert out[workload.WORKLOAD].tolist() == pytest.approx([0.5 * 0.8 + 0.25, 0.5 * 0.2 + 0.25])
    nothing = workload.workload(grids, tickets.iloc[:0], period)
    assert nothing[workload.WORKLOAD].tolist() == pytest.approx([0.5, 0.5])  # tickets drop out
    with pytest.raises(DistrictPlanError):
        workload.workload(grids, tickets, period, workload.WorkloadWeights(0, 0, 0))


def test_balance_figures():
    assert workload.gini([1, 1, 1, 1]) == 0
    assert workload.gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert workload.max_min_ratio([2, 1, 4]) == 4
    assert workload.max_min_ratio([0, 1]) == math.inf


def test_plan_report_measures_in_metres():
    grids = small_grids()
    teams = small_teams()
    assignment = pd.Series(["A", "A", "B", "C", "C"], index=grids[schema.GRID_ID])
    work = pd.Series([1.0, 1.0, 1.0, 0.5, 1.5], index=grids[schema.GRID_ID])
    per_team, summary = workload.plan_report(grids, assignment, teams, work, current=small_assignments())
    assert per_team["grids"].tolist() == [2, 1, 2]
    assert per_team[workload.WORKLOAD].tolist() == [2.0, 1.0, 2.0]
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
    _, summary = workload.plan_report(grids, moved, teams, work, current=small_assignments())
    assert summary["changed_grids"] == 1 and summary["teams_without_grids"] == 1
    assert summary["max_min_ratio"] == math.inf
