"""core.coords: GCJ-02/BD-09 conversions (accuracy, the known offset) and datum detection."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from core import coords
from core.coords import convert_datum, detect_datum_offset

HANGZHOU = (120.1570240345, 30.2674745534)

china_lon = st.floats(min_value=74, max_value=134)
china_lat = st.floats(min_value=18, max_value=53)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20))
def test_gcj02_and_bd09_round_trips_are_sub_metre(points):
    lon, lat = np.array(points).T
    geod = pyproj.Geod(ellps="WGS84")
    for forward, inverse in (
        (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84),
        (coords.wgs84_to_bd09, coords.bd09_to_wgs84),
    ):
        back_lon, back_lat = inverse(*forward(lon, lat))
        assert geod.inv(lon, lat, back_lon, back_lat)[2].max() < 0.5


def test_gcj02_offset_in_hangzhou_is_about_500_m():
    lon, lat = coords.wgs84_to_gcj02(np.array([HANGZHOU[0]]), np.array([HANGZHOU[1]]))
    shift = pyproj.Geod(ellps="WGS84").inv(HANGZHOU[0], HANGZHOU[1], lon[0], lat[0])[2]
    assert 450 < shift < 600
    bd_lon, bd_lat = coords.wgs84_to_bd09(np.array([HANGZHOU[0]]), np.array([HANGZHOU[1]]))
    assert 900 < pyproj.Geod(ellps="WGS84").inv(HANGZHOU[0], HANGZHOU[1], bd_lon[0], bd_lat[0])[2] < 1500


def test_no_gcj02_shift_outside_china():
    lon, lat = coords.wgs84_to_gcj02(np.array([-87.6, 2.35]), np.array([41.8, 48.85]))
    assert lon.tolist() == [-87.6, 2.35] and lat.tolist() == [41.8, 48.85]


def _grid_squares(n: int = 6, size: float = 0.01) -> gpd.GeoDataFrame:
    west, south = 120.14, 30.26
    boxes = [
        shapely.box(west + i * size, south + j * size, west + (i + 1) * size, south + (j + 1) * size)
        for i in range(n)
        for j in range(n)
    ]
    return gpd.GeoDataFrame({"grid_id": [f"G{k}" for k in range(len(boxes))]}, geometry=boxes, crs="EPSG:4326")


def _as_datum(frame: gpd.GeoDataFrame, forward) -> gpd.GeoDataFrame:
    geoms = shapely.transform(frame.geometry.array, lambda xy: np.column_stack(forward(xy[:, 0], xy[:, 1])))
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def test_detect_datum_offset_finds_gcj02_and_bd09_polygons():
    grids = _grid_squares()
    communities = grids.dissolve(by=grids.index // 6 % 3)  # three 2×6 blocks of grids
    gcj = detect_datum_offset(_as_datum(communities, coords.wgs84_to_gcj02), grids)
    assert gcj.datum == "gcj02" and 450 < gcj.shift_m < 600 and gcj.score_shifted > 0.99
    bd = detect_datum_offset(_as_datum(communities, coords.wgs84_to_bd09), grids)
    assert bd.datum == "bd09" and bd.shift_m > 900
    plain = detect_datum_offset(communities, grids)
    assert plain.datum is None and plain.score_wgs84 > 0.99 and "no conversion needed" in plain.explanation


def test_detect_datum_offset_points_and_edge_cases():
    grids = _grid_squares(n=3)
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(120.14, 120.17, 200), rng.uniform(30.26, 30.29, 200)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*coords.wgs84_to_gcj02(xs, ys)), crs="EPSG:4326")
    assert detect_datum_offset(points, grids).datum == "gcj02"
    assert detect_datum_offset(points, None).datum is None
    assert "no reference layer" in detect_datum_offset(points, None).explanation
    chicago = gpd.GeoDataFrame(geometry=[shapely.Point(-87.6, 41.8)], crs="EPSG:4326")
    assert "outside China" in detect_datum_offset(chicago, grids).explanation
    lines = gpd.GeoDataFrame(geometry=[grids.geometry.iloc[0].boundary], crs="EPSG:4326")
    assert detect_datum_offset(lines, grids).datum is None
    nothing = gpd.GeoDataFrame(geometry=[None], crs="EPSG:4326")
    assert "no coordinates" in detect_datum_offset(nothing, grids).explanation


def test_convert_datum_moves_every_coordinate():
    grids = _grid_squares(n=2)
    shifted = _as_datum(grids, coords.wgs84_to_gcj02)
    back = convert_datum(shifted, "gcj02")
    assert back.crs == "EPSG:4326" and list(back.columns) == list(grids.columns)
    assert np.allclose(
        shapely.get_coordinates(back.geometry.array), shapely.get_coordinates(grids.geometry.array), atol=1e-8
    )
    with pytest.raises(ValueError, match="datum must be one of"):
        convert_datum(grids, "wgs72")
