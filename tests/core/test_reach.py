"""core.reach: the 15-minute service circle with and without a road network, on hand-built grids in
metres, and on the demo district."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from coverage_cases import UTM, demo_layers, make_grids, make_points, stored
from shapely.geometry import LineString, Point, box

from core import schema
from core.errors import ValidationError
from core.reach import RoadNetwork, WalkSettings, reach_areas, service_reach, unserved_areas


def small_box(x: float, y: float, half: float = 10.0) -> tuple[float, float, float, float]:
    return (x - half, y - half, x + half, y + half)


# G0 900 m along the road; G1 900 m north, off the network; G2 1,500 m along; G3 1,300 m along
REACH_GRIDS = [small_box(900, 0), small_box(0, 900), small_box(1500, 0), small_box(1300, 0)]


def police_room_at(x: float, y: float) -> gpd.GeoDataFrame:
    return make_points([(x, y)], **{schema.POINT_ID: ["P1"], schema.NAME: ["警务室"], schema.KIND: ["police_room"]})


def test_walk_settings_give_a_kilometre_straight_line_by_default():
    settings = WalkSettings()
    assert settings.walk_m == pytest.approx(1250) and settings.radius_m == pytest.approx(1000)
    with pytest.raises(ValueError, match="detour_factor"):
        WalkSettings(detour_factor=0.9)


def test_straight_line_reach_is_a_circle_of_walk_over_detour():
    grids = make_grids(REACH_GRIDS, **{schema.POPULATION: [400, 100, 50, pd.NA]})
    reach = service_reach(grids, police_room_at(0, 10))
    # corners of G0 and G1 are within 911 m; G2 and G3 are over 1,280 m away
    assert reach["police_room_share"].tolist() == [1, 1, 0, 0]
    assert reach["any_share"].tolist() == [1, 1, 0, 0]
    assert reach["police_room_served"].iloc[:3].tolist() == [400, 100, 0] and np.isnan(reach.iloc[3, 1])
    assert list(reach.columns) == ["police_room_share", "police_room_served", "any_share", "any_served"]


def test_straight_line_reach_of_a_grid_cut_by_the_circle_equals_the_circle_overlap():
    grids = make_grids([(950, -50, 1050, 50)])  # the 1,000 m circle around (0, 0) crosses it
    share = service_reach(grids, police_room_at(0, 0))["any_share"].iloc[0]
    circle = Point(0, 0).buffer(1000, quad_segs=1024)
    # reach circles have a vertex every degree: within 4 cm of the circle, so along the ~100 m of arc
    # in the box the areas differ by at most 4 m², 4e-4 of the box
    assert share == pytest.approx(box(950, -50, 1050, 50).intersection(circle).area / 100**2, abs=4e-4)
    assert 0.4 < share < 0.6


def test_network_reach_follows_the_road_and_misses_places_off_it():
    grids = make_grids(REACH_GRIDS)
    road = gpd.GeoDataFrame(geometry=stored([LineString([(-100, 0), (2000, 0)])]).array, crs=schema.STORAGE_CRS)
    reach = service_reach(grids, police_room_at(0, 10), roads=road)
    # 1,250 m walk: 10 m to the road, then to x = 1,240, plus 100 m either side and around the end.
    # G0 (900 m along) and G3 (1,300 m along: within 71 m of the end) are reached; G1, 900 m north of
    # the road across open ground, is not, nor G2 at 1,500 m.
    assert reach["police_room_share"].tolist() == [1, 0, 0, 1]
    gaps = unserved_areas(grids, police_room_at(0, 10), None, roads=road)
    assert gaps[schema.GRID_ID].tolist() == ["G1", "G2"] and gaps[schema.KIND].tolist() == ["any", "any"]
    assert gaps["area_m2"].to_numpy() == pytest.approx([400, 400], rel=1e-6)
    straight = unserved_areas(grids, police_room_at(0, 10), "police_room")
    assert straight[schema.GRID_ID].tolist() == ["G2", "G3"]


def test_network_reach_cuts_an_edge_where_the_walk_runs_out():
    network = RoadNetwork.from_roads(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (2000, 0)])], crs=UTM), UTM)
    area = network.reach_area(np.array([[0.0, 0.0]]), walk_m=300, off_road_m=10)
    assert area.bounds == pytest.approx((-10, -10, 310, 10), abs=0.01)
    assert network.distances(np.array([[0.0, 5.0]]))[network.nodes[:, 0].argmax()] == pytest.approx(2005)


def test_roads_that_cross_without_a_shared_vertex_do_not_connect():
    # densified every 25 m, the first road has vertices at x = -90, -65, … 10, so none at the crossing
    crossing = gpd.GeoDataFrame(geometry=[LineString([(-90, 0), (110, 0)]), LineString([(0, -100), (0, 100)])], crs=UTM)
    assert RoadNetwork.from_roads(crossing, UTM).degree().max() == 2
    noded = gpd.GeoDataFrame(
        geometry=[LineString([(-100, 0), (0, 0), (100, 0)]), LineString([(0, -100), (0, 0.2), (0, 100)])], crs=UTM
    )
    network = RoadNetwork.from_roads(noded, UTM)  # (0, 0.2) is within the 0.5 m snap
    assert (network.degree() == 4).sum() == 1
    distance = network.distances(np.array([[-100.0, 0.0]]))
    assert distance[np.argmin(np.hypot(*(network.nodes - [0, 100]).T))] == pytest.approx(200, abs=0.3)


def test_roads_without_lines_raise_validation_errors():
    grids = make_grids(REACH_GRIDS)
    areas = gpd.GeoDataFrame(
        {"road": ["a", "b"]}, geometry=[box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])], crs=schema.STORAGE_CRS
    )
    with pytest.raises(ValidationError, match=r"rows 0\).*Polygon, expected LineString"):
        service_reach(grids, police_room_at(0, 0), roads=areas)
    empty = gpd.GeoDataFrame(geometry=[None], crs=schema.STORAGE_CRS)
    with pytest.raises(ValidationError, match="holds no road line"):
        service_reach(grids, police_room_at(0, 0), roads=empty)
    bad_kind = police_room_at(0, 0).assign(**{schema.KIND: ["shop"]})
    with pytest.raises(ValidationError, match=r"rows P1\).*is not one of"):
        service_reach(grids, bad_kind)


def test_each_service_kind_and_any_kind_get_their_own_share():
    grids = make_grids(REACH_GRIDS)
    points = make_points(
        [(0, 0), (1500, 0)],
        **{schema.POINT_ID: ["P1", "P2"], schema.NAME: ["a", "b"], schema.KIND: ["health_station", "police_room"]},
    )
    reach = service_reach(grids, points)
    assert list(reach.columns[::2]) == ["police_room_share", "health_station_share", "any_share"]
    assert reach["police_room_share"].tolist() == [1, 0, 1, 1]  # G0 is 600 m from P2
    assert reach["health_station_share"].tolist() == [1, 1, 0, 0]
    assert reach["any_share"].tolist() == [1, 1, 1, 1]
    no_legal_aid = unserved_areas(grids, points, "legal_aid")  # no such point: every grid is a gap
    assert no_legal_aid["area_m2"].to_numpy() == pytest.approx([400] * 4, rel=1e-6)
    areas = reach_areas(points)
    assert areas[schema.KIND].tolist() == ["police_room", "health_station", "any"]
    assert areas.crs == schema.STORAGE_CRS


@pytest.fixture(scope="module")
def demo():
    return demo_layers()


def test_demo_service_reach_is_plausible(demo):
    grids = demo["grids"]
    served = service_reach(grids, demo["service_points"])
    shares = served.filter(like="_share")
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert (served["any_share"] >= shares.drop(columns="any_share").max(axis=1) - 1e-9).all()
    assert served["any_served"].sum() <= grids[schema.POPULATION].sum()
