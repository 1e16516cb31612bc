"""Hand-built cases shared by the coverage tests (viewsheds, reach, overlay, coverage).

Fixtures are drawn in UTM zone 51N (EPSG:32651, around Hangzhou) and stored in EPSG:4326, as every
layer is; ``core.geometry.metric_crs`` picks that zone back, so a 100 m square stays a 100 m square to
within a nanometre.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, box

from core import joins, schema

UTM = "EPSG:32651"
X0, Y0 = 300_000.0, 3_350_000.0  # near 120.9°E 30.3°N, inside zone 51
AS_OF = pd.Timestamp("2026-10-31 12:00", tz=schema.DEFAULT_TIMEZONE)


def stored(geometries) -> gpd.GeoSeries:
    """Shapes drawn in local metres (origin X0, Y0) as an EPSG:4326 GeoSeries."""
    moved = [shapely.affinity.translate(g, X0, Y0) for g in geometries]
    return gpd.GeoSeries(moved, crs=UTM).to_crs(schema.STORAGE_CRS)


def local(geometries: gpd.GeoSeries) -> np.ndarray:
    """Back from EPSG:4326 to local metres."""
    return np.array([shapely.affinity.translate(g, -X0, -Y0) for g in geometries.to_crs(UTM)], dtype=object)


def make_grids(boxes: list[tuple[float, float, float, float]], **columns) -> gpd.GeoDataFrame:
    n = len(boxes)
    data = {schema.GRID_ID: [f"G{i}" for i in range(n)], schema.COMMUNITY: "c", schema.STREET: "s"} | columns
    return gpd.GeoDataFrame(data, geometry=stored([box(*b) for b in boxes]).array, crs=schema.STORAGE_CRS)


def make_cameras(rows: list[dict], grids: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Cameras from dicts of x, y (local metres), azimuth (None = dome), fov, range, status, kind;
    joined to ``grids`` when given."""
    frame = gpd.GeoDataFrame(
        {
            schema.CAMERA_ID: [f"C{i}" for i in range(len(rows))],
            schema.SITE_KIND: [r.get("kind", "other") for r in rows],
            schema.STATUS: [r.get("status", "online") for r in rows],
            schema.AZIMUTH_DEG: [np.nan if r.get("azimuth") is None else r["azimuth"] for r in rows],
            schema.FOV_DEG: [r.get("fov", 360.0) for r in rows],
            schema.RANGE_M: [r["range"] for r in rows],
        },
        geometry=stored([Point(r["x"], r["y"]) for r in rows]).array,
        crs=schema.STORAGE_CRS,
    )
    return joins.join_to_grids(frame, grids) if grids is not None else frame


def make_points(xy: list[tuple[float, float]], **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=stored([Point(x, y) for x, y in xy]).array, crs=schema.STORAGE_CRS)


TWO_SQUARES = [(0, 0, 100, 100), (100, 0, 200, 100)]  # G0 west, G1 east, 100 m squares


def demo_layers() -> dict[str, gpd.GeoDataFrame]:
    """The demo district's layers, cameras, tickets and members joined to its grids."""
    from geodata.generate import load_demo

    layers = load_demo()
    grids = layers["grids"]
    for name in ("cameras", "tickets", "members"):
        layers[name] = joins.join_to_grids(layers[name], grids)
    return layers
