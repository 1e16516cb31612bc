"""Contiguity: which grids border which — the graph patrol districts must stay connected in.

``Contiguity.from_grids`` builds it from grid polygons: rook neighbours (libpysal: a shared border
line, not just a corner, so a district's union is one piece, holes and MultiPolygons included), plus
borders that miss each other by digitizing noise; pieces the borders leave apart (an island grid, a
cluster across a river) are joined to their nearest grid(s) by *bridges*. ``adjacency_matrix`` and
``neighbour_lists`` are the same graph as a sparse matrix and as lists, for the district search.

Not here: districts themselves (``core.districts``) or the hot-spot weights graph (``core.hotspots``
builds its own, queen contiguity, with ``libpysal``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sparse
import shapely
from scipy.sparse.csgraph import connected_components

from core import schema
from core.geometry import metric_crs

# libpysal is imported where it is used: with spopt it takes ~2 s to import, which every page that
# merely reads assignments would pay.

__all__ = ["Contiguity", "adjacency_matrix", "neighbour_lists"]


@dataclass(frozen=True, eq=False)
class Contiguity:
    """Which grids border which: the graph districts must stay connected in.

    ``edges`` (E × 2, positions in the grids' order, i < j) are the rook neighbours (a shared border
    line; grids meeting only at a corner are not neighbours), grids whose borders run together within
    ``SNAP_M``, and ``bridges``: while the graph is in pieces, the smallest piece is linked to every
    grid of the rest within ``BRIDGE_SLACK`` times its nearest distance, so that every grid can belong
    to some connected district.
    """

    grid_ids: np.ndarray
    edges: np.ndarray
    bridges: np.ndarray

    SNAP_M = 1.0
    MIN_BORDER_M = 5.0
    """Grids whose boundaries run within ``SNAP_M`` of each other for ``MIN_BORDER_M`` or more are
    neighbours too: digitizing noise, and the vertex of one grid that lies on another's edge (a
    T-junction) but leaves it by a millimetre once reprojected, would otherwise cut borders."""
    BRIDGE_SLACK = 1.25
    """A piece is bridged to every grid within this factor (plus a metre) of its nearest one."""

    @classmethod
    def from_grids(cls, grids: gpd.GeoDataFrame) -> Contiguity:
        """The contiguity of ``grids`` (any CRS; measured in its metric CRS)."""
        from libpysal.graph import Graph

        geoms = np.asarray(gpd.GeoSeries(grids.geometry.to_numpy(), crs=grids.crs).to_crs(metric_crs(grids)).array)
        n = len(geoms)
        adjacency = Graph.build_contiguity(gpd.GeoSeries(geoms), rook=True, strict=True).adjacency.reset_index()
        adjacency = adjacency[adjacency["weight"] > 0]
        rook = adjacency[["focal", "neighbor"]].to_numpy(dtype=np.int64).reshape(-1, 2)
        heads, tails = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=cls.SNAP_M)
        pairs = np.column_stack([heads, tails])[heads < tails]
        padded = shapely.buffer(geoms, cls.SNAP_M, quad_segs=2)
        along = np.minimum(
            shapely.length(shapely.intersection(shapely.boundary(geoms[pairs[:, 0]]), padded[pairs[:, 1]])),
            shapely.length(shapely.intersection(shapely.boundary(geoms[pairs[:, 1]]), padded[pairs[:, 0]])),
        )
        edges = np.unique(np.vstack([np.sort(rook, axis=1), pairs[along >= cls.MIN_BORDER_M]]), axis=0)
        bridges = np.empty((0, 2), np.int64)
        while n:
            count, labels = connected_components(adjacency_matrix(n, np.vstack([edges, bridges])), directed=False)
            if count == 1:
                break
            piece = np.flatnonzero(labels == np.argmin(np.bincount(labels)))
            rest = np.flatnonzero(labels != labels[piece[0]])
            tree = shapely.STRtree(geoms[rest])
            _, distance = tree.query_nearest(geoms[piece], return_distance=True)
            near = tree.query(geoms[piece], predicate="dwithin", distance=distance.min() * cls.BRIDGE_SLACK + 1.0)
            pairs = np.column_stack([piece[near[0]], rest[near[1]]])
            bridges = np.vstack([bridges, np.sort(pairs, axis=1)])
        return cls(grids[schema.GRID_ID].astype(str).to_numpy(), np.vstack([edges, bridges]), bridges)

    def matrix(self) -> sparse.csr_matrix:
        """The symmetric adjacency matrix (1 where two grids are neighbours)."""
        return adjacency_matrix(len(self.grid_ids), self.edges)

    def neighbours(self) -> list[list[int]]:
        """Each grid's neighbours, as positions."""
        return neighbour_lists(len(self.grid_ids), self.edges)

    def parts(self, labels: np.ndarray) -> pd.Series:
        """How many connected pieces each label's district has in this graph (1 = contiguous)."""
        labels = np.asarray(labels)
        m = self.matrix()
        out = {}
        for label in pd.unique(labels[pd.notna(labels)]):
            members = np.flatnonzero(labels == label)
            out[label] = connected_components(m[members][:, members], directed=False)[0]
        return pd.Series(out, dtype="int64")


def adjacency_matrix(n: int, edges: np.ndarray) -> sparse.csr_matrix:
    """The symmetric n × n adjacency matrix of ``edges`` (pairs of positions), 1 where two are neighbours."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    m = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    m.data[:] = 1.0
    return m


def neighbour_lists(n: int, edges: np.ndarray) -> list[list[int]]:
    """Each of the n positions' neighbours in ``edges``, as lists of positions."""
    m = adjacency_matrix(n, edges)
    return [m.indices[m.indptr[i] : m.indptr[i + 1]].tolist() for i in range(n)]
