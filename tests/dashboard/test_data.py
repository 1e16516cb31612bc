"""dashboard.data helpers that are plain functions (the cached loaders are exercised by the page tests)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from core import schema
from dashboard import data


@pytest.mark.parametrize("latitude", [30.0, 45.0, 60.0])
def test_cameras_up_to_their_range_beyond_the_grids_are_kept_at_any_latitude(latitude):
    grid = gpd.GeoDataFrame(
        {schema.GRID_ID: ["g"]}, geometry=[box(10.0, latitude, 10.01, latitude + 0.01)], crs=schema.STORAGE_CRS
    )
    metric = grid.estimate_utm_crs()
    east = grid.to_crs(metric).total_bounds[2]
    y = grid.to_crs(metric).geometry.centroid.y.iloc[0]
    cameras = gpd.GeoDataFrame(
        {schema.CAMERA_ID: ["near", "far"]}, geometry=[Point(east + 950, y), Point(east + 1500, y)], crs=metric
    ).to_crs(schema.STORAGE_CRS)
    assert data.points_near(cameras, grid, 1000)[schema.CAMERA_ID].tolist() == ["near"]
