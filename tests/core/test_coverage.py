"""core.coverage: hand-built grids in metres with answers checked by hand, exact shapely references,
the 15-minute service circle with and without a road network, members, staffing, and the demo district.

Fixtures are drawn in UTM zone 51N (EPSG:32651, around Hangzhou) and stored in EPSG:4326, as every
layer is; ``core.geometry.metric_crs`` picks that zone back, so a 100 m square stays a 100 m square to
within a nanometre. View polygons have exactly the area of their sector or circle (see
``core.coverage``), so a view wholly inside a grid gives the analytic share to float precision; where
a grid border cuts an arc, the polygonal arc (a vertex every 5°) is within 1 cm of the circle.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from core import coverage, joins, schema
from core.errors import ValidationError

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


def reference_shares(grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The naive exact reference: each grid intersected with the union of all online views (covered),
    and with the union of the other views minus the online union (lost), over the grid's area."""
    crs = UTM
    views = coverage.camera_views(cameras, crs).to_numpy()
    online = (cameras[schema.STATUS] == "online").to_numpy()
    up, down = shapely.union_all(views[online]), shapely.union_all(views[~online])
    cells = grids.to_crs(crs).geometry.to_numpy()
    covered = np.array([c.intersection(up).area / c.area for c in cells])
    lost = np.array([c.intersection(down).difference(up).area / c.area for c in cells])
    return covered, lost


TWO_SQUARES = [(0, 0, 100, 100), (100, 0, 200, 100)]  # G0 west, G1 east, 100 m squares


# ---- camera views and coverage ------------------------------------------------------------------
def test_a_sector_at_a_corner_pointing_in_covers_a_quarter_circle():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras([dict(x=0, y=0, azimuth=45, fov=90, range=50)], grids)
    result = coverage.camera_coverage(grids, cams)
    # a 90° sector of 50 m wholly inside the 100 m square: (π·50²/4) / 100²
    assert result.loc["G0", "covered_share"] == pytest.approx(math.pi * 50**2 / 4 / 100**2, rel=1e-9)
    assert result.loc["G1", "covered_share"] == 0
    assert result.loc["G0", "covered_area_km2"] == pytest.approx(math.pi * 50**2 / 4 / 1e6, rel=1e-9)
    assert result["covered_share"].to_numpy() == pytest.approx(reference_shares(grids, cams)[0], abs=1e-12)


def test_view_polygons_have_the_exact_area_and_reach_of_their_sector():
    cams = make_cameras(
        [
            dict(x=0, y=0, azimuth=0, fov=90, range=50),
            dict(x=0, y=0, azimuth=300, fov=37, range=80),
            dict(x=0, y=0, range=30),
            dict(x=0, y=0, azimuth=10, fov=360, range=30),
        ]
    )
    views = coverage.camera_views(cams, UTM)
    assert views.crs == UTM and list(views.index) == list(cams.index)
    assert views.area.to_numpy() == pytest.approx(
        [math.pi * 50**2 / 4, math.pi * 80**2 * 37 / 360, math.pi * 30**2, math.pi * 30**2], rel=1e-9
    )
    view = local(views.to_crs(schema.STORAGE_CRS))[0]
    # azimuth 0 with 90°: from north-west (-45°) to north-east (45°); arc vertices sit 0.06 % (3 cm)
    # beyond the range so that the chords leave the sector its full area
    minx, miny, maxx, maxy = view.bounds
    assert (miny, maxy) == pytest.approx((0, 50), abs=0.04)
    assert (minx, maxx) == pytest.approx((-50 * math.sin(math.pi / 4), 50 * math.sin(math.pi / 4)), abs=0.04)
    assert view.covers(Point(0, 49.9)) and not view.covers(Point(0, -1)) and not view.covers(Point(40, 10))


def test_a_sector_pointing_out_of_the_grid_covers_nothing():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras([dict(x=0, y=0, azimuth=225, fov=90, range=50)], grids)  # south-west, away from G0
    result = coverage.camera_coverage(grids, cams)
    assert result["covered_share"].tolist() == [0, 0]
    assert result.loc["G0", "cameras_total"] == 1 and result.loc["G0", "cameras_online"] == 1


def test_a_dome_covers_a_circle():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras([dict(x=150, y=50, range=30), dict(x=50, y=50, azimuth=0, fov=360, range=20)], grids)
    result = coverage.camera_coverage(grids, cams)
    assert result["covered_share"].to_numpy() == pytest.approx(
        [math.pi * 20**2 / 100**2, math.pi * 30**2 / 100**2], rel=1e-9
    )


def test_an_offline_camera_is_lost_coverage_where_no_online_view_reaches():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras(
        [
            dict(x=0, y=0, azimuth=45, fov=90, range=50),  # online quarter circle in G0
            dict(x=70, y=70, range=20, status="offline"),  # G0: 79 m from the quarter circle, all lost
            dict(x=150, y=50, range=30),  # online dome in G1 ...
            dict(x=150, y=50, range=10, status="fault"),  # ... that sees all this faulty one would
        ],
        grids,
    )
    result = coverage.camera_coverage(grids, cams)
    assert result.loc["G0", "lost_share"] == pytest.approx(math.pi * 20**2 / 100**2, rel=1e-9)
    assert result.loc["G1", "lost_share"] == 0
    assert result.loc["G0", "covered_share"] == pytest.approx(math.pi * 50**2 / 4 / 100**2, rel=1e-9)
    assert result["cameras_total"].tolist() == [2, 2] and result["cameras_online"].tolist() == [1, 1]
    covered, lost = reference_shares(grids, cams)
    assert result["covered_share"].to_numpy() == pytest.approx(covered, abs=1e-12)
    assert result["lost_share"].to_numpy() == pytest.approx(lost, abs=1e-12)


def test_views_from_a_camera_in_the_neighbouring_grid_count():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras([dict(x=105, y=50, range=10)], grids)  # a dome in G1, 5 m from G0
    result = coverage.camera_coverage(grids, cams)
    # the circular segment beyond a chord 5 m from the centre: r²·acos(d/r) − d·sqrt(r² − d²)
    segment = 100 * math.acos(0.5) - 5 * math.sqrt(75)  # 61.42 m²
    assert result.loc["G0", "covered_share"] == pytest.approx(segment / 100**2, abs=1e-5)  # 0.1 m²
    assert result.loc["G1", "covered_share"] == pytest.approx((math.pi * 100 - segment) / 100**2, abs=1e-5)
    assert result["cameras_total"].tolist() == [0, 1]
    assert result["covered_share"].to_numpy() == pytest.approx(reference_shares(grids, cams)[0], abs=1e-12)


def test_coverage_equals_the_naive_shapely_reference_on_random_cameras():
    rng = np.random.default_rng(5)
    grids = make_grids([(x, y, x + 100, y + 100) for x in (0, 100, 200) for y in (0, 100)] + [(300, 0, 400, 200)])
    n = 40
    statuses = rng.choice(["online", "online", "offline", "fault"], n)
    rows = [
        dict(
            x=float(x),
            y=float(y),
            azimuth=None if dome else float(az),
            fov=float(fov),
            range=float(r),
            status=str(status),
        )
        for x, y, dome, az, fov, r, status in zip(
            rng.uniform(-20, 420, n),
            rng.uniform(-20, 220, n),
            rng.random(n) < 0.3,
            rng.uniform(0, 360, n),
            rng.uniform(30, 200, n),
            rng.uniform(10, 90, n),
            statuses,
        )
    ]
    cams = make_cameras(rows, grids)
    result = coverage.camera_coverage(grids, cams)
    covered, lost = reference_shares(grids, cams)
    assert result["covered_share"].to_numpy() == pytest.approx(covered, abs=1e-9)
    assert result["lost_share"].to_numpy() == pytest.approx(lost, abs=1e-9)
    assert covered.min() > 0 and lost.max() > 0  # the fixture exercises both


def test_cameras_without_grid_id_are_located():
    grids = make_grids(TWO_SQUARES)
    rows = [dict(x=30, y=30, range=10), dict(x=150, y=50, range=10, status="offline"), dict(x=500, y=50, range=10)]
    joined = coverage.camera_coverage(grids, make_cameras(rows, grids))
    located = coverage.camera_coverage(grids, make_cameras(rows))
    pd.testing.assert_frame_equal(joined, located)
    assert located["cameras_total"].tolist() == [1, 1]


def test_tickets_in_view_count_recent_uncancelled_tickets_of_the_grid():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras([dict(x=0, y=0, azimuth=45, fov=90, range=50)], grids)
    tickets = joins.join_to_grids(
        make_points(
            [(10, 10), (90, 90), (20, 20), (30, 5), (10, 10)],
            **{
                schema.TICKET_ID: ["in view", "out of view", "too old", "cancelled", "one day old"],
                schema.CREATED_AT: [AS_OF - pd.Timedelta(days=d) for d in (3, 5, 91, 3, 1)],
                schema.STAGE: ["closed", "handling", "closed", "cancelled", "received"],
            },
        ),
        grids,
    )
    result = coverage.camera_coverage(grids, cams, tickets, as_of=AS_OF)
    # G0's tickets of the 90 days up to AS_OF, cancelled left out: "in view", "out of view", "one day old"
    assert result.loc["G0", ["tickets_recent", "tickets_in_view"]].tolist() == [3, 2]
    assert result.loc["G0", "tickets_in_view_share"] == pytest.approx(2 / 3)
    assert result.loc["G1", "tickets_recent"] == 0 and np.isnan(result.loc["G1", "tickets_in_view_share"])
    default = coverage.camera_coverage(grids, cams, tickets)  # as_of: the newest time in the tickets
    assert default.loc["G0", ["tickets_recent", "tickets_in_view"]].tolist() == [3, 2]


def test_key_points_are_intersection_and_entrance_sites_and_uploaded_points():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras(
        [
            dict(x=0, y=0, azimuth=45, fov=90, range=50, kind="intersection"),  # online: covers its own site
            dict(x=30, y=20, azimuth=0, fov=60, range=30, kind="community_entrance", status="offline"),  # in view
            dict(x=90, y=90, range=5, kind="intersection", status="fault"),  # nobody sees it
            dict(x=150, y=50, range=30, kind="key_site"),  # not a key point kind
        ],
        grids,
    )
    uploaded = make_points([(150, 60), (190, 90)], name=["in the dome", "out of view"])
    result = coverage.camera_coverage(grids, cams, key_points=uploaded)
    assert result["key_points"].tolist() == [3, 2]
    assert result["key_points_covered"].tolist() == [2, 1]
    assert result["key_points_covered_share"].to_numpy() == pytest.approx([2 / 3, 1 / 2])


def test_coverage_geometries_give_covered_lost_and_gap_parts_for_the_map():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras(
        [dict(x=0, y=0, azimuth=45, fov=90, range=50), dict(x=70, y=70, range=20, status="offline")], grids
    )
    parts = coverage.coverage_geometries(grids, cams)
    assert parts.crs == schema.STORAGE_CRS
    area = parts.set_index([schema.GRID_ID, "part"])["area_m2"]  # measured before simplification
    quarter, lost = math.pi * 50**2 / 4, math.pi * 20**2
    assert area[("G0", "covered")] == pytest.approx(quarter, rel=1e-9)
    assert area[("G0", "lost")] == pytest.approx(lost, rel=1e-9)
    assert area[("G0", "gap")] == pytest.approx(100**2 - quarter, rel=1e-9)
    assert area[("G1", "gap")] == pytest.approx(100**2, rel=1e-9)
    assert ("G1", "covered") not in area and ("G1", "lost") not in area
    # simplified by 0.5 m for the map: arcs lose a sliver, well under 1 % here
    assert local(parts.geometry)[0].area == pytest.approx(quarter, rel=1e-2)
    gap = local(parts[(parts[schema.GRID_ID] == "G0") & (parts["part"] == "gap")].geometry)[0]
    assert gap.covers(Point(90, 90)) and not gap.covers(Point(10, 10))


def test_bad_cameras_and_grids_raise_validation_errors_naming_rows():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras([dict(x=0, y=0, range=10), dict(x=0, y=0, range=10, status="broken")], grids)
    cams.loc[0, schema.RANGE_M] = np.nan
    with pytest.raises(ValidationError) as caught:
        coverage.camera_coverage(grids, cams)
    text = str(caught.value)
    assert "`range_m`" in text and "C0" in text and "`status`" in text and "C1" in text
    with pytest.raises(ValidationError, match="`azimuth_deg` is missing"):
        coverage.camera_views(cams.drop(columns=schema.AZIMUTH_DEG))
    with pytest.raises(ValidationError, match="no coordinate reference system"):
        coverage.camera_coverage(grids.set_crs(None, allow_override=True), cams)
    cams = make_cameras([dict(x=0, y=0, range=10)], grids)
    cams.loc[0, "geometry"] = None
    with pytest.raises(ValidationError, match=r"rows C0.*no point geometry"):
        coverage.camera_views(cams)


# ---- the 15-minute service circle ---------------------------------------------------------------
def small_box(x: float, y: float, half: float = 10.0) -> tuple[float, float, float, float]:
    return (x - half, y - half, x + half, y + half)


# G0 900 m along the road; G1 900 m north, off the network; G2 1,500 m along; G3 1,300 m along
REACH_GRIDS = [small_box(900, 0), small_box(0, 900), small_box(1500, 0), small_box(1300, 0)]


def police_room_at(x: float, y: float) -> gpd.GeoDataFrame:
    return make_points([(x, y)], **{schema.POINT_ID: ["P1"], schema.NAME: ["警务室"], schema.KIND: ["police_room"]})


def test_walk_settings_give_a_kilometre_straight_line_by_default():
    settings = coverage.WalkSettings()
    assert settings.walk_m == pytest.approx(1250) and settings.radius_m == pytest.approx(1000)
    with pytest.raises(ValueError, match="detour_factor"):
        coverage.WalkSettings(detour_factor=0.9)


def test_straight_line_reach_is_a_circle_of_walk_over_detour():
    grids = make_grids(REACH_GRIDS, **{schema.POPULATION: [400, 100, 50, pd.NA]})
    reach = coverage.service_reach(grids, police_room_at(0, 10))
    # corners of G0 and G1 are within 911 m; G2 and G3 are over 1,280 m away
    assert reach["police_room_share"].tolist() == [1, 1, 0, 0]
    assert reach["any_share"].tolist() == [1, 1, 0, 0]
    assert reach["police_room_served"].iloc[:3].tolist() == [400, 100, 0] and np.isnan(reach.iloc[3, 1])
    assert list(reach.columns) == ["police_room_share", "police_room_served", "any_share", "any_served"]


def test_straight_line_reach_of_a_grid_cut_by_the_circle_equals_the_circle_overlap():
    grids = make_grids([(950, -50, 1050, 50)])  # the 1,000 m circle around (0, 0) crosses it
    share = coverage.service_reach(grids, police_room_at(0, 0))["any_share"].iloc[0]
    circle = Point(0, 0).buffer(1000, quad_segs=1024)
    # reach circles have a vertex every degree: within 4 cm of the circle, so along the ~100 m of arc
    # in the box the areas differ by at most 4 m², 4e-4 of the box
    assert share == pytest.approx(box(950, -50, 1050, 50).intersection(circle).area / 100**2, abs=4e-4)
    assert 0.4 < share < 0.6


def test_network_reach_follows_the_road_and_misses_places_off_it():
    grids = make_grids(REACH_GRIDS)
    road = gpd.GeoDataFrame(geometry=stored([LineString([(-100, 0), (2000, 0)])]).array, crs=schema.STORAGE_CRS)
    reach = coverage.service_reach(grids, police_room_at(0, 10), roads=road)
    # 1,250 m walk: 10 m to the road, then to x = 1,240, plus 100 m either side and around the end.
    # G0 (900 m along) and G3 (1,300 m along: within 71 m of the end) are reached; G1, 900 m north of
    # the road across open ground, is not, nor G2 at 1,500 m.
    assert reach["police_room_share"].tolist() == [1, 0, 0, 1]
    gaps = coverage.unserved_areas(grids, police_room_at(0, 10), None, roads=road)
    assert gaps[schema.GRID_ID].tolist() == ["G1", "G2"] and gaps[schema.KIND].tolist() == ["any", "any"]
    assert gaps["area_m2"].to_numpy() == pytest.approx([400, 400], rel=1e-6)
    straight = coverage.unserved_areas(grids, police_room_at(0, 10), "police_room")
    assert straight[schema.GRID_ID].tolist() == ["G2", "G3"]


def test_network_reach_cuts_an_edge_where_the_walk_runs_out():
    network = coverage.RoadNetwork.from_roads(
        gpd.GeoDataFrame(geometry=[LineString([(0, 0), (2000, 0)])], crs=UTM), UTM
    )
    area = network.reach_area(np.array([[0.0, 0.0]]), walk_m=300, off_road_m=10)
    assert area.bounds == pytest.approx((-10, -10, 310, 10), abs=0.01)
    assert network.distances(np.array([[0.0, 5.0]]))[network.nodes[:, 0].argmax()] == pytest.approx(2005)


def test_roads_that_cross_without_a_shared_vertex_do_not_connect():
    # densified every 25 m, the first road has vertices at x = -90, -65, … 10, so none at the crossing
    crossing = gpd.GeoDataFrame(geometry=[LineString([(-90, 0), (110, 0)]), LineString([(0, -100), (0, 100)])], crs=UTM)
    assert coverage.RoadNetwork.from_roads(crossing, UTM).degree().max() == 2
    noded = gpd.GeoDataFrame(
        geometry=[LineString([(-100, 0), (0, 0), (100, 0)]), LineString([(0, -100), (0, 0.2), (0, 100)])], crs=UTM
    )
    network = coverage.RoadNetwork.from_roads(noded, UTM)  # (0, 0.2) is within the 0.5 m snap
    assert (network.degree() == 4).sum() == 1
    distance = network.distances(np.array([[-100.0, 0.0]]))
    assert distance[np.argmin(np.hypot(*(network.nodes - [0, 100]).T))] == pytest.approx(200, abs=0.3)


def test_roads_without_lines_raise_validation_errors():
    grids = make_grids(REACH_GRIDS)
    areas = gpd.GeoDataFrame(
        {"road": ["a", "b"]}, geometry=[box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])], crs=schema.STORAGE_CRS
    )
    with pytest.raises(ValidationError, match=r"rows 0\).*Polygon, expected LineString"):
        coverage.service_reach(grids, police_room_at(0, 0), roads=areas)
    empty = gpd.GeoDataFrame(geometry=[None], crs=schema.STORAGE_CRS)
    with pytest.raises(ValidationError, match="holds no road line"):
        coverage.service_reach(grids, police_room_at(0, 0), roads=empty)
    bad_kind = police_room_at(0, 0).assign(**{schema.KIND: ["shop"]})
    with pytest.raises(ValidationError, match=r"rows P1\).*is not one of"):
        coverage.service_reach(grids, bad_kind)


def test_each_service_kind_and_any_kind_get_their_own_share():
    grids = make_grids(REACH_GRIDS)
    points = make_points(
        [(0, 0), (1500, 0)],
        **{schema.POINT_ID: ["P1", "P2"], schema.NAME: ["a", "b"], schema.KIND: ["health_station", "police_room"]},
    )
    reach = coverage.service_reach(grids, points)
    assert list(reach.columns[::2]) == ["police_room_share", "health_station_share", "any_share"]
    assert reach["police_room_share"].tolist() == [1, 0, 1, 1]  # G0 is 600 m from P2
    assert reach["health_station_share"].tolist() == [1, 1, 0, 0]
    assert reach["any_share"].tolist() == [1, 1, 1, 1]
    no_legal_aid = coverage.unserved_areas(grids, points, "legal_aid")  # no such point: every grid is a gap
    assert no_legal_aid["area_m2"].to_numpy() == pytest.approx([400] * 4, rel=1e-6)
    areas = coverage.reach_areas(points)
    assert areas[schema.KIND].tolist() == ["police_room", "health_station", "any"]
    assert areas.crs == schema.STORAGE_CRS


# ---- members and staffing -----------------------------------------------------------------------
def test_member_measures_count_kinds_and_cap_the_linked_share():
    grids = make_grids(
        [(0, 0, 1, 1), (1, 0, 2, 1), (2, 0, 3, 1)], **{schema.HOUSEHOLDS: pd.array([100, pd.NA, 200], dtype="Int64")}
    )
    members = pd.DataFrame(
        {
            schema.GRID_ID: ["G0", "G0", "G0", "G1", np.nan],
            schema.KIND: ["community", "community", "in_service", "in_service", "community"],
            schema.LINKED_HOUSEHOLDS: [30, 50, 40, 10, 99],
        }
    )
    result = coverage.member_measures(grids, members)
    assert result["members"].tolist() == [3, 1, 0]
    assert result["community_members"].tolist() == [2, 0, 0]
    assert result["in_service_members"].tolist() == [1, 1, 0]
    assert result["linked_households"].tolist() == [120, 10, 0]
    # G0: 120 linked of 100 households is capped at 1; G1's households are unknown; G2: none linked
    assert result["linked_share"].iloc[0] == 1 and np.isnan(result["linked_share"].iloc[1])
    assert result["linked_share"].iloc[2] == 0
    assert result["has_member"].tolist() == [True, True, False]
    with pytest.raises(ValidationError, match="join the members to the grids first"):
        coverage.member_measures(grids, members.drop(columns=schema.GRID_ID))


def test_staffing_flags_missing_people_and_compares_households_with_the_target_range():
    grids = pd.DataFrame(
        {
            schema.GRID_ID: [f"G{i}" for i in range(6)],
            schema.LEADER: ["张三", None, " ", "李四", "王五", "赵六"],
            schema.WORKER: ["w1", "w2", "w3", "", "w5", "w6"],
            schema.HOUSEHOLDS: pd.array([250, 300, 500, 400, pd.NA, 501], dtype="Int64"),
        }
    )
    result = coverage.staffing(grids)
    assert result["no_leader"].tolist() == [False, True, True, False, False, False]
    assert result["no_worker"].tolist() == [False, False, False, True, False, False]
    assert result["status"].tolist() == ["under", "within", "within", "no_worker", "unknown", "over"]
    assert result["households_per_worker"].iloc[[0, 1, 2, 5]].tolist() == [250, 300, 500, 501]
    assert result["households_per_worker"].iloc[[3, 4]].isna().all()
    assert coverage.staffing(grids, (100, 250))["status"].iloc[0] == "within"
    with pytest.raises(ValueError, match="low <= high"):
        coverage.staffing(grids, (500, 300))


# ---- the demo district --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    from geodata.generate import load_demo

    layers = load_demo()
    grids = layers["grids"]
    for name in ("cameras", "tickets", "members"):
        layers[name] = joins.join_to_grids(layers[name], grids)
    return layers


def test_demo_coverage_figures_are_plausible_and_add_up(demo):
    grids, cameras, tickets = demo["grids"], demo["cameras"], demo["tickets"]
    result = coverage.camera_coverage(grids, cameras, tickets)
    shares = result[["covered_share", "lost_share", "tickets_in_view_share", "key_points_covered_share"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert result["cameras_total"].sum() == cameras[schema.GRID_ID].notna().sum()
    assert (
        result["cameras_online"].sum() == (cameras[schema.GRID_ID].notna() & (cameras[schema.STATUS] == "online")).sum()
    )
    assert (result["tickets_in_view"] <= result["tickets_recent"]).all() and result["tickets_recent"].sum() > 1000

    every = coverage.camera_coverage(grids, cameras.assign(**{schema.STATUS: "online"}))
    assert (result["covered_share"] <= every["covered_share"] + 1e-12).all()
    # what all cameras would see is what the online ones see plus what is lost while the others are down
    assert (result["covered_share"] + result["lost_share"]).to_numpy() == pytest.approx(
        every["covered_share"].to_numpy(), abs=1e-9
    )
    assert result["lost_share"].sum() > 0 and every["lost_share"].sum() == 0


def test_demo_service_members_and_staffing_are_plausible(demo):
    grids = demo["grids"]
    reach = coverage.service_reach(grids, demo["service_points"])
    shares = reach.filter(like="_share")
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert (reach["any_share"] >= shares.drop(columns="any_share").max(axis=1) - 1e-9).all()
    assert reach["any_served"].sum() <= grids[schema.POPULATION].sum()
    members = coverage.member_measures(grids, demo["members"])
    assert members["members"].sum() == demo["members"][schema.GRID_ID].notna().sum()
    assert members["linked_share"].between(0, 1).all()
    assert set(coverage.staffing(grids)["status"]) <= set(coverage.STAFFING_STATUSES)


def test_district_shares_are_of_the_district_sums_and_skip_layers_not_loaded():
    table = pd.DataFrame(
        {
            "area_km2": [1.0, 3.0],
            "covered_area_km2": [0.5, 1.5],
            "lost_share": [0.2, 0.0],
            "tickets_in_view": [0, 0],
            "tickets_recent": [0, 0],
            schema.POPULATION: [100.0, np.nan],
            "any_served": [40.0, np.nan],
            schema.HOUSEHOLDS: [10.0, np.nan],
            "linked_households": [15, 4],  # more than the grid holds: capped; unknown households: left out
            "has_member": [True, False],
            "status": ["within", "no_worker"],
        }
    )
    figures = coverage.district_shares(table)
    assert figures["covered_share"] == 0.5 and figures["lost_share"] == pytest.approx(0.05)
    assert math.isnan(figures["tickets_in_view_share"])  # no recent tickets: no share, not 0
    assert figures["served_share"] == 0.4 and figures["linked_share"] == 1.0
    assert (figures["grids_without_member"], figures["grids_off_target"]) == (1, 1)
    assert "key_points_covered_share" not in figures
    assert set(coverage.district_shares(table[["area_km2", "status"]])) == {"grids_off_target"}
