"""core.boundaries: topology checks on hand-built grids with known areas, the demo district,
and the real Xiacheng grid file.

Fixtures are drawn in metres (UTM 51N, around Hangzhou) and stored in EPSG:4326 like every layer, so the
areas the checks measure after projecting back must come out as drawn.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from core import boundaries, schema
from geodata import load_demo

UTM = "EPSG:32651"
ORIGIN = pyproj.Transformer.from_crs(schema.STORAGE_CRS, UTM, always_xy=True).transform(120.17, 30.28)


def grids(polygons, ids=None, communities=None, **columns) -> gpd.GeoDataFrame:
    """Grids drawn in metres from ``ORIGIN``, stored in EPSG:4326."""
    n = len(polygons)
    ids = list(ids or "abcdefghijklmnopqrstuvwxyz"[:n])
    placed = [affinity.translate(p, *ORIGIN) if p is not None else None for p in polygons]
    frame = gpd.GeoDataFrame(
        {
            schema.GRID_ID: ids,
            schema.NAME: ids,
            schema.COMMUNITY: communities or ["A"] * n,
            schema.STREET: ["S"] * n,
            **columns,
        },
        geometry=placed,
        crs=UTM,
    )
    return frame.to_crs(schema.STORAGE_CRS)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """The lon/lat of a point drawn at (x, y) metres from ``ORIGIN``."""
    return pyproj.Transformer.from_crs(UTM, schema.STORAGE_CRS, always_xy=True).transform(ORIGIN[0] + x, ORIGIN[1] + y)


def tiling(n: int = 3, side: float = 100.0) -> list[Polygon]:
    """An n x n block of squares, row by row from the south-west corner."""
    return [box(i * side, j * side, (i + 1) * side, (j + 1) * side) for j in range(n) for i in range(n)]


def area_in(problem) -> float:
    """The first area (m²) a problem's text mentions."""
    return float(re.search(r"([\d,.]+(?:e-?\d+)?) m²", problem.what).group(1).replace(",", ""))


def place_in(problem) -> tuple[float, float]:
    lon, lat = re.search(r"near ([\d.]+), ([\d.]+) \(lon, lat\)", problem.what).groups()
    return float(lon), float(lat)


def errors(problems):
    return [p for p in problems if p.severity == "error"]


# ---- boundary_problems ----------------------------------------------------------------------------
def test_a_clean_tiling_has_no_problems():
    assert boundaries.boundary_problems(grids(tiling())) == []


def test_two_overlapping_squares_give_one_overlap_with_its_area_and_place():
    frame = grids([box(0, 0, 100, 100), box(90, 0, 190, 100)])
    (problem,) = boundaries.boundary_problems(frame)
    assert (problem.severity, problem.column, problem.rows) == ("error", schema.GEOMETRY, ("a", "b"))
    assert area_in(problem) == 1000  # 10 m x 100 m
    assert "10% of a, 10% of b" in problem.what
    assert np.allclose(place_in(problem), lonlat(95, 50), atol=2e-5)  # inside the 10 m strip
    assert problem.fix


def test_overlaps_below_the_tolerance_are_float_noise():
    frame = grids([box(0, 0, 100, 100), box(99.995, 0, 200, 100)])  # 0.5 m²
    assert boundaries.boundary_problems(frame) == []
    (problem,) = boundaries.boundary_problems(frame, overlap_min_m2=0.1)
    assert area_in(problem) == pytest.approx(0.5, rel=1e-3)


def test_an_overlap_across_communities_is_a_crossed_community_line():
    # a and b are community A (south), c and d community B (north); a reaches 10 m into c
    polygons = tiling(2)
    polygons[0] = box(0, 0, 100, 110)
    frame = grids(polygons, communities=["A", "A", "B", "B"])
    (problem,) = boundaries.boundary_problems(frame)
    assert (problem.severity, problem.column, problem.rows) == ("error", schema.COMMUNITY, ("a", "c"))
    assert area_in(problem) == pytest.approx(1000, abs=0.5)
    assert "community A" in problem.what and "community B" in problem.what


def test_identical_polygons_under_different_ids_are_one_duplicate_error():
    frame = grids([*tiling(2), box(0, 0, 100, 100), box(0, 0, 100, 100)], ids=list("abcdef"))
    (problem,) = boundaries.boundary_problems(frame)
    assert (problem.severity, problem.column, problem.rows) == ("error", schema.GEOMETRY, ("a", "e", "f"))
    assert problem.what.startswith("3 rows have the same polygon (10,000 m²")


def test_a_gap_enclosed_by_grids_is_a_warning_naming_its_neighbours():
    polygons = tiling(3)
    polygons[4] = box(105, 105, 195, 195)  # the middle grid shrinks 5 m on every side
    (problem,) = boundaries.boundary_problems(grids(polygons))
    assert (problem.severity, problem.column) == ("warning", schema.GEOMETRY)
    assert area_in(problem) == pytest.approx(100 * 100 - 90 * 90, abs=0.5)
    assert set(problem.rows) == set("abcdefghi")
    assert "enclosed by grids" in problem.what


def test_gaps_below_the_threshold_are_ignored():
    polygons = tiling(3)
    polygons[4] = box(100.0005, 100.0005, 199.9995, 199.9995)  # a 0.2 m² ring
    assert boundaries.boundary_problems(grids(polygons)) == []


def test_with_an_outline_missing_grids_leave_a_gap_inside_the_district():
    active = grids(tiling(2))
    new = active.iloc[:3]  # d is gone
    (problem,) = boundaries.boundary_problems(new, outline=active.union_all())
    assert problem.severity == "warning" and "inside the active district" in problem.what
    assert area_in(problem) == pytest.approx(10_000, abs=1)
    assert set(problem.rows) == {"a", "b", "c"}


def test_a_tiny_grid_and_a_stray_piece_are_slivers():
    polygons = [box(0, 0, 100, 100), MultiPolygon([box(100, 0, 200, 100), box(300, 0, 305, 5)]), box(0, 100, 4, 104)]
    found = boundaries.boundary_problems(grids(polygons))
    assert [(p.severity, p.rows) for p in found] == [("warning", ("c",)), ("warning", ("b",))]
    assert "is only 16.0 m²" in found[0].what
    assert "1 separate piece under 50.0 m² (25.0 m² in all)" in found[1].what
    assert boundaries.boundary_problems(grids(polygons), sliver_max_m2=10) == []


def test_grids_reaching_beyond_the_active_outline_are_warnings():
    active = grids(tiling(2))
    polygons = tiling(2)
    polygons[1] = box(100, 0, 230, 100)  # b reaches 30 m east of the district
    polygons[3] = box(100, 100, 200.5, 200)  # d by 0.5 m only: under 10 m and 5 % of its area
    new = grids([*polygons, box(500, 0, 600, 100)])  # e lies well outside
    found = boundaries.boundary_problems(new, outline=active.union_all())
    assert [p.rows for p in found] == [("e",), ("b",)]
    assert all(p.severity == "warning" for p in found)
    assert "lies outside the active district" in found[0].what
    assert "reaches 30 m beyond" in found[1].what and "3,000 m², 23% of the grid" in found[1].what


def test_many_findings_of_a_kind_are_listed_then_summed_up():
    pairs = [
        p for k in range(30) for p in (box(300 * k, 0, 300 * k + 100, 100), box(300 * k + 99, 0, 300 * k + 199, 100))
    ]
    found = boundaries.boundary_problems(grids(pairs, ids=[f"g{i}" for i in range(60)]))
    assert len(found) == boundaries._LISTED + 1
    summary = found[-1]
    assert summary.what == "10 more overlapping pairs of grids, 1,000 m² in all"
    assert len(summary.rows) == 20 and summary.severity == "error"


def test_rows_the_schema_check_reports_are_skipped_and_invalid_polygons_checked_as_repaired():
    bow_tie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    frame = grids([box(0, 0, 100, 100), None, LineString([(0, 0), (5, 5)]), bow_tie])
    (problem,) = boundaries.boundary_problems(frame)  # d's two triangles lie inside a
    assert problem.rows == ("a", "d") and area_in(problem) == pytest.approx(5000, abs=0.5)
    assert boundaries.boundary_problems(frame.set_crs(None, allow_override=True)) == []


def test_rows_are_named_by_position_where_ids_repeat():
    frame = grids([box(0, 0, 100, 100), box(90, 0, 190, 100)], ids=["x", "x"])
    (problem,) = boundaries.boundary_problems(frame)
    assert problem.rows == ("x (#1)", "x (#2)")


def test_the_demo_district_is_a_clean_coverage():
    demo = load_demo()["grids"]
    assert errors(boundaries.boundary_problems(demo)) == []
    assert errors(boundaries.boundary_problems(demo, outline=boundaries.district_outline(demo))) == []


def test_district_outline_is_the_union_of_the_grids():
    polygons = tiling(3)
    polygons[4] = box(90, 90, 210, 210)  # overlaps all its neighbours: not a clean coverage
    outline = boundaries.district_outline(grids(polygons))
    expected = grids(tiling(3)).union_all()
    assert outline.geom_type == "Polygon" and not outline.interiors
    assert outline.symmetric_difference(expected).area < 1e-14  # degrees²: about 1 cm²


# ---- the real Xiacheng grid file --------------------------------------------------------------------
def xiacheng(realdata) -> gpd.GeoDataFrame:
    """The Xiacheng grids in canonical columns.

    ``所属组织`` is street + community + grid name (``石桥街道华丰社区华丰社区第二网格``): it becomes
    ``name``, and its street and community parts become ``street`` and ``community`` (two grids outside
    any community keep their full name as community).
    """
    raw = pyogrio.read_dataframe(realdata / "hangzhou" / "xiacheng_grids_wangge.geojson")
    organisation = raw["所属组织"]
    parts = organisation.str.extract(r"^(?P<street>.+?街道)(?P<community>.+?社区)?")
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: raw["网格编号"],
            schema.NAME: organisation,
            schema.COMMUNITY: parts["community"].fillna(organisation),
            schema.STREET: parts["street"],
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )


def test_xiacheng_grids_fit_together_but_for_one_invalid_polygon_and_one_sliver(realdata):
    frame = xiacheng(realdata)
    assert len(frame) == 332
    assert (shapely.get_num_interior_rings(frame.geometry.array) > 0).sum() == 4
    found = boundaries.boundary_problems(frame)
    # a valid coverage: no overlaps, no duplicates, no gaps (the 4 grids' holes are other grids)
    assert errors(found) == []
    (sliver,) = found
    assert sliver.rows == ("ZH-7-5 (#138)",)  # one of the rows of a grid stored in several pieces
    assert area_in(sliver) < 0.001 and "is only" in sliver.what
    streets = pyogrio.read_dataframe(realdata / "hangzhou" / "xiacheng_streets_jiedao.geojson")
    assert boundaries.boundary_problems(frame, outline=streets.union_all()) == found
