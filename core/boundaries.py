"""How the grids of a boundary file fit together, and the repairs offered before a file is checked.

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

The repairs (``repair_invalid``, ``polygonize_lines``, ``drop_z``) each return a :class:`Repair`: the
repaired copy and what changed, for the user to read before accepting it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from core import schema
from core.errors import Message, Problem, ValidationError
from core.geometry import metric_crs
from core.validate import row_labels

_LISTED = 20  # findings of one kind listed one by one; the rest are summed up in one problem
_NEAR_M = 0.05  # a grid this close to a gap borders it
_LINE_TYPES = (1, 2, 5)  # shapely type ids: LineString, LinearRing, MultiLineString
_POLYGON_TYPES = (3, 6)  # Polygon, MultiPolygon
_COLLECTION_TYPES = (4, 5, 6, 7)  # Multi* and GeometryCollection


@dataclass(frozen=True)
class Repair:
    """A repaired copy of a layer and what the repair changed.

    ``rows`` names the rows it changed (by id), ``area_change_m2`` each changed row's area after minus
    before, in m² (empty when areas cannot change), and ``unresolved`` the rows it could not repair;
    ``description`` says all that in one sentence for the report.
    """

    frame: gpd.GeoDataFrame
    rows: tuple[str, ...]
    area_change_m2: dict[str, float]
    description: Message
    unresolved: tuple[str, ...] = ()


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
    if grids.crs is None or not _polygonal_rows(grids).any():
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
    geometries = _valid_polygons(_geometries(grids)[_polygonal_rows(grids)])
    if not len(geometries):
        return shapely.Polygon()
    return _union(geometries, ~shapely.is_empty(shapely.coverage_invalid_edges(geometries)))


def repair_invalid(grids: gpd.GeoDataFrame) -> Repair:
    """Invalid polygons made valid (``shapely.make_valid``), keeping only their polygonal parts.

    Only invalid (Multi)Polygon rows change. A self-intersecting ring becomes the polygons it encloses
    (a bow-tie becomes two triangles); lines and points that ``make_valid`` splits off are dropped. The
    area change compares the area a GIS shows for the invalid polygon (its rings' shoelace area) with the
    repaired area. A row that collapses to nothing is left empty and listed as ``unresolved``.
    """
    geometries = _geometries(grids)
    invalid = _polygonal_rows(grids) & ~shapely.is_valid(geometries)
    if not invalid.any():
        return Repair(grids.copy(), (), {}, "no invalid geometries to repair")
    fixed = _valid_polygons(geometries[invalid])
    crs = _metric_crs_of(grids)
    before = shapely.area(_to_crs(geometries[invalid], grids.crs, crs))
    after = shapely.area(_to_crs(fixed, grids.crs, crs))
    repaired = geometries.copy()
    repaired[invalid] = fixed
    rows = _labels(grids, schema.GRIDS, invalid)
    collapsed = _labels(grids, schema.GRIDS, _mask(len(grids), np.flatnonzero(invalid)[shapely.is_empty(fixed)]))
    change = dict(zip(rows, (after - before).tolist()))
    text = f"repaired {_count(len(rows), 'invalid geometry', 'invalid geometries')} ({_change_summary(change)})"
    params = {"count": f"{len(rows):,}", "change": _change_summary(change)}
    description = Message(text, code="repaired_invalid", params=params)
    if collapsed:
        description = Message(
            f"{text}; {', '.join(collapsed)} collapsed to nothing: redraw {_them(len(collapsed))}",
            code="repaired_invalid_collapsed",
            params={**params, "rows": ", ".join(collapsed)},
        )
    return Repair(_with_geometries(grids, repaired), rows, change, description, collapsed)


def polygonize_lines(frame: gpd.GeoDataFrame) -> Repair:
    """Boundary lines (LineString/MultiLineString rows) turned into the polygons they enclose.

    Each row keeps its own attributes: its lines are noded and ``shapely.build_area`` makes the area
    they enclose (nested rings become holes; overshooting ends are ignored). A row whose lines enclose
    nothing keeps its lines and is listed as ``unresolved``; other rows are left as they are.
    ``area_change_m2`` is each new polygon's area.
    """
    geometries = _geometries(frame)
    lines = np.isin(shapely.get_type_id(geometries), _LINE_TYPES) & _present(geometries)
    if not lines.any():
        return Repair(frame.copy(), (), {}, Message("no boundary lines to turn into polygons", code="no_lines"))
    built = _valid_polygons(shapely.build_area(shapely.node(geometries[lines])))
    closed = ~shapely.is_empty(built)
    positions = np.flatnonzero(lines)
    polygons = geometries.copy()
    polygons[positions[closed]] = built[closed]
    rows = _labels(frame, schema.GRIDS, _mask(len(frame), positions[closed]))
    open_rows = _labels(frame, schema.GRIDS, _mask(len(frame), positions[~closed]))
    areas = shapely.area(_to_crs(built[closed], frame.crs, _metric_crs_of(frame))) if closed.any() else []
    change = dict(zip(rows, np.asarray(areas, dtype=float).tolist()))
    text = f"turned the boundary lines of {_count(len(rows), 'row', 'rows')} into polygons"
    description = Message(text, code="polygonized", params={"count": f"{len(rows):,}"})
    if open_rows:
        listed = ", ".join(open_rows[:10]) + (f" (+{len(open_rows) - 10})" if len(open_rows) > 10 else "")
        description = Message(
            f"{text}; the lines of {', '.join(open_rows[:10])}"
            f"{f' and {len(open_rows) - 10} more' if len(open_rows) > 10 else ''} do not "
            "close into a ring: join their ends and upload again",
            code="polygonized_open",
            params={"count": f"{len(rows):,}", "rows": listed},
        )
    return Repair(_with_geometries(frame, polygons), rows, change, description, open_rows)


def drop_z(frame: gpd.GeoDataFrame, layer_name: str = schema.GRIDS.name) -> Repair:
    """Z (height) coordinates dropped (``shapely.force_2d``); GridWatch works in two dimensions."""
    geometries = _geometries(frame)
    with_z = shapely.has_z(geometries)
    if not with_z.any():
        return Repair(frame.copy(), (), {}, Message("no Z coordinates to drop", code="no_z"))
    flat = geometries.copy()
    flat[with_z] = shapely.force_2d(geometries[with_z])
    rows = _labels(frame, schema.LAYERS[layer_name], with_z)
    description = Message(
        f"dropped the Z coordinate of {len(rows)} of {_count(len(frame), 'feature', 'features')}",
        code="dropped_z_of",
        params={"count": f"{len(rows):,}", "total": f"{len(frame):,}"},
    )
    return Repair(_with_geometries(frame, flat), rows, {}, description)


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
        usable = _polygonal_rows(frame)
        geometries = _valid_polygons(_to_crs(_geometries(frame)[usable], frame.crs, crs))
        kept = ~shapely.is_empty(geometries)
        positions = np.flatnonzero(usable)[kept]
        geometries = geometries[kept]
        ids = _id_frame(frame, schema.GRIDS)
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
        return _valid_polygons(_to_crs(np.array([geometry], dtype=object), crs, self.crs))[0]

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
class _Findings:
    """Findings of one kind, as parallel arrays: how big (m²), which grids, and the piece to point at.

    ``describe(k, names, where)`` words finding ``k`` as ``(what, fix, code, params)`` (``code`` and
    ``params`` let the front end word it in another language; ``params`` gains ``at``, the lon/lat);
    ``column`` and ``severity`` are those of its problems, and ``noun``/``fix`` word the summary of the
    findings not listed (``summary_code``, with ``count``, ``area`` and ``summary_params``, words it in
    another language).
    """

    sizes: np.ndarray
    grids: list[np.ndarray]
    pieces: np.ndarray
    describe: Callable[[int, tuple[str, ...], str], tuple[str, str, str, dict]]
    column: str
    severity: str
    noun: str
    fix: str
    summary_code: str
    summary_params: dict = field(default_factory=dict)

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
                    f"{len(rest)} more {self.noun}, {_m2(self.sizes[rest].sum())} in all",
                    self.fix,
                    self.severity,
                    code=self.summary_code,
                    params={**self.summary_params, "count": len(rest), "area": _m2(self.sizes[rest].sum())},
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
        area = _m2(layer.areas[leaders[k]])
        return (
            f"{len(names)} rows have the same polygon ({area}, {where})",
            "keep one row per grid: delete the copies, or draw each grid's own boundary",
            "duplicate_polygon",
            {"count": len(names), "area": area},
        )

    return _Findings(
        layer.areas[leaders],
        [np.array(members) for members in groups.values()],
        layer.geometries[leaders],
        describe,
        schema.GEOMETRY,
        "error",
        "groups of rows with identical polygons",
        "keep one row per grid",
        summary_code="more_duplicate_polygons",
    )


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
            "area": _m2(size),
            "share_a": _percent(size / layer.areas[a]),
            "share_b": _percent(size / layer.areas[b]),
            "community_a": layer.communities[a],
            "community_b": layer.communities[b],
        }
        share = f"{params['share_a']} of {names[0]}, {params['share_b']} of {names[-1]}"
        if crossing:
            return (
                f"grids {names[0]} (community {layer.communities[a]}) and {names[-1]} "
                f"(community {layer.communities[b]}) overlap by {_m2(size)} ({share}) {where}: "
                "the grids cross the line between their communities",
                "cut the overlap from the grid that does not belong there, or correct the "
                "`community` of a grid filed under the wrong one",
                "community_crossing",
                params,
            )
        return (
            f"grids {names[0]} and {names[-1]} overlap by {_m2(size)} ({share}) {where}",
            "redraw the shared border so every place lies in one grid (QGIS: Difference, or "
            "Topology Checker 'must not overlap')",
            "overlap",
            params,
        )

    return _Findings(
        area[index],
        list(np.stack([first[index], second[index]], axis=1)),
        shared[index],
        describe,
        schema.COMMUNITY if crossing else schema.GEOMETRY,
        "error",
        "overlapping pairs of grids" + (" of different communities" if crossing else ""),
        "redraw the shared borders so every place lies in one grid",
        summary_code="more_crossings" if crossing else "more_overlaps",
    )


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
            f"{_m2(areas[k])} {inside} is in no grid {where}",
            "extend the neighbouring grids over it, or leave it if it is meant to be in no grid (water, a closed site)",
            "gap_inside" if boundary is not None else "gap_enclosed",
            {"area": _m2(areas[k])},
        )

    return _Findings(
        areas,
        _grouped(around, neighbour, len(pieces)),
        pieces,
        describe,
        schema.GEOMETRY,
        "warning",
        f"gaps {inside}",
        "extend the neighbouring grids over them",
        summary_code="more_gaps_inside" if boundary is not None else "more_gaps_enclosed",
    ).problems(layer)


def _sliver_problems(layer: _MetricGrids, sliver_max_m2: float) -> list[Problem]:
    """One warning per grid that is, or has a separate piece, smaller than ``sliver_max_m2``."""
    parts, owner = shapely.get_parts(layer.geometries, return_index=True)
    areas = shapely.area(parts)
    pieces = np.bincount(owner, minlength=len(layer.geometries))
    small = np.flatnonzero(areas < sliver_max_m2)
    grids, first = np.unique(owner[small], return_index=True)
    count = np.bincount(owner[small], minlength=len(layer.geometries))
    total = np.bincount(owner[small], weights=areas[small], minlength=len(layer.geometries))

    def describe(k: int, names: tuple[str, ...], where: str) -> tuple[str, str, str, dict]:
        grid = grids[k]
        params = {"grid": names[0], "area": _m2(total[grid]), "count": int(count[grid]), "limit": _m2(sliver_max_m2)}
        if pieces[grid] == 1:
            return (
                f"grid {names[0]} is only {_m2(total[grid])} {where}",
                "check whether it is a leftover of digitizing; merge it into its neighbour or delete it",
                "sliver_grid",
                params,
            )
        return (
            f"grid {names[0]} has {_count(count[grid], 'separate piece', 'separate pieces')} under "
            f"{_m2(sliver_max_m2)} ({_m2(total[grid])} in all) {where}",
            "delete the stray piece or merge it into the grid it lies in (QGIS: Multipart to "
            "singleparts, then Eliminate selected polygons)",
            "sliver_pieces",
            params,
        )

    findings = _Findings(
        total[grids],
        list(grids[:, None]),
        parts[small[first]],
        describe,
        schema.GEOMETRY,
        "warning",
        f"grids with slivers under {_m2(sliver_max_m2)}",
        "delete the slivers or merge them into their neighbours",
        summary_code="more_slivers",
        summary_params={"limit": _m2(sliver_max_m2)},
    )
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
        params = {"grid": names[0], "area": _m2(outside[g]), "reach": f"{reach[g]:,.0f}", "share": _percent(share[g])}
        if share[g] >= 0.999:
            return (
                f"grid {names[0]} ({_m2(outside[g])}) lies outside the active district {where}",
                fix,
                "outside_whole",
                params,
            )
        return (
            f"grid {names[0]} reaches {reach[g]:,.0f} m beyond the active district's outline "
            f"({_m2(outside[g])}, {_percent(share[g])} of the grid) {where}",
            fix,
            "outside_reach",
            params,
        )

    return _Findings(
        outside[flagged],
        list(flagged[:, None]),
        bits[largest[flagged]],
        describe,
        schema.GEOMETRY,
        "warning",
        "grids reaching beyond the active district",
        "check the grids' outer borders against the district boundary",
        summary_code="more_outside",
    ).problems(layer)


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


# ---- geometry arrays --------------------------------------------------------------------------------
def _geometries(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.array, dtype=object)


def _present(geometries: np.ndarray) -> np.ndarray:
    return ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))


def _polygonal_rows(frame: gpd.GeoDataFrame) -> np.ndarray:
    geometries = _geometries(frame)
    return _present(geometries) & np.isin(shapely.get_type_id(geometries), _POLYGON_TYPES)


def _valid_polygons(geometries: np.ndarray) -> np.ndarray:
    """Each geometry made valid and cut down to its polygonal parts (a Polygon where one part is left).

    A geometry with no polygonal part becomes an empty Polygon; missing stays missing.
    """
    geometries = np.asarray(geometries, dtype=object).copy()
    invalid = ~shapely.is_valid(geometries) & ~shapely.is_missing(geometries)
    geometries[invalid] = shapely.make_valid(geometries[invalid])
    mixed = ~shapely.is_missing(geometries) & ~np.isin(shapely.get_type_id(geometries), _POLYGON_TYPES)
    if mixed.any():
        parts, owner = _flat_parts(geometries[mixed])
        polygon = shapely.get_type_id(parts) == 3
        kept = np.full(int(mixed.sum()), None, dtype=object)
        if polygon.any():
            shapely.multipolygons(parts[polygon], indices=owner[polygon], out=kept)
        kept[shapely.is_missing(kept)] = shapely.Polygon()
        single = shapely.get_num_geometries(kept) == 1
        kept[single] = shapely.get_geometry(kept[single], 0)
        geometries[mixed] = kept
    return geometries


def _flat_parts(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All single parts of the geometries, however deeply collected, with each part's owner."""
    parts, owner = shapely.get_parts(geometries, return_index=True)
    while (nested := np.isin(shapely.get_type_id(parts), _COLLECTION_TYPES)).any():
        inner, within = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][within]])
    return parts, owner


def _metric_crs_of(frame: gpd.GeoDataFrame) -> pyproj.CRS:
    """The frame's metric CRS, or a ``ValidationError`` when it has no CRS to measure in."""
    if frame.crs is None:
        raise ValidationError(
            schema.GRIDS.name,
            [
                Problem(
                    schema.GRIDS.name,
                    None,
                    (),
                    "the layer has no coordinate system, so areas cannot be measured",
                    "set the CRS it was drawn in (e.g. CGCS2000 / EPSG:4490) before repairing",
                    code="no_crs",
                )
            ],
        )
    return metric_crs(frame)


def _to_crs(geometries: np.ndarray, source: pyproj.CRS, target: pyproj.CRS) -> np.ndarray:
    return np.asarray(gpd.GeoSeries(geometries, crs=source).to_crs(target).array, dtype=object)


def _with_geometries(frame: gpd.GeoDataFrame, geometries: np.ndarray) -> gpd.GeoDataFrame:
    return frame.set_geometry(gpd.GeoSeries(geometries, index=frame.index, crs=frame.crs), crs=frame.crs)


def _mask(n: int, positions: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return mask


def _id_frame(frame: pd.DataFrame, layer: schema.Layer) -> pd.DataFrame:
    """The layer's id column (if the frame has it) on a fresh 0..n-1 index, for ``row_labels``."""
    columns = [layer.id_column] if layer.id_column in frame.columns else []
    return pd.DataFrame(frame[columns]).reset_index(drop=True)


def _labels(frame: pd.DataFrame, layer: schema.Layer, mask: np.ndarray) -> tuple[str, ...]:
    """Labels (``core.validate.row_labels``) of the rows where ``mask`` is set, in row order."""
    ids = _id_frame(frame, layer)
    return row_labels(ids, layer, ids.index[mask])


# ---- wording ----------------------------------------------------------------------------------------
def _m2(area: float) -> str:
    if area >= 100:
        return f"{area:,.0f} m²"
    if area >= 1:
        return f"{area:.1f} m²"
    return f"{area:.2g} m²"


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.1%}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _them(n: int) -> str:
    return "it" if n == 1 else "them"


def _change_summary(change: dict[str, float]) -> str:
    shown = "; ".join(
        f"{row}: {'+' if delta >= 0 else '−'}{_m2(abs(delta))}" for row, delta in list(change.items())[:5]
    )
    return shown + (f"; and {len(change) - 5} more" if len(change) > 5 else "")
