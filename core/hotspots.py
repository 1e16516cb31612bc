"""Where incidents concentrate: H3 hexagon bins (the density layer of the maps).

H3 cells are equal-area within a few percent at a district's scale, so a count per cell is a density.
``hex_resolution_for`` picks the finest resolution that keeps the number of cells over an extent
drawable on a web map.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pyproj

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


def hex_counts(points: pd.DataFrame, resolution: int) -> pd.Series:
    """Points per H3 cell (index: cell id, sorted; only cells with points). ``points`` is a point
    GeoDataFrame in EPSG:4326."""
    if points.empty:
        return pd.Series(dtype="int64", name="count")
    lon, lat = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    cells = np.array([h3.latlng_to_cell(y, x, resolution) for x, y in zip(lon, lat)], dtype=object)
    return pd.Series(cells).value_counts().sort_index().rename("count").rename_axis("cell")


def hex_boundaries(cells: pd.Index) -> list[np.ndarray]:
    """Each cell's outline as an (n, 2) array of lon/lat (open ring)."""
    return [np.asarray(h3.cell_to_boundary(cell))[:, ::-1] for cell in cells]

