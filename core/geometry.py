"""Geometry helpers shared by the analyses: metric projection, derived boundaries, display geometry, and
the geometry arrays the boundary checks and repairs work on (``geometry_array``, ``polygonal_rows``,
``valid_polygons``, ``reprojected``; areas worded by ``square_metres``).

Areas and distances are measured in ``metric_crs``: the UTM zone of the data, or the metric CRS of the
workspace being worked on (its profile, ``core.workspaces``) inside ``measuring_in`` — the dashboard
and ``gridwatch import`` put each request for a workspace inside one.

What is NOT here: the analyses that measure (coverage, hot spots, patrols), display styling, and the
topology checks (``core.boundaries``) and repairs (``core.repairs``) themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from core import schema

__all__ = [
    "MAX_DISPLAY_TOLERANCE_M",
    "area_km2",
    "communities_from_grids",
    "geometry_array",
    "is_present",
    "measuring_in",
    "metric_crs",
    "points_near",
    "polygonal_rows",
    "reprojected",
    "simplify_for_display",
    "square_metres",
    "streets_from_grids",
    "valid_polygons",
]

_POLYGON_TYPES = (3, 6)  # shapely type ids: Polygon, MultiPolygon
_COLLECTION_TYPES = (4, 5, 6, 7)  # Multi* and GeometryCollection

_WORKSPACE_CRS: ContextVar[pyproj.CRS | None] = ContextVar("gridwatch_metric_crs", default=None)


@contextmanager
def measuring_in(crs: str | None) -> Iterator[None]:
    """Measure in ``crs`` (an EPSG code in metres, a workspace's metric CRS) inside this block; ``None``
    or ``"auto"`` keeps the UTM zone of the data."""
    token = _WORKSPACE_CRS.set(None if crs in (None, "auto") else pyproj.CRS(crs))
    try:
        yield
    finally:
        _WORKSPACE_CRS.reset(token)


def metric_crs(gdf: gpd.GeoDataFrame) -> pyproj.CRS:
    """The CRS areas and distances are measured in: the workspace's (``measuring_in``), else the UTM zone
    (WGS84) of the layer's centre."""
    chosen = _WORKSPACE_CRS.get()
    if chosen is not None:
        return chosen
    lon_min, lat_min, lon_max, lat_max = gdf.to_crs(schema.STORAGE_CRS).total_bounds
    lon, lat = (lon_min + lon_max) / 2, (lat_min + lat_max) / 2
    zone = int((lon + 180) // 6) + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def area_km2(gdf: gpd.GeoDataFrame) -> gpd.pd.Series:
    """Area of each feature in km², measured in the layer's metric CRS (never in degrees)."""
    return gdf.to_crs(metric_crs(gdf)).area / 1e6


def points_near(points: gpd.GeoDataFrame, area: gpd.GeoDataFrame, metres: float) -> gpd.GeoDataFrame:
    """The ``points`` within ``metres`` of the bounding box of ``area`` (or a little farther), padded
    in a metric CRS: a pad in degrees shrinks on the ground with the latitude."""
    crs = metric_crs(area)
    box = shapely.segmentize(
        shapely.box(*area.to_crs(crs).total_bounds).buffer(metres, join_style="mitre"), metres / 4
    )  # edges follow the earth's curve back in degrees
    minx, miny, maxx, maxy = gpd.GeoSeries([box], crs=crs).to_crs(schema.STORAGE_CRS).total_bounds
    return points.cx[minx:maxx, miny:maxy]


def communities_from_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Community outlines as the union of their grids (grids tile their communities)."""
    keys = [schema.STREET, schema.COMMUNITY]
    return grids[keys + [grids.geometry.name]].dissolve(by=keys, as_index=False)


def streets_from_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Street outlines as the union of their grids."""
    return grids[[schema.STREET, grids.geometry.name]].dissolve(by=schema.STREET, as_index=False)


def simplify_for_display(
    gdf: gpd.GeoDataFrame, tolerance_m: float = 5.0, decimals: int = 6, max_vertices: int | None = None
) -> gpd.GeoDataFrame:
    """Polygons simplified for a web map, shared borders kept shared, coordinates rounded.

    ``shapely.coverage_simplify`` simplifies a polygon tiling as a whole, so neighbouring grids still
    meet without slivers or gaps after simplification. With ``max_vertices``, the tolerance doubles
    (up to ``MAX_DISPLAY_TOLERANCE_M``) until the layer fits: a city's 20,000 grids drawn at 5 m send
    twice the bytes that anyone can see at the zoom that shows them all.
    """
    crs = metric_crs(gdf)
    projected = gdf.geometry.to_crs(crs)
    simplified = shapely.coverage_simplify(projected.array, tolerance_m)
    while (
        max_vertices is not None
        and tolerance_m < MAX_DISPLAY_TOLERANCE_M
        and shapely.get_num_coordinates(simplified).sum() > max_vertices
    ):
        tolerance_m *= 2
        simplified = shapely.coverage_simplify(projected.array, tolerance_m)
    back = gpd.GeoSeries(simplified, index=gdf.index, crs=crs).to_crs(schema.STORAGE_CRS)
    rounded = shapely.set_precision(back.array, 10**-decimals, mode="pointwise")
    return gdf.set_geometry(gpd.GeoSeries(rounded, index=gdf.index, crs=schema.STORAGE_CRS))


MAX_DISPLAY_TOLERANCE_M = 40.0


# ---- geometry arrays (the boundary checks and repairs) ----------------------------------------------
def geometry_array(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.array, dtype=object)


def is_present(geometries: np.ndarray) -> np.ndarray:
    return ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))


def polygonal_rows(frame: gpd.GeoDataFrame) -> np.ndarray:
    geometries = geometry_array(frame)
    return is_present(geometries) & np.isin(shapely.get_type_id(geometries), _POLYGON_TYPES)


def valid_polygons(geometries: np.ndarray) -> np.ndarray:
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


def reprojected(geometries: np.ndarray, source: pyproj.CRS, target: pyproj.CRS) -> np.ndarray:
    return np.asarray(gpd.GeoSeries(geometries, crs=source).to_crs(target).array, dtype=object)


def square_metres(area: float) -> str:
    """An area for a message: "1,234 m²", "12.5 m²", "0.04 m²"."""
    if area >= 100:
        return f"{area:,.0f} m²"
    if area >= 1:
        return f"{area:.1f} m²"
    return f"{area:.2g} m²"
