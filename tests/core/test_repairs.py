"""core.repairs: invalid polygons made valid, boundary lines turned into polygons, Z dropped, on hand-built
grids (see test_boundaries.py for the fixtures) and the real Xiacheng grid file."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box
from test_boundaries import errors, grids, tiling, xiacheng

from core import boundaries, repairs, schema
from core.errors import ValidationError
from core.validate import problems_in


def test_a_bow_tie_is_repaired_into_its_two_triangles_with_the_area_change():
    bow_tie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])  # shoelace area 0
    frame = grids([box(200, 0, 300, 100), bow_tie])
    repair = repairs.repair_invalid(frame)
    assert repair.rows == ("b",)
    assert repair.area_change_m2["b"] == pytest.approx(5000, abs=0.01)  # two 2,500 m² triangles
    fixed = repair.frame.geometry.iloc[1]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon" and len(fixed.geoms) == 2
    assert repair.frame.geometry.iloc[0].equals_exact(frame.geometry.iloc[0], 0)
    assert repair.description == "repaired 1 invalid geometry (b: +5,000 m²)"
    assert problems_in(repair.frame, "grids") == []


def test_stray_lines_from_make_valid_are_dropped():
    spike = Polygon([(0, 0), (100, 0), (100, 100), (50, 100), (50, 150), (50, 100), (0, 100)])
    repair = repairs.repair_invalid(grids([spike]))
    fixed = repair.frame.geometry.iloc[0]
    assert fixed.geom_type == "Polygon" and fixed.is_valid
    assert repair.area_change_m2["a"] == pytest.approx(0, abs=1e-6)


def test_repair_without_invalid_rows_changes_nothing():
    frame = grids(tiling(2))
    repair = repairs.repair_invalid(frame)
    assert (repair.rows, repair.area_change_m2, repair.unresolved) == ((), {}, ())
    assert repair.frame.geometry.geom_equals_exact(frame.geometry, 0).all()


def test_repair_needs_a_crs_to_measure_areas():
    frame = grids([Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])]).set_crs(None, allow_override=True)
    with pytest.raises(ValidationError, match="no coordinate system"):
        repairs.repair_invalid(frame)


def test_a_ring_drawn_as_two_lines_becomes_a_polygon_keeping_its_attributes():
    ring = MultiLineString([[(0, 0), (100, 0), (100, 100)], [(100, 100), (0, 100), (0, 0)]])
    holed = MultiLineString(
        [
            [(200, 0), (300, 0), (300, 100), (200, 100), (200, 0)],
            [(240, 40), (260, 40), (260, 60), (240, 60), (240, 40)],
        ]
    )
    overshoot = LineString([(400, -5), (400, 100), (500, 100), (500, 0), (395, 0)])
    frame = grids([ring, holed, box(600, 0, 700, 100), overshoot], households=[10, 20, 30, 40])
    repair = repairs.polygonize_lines(frame)
    assert repair.rows == ("a", "b", "d") and repair.unresolved == ()
    assert repair.area_change_m2 == pytest.approx({"a": 10_000, "b": 9_600, "d": 10_000}, abs=0.01)
    assert list(repair.frame.geom_type) == ["Polygon"] * 4
    assert list(repair.frame[schema.HOUSEHOLDS]) == [10, 20, 30, 40]
    assert repair.frame.geometry.iloc[2].equals_exact(frame.geometry.iloc[2], 0)


def test_lines_that_do_not_close_are_kept_and_reported():
    frame = grids(
        [LineString([(0, 0), (100, 0), (100, 100)]), LineString([(200, 0), (300, 0), (300, 100), (200, 100), (200, 0)])]
    )
    repair = repairs.polygonize_lines(frame)
    assert (repair.rows, repair.unresolved) == (("b",), ("a",))
    assert repair.frame.geom_type.tolist() == ["LineString", "Polygon"]
    assert "the lines of a do not close into a ring" in repair.description


def test_z_coordinates_are_dropped_and_counted():
    flat = box(0, 0, 100, 100)
    raised = shapely.force_3d(box(100, 0, 200, 100), 12.5)
    repair = repairs.drop_z(grids([flat, raised]))
    assert repair.rows == ("b",) and repair.area_change_m2 == {}
    assert not shapely.has_z(repair.frame.geometry.array).any()
    assert repair.description == "dropped the Z coordinate of 1 of 2 features"
    points = gpd.GeoDataFrame({schema.TICKET_ID: ["t1"]}, geometry=[Point(120.1, 30.2, 5)], crs=4326)
    assert repairs.drop_z(points, "tickets").rows == ("t1",)


def test_xiacheng_invalid_polygon_is_repaired_without_losing_area(realdata):
    frame = xiacheng(realdata)
    invalid = [p for p in problems_in(frame, "grids") if p.what.startswith("invalid geometry")]
    assert [p.rows for p in invalid] == [("SQ-1-6 (#233)",)]
    assert "120.168628455 30.330762837" in invalid[0].what
    repair = repairs.repair_invalid(frame)
    assert repair.rows == ("SQ-1-6 (#233)",) and repair.unresolved == ()
    assert abs(repair.area_change_m2["SQ-1-6 (#233)"]) < 1e-3  # a ring touching itself at a point
    fixed = repair.frame.geometry.iloc[232]
    assert fixed.is_valid and fixed.geom_type == "Polygon" and len(fixed.interiors) == 1
    assert not [p for p in problems_in(repair.frame, "grids") if p.what.startswith("invalid geometry")]
    assert errors(boundaries.boundary_problems(repair.frame)) == []
