"""core.siting_solvers: the reduced model, greedy and swaps, the LP and Lagrangian bounds and CBC, on the
line instance whose answers are worked out by hand (see ``tests/core/test_siting.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from core import siting_solvers

# A at -5 (weight 3), B at 5 (4), C at 15 (4), D at 25 (3); sites S0 at 0, S1 at 10, S2 at 20, radius 6:
# S0 covers A+B = 7, S1 B+C = 8, S2 C+D = 7. For K = 2 greedy takes S1 then S0 (11); the optimum is S0 + S2.
LINE_DEMAND = np.array([(-5.0, 0.0), (5.0, 0.0), (15.0, 0.0), (25.0, 0.0)])
LINE_WEIGHTS = np.array([3.0, 4.0, 4.0, 3.0])
LINE_SITES = np.array([(0.0, 0.0), (10.0, 0.0), (20.0, 0.0)])


def line_model() -> siting_solvers.ReducedModel:
    return siting_solvers.ReducedModel.build(siting_solvers.cover_matrix(LINE_DEMAND, LINE_SITES, 6.0), LINE_WEIGHTS)


def test_the_reduced_model_sets_aside_what_nothing_covers_and_merges_identical_rows():
    demand = np.array([(-5.0, 0.0), (-5.0, 0.0), (100.0, 0.0), (5.0, 0.0)])  # twice A, out of reach, weight 0
    sites = np.array([(0.0, 0.0), (10.0, 0.0), (50.0, 50.0)])
    cover = siting_solvers.cover_matrix(demand, sites, 6.0)
    assert cover.toarray().tolist() == [[1, 0, 0], [1, 0, 0], [0, 0, 0], [1, 1, 0]]
    model = siting_solvers.ReducedModel.build(cover, np.array([1.0, 2.0, 5.0, 0.0]))
    assert model.cover.shape == (1, 1) and model.weight.tolist() == [3.0] and model.candidates.tolist() == [0]
    assert model.objective(np.array([0])) == 3.0 and model.objective(np.array([], dtype=np.int64)) == 0.0


def test_greedy_falls_short_and_a_swap_reaches_the_optimum():
    model = line_model()
    greedy = siting_solvers.greedy(model.cover, model.weight, 2)
    assert greedy.tolist() == [1, 0] and model.objective(greedy) == 11
    swapped = siting_solvers.swap(model, greedy)
    assert sorted(swapped.tolist()) == [0, 2] and model.objective(swapped) == 14


def test_greedy_order_drops_a_redundant_site_and_orders_the_rest():
    model = line_model()
    order, added = siting_solvers.greedy_order(model.cover, model.weight, np.array([0, 1, 2]))
    assert order.tolist() == [0, 2] and added.tolist() == [7.0, 7.0]  # S1's B and C are covered twice


def test_the_bounds_are_valid_and_cbc_proves_the_optimum():
    model = line_model()
    bound, values = siting_solvers.lp_relaxation(model, 2, 10.0)
    assert bound == pytest.approx(14) and values is not None and len(values) == 3
    assert 14 - 1e-9 <= siting_solvers.lagrangian_bound(model, 2, 11.0) <= 14.5
    chosen, proven = siting_solvers.solve_exact(model, 2, np.array([1, 0]), 10.0)
    assert sorted(chosen.tolist()) == [0, 2] and proven
