"""core.overlay: the shared machinery of the coverage measures on shapes with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from coverage_cases import UTM, make_grids, make_points
from shapely.geometry import GeometryCollection, LineString, Point, box

from core import schema
from core.errors import ValidationError
from core.overlay import display_frame, metric_grids, points_xy, polygonal, sector_polygons, share, union_by_group


def test_sectors_and_circles_have_the_exact_area_of_the_true_shape():
    nan = math.nan
    shapes = sector_polygons(
        np.zeros(3), np.zeros(3), np.array([0.0, nan, 90.0]), np.array([90.0, 360.0, 37.0]), np.full(3, 10.0), 5.0
    )
    assert shapely.area(shapes) == pytest.approx([math.pi * 100 / 4, math.pi * 100, math.pi * 100 * 37 / 360])
    assert shapes[0].covers(Point(0, 9.9)) and not shapes[0].covers(Point(0, -1))


def test_polygonal_keeps_the_polygons_of_an_overlay():
    square = box(0, 0, 1, 1)
    kept = polygonal(
        np.array([GeometryCollection([square, LineString([(1, 1), (2, 2)])]), LineString([(0, 0), (1, 1)])])
    )
    assert kept[0].equals(shapely.MultiPolygon([square])) and kept[1] is None


def test_pieces_are_unioned_group_by_group():
    pieces = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)])
    unioned = union_by_group(pieces, np.array([0, 0, 2]), 3)
    assert unioned[0].area == 2 and unioned[1] is None and unioned[2] is pieces[2]


def test_display_frames_drop_slivers_and_empty_rows():
    geometries = np.array([box(0, 0, 100, 100), box(0, 0, 0.5, 0.5), None], dtype=object)
    frame = display_frame(np.array(["a", "b", "c"], dtype=object), "gap", geometries, UTM)
    assert frame[schema.GRID_ID].tolist() == ["a"] and frame.crs == schema.STORAGE_CRS
    assert frame["area_m2"].tolist() == [10_000] and frame["part"].tolist() == ["gap"]


def test_layers_come_back_in_metres_or_raise_naming_rows():
    grids = make_grids([(0, 0, 100, 100)])
    crs, geometries = metric_grids(grids)
    assert crs.to_epsg() == 32651 and shapely.area(geometries)[0] == pytest.approx(10_000)
    points = make_points([(10, 20)])
    assert points_xy(points, "points", crs)[0] - points_xy(make_points([(0, 0)]), "points", crs)[0] == pytest.approx(
        [10, 20]
    )
    points.loc[0, "geometry"] = None
    with pytest.raises(ValidationError, match="no point geometry"):
        points_xy(points, "points", crs)
    assert np.isnan(share(np.array([1.0, 1.0]), np.array([2.0, 0.0]))).tolist() == [False, True]
