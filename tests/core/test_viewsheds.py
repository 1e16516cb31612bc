"""core.viewsheds: hand-built grids in metres with answers checked by hand, exact shapely references,
and the demo district.

View polygons have exactly the area of their sector or circle (see ``core.viewsheds``), so a view
wholly inside a grid gives the analytic share to float precision; where a grid border cuts an arc,
the polygonal arc (a vertex every 5°) is within 1 cm of the circle.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from coverage_cases import AS_OF, TWO_SQUARES, UTM, demo_layers, local, make_cameras, make_grids, make_points
from shapely.geometry import Point

from core import joins, schema, viewsheds
from core.errors import ValidationError


def reference_shares(grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The naive exact reference: each grid intersected with the union of all online views (covered),
    and with the union of the other views minus the online union (lost), over the grid's area."""
    crs = UTM
    views = viewsheds.camera_views(cameras, crs).to_numpy()
    online = (cameras[schema.STATUS] == "online").to_numpy()
    up, down = shapely.union_all(views[online]), shapely.union_all(views[~online])
    cells = grids.to_crs(crs).geometry.to_numpy()
    covered = np.array([c.intersection(up).area / c.area for c in cells])
    lost = np.array([c.intersection(down).difference(up).area / c.area for c in cells])
    return covered, lost


def test_a_sector_at_a_corner_pointing_in_covers_a_quarter_circle():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras([dict(x=0, y=0, azimuth=45, fov=90, range=50)], grids)
    result = viewsheds.camera_coverage(grids, cams)
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
    views = viewsheds.camera_views(cams, UTM)
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
    result = viewsheds.camera_coverage(grids, cams)
    assert result["covered_share"].tolist() == [0, 0]
    assert result.loc["G0", "cameras_total"] == 1 and result.loc["G0", "cameras_online"] == 1


def test_a_dome_covers_a_circle():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras([dict(x=150, y=50, range=30), dict(x=50, y=50, azimuth=0, fov=360, range=20)], grids)
    result = viewsheds.camera_coverage(grids, cams)
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
    result = viewsheds.camera_coverage(grids, cams)
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
    result = viewsheds.camera_coverage(grids, cams)
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
    result = viewsheds.camera_coverage(grids, cams)
    covered, lost = reference_shares(grids, cams)
    assert result["covered_share"].to_numpy() == pytest.approx(covered, abs=1e-9)
    assert result["lost_share"].to_numpy() == pytest.approx(lost, abs=1e-9)
    assert covered.min() > 0 and lost.max() > 0  # the fixture exercises both


def test_cameras_without_grid_id_are_located():
    grids = make_grids(TWO_SQUARES)
    rows = [dict(x=30, y=30, range=10), dict(x=150, y=50, range=10, status="offline"), dict(x=500, y=50, range=10)]
    joined = viewsheds.camera_coverage(grids, make_cameras(rows, grids))
    located = viewsheds.camera_coverage(grids, make_cameras(rows))
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
    result = viewsheds.camera_coverage(grids, cams, tickets, as_of=AS_OF)
    # G0's tickets of the 90 days up to AS_OF, cancelled left out: "in view", "out of view", "one day old"
    assert result.loc["G0", ["tickets_recent", "tickets_in_view"]].tolist() == [3, 2]
    assert result.loc["G0", "tickets_in_view_share"] == pytest.approx(2 / 3)
    assert result.loc["G1", "tickets_recent"] == 0 and np.isnan(result.loc["G1", "tickets_in_view_share"])
    default = viewsheds.camera_coverage(grids, cams, tickets)  # as_of: the newest time in the tickets
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
    result = viewsheds.camera_coverage(grids, cams, key_points=uploaded)
    assert result["key_points"].tolist() == [3, 2]
    assert result["key_points_covered"].tolist() == [2, 1]
    assert result["key_points_covered_share"].to_numpy() == pytest.approx([2 / 3, 1 / 2])


def test_coverage_geometries_give_covered_lost_and_gap_parts_for_the_map():
    grids = make_grids(TWO_SQUARES)
    cams = make_cameras(
        [dict(x=0, y=0, azimuth=45, fov=90, range=50), dict(x=70, y=70, range=20, status="offline")], grids
    )
    parts = viewsheds.coverage_geometries(grids, cams)
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
        viewsheds.camera_coverage(grids, cams)
    text = str(caught.value)
    assert "`range_m`" in text and "C0" in text and "`status`" in text and "C1" in text
    with pytest.raises(ValidationError, match="`azimuth_deg` is missing"):
        viewsheds.camera_views(cams.drop(columns=schema.AZIMUTH_DEG))
    with pytest.raises(ValidationError, match="no coordinate reference system"):
        viewsheds.camera_coverage(grids.set_crs(None, allow_override=True), cams)
    cams = make_cameras([dict(x=0, y=0, range=10)], grids)
    cams.loc[0, "geometry"] = None
    with pytest.raises(ValidationError, match=r"rows C0.*no point geometry"):
        viewsheds.camera_views(cams)


@pytest.fixture(scope="module")
def demo():
    return demo_layers()


def test_demo_coverage_figures_are_plausible_and_add_up(demo):
    grids, cameras, tickets = demo["grids"], demo["cameras"], demo["tickets"]
    result = viewsheds.camera_coverage(grids, cameras, tickets)
    shares = result[["covered_share", "lost_share", "tickets_in_view_share", "key_points_covered_share"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert result["cameras_total"].sum() == cameras[schema.GRID_ID].notna().sum()
    assert (
        result["cameras_online"].sum() == (cameras[schema.GRID_ID].notna() & (cameras[schema.STATUS] == "online")).sum()
    )
    assert (result["tickets_in_view"] <= result["tickets_recent"]).all() and result["tickets_recent"].sum() > 1000

    every = viewsheds.camera_coverage(grids, cameras.assign(**{schema.STATUS: "online"}))
    assert (result["covered_share"] <= every["covered_share"] + 1e-12).all()
    # what all cameras would see is what the online ones see plus what is lost while the others are down
    assert (result["covered_share"] + result["lost_share"]).to_numpy() == pytest.approx(
        every["covered_share"].to_numpy(), abs=1e-9
    )
    assert result["lost_share"].sum() > 0 and every["lost_share"].sum() == 0
