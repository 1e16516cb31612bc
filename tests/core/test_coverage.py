"""core.coverage: party members per grid and staffing against the target range, on hand-built grids
and on the demo district."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from coverage_cases import demo_layers, make_grids

from core import coverage, schema
from core.errors import ValidationError


def test_member_measures_count_kinds_and_cap_the_linked_share():
    grids = make_grids(
        [(0, 0, 1, 1), (1, 0, 2, 1), (2, 0, 3, 1)], **{schema.HOUSEHOLDS: pd.array([100, pd.NA, 200], dtype="Int64")}
    )
    members = pd.DataFrame(
        {
            schema.GRID_ID: ["G0", "G0", "G0", "G1", np.nan],
            schema.KIND: ["community", "community", "in_service", "in_service", "community"],
            schema.LINKED_HOUSEHOLDS: [30, 50, 40, 10, 99],
        }
    )
    result = coverage.member_measures(grids, members)
    assert result["members"].tolist() == [3, 1, 0]
    assert result["community_members"].tolist() == [2, 0, 0]
    assert result["in_service_members"].tolist() == [1, 1, 0]
    assert result["linked_households"].tolist() == [120, 10, 0]
    # G0: 120 linked of 100 households is capped at 1; G1's households are unknown; G2: none linked
    assert result["linked_share"].iloc[0] == 1 and np.isnan(result["linked_share"].iloc[1])
    assert result["linked_share"].iloc[2] == 0
    assert result["has_member"].tolist() == [True, True, False]
    with pytest.raises(ValidationError, match="join the members to the grids first"):
        coverage.member_measures(grids, members.drop(columns=schema.GRID_ID))


def test_staffing_flags_missing_people_and_compares_households_with_the_target_range():
    grids = pd.DataFrame(
        {
            schema.GRID_ID: [f"G{i}" for i in range(6)],
            schema.LEADER: ["张三", None, " ", "李四", "王五", "赵六"],
            schema.WORKER: ["w1", "w2", "w3", "", "w5", "w6"],
            schema.HOUSEHOLDS: pd.array([250, 300, 500, 400, pd.NA, 501], dtype="Int64"),
        }
    )
    result = coverage.staffing(grids)
    assert result["no_leader"].tolist() == [False, True, True, False, False, False]
    assert result["no_worker"].tolist() == [False, False, False, True, False, False]
    assert result["status"].tolist() == ["under", "within", "within", "no_worker", "unknown", "over"]
    assert result["households_per_worker"].iloc[[0, 1, 2, 5]].tolist() == [250, 300, 500, 501]
    assert result["households_per_worker"].iloc[[3, 4]].isna().all()
    assert coverage.staffing(grids, (100, 250))["status"].iloc[0] == "within"
    with pytest.raises(ValueError, match="low <= high"):
        coverage.staffing(grids, (500, 300))


@pytest.fixture(scope="module")
def demo():
    return demo_layers()


def test_demo_members_and_staffing_are_plausible(demo):
    grids = demo["grids"]
    members = coverage.member_measures(grids, demo["members"])
    assert members["members"].sum() == demo["members"][schema.GRID_ID].notna().sum()
    assert members["linked_share"].between(0, 1).all()
    assert set(coverage.staffing(grids)["status"]) <= set(coverage.STAFFING_STATUSES)


def test_district_shares_are_of_the_district_sums_and_skip_layers_not_loaded():
    table = pd.DataFrame(
        {
            "area_km2": [1.0, 3.0],
            "covered_area_km2": [0.5, 1.5],
            "lost_share": [0.2, 0.0],
            "tickets_in_view": [0, 0],
            "tickets_recent": [0, 0],
            schema.POPULATION: [100.0, np.nan],
            "any_served": [40.0, np.nan],
            schema.HOUSEHOLDS: [10.0, np.nan],
            "linked_households": [15, 4],  # more than the grid holds: capped; unknown households: left out
            "has_member": [True, False],
            "status": ["within", "no_worker"],
        }
    )
    figures = coverage.district_shares(table)
    assert figures["covered_share"] == 0.5 and figures["lost_share"] == pytest.approx(0.05)
    assert math.isnan(figures["tickets_in_view_share"])  # no recent tickets: no share, not 0
    assert figures["served_share"] == 0.4 and figures["linked_share"] == 1.0
    assert (figures["grids_without_member"], figures["grids_off_target"]) == (1, 1)
    assert "key_points_covered_share" not in figures
    assert set(coverage.district_shares(table[["area_km2", "status"]])) == {"grids_off_target"}
