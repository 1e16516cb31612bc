"""Repairs offered for a boundary file before it is checked: invalid polygons made valid, boundary
lines turned into polygons, Z coordinates dropped.

Each repair returns a :class:`Repair`: the repaired copy and what changed (rows, area change per row in
m², rows it could not repair), for the user to read before accepting it. Nothing is repaired unasked.

Not here: the topology checks that find what needs repairing (``core.boundaries``), a layer's schema
(``core.validate``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from core import schema
from core.errors import Message, Problem, ValidationError
from core.geometry import (
    geometry_array,
    is_present,
    metric_crs,
    polygonal_rows,
    reprojected,
    square_metres,
    valid_polygons,
)
from core.validate import labels_where

__all__ = ["Repair", "drop_z", "polygonize_lines", "repair_invalid"]

_LINE_TYPES = (1, 2, 5)  # shapely type ids: LineString, LinearRing, MultiLineString


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
    description: Message | str  # a Message, but for the plain sentence of a repair that changed nothing
    unresolved: tuple[str, ...] = ()


def repair_invalid(grids: gpd.GeoDataFrame) -> Repair:
    """Invalid polygons made valid (``shapely.make_valid``), keeping only their polygonal parts.

    Only invalid (Multi)Polygon rows change. A self-intersecting ring becomes the polygons it encloses
    (a bow-tie becomes two triangles); lines and points that ``make_valid`` splits off are dropped. The
    area change compares the area a GIS shows for the invalid polygon (its rings' shoelace area) with the
    repaired area. A row that collapses to nothing is left empty and listed as ``unresolved``.
    """
    geometries = geometry_array(grids)
    invalid = polygonal_rows(grids) & ~shapely.is_valid(geometries)
    if not invalid.any():
        return Repair(grids.copy(), (), {}, "no invalid geometries to repair")
    fixed = valid_polygons(geometries[invalid])
    crs = _metric_crs_of(grids)
    before = shapely.area(reprojected(geometries[invalid], grids.crs, crs))
    after = shapely.area(reprojected(fixed, grids.crs, crs))
    repaired = geometries.copy()
    repaired[invalid] = fixed
    rows = labels_where(grids, schema.GRIDS, invalid)
    collapsed = labels_where(grids, schema.GRIDS, _mask(len(grids), np.flatnonzero(invalid)[shapely.is_empty(fixed)]))
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
    geometries = geometry_array(frame)
    lines = np.isin(shapely.get_type_id(geometries), _LINE_TYPES) & is_present(geometries)
    if not lines.any():
        return Repair(frame.copy(), (), {}, Message("no boundary lines to turn into polygons", code="no_lines"))
    built = valid_polygons(shapely.build_area(shapely.node(geometries[lines])))
    closed = ~shapely.is_empty(built)
    positions = np.flatnonzero(lines)
    polygons = geometries.copy()
    polygons[positions[closed]] = built[closed]
    rows = labels_where(frame, schema.GRIDS, _mask(len(frame), positions[closed]))
    open_rows = labels_where(frame, schema.GRIDS, _mask(len(frame), positions[~closed]))
    areas = shapely.area(reprojected(built[closed], frame.crs, _metric_crs_of(frame))) if closed.any() else []
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
    geometries = geometry_array(frame)
    with_z = shapely.has_z(geometries)
    if not with_z.any():
        return Repair(frame.copy(), (), {}, Message("no Z coordinates to drop", code="no_z"))
    flat = geometries.copy()
    flat[with_z] = shapely.force_2d(geometries[with_z])
    rows = labels_where(frame, schema.LAYERS[layer_name], with_z)
    description = Message(
        f"dropped the Z coordinate of {len(rows)} of {_count(len(frame), 'feature', 'features')}",
        code="dropped_z_of",
        params={"count": f"{len(rows):,}", "total": f"{len(frame):,}"},
    )
    return Repair(_with_geometries(frame, flat), rows, {}, description)


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


def _with_geometries(frame: gpd.GeoDataFrame, geometries: np.ndarray) -> gpd.GeoDataFrame:
    return frame.set_geometry(gpd.GeoSeries(geometries, index=frame.index, crs=frame.crs), crs=frame.crs)


def _mask(n: int, positions: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return mask


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _them(n: int) -> str:
    return "it" if n == 1 else "them"


def _change_summary(change: dict[str, float]) -> str:
    shown = "; ".join(
        f"{row}: {'+' if delta >= 0 else '−'}{square_metres(abs(delta))}" for row, delta in list(change.items())[:5]
    )
    return shown + (f"; and {len(change) - 5} more" if len(change) > 5 else "")
