"""How the grids of a boundary file fit together: the topology checks, and the district outline.

``core.validate.problems_in`` checks a layer against its schema (columns, ids, geometry type, validity);
``boundary_problems`` checks the topology of the grids, and call sites show both lists as one report:

====================  ========  ===================================================================
check                 severity  finds
====================  ========  ===================================================================
duplicate geometry    error     the same polygon under two or more rows
overlap               error     two grids of one community sharing ``overlap_min_m2`` or more
community line        error     two grids of different communities sharing ``overlap_min_m2`` or
                                more: a grid reaching into another community (communities are the
                                unions of the file's own grids, so a crossing is always an overlap)
gap                   warning   ``gap_min_m2`` or more inside the district that no grid covers; the
                                district is the ``outline`` given (the active grids' union) or else
                                the new grids' union with its holes filled
sliver                warning   a grid, or a separate piece of one, smaller than ``sliver_max_m2``
outside the district  warning   a grid reaching ``outside_min_m`` or more, or ``outside_min_share`` of
                                its area, beyond the ``outline``
====================  ========  ===================================================================

Overlaps and gaps below their thresholds are float noise from digitizing and are not reported. Areas
and distances are measured in the layer's metric CRS (``core.geometry.metric_crs``); every problem names
its grids by ``grid_id``, gives the area in m² and a lon/lat where to look, and says how to fix it.
The largest ``_LISTED`` findings of a kind are listed one by one and the rest summed up in one problem.

How it stays fast: GEOS's coverage validator (``shapely.coverage_invalid_edges``) checks the whole layer
in one pass and marks every grid whose edges do not match its neighbours' exactly. An unmarked grid
neither overlaps nor duplicates any other, so only pairs with a marked grid are intersected, and the
unmarked grids are merged by the linear-time coverage union. 20,000 grids with a few dozen problems are
checked in 2–3 s on 2 cores, 2.6 times faster than sjoin + pairwise intersections + ``union_all``
(``tests/perf/bench_upload.py``).

Not here: the repairs offered before a file is checked (``core.repairs``), the schema checks
(``core.validate``), what changes against the active grids (``core.changes``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from core import schema
from core.errors import Problem
from core.geometry import geometry_array, metric_crs, polygonal_rows, reprojected, square_metres, valid_polygons
from core.validate import id_frame, row_labels

__all__ = ["boundary_problems", "district_outline"]

_LISTED = 20  # findings of one kind listed one by one; the rest are summed up in one problem
_NEAR_M = 0.05  # a grid this close to a gap borders it


def boundary_problems(
    grids: gpd.GeoDataFrame,
    *,
    outline: shapely.Geometry | None = None,
    sliver_max_m2: float = 50.0,
    overlap_min_m2: float = 1.0,
    gap_min_m2: float = 1.0,
    outside_min_m: float = 10.0,
    outside_min_share: float = 0.05,
) -> list[Problem]:
    """Every topology problem of ``grids``: duplicates, overlaps, community lines, gaps, slivers, outside.

    ``outline`` is the active district (the union of the active grids, see :func:`district_outline`) in
    the CRS of ``grids``; without it, gaps are looked for inside the new grids' own outline and nothing
    is outside. Rows whose geometry is missing, empty or not polygonal are left to
    ``core.validate.problems_in``, as is a layer without a CRS (this returns no problems for it);
    invalid polygons are checked as ``shapely.make_valid`` repairs them.
    """
    if grids.crs is None or not polygonal_rows(grids).any():
        return []
    frame = grids.reset_index(drop=True)
    layer = _MetricGrids.from_frame(frame)
    suspect = ~shapely.is_empty(shapely.coverage_invalid_edges(layer.geometries))
    union = _union(layer.geometries, suspect)
    boundary = layer.project(outline, frame.crs) if outline is not None else None
    return (
        _pair_problems(layer, suspect, overlap_min_m2)
        + _gap_problems(layer, union, boundary, gap_min_m2)
        + _sliver_problems(layer, sliver_max_m2)
        + (
            _outside_problems(layer, union, boundary, overlap_min_m2, outside_min_m, outside_min_share)
            if boundary is not None
            else []
        )
    )


def district_outline(grids: gpd.GeoDataFrame) -> shapely.Geometry:
    """The union of the grids' polygons in their own CRS: the district outline ``boundary_problems`` takes.

    Grids whose edges match their neighbours' exactly are merged by the fast coverage union; only the
    rest go through the general union (twice as fast as ``shapely.union_all`` on 20,000 clean grids).
    Missing, empty and non-polygonal rows are left out; invalid polygons are made valid.
    """
    geometries = valid_polygons(geometry_array(grids)[polygonal_rows(grids)])
    if not len(geometries):
        return shapely.Polygon()
    return _union(geometries, ~shapely.is_empty(shapely.coverage_invalid_edges(geometries)))


# ---- the layer in metres ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _MetricGrids:
    """The usable grids of a layer, in its metric CRS, with what problems need to name and place them.

    ``geometries`` are valid, non-empty (Multi)Polygons; ``positions`` their rows in ``ids`` (the layer's
    id column, if any, on a fresh 0..n-1 index), ``communities`` their community (or None) and ``areas``
    their areas in m², all in one order; ``tree`` indexes ``geometries``.
    """

    geometries: np.ndarray
    positions: np.ndarray
    ids: pd.DataFrame
    communities: np.ndarray
    areas: np.ndarray
    tree: shapely.STRtree
    crs: pyproj.CRS
    to_lonlat: pyproj.Transformer

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame) -> _MetricGrids:
        crs = metric_crs(frame)
        usable = polygonal_rows(frame)
        geometries = valid_polygons(reprojected(geometry_array(frame)[usable], frame.crs, crs))
        kept = ~shapely.is_empty(geometries)
        positions = np.flatnonzero(usable)[kept]
        geometries = geometries[kept]
        ids = id_frame(frame, schema.GRIDS)
        communities = np.full(len(positions), None, dtype=object)
        if schema.COMMUNITY in frame.columns:
            named = frame[schema.COMMUNITY].iloc[positions]
            communities[named.notna().to_numpy()] = named[named.notna()].astype(str).to_numpy()
        return cls(
            geometries,
            positions,
            ids,
            communities,
            shapely.area(geometries),
            shapely.STRtree(geometries),
            crs,
            pyproj.Transformer.from_crs(crs, schema.STORAGE_CRS, always_xy=True),
        )

    def names(self, grids: np.ndarray) -> tuple[str, ...]:
        """Row labels (``core.validate.row_labels``) of the given grids, each once, in the order given."""
        rows = self.positions[np.asarray(grids, dtype=np.int64)]
        return row_labels(self.ids, schema.GRIDS, self.ids.index[rows])

    def project(self, geometry: shapely.Geometry, crs: pyproj.CRS) -> shapely.Geometry:
        """``geometry`` (in ``crs``) in this layer's metric CRS, as a valid (Multi)Polygon."""
        return valid_polygons(reprojected(np.array([geometry], dtype=object), crs, self.crs))[0]

    def where(self, pieces: np.ndarray) -> list[str]:
        """Where to look for each piece: 'lon, lat' of a point inside it."""
        if not len(pieces):
            return []
        xy = shapely.get_coordinates(shapely.point_on_surface(pieces))
        lon, lat = self.to_lonlat.transform(xy[:, 0], xy[:, 1])
        return [f"{x:.5f}, {y:.5f}" for x, y in zip(np.atleast_1d(lon), np.atleast_1d(lat))]


def _union(geometries: np.ndarray, suspect: np.ndarray) -> shapely.Geometry:
    """Union of valid polygons; ``suspect`` marks those whose edges do not match their neighbours'.

    The rest form a valid coverage (dropping polygons keeps one valid), which the coverage union
    merges in linear time.
    """
    clean = shapely.coverage_union_all(geometries[~suspect])
    if not suspect.any():
        return clean
    return shapely.union(clean, shapely.union_all(geometries[suspect]))


@dataclass(frozen=True)
class _Summary:
    """How the findings not listed are summed up in one problem: "``count`` more ``noun``, ``area`` in
    all", with ``fix``; ``code`` (with ``count``, ``area`` and ``params``) words it in another language."""

    noun: str
    fix: str
    _: KW_ONLY
    code: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Findings:
    """Findings of one kind, as parallel arrays: how big (m²), which grids, and the piece to point at.

    ``describe(k, names, where)`` words finding ``k`` as ``(what, fix, code, params)`` (``code`` and
    ``params`` let the front end word it in another language; ``params`` gains ``at``, the lon/lat);
    ``rest`` sums up the findings not listed; ``column`` and ``severity`` are those of all its problems.
    """

    sizes: np.ndarray
    grids: list[np.ndarray]
    pieces: np.ndarray
    describe: Callable[[int, tuple[str, ...], str], tuple[str, str, str, dict]]
    rest: _Summary
    column: str = schema.GEOMETRY
    severity: str = "warning"

    def problems(self, layer: _MetricGrids, *, smallest_first: bool = False) -> list[Problem]:
        """The largest ``_LISTED`` findings (smallest with ``smallest_first``), then one for the rest."""
        order = np.argsort(self.sizes if smallest_first else -self.sizes, kind="stable")
        listed, rest = order[:_LISTED], order[_LISTED:]
        problems = []
        for k, lonlat in zip(listed, layer.where(self.pieces[listed])):
            names = layer.names(self.grids[k])
            what, fix, code, params = self.describe(k, names, f"near {lonlat} (lon, lat)")
            problems.append(
                Problem(
                    schema.GRIDS.name,
                    self.column,
                    names,
                    what,
                    fix,
                    self.severity,
                    code=code,
                    params={**params, "at": lonlat},
                )
            )
        if len(rest):
            grids = np.concatenate([self.grids[k] for k in rest])
            problems.append(
                Problem(
                    schema.GRIDS.name,
                    self.column,
                    layer.names(grids),
                    f"{len(rest)} more {self.rest.noun}, {square_metres(self.sizes[rest].sum())} in all",
                    self.rest.fix,
                    self.severity,
                    code=self.rest.code,
                    params={**self.rest.params, "count": len(rest), "area": square_metres(self.sizes[rest].sum())},
                )
            )
        return problems


# ---- the checks -------------------------------------------------------------------------------------
def _pair_problems(layer: _MetricGrids, suspect: np.ndarray, overlap_min_m2: float) -> list[Problem]:
    """Duplicates, overlaps and community crossings, from the pairs that include a suspect grid."""
    n = len(layer.geometries)
    marked = np.flatnonzero(suspect)
    found, other = layer.tree.query(layer.geometries[marked], predicate="intersects")
    first, second = np.minimum(marked[found], other), np.maximum(marked[found], other)
    keys = np.unique(first[first != second] * n + second[first != second])
    first, second = keys // n, keys % n
    shared = shapely.intersection(layer.geometries[first], layer.geometries[second])
    area = shapely.area(shared)
    nearly_whole = area >= 0.999 * np.maximum(layer.areas[first], layer.areas[second])
    duplicate = np.zeros(len(keys), dtype=bool)
    duplicate[nearly_whole] = shapely.equals(
        layer.geometries[first[nearly_whole]], layer.geometries[second[nearly_whole]]
    )
    overlap = ~duplicate & (area >= overlap_min_m2)
    crossing = overlap & _differ(layer.communities[first], layer.communities[second])
    within = _overlaps(layer, first, second, shared, area, overlap & ~crossing, crossing=False)
    across = _overlaps(layer, first, second, shared, area, crossing, crossing=True)
    return (
        _duplicates(layer, first[duplicate], second[duplicate]).problems(layer)
        + within.problems(layer)
        + across.problems(layer)
    )


def _duplicates(layer: _MetricGrids, first: np.ndarray, second: np.ndarray) -> _Findings:
    """One finding per group of grids with identical polygons."""
    parent: dict[int, int] = {}

    def root(grid: int) -> int:
        while parent.setdefault(grid, grid) != grid:
            grid = parent[grid]
        return grid

    for a, b in zip(first.tolist(), second.tolist()):
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for grid in sorted(parent):
        groups.setdefault(root(grid), []).append(grid)
    leaders = np.array(list(groups), dtype=np.int64)

    def describe(k: int, names: tuple[str, ...], where: str) -> tuple[str, str, str, dict]:
        area = square_metres(layer.areas[leaders[k]])
        return (
            f"{len(names)} rows have the same polygon ({area}, {where})",
            "keep one row per grid: delete the copies, or draw each grid's own boundary",
            "duplicate_polygon",
            {"count": len(names), "area": area},
        )

    grouped = [np.array(members) for members in groups.values()]
    rest = _Summary("groups of rows with identical polygons", "keep one row per grid", code="more_duplicate_polygons")
    return _Findings(layer.areas[leaders], grouped, layer.geometries[leaders], describe, rest, severity="error")


def _overlaps(
    layer: _MetricGrids,
    first: np.ndarray,
    second: np.ndarray,
    shared: np.ndarray,
    area: np.ndarray,
    selected: np.ndarray,
    *,
    crossing: bool,
) -> _Findings:
    """One finding per overlapping pair: within a community, or across a community line."""
    index = np.flatnonzero(selected)

    def describe(k: int, names: tuple[str, ...], where: str) -> tuple[str, str, str, dict]:
        a, b = first[index[k]], second[index[k]]
        size = area[index[k]]
        params = {
            "a": names[0],
            "b": names[-1],
            "area": square_metres(size),
            "share_a": _percent(size / layer.areas[a]),
            "share_b": _percent(size / layer.areas[b]),
            "community_a": layer.communities[a],
            "community_b": layer.communities[b],
        }
        share = f"{params['share_a']} of {names[0]}, {params['share_b']} of {names[-1]}"
        if crossing:
            return (
                f"grids {names[0]} (community {layer.communities[a]}) and {names[-1]} "
                f"(community {layer.communities[b]}) overlap by {square_metres(size)} ({share}) {where}: "
                "the grids cross the line between their communities",
                "cut the overlap from the grid that does not belong there, or correct the "
                "`community` of a grid filed under the wrong one",
                "community_crossing",
                params,
            )
        return (
            f"grids {names[0]} and {names[-1]} overlap by {square_metres(size)} ({share}) {where}",
            "redraw the shared border so every place lies in one grid (QGIS: Difference, or "
            "Topology Checker 'must not overlap')",
            "overlap",
            params,
        )

    pairs = list(np.stack([first[index], second[index]], axis=1))
    rest = _Summary(
        "overlapping pairs of grids" + (" of different communities" if crossing else ""),
        "redraw the shared borders so every place lies in one grid",
        code="more_crossings" if crossing else "more_overlaps",
    )
    column = schema.COMMUNITY if crossing else schema.GEOMETRY
    return _Findings(area[index], pairs, shared[index], describe, rest, column=column, severity="error")


def _gap_problems(
    layer: _MetricGrids, union: shapely.Geometry, boundary: shapely.Geometry | None, gap_min_m2: float
) -> list[Problem]:
    """One warning per gap: a piece of the district that no grid covers."""
    district = boundary if boundary is not None else _filled(union)
    pieces = shapely.get_parts(shapely.difference(district, union))
    pieces = pieces[shapely.area(pieces) >= gap_min_m2]
    around, neighbour = layer.tree.query(pieces, predicate="dwithin", distance=_NEAR_M)
    inside = "inside the active district" if boundary is not None else "enclosed by grids"
    areas = shapely.area(pieces)

    def describe(k: int, names: tuple[str, ...], where: str) -> tuple[str, str, str, dict]:
        return (
            f"{square_metres(areas[k])} {inside} is in no grid {where}",
            "extend the neighbouring grids over it, or leave it if it is meant to be in no grid (water, a closed site)",
            "gap_inside" if boundary is not None else "gap_enclosed",
            {"area": square_metres(areas[k])},
        )

    rest = _Summary(
        f"gaps {inside}",
        "extend the neighbouring grids over them",
        code="more_gaps_inside" if boundary is not None else "more_gaps_enclosed",
    )
    return _Findings(areas, _grouped(around, neighbour, len(pieces)), pieces, describe, rest).problems(layer)


def _sliver_problems(layer: _MetricGrids, sliver_max_m2: float) -> list[Problem]:
    """One warning per grid that is, or has a separate piece, smaller than ``sliver_max_m2``."""
    parts, owner = shapely.get_parts(layer.geometries, return_index=True)
    areas = shapely.area(parts)
    limit = square_metres(sliver_max_m2)
    pieces = np.bincount(owner, minlength=len(layer.geometries))
    small = np.flatnonzero(areas < sliver_max_m2)
    grids, first = np.unique(owner[small], return_index=True)
    count = np.bincount(owner[small], minlength=len(layer.geometries))
    total = np.bincount(owner[small], weights=areas[small], minlength=len(layer.geometries))

    def describe(k: int, names: tuple[str, ...], where: str) -> tuple[str, str, str, dict]:
        grid = grids[k]
        params = {
            "grid": names[0],
            "area": square_metres(total[grid]),
            "count": int(count[grid]),
            "limit": limit,
        }
        if pieces[grid] == 1:
            return (
                f"grid {names[0]} is only {square_metres(total[grid])} {where}",
                "check whether it is a leftover of digitizing; merge it into its neighbour or delete it",
                "sliver_grid",
                params,
            )
        return (
            f"grid {names[0]} has {count[grid]:,} separate {'piece' if count[grid] == 1 else 'pieces'} under "
            f"{limit} ({square_metres(total[grid])} in all) {where}",
            "delete the stray piece or merge it into the grid it lies in (QGIS: Multipart to "
            "singleparts, then Eliminate selected polygons)",
            "sliver_pieces",
            params,
        )

    rest = _Summary(
        f"grids with slivers under {limit}",
        "delete the slivers or merge them into their neighbours",
        code="more_slivers",
        params={"limit": limit},
    )
    findings = _Findings(total[grids], list(grids[:, None]), parts[small[first]], describe, rest)
    return findings.problems(layer, smallest_first=True)


def _outside_problems(
    layer: _MetricGrids,
    union: shapely.Geometry,
    boundary: shapely.Geometry,
    noise_m2: float,
    outside_min_m: float,
    outside_min_share: float,
) -> list[Problem]:
    """One warning per grid reaching far, or with much of its area, beyond the active district."""
    pieces = shapely.get_parts(shapely.difference(union, boundary))
    pieces = pieces[shapely.area(pieces) >= noise_m2]
    piece, grid = layer.tree.query(pieces, predicate="intersects")
    bits = shapely.intersection(pieces[piece], layer.geometries[grid])
    bit_areas = shapely.area(bits)
    kept = bit_areas > 0
    bits, grid, bit_areas = bits[kept], grid[kept], bit_areas[kept]
    n = len(layer.geometries)
    outside = np.bincount(grid, weights=bit_areas, minlength=n)
    reach = np.zeros(n)
    np.maximum.at(reach, grid, _reach(bits, boundary))
    order = np.lexsort((bit_areas, grid))  # by grid, then area: each grid's largest bit comes last
    last = np.append(grid[order][1:] != grid[order][:-1], True) if len(order) else np.array([], bool)
    largest = np.full(n, -1)
    largest[grid[order][last]] = order[last]
    share = np.divide(outside, layer.areas, out=np.zeros(n), where=layer.areas > 0)
    far = (reach >= outside_min_m) | (share >= outside_min_share)
    flagged = np.flatnonzero((outside >= noise_m2) & far)

    def describe(k: int, names: tuple[str, ...], where: str) -> tuple[str, str, str, dict]:
        g = flagged[k]
        fix = "check the grid's outer border against the district boundary; if the district really grows here, go on"
        params = {
            "grid": names[0],
            "area": square_metres(outside[g]),
            "reach": f"{reach[g]:,.0f}",
            "share": _percent(share[g]),
        }
        if share[g] >= 0.999:
            return (
                f"grid {names[0]} ({square_metres(outside[g])}) lies outside the active district {where}",
                fix,
                "outside_whole",
                params,
            )
        return (
            f"grid {names[0]} reaches {reach[g]:,.0f} m beyond the active district's outline "
            f"({square_metres(outside[g])}, {_percent(share[g])} of the grid) {where}",
            fix,
            "outside_reach",
            params,
        )

    rest = _Summary(
        "grids reaching beyond the active district",
        "check the grids' outer borders against the district boundary",
        code="more_outside",
    )
    return _Findings(outside[flagged], list(flagged[:, None]), bits[largest[flagged]], describe, rest).problems(layer)


def _reach(bits: np.ndarray, boundary: shapely.Geometry) -> np.ndarray:
    """How far each piece outside ``boundary`` reaches from it: its farthest vertex's distance, in metres."""
    if not len(bits):
        return np.zeros(0)
    coords, ring = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(boundary)), return_index=True)
    segment = np.flatnonzero(ring[1:] == ring[:-1])
    edges = shapely.STRtree(shapely.linestrings(np.stack([coords[segment], coords[segment + 1]], axis=1)))
    vertices, bit = shapely.get_coordinates(bits, return_index=True)
    (point, _), distance = edges.query_nearest(shapely.points(vertices), return_distance=True)
    reach = np.zeros(len(bits))
    np.maximum.at(reach, bit[point], distance)
    return reach


def _filled(union: shapely.Geometry) -> shapely.Geometry:
    """``union`` with its holes filled: the outline of the area it encloses."""
    return shapely.union_all(shapely.polygons(shapely.get_exterior_ring(shapely.get_parts(union))))


def _grouped(keys: np.ndarray, values: np.ndarray, n: int) -> list[np.ndarray]:
    """``values`` split by their integer ``keys`` (0 to n - 1), in key order."""
    order = np.argsort(keys, kind="stable")
    return np.split(values[order], np.searchsorted(keys[order], np.arange(1, n))) if n else []


def _differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where two arrays of community names both have a name and the names differ."""
    return pd.notna(a) & pd.notna(b) & (a != b)


# ---- wording ----------------------------------------------------------------------------------------


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.1%}"
