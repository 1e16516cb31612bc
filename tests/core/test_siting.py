"""core.siting: maximal covering on instances whose optimum is known by brute force, existing sites,
progress, errors, and the demo district.

Layers are drawn in local metres in UTM zone 51N and stored in EPSG:4326 (``coverage_cases``);
``MaximalCovering`` measures them back in that zone.
"""

from __future__ import annotations

import itertools
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from coverage_cases import UTM, X0
from coverage_cases import make_points as points

from core import schema, siting, siting_solvers
from core.errors import GridWatchError, SitingError, ValidationError
from core.siting_inputs import lattice_candidates, ticket_demand

# Demand on a line: A at -5 (weight 3), B at 5 (4), C at 15 (4), D at 25 (3); candidates at 0, 10, 20
# with a 6 m radius: S0 covers A+B = 7, S1 covers B+C = 8, S2 covers C+D = 7. For K = 2 greedy takes S1
# (8) and then adds 3 (11); the optimum is S0 + S2 = 14 (brute force over the 3 pairs: 11, 14, 11).
LINE_DEMAND = [(-5, 0), (5, 0), (15, 0), (25, 0)]
LINE_WEIGHTS = [3.0, 4.0, 4.0, 3.0]
LINE_SITES = [(0, 0), (10, 0), (20, 0)]


def line_model(k: int = 2, existing=None) -> siting.MaximalCovering:
    demand = points(LINE_DEMAND, **{siting.WEIGHT: LINE_WEIGHTS})
    candidates = points(LINE_SITES, **{siting.CANDIDATE_ID: ["S0", "S1", "S2"]})
    return siting.MaximalCovering.from_geodataframes(
        demand, candidates, radius_m=6, k=k, existing=None if existing is None else points(existing)
    )


def brute_force(demand_xy, weight, sites_xy, radius, k) -> float:
    within = np.hypot(*(demand_xy[:, None] - sites_xy[None]).transpose(2, 0, 1)) <= radius
    return max(weight[within[:, list(c)].any(axis=1)].sum() for c in itertools.combinations(range(len(sites_xy)), k))


def test_the_optimum_beats_a_suboptimal_greedy():
    model = line_model()
    assert brute_force(model.demand_xy, model.weight, model.candidate_xy, 6, 2) == 14
    result = model.solve(time_limit_s=5)
    assert result.greedy_objective == 11
    assert result.objective == 14 and result.status == "optimal"
    assert sorted(result.chosen_ids) == ["S0", "S2"] and sorted(result.chosen) == [0, 2]
    assert result.added == (7, 7) and sum(result.added) == result.objective
    assert (result.total, result.covered_before, result.covered_after) == (14, 0, 14)
    assert result.upper_bound == 14 and result.gap == 0
    first = result.chosen[0]  # A and B go to S0, C and D to S2, whichever came first
    assert result.assignment.tolist() == ([0, 0, 1, 1] if first == 0 else [1, 1, 0, 0])


def test_demand_an_existing_site_covers_counts_before_and_adds_nothing():
    result = line_model(k=1, existing=[(-8, 0)]).solve(time_limit_s=5)  # covers A only (3 m away)
    assert result.covered_before == 3
    assert result.chosen_ids == ("S1",) and result.objective == 8 and result.covered_after == 11
    assert result.assignment.tolist() == [siting.SitingResult.COVERED_BEFORE, 0, 0, siting.SitingResult.UNCOVERED]


def test_the_result_gives_its_shares_its_sites_in_order_and_their_circles():
    candidates = points(LINE_SITES, **{siting.CANDIDATE_ID: ["S0", "S1", "S2"]})
    result = line_model(k=1, existing=[(-8, 0)]).solve(time_limit_s=5)
    assert (result.share_before, result.share_after) == (3 / 14, 11 / 14)
    sites = result.sites(candidates)
    assert sites.columns.tolist() == ["rank", siting.CANDIDATE_ID, "geometry", "adds"]
    assert sites[["rank", siting.CANDIDATE_ID, "adds"]].values.tolist() == [[1, "S1", 8.0]]
    circles = siting.site_circles(sites, 6.0)
    assert circles.crs == schema.STORAGE_CRS
    assert circles.to_crs(UTM).area.iloc[0] == pytest.approx(np.pi * 36, rel=0.01)
    assert circles.to_crs(UTM).centroid.x.iloc[0] - X0 == pytest.approx(10, abs=0.01)


def test_nothing_to_add_when_existing_sites_cover_all_coverable_demand():
    stages = []
    result = line_model(existing=[(0, 0), (20, 0)]).solve(time_limit_s=5, progress=lambda s, _: stages.append(s))
    assert stages == list(siting.STAGES)
    assert result.status == "nothing_to_add" and result.chosen == () and result.objective == 0
    assert result.covered_before == result.covered_after == 14 and result.gap == 0


def test_sites_that_add_nothing_are_not_proposed():
    result = line_model(k=3).solve(time_limit_s=5)
    assert sorted(result.chosen_ids) == ["S0", "S2"] and result.objective == 14


def test_cbc_proves_the_optimum_where_the_relaxation_is_not_enough():
    # a random instance (fixed seed) where greedy, swaps and LP rounding stop short of the LP bound,
    # so CBC runs; 12 candidates choose 3 is 220 sets, small enough to check every one
    rng = np.random.default_rng(61)
    candidates, demand = rng.uniform(0, 300, (12, 2)), rng.uniform(0, 300, (40, 2))
    weight = rng.integers(1, 5, 40).astype(float)
    model = siting.MaximalCovering(
        demand, weight, candidates, tuple(f"c{i}" for i in range(12)), 80.0, 3, np.empty((0, 2))
    )
    with mock.patch.object(siting_solvers, "solve_exact", wraps=siting_solvers.solve_exact) as cbc:
        result = model.solve(time_limit_s=10)
    assert cbc.called
    assert result.objective == brute_force(demand, weight, candidates, 80.0, 3) == 67
    assert result.status == "optimal" and result.bound == "CBC proved optimality" and result.gap == 0
    assert result.objective >= result.greedy_objective


def crowded_model() -> siting.MaximalCovering:
    """1,000 demand points (600 in one blob) and a 20 × 20 lattice of candidates 100 m apart, with a 400 m
    radius and K = 6: most points are within reach of dozens of candidates."""
    rng = np.random.default_rng(3)
    candidates = np.column_stack([a.ravel() for a in np.meshgrid(np.arange(0, 2000, 100.0), np.arange(0, 2000, 100.0))])
    demand = np.concatenate([rng.normal(1000, 400, (600, 2)), rng.uniform(0, 2000, (400, 2))])
    return siting.MaximalCovering(
        demand, np.ones(1000), candidates, tuple(map(str, range(400))), 400.0, 6, np.empty((0, 2))
    )


def test_a_time_limited_solve_reports_the_lp_bound_and_gap():
    model = crowded_model()
    with mock.patch.object(siting_solvers, "solve_exact", return_value=(np.empty(0, np.int64), False)):
        result = model.solve(time_limit_s=5)  # as if CBC ran out of time without improving anything
    assert result.status == "time_limit" and result.bound == "LP relaxation (HiGHS)"
    assert result.greedy_objective <= result.objective <= result.upper_bound
    assert result.gap == pytest.approx((result.upper_bound - result.objective) / result.upper_bound)
    assert len(result.chosen) <= 6 and sum(result.added) == pytest.approx(result.objective)


def test_without_the_lp_in_time_the_lagrangian_bound_stands_in():
    model = crowded_model()
    cover = siting_solvers.cover_matrix(model.demand_xy, model.candidate_xy, 400.0)
    reduced = siting_solvers.ReducedModel.build(cover, np.ones(1000))
    lp_bound, _ = siting_solvers.lp_relaxation(reduced, 6, 60)
    with (
        mock.patch.object(siting_solvers, "lp_relaxation", return_value=(np.inf, None)),
        mock.patch.object(siting_solvers, "solve_exact", return_value=(np.empty(0, np.int64), False)),
    ):
        result = model.solve(time_limit_s=5)
    assert result.bound == "Lagrangian relaxation" and result.status == "time_limit"
    # a valid bound is at least the LP's (the best Lagrangian bound equals it), and here within 2 % of it
    assert lp_bound - 1e-6 <= result.upper_bound <= lp_bound * 1.02
    assert result.objective <= result.upper_bound


def test_progress_reports_every_stage_in_order():
    calls = []
    line_model().solve(time_limit_s=5, progress=lambda stage, fraction: calls.append((stage, fraction)))
    assert [stage for stage, _ in calls] == list(siting.STAGES)
    fractions = [fraction for _, fraction in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1


def test_models_that_cannot_be_built_raise_typed_errors():
    demand = points(LINE_DEMAND, **{siting.WEIGHT: LINE_WEIGHTS})
    candidates = points(LINE_SITES)
    with pytest.raises(SitingError, match="no demand"):
        siting.MaximalCovering.from_geodataframes(demand.iloc[:0], candidates, 6, 2)
    with pytest.raises(SitingError, match="no candidate sites"):
        siting.MaximalCovering.from_geodataframes(demand, candidates.iloc[:0], 6, 2)
    with pytest.raises(SitingError, match="at least 1"):
        siting.MaximalCovering.from_geodataframes(demand, candidates, 6, 0)
    with pytest.raises(SitingError, match="positive number of metres"):
        siting.MaximalCovering.from_geodataframes(demand, candidates, -1, 2)
    with pytest.raises(ValidationError, match="weight column `weight` is missing"):
        siting.MaximalCovering.from_geodataframes(demand.drop(columns=siting.WEIGHT), candidates, 6, 2)
    negative = demand.assign(**{siting.WEIGHT: [3.0, -1.0, np.nan, 1.0]})
    with pytest.raises(ValidationError, match=r"rows 1, 2\)"):
        siting.MaximalCovering.from_geodataframes(negative, candidates, 6, 2)
    assert issubclass(SitingError, GridWatchError)
    unweighted = siting.MaximalCovering.from_geodataframes(
        demand.drop(columns=siting.WEIGHT), candidates, 6, 2, weight=None
    )
    assert unweighted.solve(time_limit_s=5).objective == 4  # S0 + S2 cover all four points


# ---- the demo district --------------------------------------------------------------------------
def test_demo_siting_of_cameras_for_recent_tickets_is_plausible():
    from geodata.generate import load_demo

    layers = load_demo()
    cameras, tickets = layers["cameras"], layers["tickets"]
    recent = tickets[tickets[schema.CREATED_AT] > tickets[schema.CREATED_AT].max() - pd.Timedelta(days=90)]
    demand = ticket_demand(recent)
    candidates = lattice_candidates(layers["grids"], 100)
    online = cameras[cameras[schema.STATUS] == "online"]
    model = siting.MaximalCovering.from_geodataframes(demand, candidates, radius_m=60, k=5, existing=online)
    result = model.solve(time_limit_s=10)
    assert 0 < len(result.chosen) <= 5 and result.status in ("optimal", "time_limit")
    assert result.greedy_objective <= result.objective <= result.upper_bound
    assert 0 <= result.gap < 0.05
    assert result.covered_before + result.objective == pytest.approx(result.covered_after)
    assert result.covered_after <= result.total == len(demand)
    assert list(result.added) == sorted(result.added, reverse=True)
