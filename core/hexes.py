"""H3 hexagons as analysis units: the resolution that fits a district, each point's cell, points per
cell, the cells covering an area, their outlines and sizes.

H3 cells are equal-area within a few percent at a district's scale, so a count per cell is a density;
a hex analysis covers every cell of the district (``hex_cover``), quiet ones included.

What is NOT here: the hot-spot statistics over the cells and their neighbourhood graph (``hex_graph``,
``gi_star``: ``core.hotspots``), the Hotspots page's unit table (``core.hotspot_units``).
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj

__all__ = [
    "FINEST_RESOLUTION",
    "MAX_CELLS",
    "hex_boundaries",
    "hex_cell_at",
    "hex_cells_of",
    "hex_counts",
    "hex_cover",
    "hex_edge_m",
    "hex_resolution_for",
]

FINEST_RESOLUTION = 9  # ~0.1 km² cells, edge ~200 m: about a block
MAX_CELLS = 4_000  # cells over the whole extent at most; more is slow to draw and hard to read


def hex_resolution_for(bounds: tuple[float, float, float, float], max_cells: int = MAX_CELLS) -> int:
    """The finest resolution (≤ ``FINEST_RESOLUTION``) with at most ``max_cells`` cells over ``bounds``
    (lon/lat: minx, miny, maxx, maxy)."""
    minx, miny, maxx, maxy = bounds
    geod = pyproj.Geod(ellps="WGS84")
    area_km2 = abs(geod.polygon_area_perimeter([minx, maxx, maxx, minx], [miny, miny, maxy, maxy])[0]) / 1e6
    for resolution in range(FINEST_RESOLUTION, -1, -1):
        if area_km2 / h3.average_hexagon_area(resolution, unit="km^2") <= max_cells:
            return resolution
    return 0


def hex_cells_of(points: pd.DataFrame, resolution: int) -> np.ndarray:
    """The H3 cell of every point (a point GeoDataFrame in EPSG:4326), as an object array."""
    lon, lat = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    return np.array([h3.latlng_to_cell(y, x, resolution) for x, y in zip(lon.tolist(), lat.tolist())], dtype=object)


def hex_counts(points: pd.DataFrame, resolution: int) -> pd.Series:
    """Points per H3 cell (index: cell id, sorted; only cells with points). ``points`` is a point
    GeoDataFrame in EPSG:4326."""
    if points.empty:
        return pd.Series(dtype="int64", name="count")
    return pd.Series(hex_cells_of(points, resolution)).value_counts().sort_index().rename("count").rename_axis("cell")


def hex_cover(areas: gpd.GeoSeries, resolution: int) -> pd.Index:
    """Every H3 cell whose centre lies in ``areas`` (polygons in EPSG:4326), sorted: the units of a hex
    analysis, empty cells included, so quiet parts of the district count as quiet rather than missing."""
    cells: set[str] = set()
    for geom in areas.geometry.array:
        if geom is None or geom.is_empty:
            continue
        cells.update(h3.geo_to_cells(geom.__geo_interface__, resolution))
    return pd.Index(sorted(cells), name="cell")


def hex_boundaries(cells: pd.Index) -> list[np.ndarray]:
    """Each cell's outline as an (n, 2) array of lon/lat (open ring)."""
    return [np.asarray(h3.cell_to_boundary(cell))[:, ::-1] for cell in cells]


def hex_edge_m(resolution: int) -> float:
    """The average edge of an H3 cell of ``resolution``, in metres (how a resolution is described)."""
    return float(h3.average_hexagon_edge_length(resolution, unit="m"))


def hex_cell_at(lon: float, lat: float, resolution: int) -> str:
    """The H3 cell of ``resolution`` holding the point lon/lat (EPSG:4326), e.g. a click on the map."""
    return str(h3.latlng_to_cell(lat, lon, resolution))
