"""core.changes: the diff between two versions of the grids and the impact on point layers, on hand-built
grids with known areas (drawn in metres, UTM 51N around Hangzhou, stored in EPSG:4326)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely import affinity
from shapely.geometry import Point, box

from core import changes, schema
from core.errors import ValidationError
from core.joins import GridIndex

UTM = "EPSG:32651"
ORIGIN = pyproj.Transformer.from_crs(schema.STORAGE_CRS, UTM, always_xy=True).transform(120.17, 30.28)


def grids(polygons, ids, **columns) -> gpd.GeoDataFrame:
    """Grids drawn in metres from ``ORIGIN``, stored in EPSG:4326."""
    n = len(polygons)
    frame = gpd.GeoDataFrame(
        {
            schema.GRID_ID: ids,
            schema.NAME: [f"grid {i}" for i in ids],
            schema.COMMUNITY: ["A"] * n,
            schema.STREET: ["S"] * n,
            **columns,
        },
        geometry=[affinity.translate(p, *ORIGIN) if p is not None else None for p in polygons],
        crs=UTM,
    )
    return frame.to_crs(schema.STORAGE_CRS)


def points(xy, ids) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {schema.TICKET_ID: ids}, geometry=[Point(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in xy], crs=UTM
    )
    return frame.to_crs(schema.STORAGE_CRS)


# Active: a | b | c  (100 m squares in a row), d above a.
ACTIVE = grids(
    [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100), box(0, 100, 100, 200)],
    ["a", "b", "c", "d"],
    worker=["w1", "w2", "w3", "w4"],
    worker_phone=["130", "131", "132", "133"],
)
# New: a takes 20 m from b, c keeps its shape but gets a new worker and phone, d is gone, e is added east.
NEW = grids(
    [box(0, 0, 120, 100), box(120, 0, 200, 100), box(200, 0, 300, 100), box(300, 0, 400, 100)],
    ["a", "b", "c", "e"],
    worker=["w1", "w2", "w9", "w5"],
    worker_phone=["130", "131", "139", "134"],
)


# ---- diff_grids -------------------------------------------------------------------------------------
def test_diff_finds_added_removed_and_changed_grids_with_their_areas():
    diff = changes.diff_grids(ACTIVE, NEW)
    assert diff.added[schema.GRID_ID].tolist() == ["e"]
    assert diff.added[changes.AREA_KM2].iloc[0] == pytest.approx(0.01, rel=1e-6)
    assert diff.removed[schema.GRID_ID].tolist() == ["d"]
    assert diff.removed[changes.AREA_KM2].iloc[0] == pytest.approx(0.01, rel=1e-6)
    assert diff.unchanged == 0
    changed = diff.changed.set_index(schema.GRID_ID)
    assert changed.index.tolist() == ["a", "b", "c"]  # largest shape change first (a and b tie)
    assert changed.loc["a", changes.OLD_AREA_KM2] == pytest.approx(0.010, rel=1e-6)
    assert changed.loc["a", changes.NEW_AREA_KM2] == pytest.approx(0.012, rel=1e-6)
    assert changed.loc["a", changes.AREA_CHANGE_PCT] == pytest.approx(20, rel=1e-6)
    assert changed.loc["b", changes.AREA_CHANGE_PCT] == pytest.approx(-20, rel=1e-6)
    assert changed.loc["a", changes.SHAPE_CHANGE_M2] == pytest.approx(2000, rel=1e-6)
    assert changed[changes.GEOMETRY_CHANGED].tolist() == [True, True, False]
    assert changed.loc["a", changes.ATTRIBUTES_CHANGED] == ""


def test_attribute_changes_are_named_and_private_values_hidden():
    changed = changes.diff_grids(ACTIVE, NEW).changed.set_index(schema.GRID_ID)
    assert changed.loc["c", changes.ATTRIBUTES_CHANGED] == "worker, worker_phone"
    assert changed.loc["c", changes.ATTRIBUTE_DETAILS] == "worker: w3 → w9; worker_phone changed"
    assert changed.loc["c", changes.SHAPE_CHANGE_M2] == 0
    assert changed.loc["c", changes.AREA_CHANGE_PCT] == pytest.approx(0, abs=1e-9)


def test_shape_changes_within_the_tolerance_and_equal_missing_values_are_unchanged():
    nudged = grids([box(0, 0, 100.005, 100)], ["a"], households=[np.nan])  # 0.5 m² more
    before = grids([box(0, 0, 100, 100)], ["a"], households=[None])
    assert changes.diff_grids(before, nudged).unchanged == 1
    assert changes.diff_grids(before, nudged, tolerance_m2=0.1).unchanged == 1  # the border moved 5 mm
    diff = changes.diff_grids(before, nudged, tolerance_m2=0.1, shift_tolerance_m=0.001)
    assert diff.changed[changes.SHAPE_CHANGE_M2].iloc[0] == pytest.approx(0.5, rel=1e-3)
    assert diff.changed[changes.BORDER_SHIFT_M].iloc[0] == pytest.approx(0.005, rel=1e-2)


def test_coordinates_perturbed_in_the_last_digits_are_unchanged_without_an_overlay():
    # a GeoJSON round trip moves coordinates by ~1e-14°; 2e-6° (about 0.19 m east) is a real change
    def shifted(dx):
        return ACTIVE.set_geometry(ACTIVE.geometry.translate(dx, 0))

    assert changes.diff_grids(ACTIVE, shifted(1e-13)).unchanged == 4
    assert changes.diff_grids(ACTIVE, shifted(2e-6)).unchanged == 4  # 0.19 m: below the 1 m border rule
    diff = changes.diff_grids(ACTIVE, shifted(2e-6), shift_tolerance_m=0.1)
    to_utm = pyproj.Transformer.from_crs(schema.STORAGE_CRS, UTM, always_xy=True)
    dx, dy = np.subtract(to_utm.transform(120.17 + 2e-6, 30.28), to_utm.transform(120.17, 30.28))
    assert diff.unchanged == 0  # a 100 m square moved by (dx, dy) m: the bands on its four sides
    expected = 2 * 100 * (abs(dx) + abs(dy)) - 2 * abs(dx * dy)
    assert diff.changed[changes.SHAPE_CHANGE_M2].to_numpy() == pytest.approx(expected, rel=0.001)


def test_a_column_only_one_version_has_counts_as_changed_values():
    before = grids([box(0, 0, 100, 100)], ["a"])
    after = grids([box(0, 0, 100, 100)], ["a"], leader=["王芳"])
    diff = changes.diff_grids(before, after)
    assert diff.changed[changes.ATTRIBUTE_DETAILS].tolist() == ["leader: — → 王芳"]


def test_with_nothing_active_every_grid_is_added():
    diff = changes.diff_grids(None, NEW)
    assert diff.added[schema.GRID_ID].tolist() == ["a", "b", "c", "e"]
    assert diff.removed.empty and diff.changed.empty and diff.unchanged == 0


def test_a_grid_stored_in_several_rows_is_one_grid():
    split = grids([box(0, 0, 50, 100), box(50, 0, 100, 100), box(100, 0, 200, 100)], ["a", "a", "b"])
    whole = grids([box(0, 0, 100, 100), box(100, 0, 200, 100)], ["a", "b"])
    diff = changes.diff_grids(whole, split)
    assert diff.unchanged == 2 and diff.added.empty and diff.changed.empty


def test_a_polygon_that_disappears_has_changed():
    diff = changes.diff_grids(grids([box(0, 0, 100, 100)], ["a"]), grids([None], ["a"]))
    row = diff.changed.iloc[0]
    assert row[changes.GEOMETRY_CHANGED] and np.isnan(row[changes.SHAPE_CHANGE_M2])
    assert np.isnan(row[changes.NEW_AREA_KM2])


# ---- join_impact ------------------------------------------------------------------------------------
TICKETS = points(
    [
        (110, 50),  # b → a (a grew)
        (50, 150),  # d → nowhere (d removed)
        (350, 50),  # nowhere → e (added)
        (250, 50),  # c → c
        (150, 50),  # b → b
        (900, 900),
    ],  # outside both
    ["t1", "t2", "t3", "t4", "t5", "t6"],
)


def test_impact_counts_moves_and_points_falling_out_or_in():
    unmoved = points([(250, 50), (150, 50)], ["p1", "p2"])
    impact = changes.join_impact({"tickets": TICKETS, "service_points": unmoved}, ACTIVE, NEW)
    assert impact.by_layer == {
        "tickets": changes.ImpactCounts(total=6, moved=1, newly_unassigned=1, newly_assigned=1),
        "service_points": changes.ImpactCounts(total=2, moved=0, newly_unassigned=0, newly_assigned=0),
    }
    moves = impact.moves.astype(object).where(impact.moves.notna(), None)
    assert sorted(moves.itertuples(index=False, name=None), key=str) == sorted(
        [("tickets", "b", "a", 1), ("tickets", "d", None, 1), ("tickets", None, "e", 1)], key=str
    )
    assert impact.table().to_dict("records") == [
        {"layer": "tickets", "total": 6, "moved": 1, "newly_unassigned": 1, "newly_assigned": 1},
        {"layer": "service_points", "total": 2, "moved": 0, "newly_unassigned": 0, "newly_assigned": 0},
    ]
    assert impact.summary_lines()[0] == (
        "tickets: 1 of 6 move to another grid, 1 fall outside every grid, 1 come inside a grid"
    )


def test_moves_are_counted_per_grid_pair_largest_first():
    many = points([(110, 10), (110, 20), (110, 30), (50, 150)], ["t1", "t2", "t3", "t4"])
    moves = changes.join_impact({"tickets": many, "cameras": many.iloc[:1]}, ACTIVE, NEW).moves
    assert moves[changes.COUNT].tolist() == [3, 1, 1]
    assert moves[changes.LAYER].tolist() == ["tickets", "cameras", "tickets"]


def test_a_cached_active_index_gives_the_same_impact():
    fresh = changes.join_impact({"tickets": TICKETS}, ACTIVE, NEW)
    cached = changes.join_impact({"tickets": TICKETS}, ACTIVE, NEW, active_index=GridIndex.from_grids(ACTIVE))
    assert cached.by_layer == fresh.by_layer
    pd.testing.assert_frame_equal(cached.moves, fresh.moves)


def test_with_nothing_active_every_covered_point_is_newly_assigned():
    impact = changes.join_impact({"tickets": TICKETS}, None, NEW)
    assert impact.by_layer["tickets"] == changes.ImpactCounts(6, 0, 0, 4)


def test_no_point_layers_give_an_empty_impact():
    impact = changes.join_impact({}, ACTIVE, NEW)
    assert impact.by_layer == {} and impact.moves.empty and impact.table().empty


def test_points_in_another_crs_are_refused():
    with pytest.raises(ValidationError, match="CRS mismatch"):
        changes.join_impact({"tickets": TICKETS.to_crs(UTM)}, ACTIVE, NEW)


def test_rounding_to_six_decimals_is_not_a_change_but_a_redrawn_border_is():
    import shapely

    from core.changes import diff_grids
    from geodata import load_demo

    active = load_demo()["grids"]
    rounded = active.set_geometry(shapely.set_precision(active.geometry.array, 1e-6))
    assert len(diff_grids(active, rounded).changed) == 0
    moved = active.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(moved.geometry.iloc[0], xoff=0.00005)  # ≈ 5 m
    changed = diff_grids(active, moved).changed
    assert changed["grid_id"].tolist() == [active["grid_id"].iloc[0]]
    assert 4.0 < changed["border_shift_m"].iloc[0] < 6.0
