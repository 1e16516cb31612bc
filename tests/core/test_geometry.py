"""core.geometry: metric CRS choice, areas in km², points near an area, community outlines, display
simplification."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from core import geometry, schema


def tiling() -> gpd.GeoDataFrame:
    """Four wiggly grids around (120.2E, 30.3N) sharing borders, two per community."""
    xs = np.linspace(120.20, 120.22, 201)
    wiggle = 30.30 + 0.00002 * np.sin(xs * 5000)  # a border with many tiny bends
    south = Polygon([(120.20, 30.29), (120.22, 30.29), *zip(xs[::-1], wiggle[::-1])])
    north = Polygon([*zip(xs, wiggle), (120.22, 30.31), (120.20, 30.31)])
    cut = box(120.21, 30.28, 120.23, 30.32)
    parts = [south.difference(cut), south.intersection(cut), north.difference(cut), north.intersection(cut)]
    return gpd.GeoDataFrame(
        {schema.GRID_ID: ["a", "b", "c", "d"], schema.COMMUNITY: ["S", "S", "N", "N"], schema.STREET: ["st"] * 4},
        geometry=parts,
        crs=schema.STORAGE_CRS,
    )


def test_metric_crs_is_the_utm_zone_of_the_centre():
    assert geometry.metric_crs(tiling()).to_epsg() == 32651
    west = tiling().set_geometry(tiling().translate(-120.21 - 74.0))  # New York-ish longitude
    assert geometry.metric_crs(west).to_epsg() == 32618


def test_area_is_measured_in_metres_not_degrees():
    areas = geometry.area_km2(tiling())
    # 0.02° of longitude x 0.02° of latitude at 30.3°N ≈ 1.922 km x 2.218 km
    assert abs(areas.sum() - 1.922 * 2.218) < 0.02


def test_communities_are_the_union_of_their_grids():
    communities = geometry.communities_from_grids(tiling())
    assert sorted(communities[schema.COMMUNITY]) == ["N", "S"]
    assert all(g.geom_type == "Polygon" for g in communities.geometry)


def test_display_simplification_keeps_shared_borders_and_rounds():
    grids = tiling()
    simple = geometry.simplify_for_display(grids, tolerance_m=5.0, decimals=6)
    before = shapely.get_num_coordinates(grids.geometry.array).sum()
    after = shapely.get_num_coordinates(simple.geometry.array).sum()
    assert after < before / 3
    # still a clean tiling: no overlaps, no gaps
    assert shapely.coverage_is_valid(simple.geometry.array)
    union = shapely.union_all(simple.geometry.array)
    assert abs(union.area - shapely.union_all(grids.geometry.array).area) < 1e-9
    coords = shapely.get_coordinates(simple.geometry.array)
    assert np.allclose(coords, np.round(coords, 6))


def test_display_simplification_coarsens_to_fit_a_vertex_budget():
    grids = tiling()
    fine = shapely.get_num_coordinates(geometry.simplify_for_display(grids, tolerance_m=0.1).geometry.array).sum()
    budget = fine // 3
    fitted = geometry.simplify_for_display(grids, tolerance_m=0.1, max_vertices=budget)
    assert shapely.get_num_coordinates(fitted.geometry.array).sum() <= budget
    assert shapely.coverage_is_valid(fitted.geometry.array)
    assert geometry.streets_from_grids(grids)[schema.STREET].tolist() == ["st"]


def test_a_workspace_metric_crs_is_used_inside_measuring_in():
    square = gpd.GeoDataFrame(geometry=[box(120.10, 30.20, 120.11, 30.21)], crs=4326)
    assert geometry.metric_crs(square).to_epsg() == 32651  # the UTM zone of the data
    with geometry.measuring_in("EPSG:4549"):  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
        assert geometry.metric_crs(square).to_epsg() == 4549
        gauss_kruger = geometry.area_km2(square).iloc[0]
    with geometry.measuring_in("auto"):
        assert geometry.metric_crs(square).to_epsg() == 32651
    assert geometry.metric_crs(square).to_epsg() == 32651, "the block ends, the UTM zone is back"
    utm = geometry.area_km2(square).iloc[0]  # 3° off the UTM zone's meridian: 0.1 % larger there
    assert gauss_kruger == pytest.approx(utm, rel=2e-3) and gauss_kruger != pytest.approx(utm, rel=1e-4)


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
    assert geometry.points_near(cameras, grid, 1000)[schema.CAMERA_ID].tolist() == ["near"]
