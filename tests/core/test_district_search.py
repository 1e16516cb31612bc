"""core.district_search: the connectivity check of a removal, and the local search on a row of grids
whose balanced answer is known."""

from __future__ import annotations

import itertools

import numpy as np

from core.district_search import LocalSearch, stays_connected

ROW = [[1], [0, 2], [1, 3], [2, 4], [3]]  # five grids in a row: 0 - 1 - 2 - 3 - 4


def search(labels: list[int], locked: list[bool], seed: int = 0) -> LocalSearch:
    n, k = len(labels), max(labels) + 1
    return LocalSearch(
        np.ones(n), np.zeros((k, n)), np.zeros((n, 2)), np.array(locked), ROW, np.array(labels), seed, None, None, 5
    )


def test_a_grid_may_leave_its_district_only_if_the_rest_stays_connected():
    labels = [0, 0, 0, 1, 1]
    assert stays_connected(ROW, labels, 0)  # an end of the district
    assert not stays_connected(ROW, labels, 1)  # the middle would cut 0 off from 2
    assert stays_connected(ROW, labels, 3)


def test_the_search_balances_a_lopsided_row_and_keeps_districts_connected():
    lopsided = search([0, 0, 0, 0, 1], [False] * 5)
    assert lopsided.run(lambda fraction: None) == "local_optimum"
    assert sorted(lopsided.sizes) == [2, 3]
    labels = lopsided.labels
    assert sum(a != b for a, b in itertools.pairwise(labels)) == 1  # two unbroken runs: both connected


def test_locked_grids_do_not_move():
    held = search([0, 0, 0, 0, 1], [False, False, False, True, False])
    held.run(lambda fraction: None)
    assert held.labels[3] == 0 and held.labels[:3] == [0, 0, 0]
