"""core.joins: hand-built grids with known answers, and property tests against a brute-force reference.

The reference tests ``shapely.covers`` for every point and grid pair and keeps the smallest grid
position; ``GridIndex`` must give exactly that, on borders and vertices too, at any raster resolution.
"""

from __future__ import annotations

import itertools
import pickle

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon, box

from core.errors import GridWatchError, ValidationError
from core.joins import OUTSIDE, GridIndex, assign_points, join_to_grids
from core.schema import ASSIGNED, COMMUNITY, GRID_ID, SOURCE_GRID_CODE, STORAGE_CRS, STREET

PROPERTY = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
CELL_SIZES = (None, 0.03, 0.4, 7.0)  # default, fine, a few cells per grid, coarser than a grid


def brute_force(geometries, x, y) -> np.ndarray:
    """Smallest position of a grid covering each point, testing every pair; -1 where none does."""
    covers = shapely.covers(np.asarray(geometries, dtype=object)[None, :], shapely.points(x, y)[:, None])
    return np.where(covers.any(axis=1), covers.argmax(axis=1), OUTSIDE)


def grids_frame(geometries, crs=STORAGE_CRS) -> gpd.GeoDataFrame:
    n = len(geometries)
    return gpd.GeoDataFrame(
        {
            GRID_ID: [f"G{i}" for i in range(n)],
            COMMUNITY: [f"C{i // 2}" for i in range(n)],
            STREET: ["S"] * n,
        },
        geometry=list(geometries),
        crs=crs,
    )


def points_frame(xy, crs=STORAGE_CRS, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[Point(p) if p is not None else None for p in xy], crs=crs)


# ---- hand-built fixtures ------------------------------------------------------------------------------

# 2 x 2 unit squares:   2 | 3
#                       --+--
#                       0 | 1
SQUARES = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2), box(1, 1, 2, 2)]
SQUARE_CASES = [
    ((0.5, 0.5), 0),
    ((1.5, 0.5), 1),
    ((0.5, 1.5), 2),
    ((1.5, 1.5), 3),
    ((1.0, 0.5), 0),  # border of 0 and 1
    ((1.0, 1.5), 2),  # border of 2 and 3
    ((1.5, 1.0), 1),  # border of 1 and 3
    ((0.5, 1.0), 0),  # border of 0 and 2
    ((1.0, 1.0), 0),  # the vertex all four share
    ((2.0, 2.0), 3),
    ((0.0, 0.0), 0),
    ((2.0, 0.5), 1),  # outer corners and edges still count
    ((2.0000001, 0.5), OUTSIDE),
    ((-1e-12, 0.5), OUTSIDE),
    ((5.0, 5.0), OUTSIDE),
]


@pytest.mark.parametrize("cell_size", CELL_SIZES)
def test_squares_go_to_the_covering_grid_with_the_smallest_position(cell_size):
    index = GridIndex.from_grids(grids_frame(SQUARES), cell_size=cell_size)
    xy = np.array([p for p, _ in SQUARE_CASES])
    assert index.assign(xy[:, 0], xy[:, 1]).tolist() == [expected for _, expected in SQUARE_CASES]


def test_order_of_the_grids_decides_shared_borders():
    reversed_index = GridIndex.from_grids(grids_frame(SQUARES[::-1]))
    # reversed, square 3 is at position 0: the shared vertex and its borders go to it
    assert reversed_index.assign(np.array([1.0, 1.0, 1.5, 1.0]), np.array([1.0, 1.5, 1.0, 0.5])).tolist() == [
        0,
        0,
        0,
        2,
    ]


def test_hole_filled_by_another_grid():
    ring = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (3, 1), (3, 3), (1, 3)]])
    index = GridIndex.from_grids(grids_frame([ring, box(1, 1, 3, 3)]))
    x = np.array([2.0, 0.5, 1.0, 3.0, 2.0, 3.5])
    y = np.array([2.0, 0.5, 2.0, 3.0, 1.0, 3.5])
    # hole interior -> filler; ring -> 0; the hole's edge belongs to both, so to position 0
    assert index.assign(x, y).tolist() == [1, 0, 0, 0, 0, 0]


def test_unfilled_hole_is_outside():
    ring = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (3, 1), (3, 3), (1, 3)]])
    index = GridIndex.from_grids(grids_frame([ring]))
    assert index.assign(np.array([2.0, 1.0, 0.5]), np.array([2.0, 2.0, 0.5])).tolist() == [OUTSIDE, 0, 0]


def test_multipolygon_parts_all_belong_to_their_grid():
    grids = grids_frame([MultiPolygon([box(0, 0, 1, 1), box(5, 5, 6, 6)]), box(2, 2, 3, 3)])
    index = GridIndex.from_grids(grids)
    x = np.array([0.5, 5.5, 2.5, 3.5, 6.0])
    y = np.array([0.5, 5.5, 2.5, 3.5, 6.0])
    assert index.assign(x, y).tolist() == [0, 0, 1, OUTSIDE, 0]


def test_overlapping_grids_go_to_the_first():
    big, small = box(0, 0, 10, 10), box(2, 2, 3, 3)
    x, y = np.array([2.5, 5.0, 3.0]), np.array([2.5, 5.0, 3.0])
    assert GridIndex.from_grids(grids_frame([big, small])).assign(x, y).tolist() == [0, 0, 0]
    assert GridIndex.from_grids(grids_frame([small, big])).assign(x, y).tolist() == [0, 1, 0]


@pytest.mark.parametrize("cell_size", [1.0, 0.5, 0.25])
def test_diagonal_border_through_raster_cell_corners(cell_size):
    # The border x + y = 4 has a vertex at every lattice point, all on raster cell corners; some cells
    # it crosses hold neither end of a segment and are marked only through the margin around its
    # vertices and crossings. A point beside it must not take the other side's label.
    diagonal = [(3, 1), (2, 2), (1, 3)]
    lower = Polygon([(0, 0), (4, 0), *diagonal, (0, 4)])
    upper = Polygon([(4, 0), (4, 4), (0, 4), *diagonal[::-1]])
    index = GridIndex.from_grids(grids_frame([lower, upper]), cell_size=cell_size)
    x = np.array([2.75, 2.25, 1.75, 1.25, 2.5, 2.0])
    y = np.array([1.75, 1.25, 2.75, 2.25, 1.5, 2.0])
    assert index.assign(x, y).tolist() == [1, 0, 1, 0, 0, 0]
    eighths = np.arange(-3, 36, 2) / 8
    x, y = np.repeat(eighths, len(eighths)), np.tile(eighths, len(eighths))
    np.testing.assert_array_equal(index.assign(x, y), brute_force([lower, upper], x, y))


def test_lon_lat_grids_at_city_scale():
    # 0.001° squares in Hangzhou: vertices and borders, in degrees, still follow the rules exactly
    x0, y0, d = 120.17, 30.28, 0.001
    squares = [affinity.translate(affinity.scale(s, d, d, origin=(0, 0)), x0, y0) for s in SQUARES]
    index = GridIndex.from_grids(grids_frame(squares))
    vertices = shapely.get_coordinates(np.array(squares))
    x = np.concatenate([vertices[:, 0], [x0 + d / 2, x0 + 3 * d]])
    y = np.concatenate([vertices[:, 1], [y0 + d / 2, y0]])
    np.testing.assert_array_equal(index.assign(x, y), brute_force(squares, x, y))


def test_nan_coordinates_are_unassigned():
    index = GridIndex.from_grids(grids_frame(SQUARES))
    x = np.array([np.nan, 0.5, np.inf, 0.5])
    y = np.array([0.5, np.nan, 0.5, 0.5])
    assert index.assign(x, y).tolist() == [OUTSIDE, OUTSIDE, OUTSIDE, 0]


def test_empty_inputs():
    index = GridIndex.from_grids(grids_frame(SQUARES))
    assert index.assign(np.empty(0), np.empty(0)).dtype == np.int64
    no_grids = GridIndex.from_grids(grids_frame([]))
    assert no_grids.assign(np.array([0.5]), np.array([0.5])).tolist() == [OUTSIDE]
    only_missing = GridIndex.from_grids(grids_frame([None, Polygon()]))
    assert only_missing.assign(np.array([0.5]), np.array([0.5])).tolist() == [OUTSIDE]


def test_index_survives_pickling():
    index = GridIndex.from_grids(grids_frame(SQUARES))
    restored = pickle.loads(pickle.dumps(index))
    xy = np.array([p for p, _ in SQUARE_CASES])
    np.testing.assert_array_equal(restored.assign(xy[:, 0], xy[:, 1]), index.assign(xy[:, 0], xy[:, 1]))


def test_non_polygon_grids_are_rejected():
    with pytest.raises(ValidationError, match=r"LineString.*expected Polygon"):
        GridIndex.from_grids(grids_frame([box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)])]))


# ---- assign_points and join_to_grids ------------------------------------------------------------------


def test_assign_points_takes_a_geoseries_and_skips_missing_points():
    points = gpd.GeoSeries([Point(0.5, 0.5), None, Point(), Point(1.5, 1.5), Point(9, 9)], crs=STORAGE_CRS)
    assert assign_points(points, grids_frame(SQUARES)).tolist() == [0, OUTSIDE, OUTSIDE, 3, OUTSIDE]


def test_join_adds_grid_columns_and_keeps_the_files_grid_code():
    points = points_frame(
        [(0.5, 0.5), (1.5, 1.5), (9, 9), None], name=["a", "b", "c", "d"], grid_id=["X1", "X2", "X3", None]
    )
    points.index = [10, 20, 30, 40]
    joined = join_to_grids(points, grids_frame(SQUARES))

    assert joined[GRID_ID].tolist()[:2] == ["G0", "G3"]
    assert joined[COMMUNITY].tolist()[:2] == ["C0", "C1"]
    assert joined[STREET].tolist()[:2] == ["S", "S"]
    assert joined[GRID_ID].iloc[2:].isna().all() and joined[STREET].iloc[2:].isna().all()
    assert joined[ASSIGNED].dtype == bool
    assert joined[ASSIGNED].tolist() == [True, True, False, False]
    assert joined[SOURCE_GRID_CODE].tolist()[:3] == ["X1", "X2", "X3"]
    assert joined.index.tolist() == [10, 20, 30, 40]
    assert joined["name"].tolist() == ["a", "b", "c", "d"]
    assert GRID_ID in points.columns and SOURCE_GRID_CODE not in points.columns  # input untouched


def test_joining_a_joined_layer_again_changes_nothing():
    points = points_frame([(0.5, 0.5), (9, 9)], grid_id=["X1", "X2"])
    grids = grids_frame(SQUARES)
    once = join_to_grids(points, grids)
    twice = join_to_grids(once, grids)
    pd.testing.assert_frame_equal(pd.DataFrame(twice), pd.DataFrame(once))


def test_join_without_community_columns_leaves_them_missing():
    grids = grids_frame(SQUARES).drop(columns=[COMMUNITY, STREET])
    joined = join_to_grids(points_frame([(0.5, 0.5)]), grids)
    assert joined[GRID_ID].tolist() == ["G0"]
    assert joined[COMMUNITY].isna().all() and joined[STREET].isna().all()


def test_join_reuses_a_prebuilt_index():
    grids = grids_frame(SQUARES)
    index = GridIndex.from_grids(grids)
    joined = join_to_grids(points_frame([(1.5, 0.5)]), grids, index)
    assert joined[GRID_ID].tolist() == ["G1"]
    with pytest.raises(ValueError, match="build it from these grids"):
        join_to_grids(points_frame([(1.5, 0.5)]), grids.iloc[:2], index)


def test_crs_mismatch_says_what_arrived_and_how_to_fix_it():
    points = points_frame([(0.5, 0.5)], crs="EPSG:3857")
    with pytest.raises(GridWatchError) as raised:
        join_to_grids(points, grids_frame(SQUARES))
    assert isinstance(raised.value, ValidationError)
    message = str(raised.value)
    assert "CRS mismatch" in message and "EPSG:3857" in message and "EPSG:4326" in message
    assert "to_crs()" in message


def test_points_without_crs_do_not_match_lon_lat_grids():
    with pytest.raises(ValidationError, match="no CRS"):
        assign_points(points_frame([(0.5, 0.5)], crs=None), grids_frame(SQUARES))


def test_grids_without_grid_id_are_rejected():
    with pytest.raises(ValidationError, match="grid_id"):
        join_to_grids(points_frame([(0.5, 0.5)]), grids_frame(SQUARES).drop(columns=[GRID_ID]))


def test_non_point_geometries_are_rejected():
    points = gpd.GeoDataFrame(geometry=[Point(0.5, 0.5), box(0, 0, 1, 1)], crs=STORAGE_CRS)
    with pytest.raises(ValidationError, match=r"#2.*Polygon, expected Point"):
        join_to_grids(points, grids_frame(SQUARES))


# ---- property tests against the brute-force reference ---------------------------------------------------


def merged(pieces, groups):
    """One grid per group: the union of its pieces (a Polygon, or a MultiPolygon if they do not touch)."""
    return [shapely.union_all([p for p, g in zip(pieces, groups) if g == group]) for group in sorted(set(groups))]


@st.composite
def rectangle_tilings(draw):
    """Rectangles on an integer lattice merged into (Multi)Polygons, plus optional overlapping extras."""
    xs = sorted(draw(st.sets(st.integers(0, 12), min_size=2, max_size=6)))
    ys = sorted(draw(st.sets(st.integers(0, 12), min_size=2, max_size=6)))
    cells = [box(x0, y0, x1, y1) for x0, x1 in itertools.pairwise(xs) for y0, y1 in itertools.pairwise(ys)]
    groups = draw(st.lists(st.integers(0, 5), min_size=len(cells), max_size=len(cells)))
    grids = merged(cells, groups)
    extras = draw(
        st.lists(
            st.tuples(
                st.integers(0, 12), st.integers(0, 12), st.integers(1, 5), st.integers(1, 5), st.integers(0, len(grids))
            ),
            max_size=3,
        )
    )
    for x0, y0, w, h, at in extras:
        shape = box(x0, y0, x0 + w, y0 + h)
        if w > 2 and h > 2:  # some extras have a hole
            shape = shape.difference(box(x0 + 1, y0 + 1, x0 + 2, y0 + 2))
        grids.insert(at, shape)
    lattice = [(x, y) for x in range(-1, 14) for y in range(-1, 14)]
    halves = [(x + 0.5, y) for x, y in lattice] + [(x, y + 0.5) for x, y in lattice]
    points = np.array(lattice + halves, dtype=float)
    return grids, points


def scaled(grids, points, scale, offset):
    """The same tiling moved to lon/lat-like numbers, with the very same float arithmetic for both."""

    def move(xy):
        return xy * scale + offset

    return [shapely.transform(g, move) for g in grids], move(points)


@PROPERTY
@given(
    rectangle_tilings(),
    st.sampled_from([(1.0, 0.0), (1e-4, 116.3), (3.7e-3, -71.9)]),
    st.sampled_from(CELL_SIZES),
    st.integers(0, 2**32 - 1),
)
def test_rectangle_tilings_match_brute_force(tiling, transform, cell_size, seed):
    grids, points = tiling
    scale, offset = transform
    rng = np.random.default_rng(seed)
    random_points = rng.uniform(-1.5, 13.5, size=(200, 2))
    grids, points = scaled(grids, np.concatenate([points, random_points]), scale, offset)
    index = GridIndex.from_grids(grids_frame(grids), cell_size=None if cell_size is None else cell_size * scale)
    np.testing.assert_array_equal(
        index.assign(points[:, 0], points[:, 1]), brute_force(grids, points[:, 0], points[:, 1])
    )


@st.composite
def triangle_tilings(draw):
    """Unit squares cut along random diagonals, triangles merged into grids; a quarter lattice of points.

    Borders run diagonally through the raster's cell corners when the cell size divides the lattice,
    and the quarter points lie exactly on them (before scaling).
    """
    width, height = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    diagonals = draw(st.lists(st.booleans(), min_size=width * height, max_size=width * height))
    triangles = []
    for (x, y), rising in zip(((x, y) for x in range(width) for y in range(height)), diagonals):
        a, b, c, d = (x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1)
        corners = [(a, b, c), (a, c, d)] if rising else [(a, b, d), (b, c, d)]
        triangles += [Polygon(t) for t in corners]
    groups = draw(st.lists(st.integers(0, 6), min_size=len(triangles), max_size=len(triangles)))
    grids = merged(triangles, groups)
    quarters = np.arange(-4, 4 * max(width, height) + 5) / 4
    points = np.array([(x, y) for x in quarters for y in quarters])
    return grids, points


@PROPERTY
@given(
    triangle_tilings(),
    st.sampled_from([(1.0, 0.0), (1e-4, 116.3), (3.7e-3, -71.9), (0.1, 0.3)]),
    st.sampled_from([None, 1.0, 0.5, 0.25, 1 / 3, 0.1]),
)
def test_diagonal_borders_through_cell_corners_match_brute_force(tiling, transform, cell_size):
    grids, points = tiling
    scale, offset = transform
    grids, points = scaled(grids, points, scale, offset)
    index = GridIndex.from_grids(grids_frame(grids), cell_size=None if cell_size is None else cell_size * scale)
    np.testing.assert_array_equal(
        index.assign(points[:, 0], points[:, 1]), brute_force(grids, points[:, 0], points[:, 1])
    )


@st.composite
def voronoi_tilings(draw):
    """Voronoi cells of random seeds clipped to a ragged outline, some merged, some with holes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(3, 40))
    angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
    radii = rng.uniform(6, 10, 12)
    outline = shapely.Polygon(np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]))
    seeds = shapely.multipoints(rng.uniform(-6, 6, size=(n, 2)))
    cells = list(shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline)), outline))
    cells = [c for c in cells if not c.is_empty]
    if draw(st.booleans()) and len(cells) > 3:  # merge two cells into a (Multi)Polygon
        i, j = rng.choice(len(cells), 2, replace=False)
        cells[min(i, j)] = shapely.union_all([cells[i], cells[j]])
        del cells[max(i, j)]
    if draw(st.booleans()):  # cut a hole and fill it with a grid placed anywhere in the order
        i = rng.integers(len(cells))
        hole = shapely.buffer(shapely.centroid(cells[i]), 0.3, quad_segs=3)
        if cells[i].contains(hole):
            cells[i] = cells[i].difference(hole)
            cells.insert(int(rng.integers(len(cells) + 1)), hole)
    if draw(st.booleans()):  # a grid overlapping others
        cells.insert(int(rng.integers(len(cells) + 1)), box(*rng.uniform(-5, 0, 2), *rng.uniform(0, 5, 2)))
    cells = [shapely.segmentize(c, draw(st.sampled_from([0.5, 3.0, 100.0]))) for c in cells]
    return cells, rng


@PROPERTY
@given(voronoi_tilings(), st.sampled_from(CELL_SIZES))
def test_voronoi_tilings_match_brute_force(tiling, cell_size):
    grids, rng = tiling
    vertices = shapely.get_coordinates(np.array(grids, dtype=object))
    a = vertices[rng.integers(len(vertices), size=300)]
    b = vertices[rng.integers(len(vertices), size=300)]
    # consecutive vertices are mostly the ends of one edge
    along_edges = vertices[:-1] + rng.uniform(0, 1, (len(vertices) - 1, 1)) * (vertices[1:] - vertices[:-1])
    points = np.concatenate(
        [
            vertices,  # exactly on vertices, shared by up to three grids
            along_edges,  # on (or within float rounding of) borders
            a + (b - a) * rng.uniform(0, 1, (300, 1)),
            rng.uniform(-11, 11, size=(300, 2)),  # inside and outside the district
        ]
    )
    index = GridIndex.from_grids(grids_frame(grids), cell_size=cell_size)
    np.testing.assert_array_equal(
        index.assign(points[:, 0], points[:, 1]), brute_force(grids, points[:, 0], points[:, 1])
    )


def test_real_hangzhou_grids_match_brute_force(realdata):
    """332 real Xiacheng grids (one invalid, four with holes): every vertex, edge midpoint and more."""
    grids = gpd.read_file(realdata / "hangzhou" / "xiacheng_grids_wangge.geojson")
    geometries = np.asarray(grids.geometry.array, dtype=object)
    vertices = shapely.get_coordinates(geometries)
    rng = np.random.default_rng(7)
    xmin, ymin, xmax, ymax = grids.total_bounds
    points = np.concatenate(
        [vertices, (vertices[:-1] + vertices[1:]) / 2, rng.uniform((xmin, ymin), (xmax, ymax), size=(20_000, 2))]
    )
    assigned = GridIndex.from_grids(grids).assign(points[:, 0], points[:, 1])
    # brute force through an STRtree: a polygon covering a point always has it in its bounding box
    pts = shapely.points(points)
    point, grid = shapely.STRtree(geometries).query(pts)
    hit = shapely.covers(geometries[grid], pts[point])
    expected = np.full(len(points), len(geometries))
    np.minimum.at(expected, point[hit], grid[hit])
    expected[expected == len(geometries)] = OUTSIDE
    np.testing.assert_array_equal(assigned, expected)
    assert (assigned >= 0).mean() > 0.5


def test_grid_at_time_uses_the_boundaries_active_then():
    from core.joins import grid_at_time

    before = gpd.GeoDataFrame(
        {GRID_ID: ["old-A", "old-B"]}, geometry=[box(0, 0, 1, 2), box(1, 0, 2, 2)], crs=STORAGE_CRS
    )
    after = gpd.GeoDataFrame(
        {GRID_ID: ["new-S", "new-N"]}, geometry=[box(0, 0, 2, 1), box(0, 1, 2, 2)], crs=STORAGE_CRS
    )
    points = gpd.GeoDataFrame(
        geometry=[Point(0.5, 1.5), Point(0.5, 1.5), Point(1.5, 0.5), Point(9, 9), Point(1.5, 1.5)], crs=STORAGE_CRS
    )
    tz = "Asia/Shanghai"
    times = pd.Series(pd.to_datetime(["2025-01-01", "2026-06-01", "2026-01-01", "2026-06-01", None]).tz_localize(tz))
    switch = [(pd.Timestamp("2026-01-01", tz=tz), before), (pd.Timestamp("2026-05-01", tz=tz), after)]
    result = grid_at_time(points, times, switch)
    assert result.tolist()[:3] == ["old-A", "new-N", "old-B"]
    assert pd.isna(result.iloc[3])
    assert result.iloc[4] == "new-N"  # no time: the newest boundaries
