"""core.contiguity: rook neighbours of awkward shapes (a hole, a MultiPolygon, a corner) and the
bridge to an island."""

from __future__ import annotations

import numpy as np
from patrol_cases import INNER, ISLAND, MULTI, RING, awkward_grids

from core import schema
from core.contiguity import Contiguity


def test_contiguity_of_awkward_shapes():
    grids = awkward_grids()
    graph = Contiguity.from_grids(grids)
    pos = {g: i for i, g in enumerate(grids[schema.GRID_ID])}
    nbrs = graph.neighbours()
    assert nbrs[pos[INNER]] == [pos[RING]]
    assert {pos["top1"], pos["r3c0"], pos["top4"], pos["r3c5"]} <= set(nbrs[pos[MULTI]])
    assert pos["r1c1"] not in nbrs[pos["r0c0"]]  # a corner is not a border
    assert graph.bridges.tolist() == [sorted([pos[ISLAND], pos[RING]])]
    assert graph.parts(np.zeros(len(grids))).tolist() == [1]
