"""Assign points to the grids that cover them.

A point belongs to the grid that *covers* it (interior or boundary). Where several grids cover a point —
a shared border, a shared vertex, overlapping grids — it goes to the grid with the smallest row position
in ``grids``, so the answer never depends on tree order or float noise. A point outside every grid, or
with a missing or empty geometry, is unassigned (``-1`` / missing values). The result is identical to
testing ``shapely.covers`` for every point and grid pair and keeping the smallest position.

How it stays fast: :class:`GridIndex` lays a raster of square cells over the grids' bounds, in the
grids' own coordinates (lon/lat degrees for stored layers). A cell that a grid boundary touches, or comes
within a thin margin of, is an *edge* cell. Every other cell lies wholly inside or wholly outside each
grid, so one exact test at its centre labels the whole cell, and a point in it is answered by one array
lookup. Only points in edge cells (a few percent) get the exact test: a bounding-box query on an STRtree
in Morton order, then a prepared point-in-polygon test. Build the index once per grids version and reuse
it; it pickles.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.errors import Problem, ValidationError
from core.schema import ASSIGNED, COMMUNITY, GEOMETRY, GRID_ID, JOINED_COLUMNS, SOURCE_GRID_CODE, STREET

__all__ = [
    "OUTSIDE",
    "GridIndex",
    "assign_points",
    "grid_at_time",
    "join_to_grids",
]

OUTSIDE = -1
"""Assignment of a point that no grid covers."""

_EDGE = -2  # raster label of a cell that needs the exact test
_CELLS_ACROSS_GRID = 64  # raster cells across a typical grid; more cells, fewer exact tests
_MAX_RASTER_BYTES = 128 * 2**20
_MARGIN = 1e-3  # cells within _MARGIN / 2 cell widths of a boundary count as edge cells
_CHUNK = 2**20  # points (or boundary events) handled per vectorised step, to bound temporary memory
_POINT, _POLYGON, _MULTIPOLYGON = 0, 3, 6  # shapely geometry type ids
_TYPE_NAMES = np.array(
    [
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    ]
)


@dataclass(frozen=True, eq=False)
class GridIndex:
    """A reusable point-in-grid lookup over one version of the grids layer.

    ``geometries`` are the grids' (2-D, prepared) polygons in row order and ``tree`` an STRtree over
    them. ``labels`` is the raster: for every cell the position of the grid covering it (smallest
    position where several do), ``-1`` if none does, ``-2`` for an edge cell. Cell ``(row, col)`` spans
    ``origin + (col, row) * cell_size`` to one cell further. Build it with :meth:`from_grids`.
    """

    geometries: np.ndarray
    tree: shapely.STRtree
    labels: np.ndarray
    origin: tuple[float, float]
    cell_size: float

    @classmethod
    def from_grids(cls, grids: gpd.GeoDataFrame, *, cell_size: float | None = None) -> GridIndex:
        """Index the Polygon/MultiPolygon geometries of ``grids`` (rows without geometry match nothing).

        ``cell_size`` (in the grids' units) overrides the raster resolution, which by default puts
        about 64 cells across a typical grid while keeping the raster under 128 MB; an explicit
        ``cell_size`` is not capped. Building takes about a second for 20,000 grids on 2 cores.
        """
        geometries = np.asarray(shapely.force_2d(_geometry_array(grids)), dtype=object)
        types = shapely.get_type_id(geometries)
        present = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
        wrong = present & ~np.isin(types, (_POLYGON, _MULTIPOLYGON))
        if wrong.any():
            raise ValidationError(
                "grids",
                [
                    Problem(
                        "grids",
                        GEOMETRY,
                        _positions(wrong),
                        f"geometry is {'/'.join(sorted(set(_TYPE_NAMES[types[wrong]])))}, expected Polygon or "
                        "MultiPolygon",
                        "convert boundary lines into polygons (close the rings), or upload the polygon layer",
                        code="wrong_geometry_polygon",
                        params={"found": "/".join(sorted(set(_TYPE_NAMES[types[wrong]])))},
                    )
                ],
            )
        shapely.prepare(geometries)
        tree = shapely.STRtree(geometries)
        label_dtype = np.int16 if len(geometries) < np.iinfo(np.int16).max else np.int32
        if not present.any():
            return cls(geometries, tree, np.empty((0, 0), label_dtype), (0.0, 0.0), 1.0)

        xmin, ymin, xmax, ymax = shapely.total_bounds(geometries[present])
        if cell_size is not None and not cell_size > 0:
            raise ValueError(f"cell_size must be positive, got {cell_size}")
        if cell_size is None:
            cell_size = _default_cell_size(
                geometries[present], xmax - xmin, ymax - ymin, _MAX_RASTER_BYTES // np.dtype(label_dtype).itemsize
            )
        # one spare cell on every side keeps every boundary event's margin inside the raster
        origin = (xmin - cell_size, ymin - cell_size)
        shape = (int((ymax - origin[1]) / cell_size) + 2, int((xmax - origin[0]) / cell_size) + 2)
        edge = _edge_cells(geometries[present], origin, cell_size, shape)
        labels = _label_cells(edge, origin, cell_size, geometries, tree, label_dtype)
        return cls(geometries, tree, labels, origin, float(cell_size))

    @classmethod
    def from_raster(
        cls, grids: gpd.GeoDataFrame, labels: np.ndarray, origin: tuple[float, float], cell_size: float
    ) -> GridIndex:
        """The index of ``grids`` around a raster that ``from_grids`` built for the same grids before
        (``labels``, ``origin``, ``cell_size``; kept by ``core.derived``): the slow part, skipped."""
        geometries = np.asarray(shapely.force_2d(_geometry_array(grids)), dtype=object)
        shapely.prepare(geometries)
        return cls(
            geometries, shapely.STRtree(geometries), labels, (float(origin[0]), float(origin[1])), float(cell_size)
        )

    def __setstate__(self, state: dict) -> None:
        # prepared geometries do not survive pickling; prepare them again
        self.__dict__.update(state)
        shapely.prepare(self.geometries)

    def assign(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Positions (int64) of the grid covering each point ``(x[i], y[i])``; ``-1`` outside every grid.

        Coordinates are in the grids' CRS; NaN coordinates are unassigned.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(f"x and y must be 1-D arrays of one length, got shapes {x.shape} and {y.shape}")
        assignment = np.full(len(x), OUTSIDE, dtype=np.int64)
        rows, cols = self.labels.shape
        flat_labels = self.labels.ravel()
        scale = 1.0 / self.cell_size
        for start in range(0, len(x), _CHUNK):
            u = (x[start : start + _CHUNK] - self.origin[0]) * scale
            v = (y[start : start + _CHUNK] - self.origin[1]) * scale
            inside = np.flatnonzero((u >= 0) & (u < cols) & (v >= 0) & (v < rows))  # NaN fails
            col = u[inside].astype(np.int64)
            row = v[inside].astype(np.int64)
            label = flat_labels[row * cols + col].astype(np.int64)
            edge = label == _EDGE
            if edge.any():
                order = np.argsort(_morton(col[edge], row[edge]), kind="stable")
                points = inside[edge][order] + start
                exact = _covering_grid(self.geometries, self.tree, x[points], y[points])
                label[np.flatnonzero(edge)[order]] = exact
            assignment[start + inside] = label
        return assignment


def assign_points(
    points: gpd.GeoDataFrame | gpd.GeoSeries, grids: gpd.GeoDataFrame, index: GridIndex | None = None
) -> np.ndarray:
    """Position (int64) of the grid covering each point of ``points``; ``-1`` where none does.

    ``index``, if given, must have been built from these ``grids`` (pass the cached one; building it is
    the costly part). Raises ``ValidationError`` if the layers' CRS differ or ``points`` holds anything
    but points; missing and empty points are unassigned.
    """
    _check_same_crs(points, grids)
    if index is None:
        index = GridIndex.from_grids(grids)
    elif len(index.geometries) != len(grids):
        raise ValueError(
            f"the index holds {len(index.geometries)} grids but `grids` has {len(grids)} rows;"
            " build it from these grids"
        )
    geometries = _geometry_array(points)
    types = shapely.get_type_id(geometries)  # -1 where missing
    wrong = (types != _POINT) & (types != -1)
    wrong[wrong] = ~shapely.is_empty(geometries[wrong])
    if wrong.any():
        raise ValidationError(
            "points",
            [
                Problem(
                    "points",
                    GEOMETRY,
                    _positions(wrong),
                    f"geometry is {'/'.join(sorted(set(_TYPE_NAMES[types[wrong]])))}, expected Point",
                    "use one point per row (e.g. the centroid of each shape)",
                    code="wrong_geometry_point",
                    params={"found": "/".join(sorted(set(_TYPE_NAMES[types[wrong]])))},
                )
            ],
        )
    usable = (types == _POINT) & ~shapely.is_empty(geometries)
    if usable.all():  # the usual case: no copy of the geometry array
        return index.assign(shapely.get_x(geometries), shapely.get_y(geometries))
    x = np.full(len(geometries), np.nan)
    y = np.full(len(geometries), np.nan)
    x[usable] = shapely.get_x(geometries[usable])
    y[usable] = shapely.get_y(geometries[usable])
    return index.assign(x, y)


def join_to_grids(
    points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, index: GridIndex | None = None
) -> gpd.GeoDataFrame:
    """A copy of ``points`` with the covering grid's ``grid_id``, ``community`` and ``street``.

    Adds a boolean ``assigned`` column; unassigned points get missing values in the joined columns,
    which come last, in that order. A ``grid_id`` the file brought along is kept as ``source_grid_code``
    (file codes are never trusted); if ``source_grid_code`` is already there, the old ``grid_id`` is an
    earlier join and is replaced, like any ``community``, ``street`` or ``assigned`` the points carry, so
    joining again is harmless. ``grids`` needs a ``grid_id`` column; without ``community`` or
    ``street`` those come out missing.
    """
    if GRID_ID not in grids.columns:
        fix = f"add a `{GRID_ID}` column, or map one of the file's columns to it"
        raise ValidationError("grids", [Problem.missing_column("grids", GRID_ID, fix)])
    assignment = assign_points(points, grids, index)
    joined = points.drop(columns=[c for c in (COMMUNITY, STREET, ASSIGNED) if c in points.columns])
    if GRID_ID in joined.columns:
        if SOURCE_GRID_CODE in joined.columns:
            joined = joined.drop(columns=GRID_ID)
        else:
            joined = joined.rename(columns={GRID_ID: SOURCE_GRID_CODE})
    for column in JOINED_COLUMNS:
        if column in grids.columns:
            values = grids[column].array.take(assignment, allow_fill=True)
            joined[column] = pd.Series(values, index=joined.index)
        else:
            joined[column] = pd.Series(index=joined.index, dtype="str")
    joined[ASSIGNED] = assignment != OUTSIDE
    return joined


def grid_at_time(
    points: gpd.GeoDataFrame, times: pd.Series, boundaries: Sequence[tuple[pd.Timestamp, gpd.GeoDataFrame]]
) -> pd.Series:
    """The ``grid_id`` each point had under the boundaries active at its time.

    ``boundaries`` lists each grids version with the moment it became active, oldest first. A point
    dated before the first activation uses the first boundaries (history before GridWatch held any);
    a point with a missing time uses the newest. Keeping this beside the current ``grid_id`` lets
    figures stay comparable across redraws.
    """
    if not boundaries:
        raise ValueError("no boundaries given")
    starts = pd.Series([start for start, _ in boundaries])
    era = np.searchsorted(starts.to_numpy(), times.to_numpy(), side="right") - 1
    era = np.where(times.isna().to_numpy(), len(boundaries) - 1, np.clip(era, 0, None))
    result = pd.Series(pd.NA, index=points.index, dtype="str")
    for i, (_, grids) in enumerate(boundaries):
        members = np.flatnonzero(era == i)
        if members.size:
            found = assign_points(points.iloc[members], grids)
            ids = grids[GRID_ID].array.take(found, allow_fill=True)
            result.iloc[members] = np.asarray(ids, dtype=object)
    return result


def _geometry_array(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """The shapely geometries of a GeoDataFrame or GeoSeries as an object array."""
    series = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    return np.asarray(series.array, dtype=object)


def _positions(mask: np.ndarray) -> tuple[str, ...]:
    """1-based row positions (``#n``) where ``mask`` is set, for a Problem's ``rows``."""
    return tuple(f"#{i + 1}" for i in np.flatnonzero(mask))


def _check_same_crs(points: gpd.GeoDataFrame | gpd.GeoSeries, grids: gpd.GeoDataFrame) -> None:
    """Raise ``ValidationError`` unless points and grids share a CRS (geopandas only warns)."""
    if points.crs == grids.crs:
        return
    arrived = points.crs.to_string() if points.crs is not None else "no CRS"
    expected = grids.crs.to_string() if grids.crs is not None else "no CRS"
    raise ValidationError(
        "points",
        [
            Problem(
                "points",
                GEOMETRY,
                (),
                f"CRS mismatch between the CRS of the points ({arrived}) and the CRS of the grids ({expected})",
                "use `to_crs()` to reproject one of the layers to match the other, e.g. "
                "`points.to_crs(grids.crs)`; a layer with no CRS needs `set_crs()` with the CRS it was drawn in",
                code="crs_mismatch",
                params={"arrived": arrived, "expected": expected},
            )
        ],
    )


def _covering_grid(geometries: np.ndarray, tree: shapely.STRtree, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Smallest position of a grid covering each point, by exact tests; ``-1`` where none does."""
    point, grid = tree.query(shapely.points(x, y))
    hit = shapely.intersects_xy(geometries[grid], x[point], y[point])  # == covers, for a point
    first = np.full(len(x), len(geometries), dtype=np.int64)
    np.minimum.at(first, point[hit], grid[hit])
    first[first == len(geometries)] = OUTSIDE
    return first


def _default_cell_size(geometries: np.ndarray, width: float, height: float, max_cells: int) -> float:
    """A cell size giving ~64 cells across a typical grid, coarsened to keep at most ``max_cells``."""
    areas = shapely.area(geometries)
    typical = float(np.sqrt(np.median(areas[areas > 0]))) if (areas > 0).any() else 0.0
    extent = max(width, height)
    if typical <= 0:
        typical = extent if extent > 0 else 1.0
    cell = typical / _CELLS_ACROSS_GRID
    cells = (width / cell + 3) * (height / cell + 3)
    if cells > max_cells:
        cell *= float(np.sqrt(cells / max_cells)) * 1.01
    return cell


def _edge_cells(
    geometries: np.ndarray, origin: tuple[float, float], cell_size: float, shape: tuple[int, int]
) -> np.ndarray:
    """Boolean raster of the cells that some polygon boundary passes within ``_MARGIN / 2`` of.

    Work in raster units (cell ``(row, col)`` is ``[col, col + 1] x [row, row + 1]``). A segment that
    runs more across columns than across rows is cut by the lines ``u = k`` into pieces that span one
    column and at most two rows; the *events* are the pieces' ends (its vertices and the crossings),
    so every cell a piece touches is the cell of one of its ends in that column. Steep segments are
    cut by the lines ``v = k`` likewise. Marking, around every event, each cell that the square of
    half-width ``_MARGIN`` touches therefore marks each cell that a piece comes within ``_MARGIN / 2``
    of. That margin dwarfs float error in the cell arithmetic, so a point is never put in the wrong
    non-edge cell. Marking too much only costs speed; every event is at least one cell inside the
    raster, so no mark falls off it.
    """
    rings = shapely.get_rings(shapely.get_parts(geometries))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    scale = 1.0 / cell_size
    u = (coords[:, 0] - origin[0]) * scale
    v = (coords[:, 1] - origin[1]) * scale
    cols = shape[1]
    edge = np.zeros(shape, dtype=bool)
    flat = edge.ravel()
    _mark_vertices(flat, cols, u, v)
    segment = np.flatnonzero(ring[1:] == ring[:-1])
    flat_ones = np.abs(u[segment + 1] - u[segment]) >= np.abs(v[segment + 1] - v[segment])
    a, b = segment[flat_ones], segment[flat_ones] + 1
    for line, v_at in _crossings(u[a], u[b], v[a], v[b]):  # lines u = k: columns k - 1 and k
        _mark_crossings(flat, line, v_at, along_stride=cols, across_stride=1)
    a, b = segment[~flat_ones], segment[~flat_ones] + 1
    for line, u_at in _crossings(v[a], v[b], u[a], u[b]):  # lines v = k: rows k - 1 and k
        _mark_crossings(flat, line * cols, u_at, along_stride=1, across_stride=cols)
    return edge


def _mark_vertices(flat_edge: np.ndarray, cols: int, u: np.ndarray, v: np.ndarray) -> None:
    """Mark the cells that the squares of half-width ``_MARGIN`` around the vertices ``(u, v)`` touch."""
    col, row = u.astype(np.int64), v.astype(np.int64)  # floor, as u, v > 0
    flat_edge[row * cols + col] = True
    near = np.flatnonzero((np.abs(u - col - 0.5) > 0.5 - _MARGIN) | (np.abs(v - row - 0.5) > 0.5 - _MARGIN))
    for du in (-_MARGIN, _MARGIN):
        col = (u[near] + du).astype(np.int64)
        for dv in (-_MARGIN, _MARGIN):
            flat_edge[(v[near] + dv).astype(np.int64) * cols + col] = True


def _crossings(
    a: np.ndarray, b: np.ndarray, a_along: np.ndarray, b_along: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield, a chunk at a time, where the segments ``a``→``b`` cross the integer lines between them.

    ``a``/``b`` are the segment ends' coordinates across the lines, ``a_along``/``b_along`` the other
    coordinate. Yields ``(line, coordinate along)`` as int64 and float64 arrays; a line through a
    segment's end is left to the vertex.
    """
    first = np.floor(np.minimum(a, b)).astype(np.int64) + 1
    count = np.maximum(np.ceil(np.maximum(a, b)).astype(np.int64) - first, 0)
    ends = np.cumsum(count)
    total = int(ends[-1]) if len(ends) else 0
    cuts = np.searchsorted(ends, np.arange(_CHUNK, total, _CHUNK), side="right")
    cuts = np.unique(np.concatenate(([0], cuts, [len(count)])))
    for lo, hi in itertools.pairwise(cuts):
        n = count[lo:hi]
        segment = np.repeat(np.arange(lo, hi), n)
        line = first[segment] + (np.arange(len(segment)) - np.repeat(np.cumsum(n) - n, n))
        t = (line - a[segment]) / (b[segment] - a[segment])
        yield line, a_along[segment] + t * (b_along[segment] - a_along[segment])


def _mark_crossings(
    flat_edge: np.ndarray, line_offset: np.ndarray, along: np.ndarray, *, along_stride: int, across_stride: int
) -> None:
    """Mark the cells on both sides of crossings of a cell line, within ``_MARGIN`` along the line.

    ``line_offset`` is the flat raster offset of the crossed line's row or column on its higher side,
    ``along`` the crossing's coordinate along the line, and the strides step the flat raster index
    one cell along the line and one cell across it.
    """
    cell = line_offset + along.astype(np.int64) * along_stride
    flat_edge[cell] = True
    flat_edge[cell - across_stride] = True
    near = np.flatnonzero(np.abs(along - along.astype(np.int64) - 0.5) > 0.5 - _MARGIN)
    for d in (-_MARGIN, _MARGIN):
        cell = line_offset[near] + (along[near] + d).astype(np.int64) * along_stride
        flat_edge[cell] = True
        flat_edge[cell - across_stride] = True


def _label_cells(
    edge: np.ndarray,
    origin: tuple[float, float],
    cell_size: float,
    geometries: np.ndarray,
    tree: shapely.STRtree,
    dtype: type,
) -> np.ndarray:
    """The label raster: each non-edge cell gets the grid covering its centre; edge cells ``-2``.

    Two non-edge cells side by side, or one above the other, have no boundary between them, so the same
    grids cover both. So a run of non-edge cells along a raster row shares one label, and so does a run
    with a non-edge cell directly below its middle, first or last cell. Each run links to the run below
    it found that way; only the runs left without a link (a few per grid) get the exact test, at the
    centre of their first cell.
    """
    rows, cols = edge.shape
    inner = ~edge
    neighbour = np.zeros_like(inner)
    neighbour[:, 1:] = inner[:, :-1]  # the cell before
    starts = np.flatnonzero(inner > neighbour)
    neighbour[:, :-1] = inner[:, 1:]  # the cell after
    neighbour[:, -1] = False
    ends = np.flatnonzero(inner > neighbour)
    del neighbour
    parent = np.arange(len(starts))
    flat_inner = inner.ravel()
    for probe in ((starts + ends) // 2, starts, ends):
        below = probe - cols
        linked = (parent == np.arange(len(parent))) & (below >= 0)
        linked[linked] = flat_inner[below[linked]]
        parent[linked] = np.searchsorted(starts, below[linked], side="right") - 1
    while not np.array_equal(grandparent := parent[parent], parent):
        parent = grandparent
    roots = np.flatnonzero(parent == np.arange(len(parent)))
    x = origin[0] + (starts[roots] % cols + 0.5) * cell_size
    y = origin[1] + (starts[roots] // cols + 0.5) * cell_size
    root_label = np.empty(len(starts), dtype=np.int64)
    for i in range(0, len(roots), _CHUNK):
        root_label[roots[i : i + _CHUNK]] = _covering_grid(geometries, tree, x[i : i + _CHUNK], y[i : i + _CHUNK])
    # paint the raster in one pass: edge cells, run, edge cells, run, ..., edge cells
    bounds = np.empty(2 * len(starts) + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, rows * cols
    bounds[1:-1:2] = starts
    bounds[2:-1:2] = ends + 1
    values: np.ndarray = np.full(2 * len(starts) + 1, _EDGE, dtype=dtype)
    values[1::2] = root_label[parent]
    return np.repeat(values, np.diff(bounds)).reshape(rows, cols)


def _morton(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Z-order (Morton) codes of non-negative cell coordinates below 2**32."""
    return _spread_bits(col) | (_spread_bits(row) << np.uint64(1))


def _spread_bits(values: np.ndarray) -> np.ndarray:
    """Move bit ``i`` of each value to bit ``2 i``."""
    bits = values.astype(np.uint64)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        bits = (bits | (bits << np.uint64(shift))) & np.uint64(mask)
    return bits
