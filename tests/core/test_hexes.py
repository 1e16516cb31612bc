"""core.hexes: H3 counts, the resolution that keeps a district drawable, cell outlines, the cells
covering an area, cell sizes and the cell at a point."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from core import hexes


def test_hex_counts_sum_to_the_points_and_match_h3():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(120.1, 120.2, 2_000), rng.uniform(30.2, 30.3, 2_000)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    counts = hexes.hex_counts(points, 8)
    assert counts.sum() == 2_000
    expected = pd.Series([h3.latlng_to_cell(y, x, 8) for x, y in zip(lon, lat)]).value_counts()
    assert counts.to_dict() == expected.to_dict()
    assert hexes.hex_counts(points.iloc[:0], 8).empty


def test_resolution_keeps_the_cell_count_drawable():
    district = (120.15, 30.25, 120.25, 30.32)  # ~70 km²
    assert hexes.hex_resolution_for(district) == hexes.FINEST_RESOLUTION
    city = (119.5, 29.8, 120.9, 30.6)  # ~12,000 km²
    resolution = hexes.hex_resolution_for(city)
    assert resolution < hexes.FINEST_RESOLUTION
    assert 12_000 / h3.average_hexagon_area(resolution, unit="km^2") <= hexes.MAX_CELLS
    assert 12_000 / h3.average_hexagon_area(resolution + 1, unit="km^2") > hexes.MAX_CELLS


def test_boundaries_are_lon_lat_rings_around_the_cell():
    cell = h3.latlng_to_cell(30.27, 120.18, 9)
    ring = hexes.hex_boundaries(pd.Index([cell]))[0]
    assert ring.shape == (6, 2)
    assert np.allclose(ring.mean(axis=0), [120.18, 30.27], atol=0.003)


def test_hex_cover_includes_empty_cells_and_counts_reindex_to_the_total():
    area = gpd.GeoSeries([shapely.box(120.15, 30.25, 120.17, 30.27)], crs=4326)
    cells = hexes.hex_cover(area, 9)
    rng = np.random.default_rng(2)
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(rng.uniform(120.155, 120.165, 300), rng.uniform(30.255, 30.265, 300)), crs=4326
    )
    counts = hexes.hex_counts(points, 9).reindex(cells, fill_value=0)
    assert counts.sum() == 300
    assert (counts == 0).sum() > 0  # quiet cells are units too
    box_m2 = (0.02 * 96_200) * (0.02 * 110_900)
    assert sum(h3.cell_area(c, unit="m^2") for c in cells) == pytest.approx(box_m2, rel=0.15)


def test_hex_edge_and_the_cell_at_a_point():
    assert 150 < hexes.hex_edge_m(9) < 250  # about a block
    assert hexes.hex_edge_m(8) > hexes.hex_edge_m(9)
    cell = hexes.hex_cell_at(116.39, 39.91, 9)
    assert cell == hexes.hex_cells_of(gpd.GeoDataFrame(geometry=[shapely.Point(116.39, 39.91)], crs=4326), 9)[0]
