"""What a new version of the grids would change: the diff against the active grids, and where points move.

``diff_grids`` matches grids by ``grid_id``: a grid only in the new file is *added*, one only in the active
version *removed*, and one in both *changed* when its shape moved by more than ``tolerance_m2`` (the area
of the symmetric difference, in the metric CRS) or any of its attributes differ. Grids whose coordinates
are identical are recognised without any overlay, so a diff of two 20,000-grid versions that differ in
a few hundred grids takes well under a second.

``join_impact`` assigns every point layer to both versions (``core.joins.GridIndex``, vectorised) and
counts, per layer, the points that would move to another grid, fall outside every grid, or newly fall
inside one, with a table of the moves (from grid → to grid, count).

Rows without a ``grid_id`` are named by position (``#n``, as in the validation report) and never match.
Rows sharing a ``grid_id`` (a multi-part grid stored as several rows) count as one grid: their polygons
are merged and the first row's attributes are kept; the validation report lists such ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from core import schema
from core.geometry import metric_crs
from core.joins import OUTSIDE, GridIndex, assign_points

__all__ = [
    "AREA_CHANGE_PCT",
    "AREA_KM2",
    "ATTRIBUTES_CHANGED",
    "ATTRIBUTE_DETAILS",
    "BORDER_SHIFT_M",
    "COUNT",
    "GEOMETRY_CHANGED",
    "LAYER",
    "NEW_AREA_KM2",
    "OLD_AREA_KM2",
    "SHAPE_CHANGE_M2",
    "GridDiff",
    "Impact",
    "ImpactCounts",
    "diff_grids",
    "join_impact",
]

# ---- columns of the diff and impact tables ---------------------------------------------------------
AREA_KM2 = "area_km2"
OLD_AREA_KM2 = "old_area_km2"
NEW_AREA_KM2 = "new_area_km2"
AREA_CHANGE_PCT = "area_change_pct"
BORDER_SHIFT_M = "border_shift_m"
SHAPE_CHANGE_M2 = "shape_change_m2"
"""Area of the symmetric difference between the old and the new polygon."""
GEOMETRY_CHANGED = "geometry_changed"
ATTRIBUTES_CHANGED = "attributes_changed"
"""Names of the changed attribute columns, e.g. ``"name, worker"``."""
ATTRIBUTE_DETAILS = "attribute_details"
"""Old → new value of each changed attribute; values of private columns are not shown."""

LAYER = "layer"
TOTAL = "total"
MOVED = "moved"
NEWLY_UNASSIGNED = "newly_unassigned"
NEWLY_ASSIGNED = "newly_assigned"
FROM_GRID_ID = "from_grid_id"
TO_GRID_ID = "to_grid_id"
COUNT = "count"

_DESCRIBED = (schema.GRID_ID, schema.NAME, schema.COMMUNITY, schema.STREET)
_COMPARED = tuple(c for c in schema.GRIDS.column_names if c != schema.GRID_ID)
_PRIVATE = (schema.WORKER_PHONE,)  # compared, but their values never appear in a diff
_FINE_CELLS_ACROSS = 64  # core.joins' default raster resolution, cells across a typical grid
_METRES_PER_DEGREE_MAX = 111_700.0  # along any direction, anywhere on the WGS84 ellipsoid


@dataclass(frozen=True)
class GridDiff:
    """The grids a new version adds, removes and changes, and how many it leaves as they are.

    ``added`` and ``removed`` have ``grid_id``, ``name``, ``community``, ``street`` and ``area_km2``.
    ``changed`` has the new ``grid_id``, ``name``, ``community``, ``street``, then ``old_area_km2``,
    ``new_area_km2``, ``area_change_pct``, ``shape_change_m2``, ``border_shift_m``, ``geometry_changed``,
    ``attributes_changed`` and ``attribute_details``; the largest shape changes come first.
    """

    added: pd.DataFrame
    removed: pd.DataFrame
    changed: pd.DataFrame
    unchanged: int


@dataclass(frozen=True)
class ImpactCounts:
    """What a new version does to one point layer's grid assignment."""

    total: int
    moved: int
    """Points in a grid before and after, but not in the same ``grid_id``."""
    newly_unassigned: int
    """Points in a grid before, outside every grid after."""
    newly_assigned: int
    """Points outside every grid before, in one after."""


@dataclass(frozen=True)
class Impact:
    """Per point layer, how a new version moves points between grids; ``moves`` lists every move.

    ``moves`` has ``layer``, ``from_grid_id``, ``to_grid_id`` (missing = outside every grid) and
    ``count``, largest first.
    """

    by_layer: dict[str, ImpactCounts]
    moves: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """One row per layer: ``layer``, ``total``, ``moved``, ``newly_unassigned``, ``newly_assigned``."""
        rows = [(name, c.total, c.moved, c.newly_unassigned, c.newly_assigned) for name, c in self.by_layer.items()]
        return pd.DataFrame(rows, columns=[LAYER, TOTAL, MOVED, NEWLY_UNASSIGNED, NEWLY_ASSIGNED])

    def summary_lines(self) -> list[str]:
        """One plain sentence per layer, for a text report."""
        return [
            f"{name}: {c.moved:,} of {c.total:,} move to another grid, {c.newly_unassigned:,} fall "
            f"outside every grid, {c.newly_assigned:,} come inside a grid"
            for name, c in self.by_layer.items()
        ]


def diff_grids(
    active: gpd.GeoDataFrame | None, new: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0, shift_tolerance_m: float = 1.0
) -> GridDiff:
    """Grids added, removed and changed by ``new`` compared with ``active`` (``None``: nothing active).

    A grid's geometry has changed when the symmetric difference of its old and new polygons covers more
    than ``tolerance_m2`` *and* some part of its border moved by more than ``shift_tolerance_m`` (the
    Hausdorff distance), both measured in the metric CRS of both versions (``core.geometry.metric_crs``);
    so a file re-exported with coordinates rounded to 6 decimals (≈ 0.1 m) shows no change, while a
    border redrawn by a few metres does. A polygon that appears or disappears has changed. Attributes are the grid columns of ``core.schema``
    other than ``grid_id``; a missing value equals a missing value, and a column one version lacks counts
    as all missing there. Both versions are compared in EPSG:4326.
    """
    new_grids = _by_id(new)
    old_grids = _by_id(active) if active is not None else new_grids.iloc[:0]
    both = np.concatenate([new_grids[schema.GEOMETRY].to_numpy(), old_grids[schema.GEOMETRY].to_numpy()])
    crs = metric_crs(gpd.GeoDataFrame(geometry=both, crs=schema.STORAGE_CRS))
    added = new_grids.index.difference(old_grids.index, sort=False)
    removed = old_grids.index.difference(new_grids.index, sort=False)
    common = new_grids.index.intersection(old_grids.index, sort=False)
    old, now = old_grids.loc[common], new_grids.loc[common]

    old_geometry = old[schema.GEOMETRY].to_numpy()
    new_geometry = now[schema.GEOMETRY].to_numpy()
    present_old, present_new = _present(old_geometry), _present(new_geometry)
    shape_change = np.zeros(len(common))
    border_shift = np.zeros(len(common))
    compare = present_old & present_new
    compare[compare] = ~_nearly_equal(old_geometry[compare], new_geometry[compare], tolerance_m2)
    if compare.any():
        old_m, new_m = _metric(old_geometry[compare], crs), _metric(new_geometry[compare], crs)
        shape_change[compare] = shapely.area(shapely.symmetric_difference(old_m, new_m))
        moved = shape_change[compare] > tolerance_m2
        shifts = np.zeros(len(old_m))
        shifts[moved] = shapely.hausdorff_distance(old_m[moved], new_m[moved])
        border_shift[compare] = shifts
    shape_change[present_old != present_new] = np.nan  # appeared or disappeared
    border_shift[present_old != present_new] = np.nan
    geometry_changed = (present_old != present_new) | (
        (shape_change > tolerance_m2) & (border_shift > shift_tolerance_m)
    )
    names, details = _attribute_changes(old, now)
    changed = geometry_changed | (names != "")
    unchanged = int((~changed).sum())

    rows = np.flatnonzero(changed)
    old_km2 = _area_km2(old_geometry[rows], crs)
    new_km2 = _area_km2(new_geometry[rows], crs)
    table = _described(now.iloc[rows])
    table[OLD_AREA_KM2] = old_km2
    table[NEW_AREA_KM2] = new_km2
    table[AREA_CHANGE_PCT] = np.divide(
        100 * (new_km2 - old_km2), old_km2, out=np.full(len(rows), np.nan), where=old_km2 > 0
    )
    table[SHAPE_CHANGE_M2] = shape_change[rows]
    table[BORDER_SHIFT_M] = border_shift[rows]
    table[GEOMETRY_CHANGED] = geometry_changed[rows]
    table[ATTRIBUTES_CHANGED] = names[rows]
    table[ATTRIBUTE_DETAILS] = details[rows]
    table = table.sort_values(SHAPE_CHANGE_M2, ascending=False, kind="stable", na_position="first")
    return GridDiff(
        _with_area(new_grids.loc[added], crs),
        _with_area(old_grids.loc[removed], crs),
        table.reset_index(drop=True),
        unchanged,
    )


def join_impact(
    points: Mapping[str, gpd.GeoDataFrame],
    active: gpd.GeoDataFrame | None,
    new: gpd.GeoDataFrame,
    *,
    active_index: GridIndex | None = None,
) -> Impact:
    """How replacing ``active`` by ``new`` changes the grid of every point in ``points`` (layer → frame).

    Points are assigned as ``core.joins`` assigns them (a point on a shared border goes to the first grid
    covering it), by ``grid_id``, so a grid that keeps its id keeps its points. Pass the active
    version's cached ``active_index`` to skip building it; otherwise indexes are built with a raster as
    fine as the number of points makes worthwhile. Raises ``ValidationError`` where
    ``core.joins.assign_points`` does (CRS mismatch, non-point rows, non-polygonal grids).
    """
    if not points:
        return Impact({}, pd.DataFrame(columns=[LAYER, FROM_GRID_ID, TO_GRID_ID, COUNT]))
    n_points = sum(len(layer) for layer in points.values())
    new_index = _index_for(new, n_points)
    if active is not None and active_index is None:
        active_index = _index_for(active, n_points)
    new_keys = _keys(new)
    old_keys = _keys(active) if active is not None else pd.Index([], dtype=object)
    known = old_keys.append(new_keys).unique()
    new_codes = known.get_indexer(new_keys)
    old_codes = known.get_indexer(old_keys)
    counts, moves = {}, []
    for name, layer in points.items():
        after = _codes(assign_points(layer, new, new_index), new_codes)
        before = (
            _codes(assign_points(layer, active, active_index), old_codes)
            if active is not None
            else np.full(len(layer), OUTSIDE, dtype=np.int64)
        )
        counts[name] = ImpactCounts(
            total=len(layer),
            moved=int(((before != OUTSIDE) & (after != OUTSIDE) & (before != after)).sum()),
            newly_unassigned=int(((before != OUTSIDE) & (after == OUTSIDE)).sum()),
            newly_assigned=int(((before == OUTSIDE) & (after != OUTSIDE)).sum()),
        )
        moves.append(_moves(name, before, after, known))
    table = pd.concat(moves, ignore_index=True).sort_values([COUNT, LAYER], ascending=[False, True], kind="stable")
    return Impact(counts, table.reset_index(drop=True))


# ---- helpers ----------------------------------------------------------------------------------------
def _keys(grids: gpd.GeoDataFrame) -> pd.Index:
    """Each row's grid key: its ``grid_id``, or ``#n`` (its position) where the id is missing."""
    positions = pd.Series([f"#{i + 1}" for i in range(len(grids))], dtype=object)
    if schema.GRID_ID not in grids.columns:
        return pd.Index(positions)
    ids = pd.Series(grids[schema.GRID_ID].to_numpy(dtype=object))
    return pd.Index(ids.where(ids.notna() & (ids.astype(str).str.strip() != ""), positions))


def _by_id(grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """The grids indexed by key, one row per key (polygons of a repeated id merged), geometry as shapely."""
    columns = [c for c in _COMPARED if c in grids.columns]
    frame = pd.DataFrame({c: grids[c].to_numpy(dtype=object) for c in columns})
    for column in _COMPARED:
        if column not in frame.columns:
            frame[column] = None
    stored = grids.geometry if grids.crs is None else grids.geometry.to_crs(schema.STORAGE_CRS)
    frame[schema.GEOMETRY] = np.asarray(stored.array, dtype=object)
    frame.index = _keys(grids)
    repeated = frame.index.duplicated(keep=False)
    if repeated.any():
        merged = {
            key: shapely.union_all(group[schema.GEOMETRY].to_numpy())
            for key, group in frame[repeated].groupby(level=0, sort=False)
        }
        frame = frame[~frame.index.duplicated(keep="first")].copy()
        keys = list(merged)
        frame.loc[keys, schema.GEOMETRY] = pd.Series(merged, dtype=object)[keys]
    frame[schema.GRID_ID] = frame.index
    return frame


def _nearly_equal(old: np.ndarray, new: np.ndarray, tolerance_m2: float) -> np.ndarray:
    """Where two polygons with the same vertex layout surely differ by no more than ``tolerance_m2``.

    If every vertex moved by at most ``d`` metres, each border stays within ``d`` of where it was, so
    the symmetric difference is at most ``2 d L + π d²`` per ring (``L`` the perimeter). Metres per
    degree are bounded above (1° ≤ 111.7 km on WGS84), which keeps the test in degrees and without an
    overlay: it clears the coordinates a GeoJSON round trip perturbs in the 15th digit.
    """
    same = (shapely.get_num_coordinates(old) == shapely.get_num_coordinates(new)) & (
        shapely.get_num_geometries(old) == shapely.get_num_geometries(new)
    )
    result = np.zeros(len(old), dtype=bool)
    if not same.any():
        return result
    old_xy, owner = shapely.get_coordinates(old[same], return_index=True)
    new_xy = shapely.get_coordinates(new[same])
    moved = np.zeros(int(same.sum()))
    np.maximum.at(moved, owner, np.hypot(*(old_xy - new_xy).T))
    moved_m = moved * _METRES_PER_DEGREE_MAX
    perimeter_m = shapely.length(old[same]) * _METRES_PER_DEGREE_MAX
    vertices = np.bincount(owner, minlength=len(moved))  # π d² per vertex: more than per ring
    result[same] = 2 * moved_m * perimeter_m + np.pi * moved_m**2 * vertices <= tolerance_m2
    return result


def _present(geometries: np.ndarray) -> np.ndarray:
    return ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))


def _metric(geometries: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Geometries (EPSG:4326) in ``crs``, made valid so overlays cannot fail."""
    projected = np.asarray(gpd.GeoSeries(geometries, crs=schema.STORAGE_CRS).to_crs(crs).array, dtype=object)
    invalid = ~shapely.is_valid(projected) & ~shapely.is_missing(projected)
    projected[invalid] = shapely.make_valid(projected[invalid])
    return projected


def _area_km2(geometries: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Areas in km² (NaN where the geometry is missing or empty)."""
    areas = np.full(len(geometries), np.nan)
    present = _present(geometries)
    if present.any():
        areas[present] = shapely.area(_metric(geometries[present], crs)) / 1e6
    return areas


def _described(grids: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: grids[c].to_numpy(dtype=object) for c in _DESCRIBED})


def _with_area(grids: pd.DataFrame, crs: pyproj.CRS) -> pd.DataFrame:
    table = _described(grids)
    table[AREA_KM2] = _area_km2(grids[schema.GEOMETRY].to_numpy(), crs)
    return table


def _attribute_changes(old: pd.DataFrame, new: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the names of the changed attribute columns and their old → new values, as text."""
    names = np.full(len(old), "", dtype=object)
    details = np.full(len(old), "", dtype=object)
    for column in _COMPARED:
        before = pd.Series(old[column].to_numpy(dtype=object))
        after = pd.Series(new[column].to_numpy(dtype=object))
        same = (before.isna() & after.isna()) | (before == after).fillna(False).astype(bool)
        for k in np.flatnonzero(~same.to_numpy()):
            shown = (
                f"{column} changed"
                if column in _PRIVATE
                else f"{column}: {_shown(before.iloc[k])} → {_shown(after.iloc[k])}"
            )
            names[k] = f"{names[k]}, {column}" if names[k] else column
            details[k] = f"{details[k]}; {shown}" if details[k] else shown
    return names, details


def _shown(value: object) -> str:
    return "—" if pd.isna(value) else str(value)


def _index_for(grids: gpd.GeoDataFrame, n_points: int) -> GridIndex:
    """A ``GridIndex`` with a raster as fine as ``n_points`` points make worth building.

    ``core.joins`` lays ~64 cells across a typical grid, which pays off over millions of points; with
    a few points per grid, building that raster costs more than it saves (20,000 grids: 1.4 s to build,
    against 0.4 s for 4 cells across and 0.1 s more to assign 100,000 points). Assignments are exact at
    any cell size.
    """
    per_grid = n_points / max(len(grids), 1)
    areas = shapely.area(np.asarray(grids.geometry.array, dtype=object))
    areas = areas[np.isfinite(areas) & (areas > 0)]
    if per_grid >= _FINE_CELLS_ACROSS or not len(areas):
        return GridIndex.from_grids(grids)
    return GridIndex.from_grids(grids, cell_size=float(np.sqrt(np.median(areas))) / max(per_grid, 2.0))


def _codes(positions: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Grid positions turned into codes of their keys (``OUTSIDE`` stays ``OUTSIDE``)."""
    if not len(codes):
        return positions
    return np.where(positions == OUTSIDE, OUTSIDE, codes[np.maximum(positions, 0)])


def _moves(layer: str, before: np.ndarray, after: np.ndarray, known: pd.Index) -> pd.DataFrame:
    """The distinct (from, to) grid changes of one layer with their counts."""
    moved = before != after
    pairs = np.stack([before[moved], after[moved]], axis=1)
    unique, count = np.unique(pairs, axis=0, return_counts=True) if len(pairs) else (pairs, np.array([], int))
    names = np.append(known.to_numpy(dtype=object), [None])  # code -1 (OUTSIDE) picks the trailing None
    return pd.DataFrame(
        {
            LAYER: layer,
            FROM_GRID_ID: names[unique[:, 0]],
            TO_GRID_ID: names[unique[:, 1]],
            COUNT: count.astype(np.int64),
        }
    )
