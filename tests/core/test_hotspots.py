"""core.hotspots: H3 hexagon counts and the resolution chosen for an extent."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

from core import hotspots


def test_hex_counts_sum_to_the_points_and_match_h3():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(120.1, 120.2, 2_000), rng.uniform(30.2, 30.3, 2_000)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    counts = hotspots.hex_counts(points, 8)
    assert counts.sum() == 2_000
    expected = pd.Series([h3.latlng_to_cell(y, x, 8) for x, y in zip(lon, lat)]).value_counts()
    assert counts.to_dict() == expected.to_dict()
    assert hotspots.hex_counts(points.iloc[:0], 8).empty


def test_resolution_keeps_the_cell_count_drawable():
    district = (120.15, 30.25, 120.25, 30.32)  # ~70 km²
    assert hotspots.hex_resolution_for(district) == hotspots.FINEST_RESOLUTION
    city = (119.5, 29.8, 120.9, 30.6)  # ~12,000 km²
    resolution = hotspots.hex_resolution_for(city)
    assert resolution < hotspots.FINEST_RESOLUTION
    assert 12_000 / h3.average_hexagon_area(resolution, unit="km^2") <= hotspots.MAX_CELLS
    assert 12_000 / h3.average_hexagon_area(resolution + 1, unit="km^2") > hotspots.MAX_CELLS


def test_boundaries_are_lon_lat_rings_around_the_cell():
    cell = h3.latlng_to_cell(30.27, 120.18, 9)
    ring = hotspots.hex_boundaries(pd.Index([cell]))[0]
    assert ring.shape == (6, 2)
    assert np.allclose(ring.mean(axis=0), [120.18, 30.27], atol=0.003)
