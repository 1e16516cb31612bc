"""The shared machinery of the coverage measures (``core.viewsheds``, ``core.reach``, ``core.siting``):
layers in a metric CRS, pieces unioned grid by grid, and frames for the map.

* ``metric_grids`` and ``points_xy`` check a grid or point layer and give its geometry in the metric
  CRS (``core.geometry.metric_crs``): measures are never taken in degrees.
* ``sector_polygons`` draws sectors and circles in one vectorised pass, each of the exact area of the
  true shape; ``union_by_group`` unions pieces grid by grid (small local unions instead of one
  city-wide union); ``polygonal`` keeps the polygonal part of an overlay.
* ``display_frame`` turns per-grid geometries into an EPSG:4326 frame for the map: slivers under
  ``SLIVER_M2`` dropped, simplified by ``DISPLAY_TOLERANCE_M``.
* ``areas``, ``share``, ``numeric_column`` and ``row_ids`` are the small array helpers they share.

Not here: what is measured — camera views (``core.viewsheds``), walking reach (``core.reach``),
members and staffing (``core.coverage``) — nor geometry for other analyses (``core.geometry``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from core import joins, schema
from core.errors import Problem, ValidationError
from core.geometry import metric_crs

__all__ = [
    "DISPLAY_TOLERANCE_M",
    "SLIVER_M2",
    "areas",
    "display_frame",
    "grid_positions",
    "metric_grids",
    "numeric_column",
    "points_xy",
    "polygonal",
    "require_points",
    "row_ids",
    "sector_polygons",
    "share",
    "union_by_group",
]

DISPLAY_TOLERANCE_M = 0.5  # simplification of map geometries (a 5° arc of 120 m strays 0.11 m from its chord)
SLIVER_M2 = 1.0  # map polygons (or parts) smaller than this are dropped

_POINT, _POLYGON, _MULTIPOLYGON, _COLLECTION = 0, 3, 6, 7  # shapely geometry type ids


def points_xy(frame: gpd.GeoDataFrame, layer: str, crs: pyproj.CRS) -> np.ndarray:
    """Coordinates (n, 2) of a point layer in the metric ``crs``. Raises ``ValidationError`` naming the
    rows whose geometry is missing, empty or not a point, or if the layer has no CRS."""
    require_points(frame, layer)
    if not len(frame):
        return np.empty((0, 2))
    geometries = np.asarray(frame.geometry.array, dtype=object)
    to_metric = pyproj.Transformer.from_crs(frame.crs, crs, always_xy=True)
    return np.column_stack(to_metric.transform(shapely.get_x(geometries), shapely.get_y(geometries)))


def require_points(frame: gpd.GeoDataFrame, layer: str) -> None:
    """Raise ``ValidationError`` unless ``frame`` has a CRS and one point in every row."""
    id_column = schema.LAYERS[layer].id_column if layer in schema.LAYERS else None
    if frame.crs is None:
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    schema.GEOMETRY,
                    (),
                    "has no coordinate reference system",
                    "set the CRS the points were recorded in (stored layers are EPSG:4326)",
                    code="no_crs",
                )
            ],
        )
    geometries = np.asarray(frame.geometry.array, dtype=object) if len(frame) else np.empty(0, object)
    bad = (shapely.get_type_id(geometries) != _POINT) | shapely.is_empty(geometries)
    if bad.any():
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    schema.GEOMETRY,
                    row_ids(frame, bad, id_column),
                    "has no point geometry (missing, empty or another shape)",
                    "give every row one point location, or remove the row",
                    code="no_point_geometry",
                )
            ],
        )


def metric_grids(grids: gpd.GeoDataFrame) -> tuple[pyproj.CRS, np.ndarray]:
    """The grids' metric CRS and their 2-D polygons in it (None for a row without geometry)."""
    layer = schema.GRIDS.name
    problems = []
    if schema.GRID_ID not in grids.columns:
        fix = f"add a `{schema.GRID_ID}` column, or map one of the file's columns to it"
        problems.append(Problem.missing_column(layer, schema.GRID_ID, fix))
    if grids.crs is None:
        problems.append(
            Problem(
                layer,
                schema.GEOMETRY,
                (),
                "has no coordinate reference system",
                "set the CRS the grids were drawn in (stored layers are EPSG:4326)",
                code="no_crs",
            )
        )
    if problems:
        raise ValidationError(layer, problems)
    geometries = np.asarray(grids.geometry.array, dtype=object) if len(grids) else np.empty(0, object)
    types = shapely.get_type_id(geometries)
    wrong = (types >= 0) & ~np.isin(types, (_POLYGON, _MULTIPOLYGON)) & ~shapely.is_empty(geometries)
    if wrong.any():
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    schema.GEOMETRY,
                    row_ids(grids, wrong, schema.GRID_ID),
                    "geometry is not a Polygon or MultiPolygon",
                    "upload the grid boundaries as polygons",
                    code="wrong_geometry_polygon",
                    params={"found": "/".join(sorted(set(grids.geom_type[wrong])))},
                )
            ],
        )
    crs = metric_crs(grids)
    projected = np.asarray(grids.geometry.to_crs(crs).array, dtype=object)
    return crs, shapely.force_2d(projected) if len(projected) else projected


def grid_positions(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> np.ndarray:
    """Row position in ``grids`` of each point's grid: by its ``grid_id`` if it has been joined,
    otherwise by locating it (``core.joins``); -1 for none."""
    if schema.GRID_ID in points.columns:
        return pd.Index(grids[schema.GRID_ID]).get_indexer(points[schema.GRID_ID]).astype(np.int64)
    if points.crs != grids.crs:
        points = points.to_crs(grids.crs)
    return joins.assign_points(points, grids)


def union_by_group(pieces: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """The union of the ``pieces`` of each group ``0 … n-1``; a lone polygon is kept as it is, None
    where a group has no pieces. Shapely has no grouped union, so groups of two or more pieces take
    one ``union_all`` call each: one per grid, never one per camera."""
    out = np.full(n, None, dtype=object)
    if not len(pieces):
        return out
    order = np.argsort(group, kind="stable")
    group, pieces = group[order], pieces[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    single = (ends - starts == 1) & (shapely.get_type_id(pieces[starts]) != _COLLECTION)
    out[group[starts[single]]] = pieces[starts[single]]
    for start, end in zip(starts[~single], ends[~single]):
        out[group[start]] = shapely.union_all(pieces[start:end])
    return out


def polygonal(geometries: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry (overlays can add stray lines and points where shapes
    touch); None where there is none."""
    out = np.asarray(geometries, dtype=object).copy()
    types = shapely.get_type_id(out)
    out[~np.isin(types, (_POLYGON, _MULTIPOLYGON, _COLLECTION)) | shapely.is_empty(out)] = None
    mixed = np.flatnonzero((types == _COLLECTION) & ~shapely.is_empty(out))
    if mixed.size:
        parts, which = shapely.get_parts(out[mixed], return_index=True)
        polygons, inner = shapely.get_parts(parts, return_index=True)  # a collection may hold multipolygons
        which = which[inner]
        keep = shapely.get_type_id(polygons) == _POLYGON
        out[mixed] = None
        filled, rebuilt = _multipolygons_by(polygons[keep], which[keep])
        out[mixed[filled]] = rebuilt
    return out


def _multipolygons_by(polygons: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One MultiPolygon per distinct value of ``index`` (ascending, one per polygon): those values and
    the multipolygons."""
    values, dense = np.unique(index, return_inverse=True)
    return values, shapely.multipolygons(polygons, indices=dense) if len(values) else np.empty(0, object)


def display_frame(ids: np.ndarray, part: str | None, geometries: np.ndarray, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Rows of ``grid_id`` (and ``part``), ``area_m2`` and the geometry in EPSG:4326 for the map:
    parts under ``SLIVER_M2`` dropped, simplified by ``DISPLAY_TOLERANCE_M``, empty rows omitted."""
    geometries = polygonal(geometries)
    present = np.flatnonzero(~shapely.is_missing(geometries))
    parts, row = shapely.get_parts(geometries[present], return_index=True)
    big = shapely.area(parts) >= SLIVER_M2
    rows, kept = _multipolygons_by(parts[big], row[big])
    columns = {schema.GRID_ID: ids[present[rows]]}
    if part is not None:
        columns["part"] = part
    columns["area_m2"] = shapely.area(kept)
    kept = shapely.simplify(kept, DISPLAY_TOLERANCE_M, preserve_topology=True)
    shapes = gpd.GeoSeries(kept, crs=crs).to_crs(schema.STORAGE_CRS)
    return gpd.GeoDataFrame(columns, geometry=shapes.array, crs=schema.STORAGE_CRS)


def areas(geometries: np.ndarray) -> np.ndarray:
    """Area of each geometry, 0 for None."""
    return np.nan_to_num(shapely.area(geometries), nan=0.0)


def share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole, empty where whole is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1), np.nan)


def numeric_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats, NaN where absent or not a number."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def row_ids(frame: pd.DataFrame, mask: np.ndarray, id_column: str | None) -> tuple[str, ...]:
    """The ids (``id_column``, else the index labels) of the rows where ``mask`` holds."""
    labels = frame[id_column] if id_column is not None and id_column in frame.columns else frame.index
    return tuple(str(v) for v in np.asarray(labels)[mask])


def sector_polygons(
    x: np.ndarray,
    y: np.ndarray,
    azimuth_deg: np.ndarray,
    fov_deg: np.ndarray,
    range_m: np.ndarray,
    step_deg: float,
) -> np.ndarray:
    """Sector (or, where the azimuth is NaN or the field of view ≥ 360°, circle) polygons, all built in
    one vectorised pass: a ragged array of ring vertices, then ``shapely.linearrings`` by index.

    A sector's ring is its apex followed by its arc; a circle's ring is its arc alone. Arc vertices sit
    at radius r·sqrt(θ/sin θ) for a step of θ, so each apex–chord triangle has the area of its circular
    slice and every polygon the exact area of the true sector or circle.
    """
    n = len(x)
    dome = np.isnan(azimuth_deg) | (fov_deg >= 360)
    fov = np.radians(np.where(dome, 360.0, fov_deg))
    steps = np.maximum(np.ceil(np.degrees(fov) / step_deg - 1e-9), 1).astype(np.int64)
    n_vertices = np.where(dome, steps, steps + 2)  # arc points (steps + 1 for an open arc) + apex
    ring = np.repeat(np.arange(n), n_vertices)
    within = np.arange(len(ring)) - np.repeat(np.cumsum(n_vertices) - n_vertices, n_vertices)
    arc_index = np.where(dome[ring], within, within - 1)  # a sector's vertex 0 is the apex
    step = fov / steps
    radius = range_m * np.sqrt(step / np.sin(step))
    start = np.where(dome, 0.0, np.radians(np.nan_to_num(azimuth_deg)) - fov / 2)
    angle = start[ring] + arc_index * step[ring]
    reach = np.where(arc_index >= 0, radius[ring], 0.0)
    coords = np.column_stack([x[ring] + reach * np.sin(angle), y[ring] + reach * np.cos(angle)])
    views = np.empty(n, dtype=object)
    if n:
        views[:] = shapely.polygons(shapely.linearrings(coords, indices=ring))
    return views
