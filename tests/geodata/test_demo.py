"""The committed demo district: it loads, validates, nests, has the published-style figures, and is
exactly what the generator makes from its default seed. Areas and distances are measured in UTM 51N."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from core import schema
from core.validate import validate
from geodata import DEFAULT_SEED, DEMO_DIR, generate, load_demo, write_demo
from geodata.generate import AS_OF, MANIFEST_NAME, PERIOD_START, demo_assignments, demo_hot_spots, load_demo_assignments

METRIC = "EPSG:32651"


@pytest.fixture(scope="module")
def demo() -> dict[str, gpd.GeoDataFrame]:
    return load_demo()


@pytest.fixture(scope="module")
def metric(demo) -> dict[str, gpd.GeoDataFrame]:
    return {name: gdf.to_crs(METRIC) for name, gdf in demo.items()}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((DEMO_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))


# ---- files ---------------------------------------------------------------------------------------
def test_every_layer_is_committed_and_validates(demo):
    assert list(demo) == list(schema.LAYERS)
    for name, gdf in demo.items():
        validate(gdf, name)
        assert list(gdf.columns[:-1]) == list(schema.LAYERS[name].column_names)


def test_manifest_labels_the_data_synthetic_and_counts_rows(demo, manifest):
    assert manifest["synthetic"] is True
    assert "SYNTHETIC" in manifest["notice"]
    assert "模拟" in manifest["name"]
    assert {name: entry["rows"] for name, entry in manifest["layers"].items()} == {
        name: len(gdf) for name, gdf in demo.items()
    }
    assert set(demo["grids"][schema.STREET]) == {manifest["name"]}


def test_committed_files_stay_small():
    total = sum(p.stat().st_size for p in DEMO_DIR.iterdir())
    assert total < 4 * 1024 * 1024


def test_utm_51n_is_the_metric_crs_for_the_district(demo):
    assert demo["grids"].estimate_utm_crs().to_epsg() == 32651


# ---- determinism ---------------------------------------------------------------------------------
# GEOS releases place a cleaned vertex a few millimetres apart (shapely 2.2.0 / GEOS 3.14.1 moved two
# demo grids by 3 mm), so geometry is compared within this distance; every attribute is compared exactly.
GEOMETRY_TOLERANCE_M = 0.05


def test_committed_files_equal_a_fresh_generation(demo):
    fresh = generate(DEFAULT_SEED)
    assert list(fresh) == list(demo)
    for name in demo:
        geometry = demo[name].geometry.name
        pd.testing.assert_frame_equal(
            pd.DataFrame(fresh[name].drop(columns=geometry)), pd.DataFrame(demo[name].drop(columns=geometry))
        )
        apart = shapely.hausdorff_distance(
            fresh[name].geometry.to_crs(METRIC).array, demo[name].geometry.to_crs(METRIC).array
        )
        assert apart.max() <= GEOMETRY_TOLERANCE_M, f"{name}: a geometry moved {apart.max():.3f} m"


def test_another_seed_writes_another_valid_district(tmp_path, demo):
    counts = write_demo(tmp_path, seed=7)
    other = load_demo(tmp_path)
    assert counts == {name: len(gdf) for name, gdf in other.items()}
    assert len(other["grids"]) == 130
    assert not other["grids"].geometry.geom_equals(demo["grids"].geometry).all()
    area = other["grids"].to_crs(METRIC).union_all().area / 1e6
    assert area == pytest.approx(45, rel=0.10)
    assert json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))["seed"] == 7


# ---- boundaries ----------------------------------------------------------------------------------
def test_grids_are_valid_single_polygons_forming_a_clean_coverage(demo):
    geoms = demo["grids"].geometry.array
    assert shapely.is_valid(geoms).all()
    assert (demo["grids"].geom_type == "Polygon").all()
    assert shapely.coverage_is_valid(geoms)


def test_grids_do_not_overlap(metric):
    geoms = metric["grids"].geometry.array
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pair]], geoms[right[pair]]))
    assert overlap.max() < 1e-6  # m²: neighbours share edges, not area


def test_communities_tile_the_street_without_gaps_or_overlaps(metric):
    grids = metric["grids"]
    street = grids.union_all()
    assert street.geom_type == "Polygon" and len(street.interiors) == 0
    assert grids.area.sum() == pytest.approx(street.area, rel=1e-9)
    communities = grids.dissolve(schema.COMMUNITY)
    assert (communities.geom_type == "Polygon").all()  # each community is one piece
    assert communities.area.sum() == pytest.approx(street.area, rel=1e-9)


def test_each_grid_lies_within_its_community(metric):
    grids = metric["grids"]
    communities = grids.dissolve(schema.COMMUNITY).geometry
    own = communities.loc[grids[schema.COMMUNITY]].array
    assert shapely.covers(shapely.buffer(own, 1e-3), grids.geometry.array).all()


def test_grid_codes_follow_the_14_digit_standard(demo):
    grids = demo["grids"]
    codes = grids[schema.GRID_ID]
    assert codes.str.fullmatch(r"\d{14}").all() and codes.is_unique
    assert codes.str[:9].nunique() == 1  # one county + one street
    community_code = codes.str[9:12]
    assert (community_code.groupby(grids[schema.COMMUNITY]).nunique() == 1).all()
    seq = codes.str[12:].astype(int)
    assert (grids[schema.NAME] == grids[schema.COMMUNITY] + "第" + seq.astype(str) + "网格").all()


# ---- headline figures ----------------------------------------------------------------------------
def test_street_grids_and_residents(metric):
    grids = metric["grids"]
    assert len(grids) == 130
    assert 10 <= grids[schema.COMMUNITY].nunique() <= 14
    assert grids.union_all().area / 1e6 == pytest.approx(45, rel=0.10)
    assert grids[schema.POPULATION].sum() == pytest.approx(126_000, rel=0.05)
    assert grids[schema.HOUSEHOLDS].between(250, 600).all()
    assert grids[schema.WORKER_PHONE].str.fullmatch(r"1\d{10}").all()


def test_street_sits_in_eastern_china(demo):
    lon_min, lat_min, lon_max, lat_max = demo["grids"].total_bounds
    assert 119.5 < lon_min < lon_max < 121 and 29.5 < lat_min < lat_max < 31


def test_cameras(demo):
    cameras = demo["cameras"]
    assert len(cameras) >= 2_000
    not_online = (cameras[schema.STATUS] != "online").mean()
    assert 0.02 <= not_online <= 0.08
    assert cameras[schema.SITE_KIND].value_counts().index[0] == "intersection"
    dome = cameras[schema.AZIMUTH_DEG].isna()
    assert 0.1 < dome.mean() < 0.5
    assert (cameras.loc[dome, schema.FOV_DEG] == 360).all()
    assert cameras.loc[~dome, schema.FOV_DEG].between(60, 110).all()
    assert cameras[schema.RANGE_M].between(30, 120).all()


def test_every_community_has_a_party_service_centre(demo):
    points = demo["service_points"]
    assert 20 <= len(points) <= 30
    assert set(points[schema.KIND]) <= set(schema.SERVICE_KINDS)
    centres = points[points[schema.KIND] == "party_service_center"]
    communities = demo["grids"].dissolve(schema.COMMUNITY).reset_index()
    hits = gpd.sjoin(centres, communities, predicate="within")
    assert sorted(hits[schema.COMMUNITY]) == sorted(communities[schema.COMMUNITY])
    assert (points[schema.KIND] == "police_room").sum() >= 2


def test_tickets_cover_twelve_months_with_open_and_overdue_cases(demo):
    tickets = demo["tickets"]
    assert len(tickets) >= 20_000
    created = tickets[schema.CREATED_AT]
    assert str(created.dt.tz) == schema.DEFAULT_TIMEZONE
    assert created.min() >= PERIOD_START and created.max() <= AS_OF
    assert created.dt.month.nunique() == 12
    stage = tickets[schema.STAGE]
    assert (stage == "closed").mean() > 0.9
    assert (stage == "cancelled").any()
    overdue = stage.isin(schema.OPEN_STAGES) & (tickets[schema.DEADLINE_AT] < AS_OF)
    assert 10 <= overdue.sum() <= 500
    closed = tickets[stage == "closed"]
    assert (closed[schema.CLOSED_AT] >= closed[schema.DISPATCHED_AT]).all()
    assert (closed[schema.DISPATCHED_AT] >= closed[schema.CREATED_AT]).all()
    on_time = (closed[schema.CLOSED_AT] <= closed[schema.DEADLINE_AT]).mean()
    assert 0.85 < on_time < 0.99
    assert 0.005 < (closed[schema.REWORK_COUNT] > 0).mean() < 0.08


def test_ticket_sources_ratings_and_handlers(demo):
    tickets = demo["tickets"]
    assert (tickets[schema.SOURCE] == "grid_worker").mean() > 0.5
    assert set(tickets[schema.SOURCE]) == set(schema.TICKET_SOURCES)
    rated = tickets[schema.SATISFACTION].dropna()
    assert (rated == "satisfied").mean() > 0.8
    assert tickets.loc[tickets[schema.SATISFACTION].notna(), schema.STAGE].eq("closed").all()
    dispatched = tickets[schema.DISPATCHED_AT].notna() & (tickets[schema.STAGE] != "cancelled")
    assert tickets.loc[dispatched, schema.HANDLED_BY].notna().all()


def test_ticket_patterns_in_time(demo):
    tickets = demo["tickets"]
    created = tickets[schema.CREATED_AT]
    noise = created[tickets[schema.CATEGORY] == "噪音扰民"].dt.month
    assert noise.isin([7, 8]).sum() > 1.5 * noise.isin([1, 2]).sum()  # summer nights
    hour = created.dt.hour
    assert hour.between(9, 11).sum() > 5 * hour.between(2, 4).sum()
    weekend = created.dt.day_of_week >= 5
    assert weekend.mean() < 2 / 7  # grid workers report fewer issues at weekends


def test_tickets_fall_in_the_district_with_a_few_just_outside(metric):
    street = metric["grids"].union_all()
    tickets = metric["tickets"]
    outside = ~tickets.within(street)
    assert 0 < outside.mean() < 0.05
    assert tickets[outside].distance(street).max() < 500


def test_ticket_hot_spots(metric):
    """A few grids carry far more than their share of tickets (market, night street, old estate)."""
    grids, tickets = metric["grids"], metric["tickets"]
    per_grid = gpd.sjoin(tickets, grids, predicate="within").groupby(schema.GRID_ID).size()
    per_resident = per_grid / grids.set_index(schema.GRID_ID)[schema.POPULATION]
    assert per_resident.max() > 3 * per_resident.median()


def test_party_members(demo, metric):
    members = demo["members"]
    assert len(members) == pytest.approx(1_938, rel=0.05)
    assert (members[schema.GENDER] == "female").mean() == pytest.approx(0.35, abs=0.03)
    assert 10 <= (members[schema.STATUS] == "probationary").sum() <= 20
    assert set(members[schema.KIND]) == set(schema.MEMBER_KINDS)
    assert (members[schema.POST] == "网格党小组长").sum() == len(demo["grids"])
    assert metric["members"].within(metric["grids"].union_all()).all()


def test_patrol_teams_and_nightly_sign_ins(metric):
    teams, checkins = metric["patrol_teams"], metric["patrol_checkins"]
    assert 4 <= len(teams) <= 8
    assert (teams[schema.SHIFT] == "night").mean() > 0.5
    police = metric["service_points"]
    police = police[police[schema.KIND] == "police_room"].union_all()
    assert (teams.distance(police) < 60).all()  # based at a police room

    assert set(checkins[schema.TEAM_ID]) == set(teams[schema.TEAM_ID])
    night = (checkins[schema.CHECKED_AT] - pd.Timedelta(hours=12)).dt.normalize()
    assert night.max() == AS_OF.normalize()
    assert (night.max() - night.min()).days + 1 == 90
    team_nights = checkins.assign(night=night).drop_duplicates([schema.TEAM_ID, "night"])
    assert 0 < 90 * len(teams) - len(team_nights) < 0.2 * 90 * len(teams)  # some nights missed
    hour = checkins[schema.CHECKED_AT].dt.hour
    assert np.isin(hour, [17, 18, 19, 20, 21, 22, 23, 0, 1, 2]).all()
    assert checkins.within(metric["grids"].union_all()).all()


def test_duty_roster_gives_every_grid_one_team_where_it_signs_in(demo, metric):
    roster = load_demo_assignments()
    assert list(roster.columns) == [schema.TEAM_ID, schema.GRID_ID]
    assert sorted(roster[schema.GRID_ID]) == sorted(demo["grids"][schema.GRID_ID])
    assert set(roster[schema.TEAM_ID]) == set(demo["patrol_teams"][schema.TEAM_ID])
    assert roster.equals(demo_assignments(demo))  # the committed file is what the generator makes
    # each team's sign-in plates were placed in its own communities
    signed = gpd.sjoin(metric["patrol_checkins"], metric["grids"][[schema.GRID_ID, "geometry"]], predicate="within")
    owner = signed[schema.GRID_ID].map(roster.set_index(schema.GRID_ID)[schema.TEAM_ID])
    assert (owner == signed[schema.TEAM_ID]).mean() > 0.98


def test_manifest_says_where_the_hot_spots_are(demo, manifest):
    spots = manifest["hot_spots"]
    district = demo["grids"].union_all()
    for lon, lat in [spots["market"], spots["old_estate"], *spots["nightlife_street"]]:
        assert district.contains(shapely.Point(lon, lat))
    assert spots == demo_hot_spots(DEFAULT_SEED)
