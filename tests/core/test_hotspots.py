"""core.hotspots: Gi* (against esda and the textbook formula), planted and uniform fields, emerging
classes, stacked points, time tables and the kernel density surface."""

from __future__ import annotations

import json

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from esda.getisord import G_Local  # the reference the wrapper is checked against
from scipy import stats

from core import geometry, hexes, hotspots, joins, repeats, schema
from core.errors import HotspotError
from geodata.generate import DEMO_DIR, MANIFEST_NAME, load_demo


# ---- Gi* ---------------------------------------------------------------------------------------------
def lattice(rows: int, cols: int, size: float = 0.002) -> gpd.GeoDataFrame:
    """rows × cols square grids near Hangzhou, ids "r{row:02d}c{col:02d}"."""
    boxes = [
        shapely.box(120.1 + c * size, 30.2 + r * size, 120.1 + (c + 1) * size, 30.2 + (r + 1) * size)
        for r in range(rows)
        for c in range(cols)
    ]
    ids = [f"r{r:02d}c{c:02d}" for r in range(rows) for c in range(cols)]
    return gpd.GeoDataFrame({schema.GRID_ID: ids}, geometry=boxes, crs=4326)


def test_gi_star_equals_esda_and_the_textbook_formula():
    grids = lattice(5, 6)
    graph = hotspots.grid_graph(grids)
    values = pd.Series(np.random.default_rng(1).poisson(6, len(grids)), index=grids[schema.GRID_ID])
    ours = hotspots.gi_star(values, graph)
    ref = G_Local(
        values.reindex(graph.unique_ids).to_numpy(float),
        graph.assign_self_weight(1),
        transform="B",
        permutations=0,
        star=True,
    )
    assert np.allclose(ours["z"], ref.Zs)
    assert np.allclose(ours["p"], 2 * ref.p_norm)
    # Getis & Ord (1992) Gi* for the interior grid r02c02 with binary weights: itself + 8 queen neighbours
    x = values.to_numpy(float)
    n, mean, s = len(x), x.mean(), np.sqrt((x**2).mean() - x.mean() ** 2)
    neighbourhood = [f"r{r:02d}c{c:02d}" for r in (1, 2, 3) for c in (1, 2, 3)]
    w = len(neighbourhood)
    z = (values[neighbourhood].sum() - mean * w) / (s * np.sqrt((n * w - w**2) / (n - 1)))
    assert ours.loc["r02c02", "z"] == pytest.approx(z)


def test_a_planted_cluster_is_a_99_percent_hot_spot_and_a_uniform_field_has_none_after_fdr():
    grids = lattice(20, 20)
    graph = hotspots.grid_graph(grids)
    rng = np.random.default_rng(7)
    ids = grids[schema.GRID_ID]
    background = pd.Series(rng.poisson(5, len(grids)), index=ids)
    cluster = [f"r{r:02d}c{c:02d}" for r in (9, 10, 11) for c in (4, 5, 6)]
    planted = background.copy()
    planted[cluster] += rng.poisson(20, len(cluster))
    found = hotspots.gi_star(planted, graph, fdr=True)
    assert found.loc["r10c05", "confidence"] == 3
    assert set(found.index[found["confidence"] == 3]) <= set(cluster) | {
        f"r{r:02d}c{c:02d}" for r in range(8, 13) for c in range(3, 8)
    }  # the cluster and its rim
    for seed in range(5):
        uniform = pd.Series(np.random.default_rng(100 + seed).poisson(5, len(grids)), index=ids)
        assert (hotspots.gi_star(uniform, graph, fdr=True)["confidence"] == 0).all()
        # without the FDR correction, chance alone makes some of 400 tests "significant"
    loose = [
        (
            hotspots.gi_star(pd.Series(np.random.default_rng(100 + s).poisson(5, len(grids)), index=ids), graph)[
                "confidence"
            ]
            != 0
        ).sum()
        for s in range(5)
    ]
    assert sum(loose) > 0


def test_gi_star_of_a_flat_or_empty_field_is_not_significant():
    grids = lattice(3, 3)
    graph = hotspots.grid_graph(grids)
    flat = hotspots.gi_star(pd.Series(4, index=grids[schema.GRID_ID]), graph)
    assert (flat["z"] == 0).all() and (flat["confidence"] == 0).all()
    empty = hotspots.gi_star(pd.Series(dtype=float), graph)
    assert (empty["value"] == 0).all() and (empty["confidence"] == 0).all()
    with pytest.raises(HotspotError, match="at least 3"):
        hotspots.gi_star(pd.Series([1, 2]), hotspots.grid_graph(lattice(1, 2)))


def test_grid_graph_joins_islands_and_sees_through_holes():
    ring = shapely.box(0, 0, 0.01, 0.01).difference(shapely.box(0.004, 0.004, 0.006, 0.006))
    core_ = shapely.box(0.004, 0.004, 0.006, 0.006)
    east = shapely.box(0.01, 0, 0.02, 0.01)
    island = shapely.box(0.05, 0.05, 0.051, 0.051)
    multi = shapely.MultiPolygon([shapely.box(0.02, 0, 0.03, 0.005), shapely.box(0.02, 0.006, 0.03, 0.01)])
    grids = gpd.GeoDataFrame(
        {schema.GRID_ID: ["ring", "core", "east", "island", "multi"]},
        geometry=[ring, core_, east, island, multi],
        crs=4326,
    )
    graph = hotspots.grid_graph(grids)
    neighbours = {k: set(v) for k, v in graph.neighbors.items()}
    assert neighbours["core"] == {"ring"}
    assert neighbours["ring"] == {"core", "east"}
    assert neighbours["multi"] == {"east", "island"}  # both parts touch east; the island is joined both ways
    assert neighbours["island"] == {"multi"}  # its nearest grid
    assert len(graph.isolates) == 0


def test_hex_graph_neighbours_are_the_six_touching_cells():
    centre = h3.latlng_to_cell(30.27, 120.18, 9)
    cells = pd.Index(sorted(h3.grid_disk(centre, 2)))
    graph = hotspots.hex_graph(cells)
    assert set(graph.neighbors[centre]) == set(h3.grid_ring(centre, 1))
    assert len(graph.neighbors[centre]) == 6


# ---- emerging hot spots ---------------------------------------------------------------------------------
def test_emerging_classes():
    grids = lattice(12, 12)
    graph = hotspots.grid_graph(grids)
    ids = pd.Index(grids[schema.GRID_ID])
    months = 12
    rng = np.random.default_rng(11)
    counts = pd.DataFrame(rng.poisson(5, (len(ids), months)), index=ids)

    def block(r: int, c: int) -> list[str]:
        return [f"r{rr:02d}c{cc:02d}" for rr in (r - 1, r, r + 1) for cc in (c - 1, c, c + 1)]

    counts.loc[block(2, 2)] += 40  # hot all year, flat
    counts.loc[block(2, 9)] += np.linspace(30, 100, months).round().astype(int)  # hot all year, rising
    counts.loc[block(9, 2)] += np.linspace(110, 50, months).round().astype(int)  # hot all year, falling
    counts.loc[block(9, 9), months - 1] += 60  # only in the last month
    counts.loc[block(6, 6), [months - 3, months - 2, months - 1]] += 50  # the last three months
    counts.loc[block(6, 2), list(range(0, 11))] += 50  # all year but not the last month
    result = hotspots.emerging_hotspots(counts, graph)
    assert result.loc["r02c02", "pattern"] == "persistent"
    assert result.loc["r02c09", "pattern"] == "intensifying"
    assert result.loc["r09c02", "pattern"] == "diminishing"
    assert result.loc["r09c09", "pattern"] == "new"
    assert result.loc["r06c06", "pattern"] == "consecutive"
    assert result.loc["r06c02", "pattern"] == "historical"
    assert set(result["pattern"]) <= set(hotspots.EMERGING_CLASSES)
    with pytest.raises(HotspotError, match="3 months"):
        hotspots.emerging_hotspots(counts.iloc[:, :2], graph)


def test_sporadic_and_oscillating():
    grids = lattice(10, 10)
    graph = hotspots.grid_graph(grids)
    ids = pd.Index(grids[schema.GRID_ID])
    counts = pd.DataFrame(10, index=ids, columns=range(8))
    counts.iloc[:, :] += np.random.default_rng(4).integers(0, 2, (len(ids), 8))
    spot = [f"r{r:02d}c{c:02d}" for r in (2, 3, 4) for c in (2, 3, 4)]
    counts.loc[spot, [1, 4, 7]] += 40  # on, off, on, off … and on in the last month
    result = hotspots.emerging_hotspots(counts, graph)
    assert result.loc["r03c03", "pattern"] == "sporadic"
    cold = [f"r{r:02d}c{c:02d}" for r in (6, 7, 8) for c in (6, 7, 8)]
    counts.loc[cold, 2] = 0
    counts.loc[cold, [0, 5, 7]] += 40
    assert hotspots.emerging_hotspots(counts, graph).loc["r07c07", "pattern"] == "oscillating"


# ---- time and density ------------------------------------------------------------------------------------
def test_hour_weekday_and_seasonality_count_local_time():
    created = pd.to_datetime(
        ["2026-11-02 08:30", "2026-11-02 08:59", "2026-11-08 23:10", "2026-01-15 12:00"], utc=True
    )  # local: 16:30 / 16:59 Monday, 07:10 Monday 9 Nov, 20:00 Thursday
    tickets = pd.DataFrame(
        {schema.CREATED_AT: created.tz_convert(schema.DEFAULT_TIMEZONE), schema.CATEGORY: ["a", "a", "b", "b"]}
    )
    matrix = hotspots.hour_weekday(tickets)
    assert matrix.shape == (7, 24) and matrix.to_numpy().sum() == 4
    assert matrix.loc[0, 16] == 2 and matrix.loc[0, 7] == 1 and matrix.loc[3, 20] == 1
    months = pd.period_range("2025-12", "2026-11", freq="M")
    season = hotspots.monthly_seasonality(tickets, months)
    assert season.shape == (12, 2) and season.index[0] == "2025-12"
    assert season.loc["2026-11"].tolist() == [2, 1] and season.loc["2026-01"].tolist() == [0, 1]
    assert season.loc["2025-12"].tolist() == [0, 0]
    assert hotspots.monthly_seasonality(tickets, months, by=None)["total"].sum() == 4


def test_kernel_density_integrates_to_the_count_and_peaks_at_the_points():
    area = gpd.GeoDataFrame(geometry=[shapely.box(120.15, 30.25, 120.19, 30.29)], crs=4326)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([120.17] * 50, [30.27] * 50), crs=4326)
    surface = hotspots.kernel_density(points, area, bandwidth_m=150)
    total = surface.values.sum() * surface.cell_m**2 / 1e6
    assert total == pytest.approx(50, rel=1e-3)
    row, col = np.unravel_index(surface.values.argmax(), surface.values.shape)
    west, south, east, north = surface.bounds
    rows, cols = surface.values.shape
    lon = west + (col + 0.5) * (east - west) / cols
    lat = north - (row + 0.5) * (north - south) / rows
    assert (lon, lat) == (pytest.approx(120.17, abs=0.001), pytest.approx(30.27, abs=0.001))
    # the peak of a Gaussian kernel: 50 / (2π σ²) per m², here per km²
    assert surface.values.max() == pytest.approx(50 / (2 * np.pi * 150**2) * 1e6, rel=0.1)
    with pytest.raises(HotspotError):
        hotspots.kernel_density(points, area, bandwidth_m=0)


def test_the_demo_districts_planted_hot_spots_are_found():
    """The generator plants a wet market, a night-food street and an old estate (manifest ``hot_spots``);
    with the FDR correction each is a 99 % hot spot on res-9 hexagons and a ≥ 95 % one on grids."""
    layers = load_demo()
    grids = layers["grids"]
    tickets = joins.join_to_grids(layers["tickets"], grids)
    tickets = tickets[tickets[schema.ASSIGNED]]
    spots = json.loads((DEMO_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))["hot_spots"]
    places = {
        "market": spots["market"],
        "old_estate": spots["old_estate"],
        "nightlife_street": np.mean(spots["nightlife_street"], axis=0).tolist(),
    }
    cells = hexes.hex_cover(geometry.streets_from_grids(grids), 9)
    on_hexes = hotspots.gi_star(
        hexes.hex_counts(tickets, 9).reindex(cells, fill_value=0), hotspots.hex_graph(cells), fdr=True
    )
    on_grids = hotspots.gi_star(tickets[schema.GRID_ID].value_counts(), hotspots.grid_graph(grids), fdr=True)
    index = joins.GridIndex.from_grids(grids)
    for name, (lon, lat) in places.items():
        assert on_hexes.loc[h3.latlng_to_cell(lat, lon, 9), "confidence"] == 3, name
        grid_id = grids[schema.GRID_ID].iloc[index.assign(np.array([lon]), np.array([lat]))[0]]
        assert on_grids.loc[grid_id, "confidence"] >= 2, name
    assert (on_hexes["confidence"] < 0).sum() == 0 and (on_grids["confidence"] < 0).sum() == 0


def test_mann_kendall_equals_scipy_with_and_without_ties():
    rng = np.random.default_rng(5)
    rows = np.vstack(
        [rng.normal(size=(20, 12)), rng.integers(0, 4, (20, 12)).astype(float), np.arange(12.0), np.full(12, 3.0)]
    )
    tau, p = hotspots._mann_kendall(rows)
    for row, tau_i, p_i in zip(rows, tau, p):
        if np.ptp(row) == 0:
            assert tau_i == 0 and p_i == 1
            continue
        ref = stats.kendalltau(np.arange(12), row, method="asymptotic")
        assert tau_i == pytest.approx(ref.statistic) and p_i == pytest.approx(ref.pvalue)


def test_a_hexagon_without_neighbours_is_kept_and_joined_to_the_nearest():
    centre = h3.latlng_to_cell(30.27, 120.18, 9)
    far = h3.grid_ring(centre, 5)[0]
    cells = pd.Index(sorted([*h3.grid_disk(centre, 1), far]))
    graph = hotspots.hex_graph(cells)
    assert set(graph.unique_ids) == set(cells)
    assert len(graph.neighbors[far]) == 1 and len(graph.isolates) == 0
    counts = pd.Series(1, index=cells)
    assert len(hotspots.gi_star(counts, graph)) == len(cells)


def stacked_field(stacked: int = 300, spread: int = 2_000) -> gpd.GeoDataFrame:
    """``spread`` tickets scattered over a district and ``stacked`` at one call-centre point, all of one
    category within a week, so the stacked ones would all be "repeats" of one another."""
    rng = np.random.default_rng(11)
    lon = np.r_[rng.uniform(120.1, 120.2, spread), np.full(stacked, 120.15)]
    lat = np.r_[rng.uniform(30.2, 30.3, spread), np.full(stacked, 30.25)]
    created = pd.Timestamp("2026-03-02", tz=schema.DEFAULT_TIMEZONE) + pd.to_timedelta(
        rng.uniform(0, 6 * 24, spread + stacked), unit="h"
    )
    return gpd.GeoDataFrame(
        {
            schema.TICKET_ID: [f"T{i}" for i in range(spread + stacked)],
            schema.CATEGORY: "市容环境",
            schema.CREATED_AT: created,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


def test_points_stacked_on_one_coordinate_are_found_and_left_out_by_default():
    tickets = stacked_field()
    stacked = hotspots.stacked_coordinates(tickets)
    assert stacked.to_dict("records") == [{"lon": 120.15, "lat": 30.25, "count": 300}]
    assert hotspots.stacked_total(stacked) == 300 and hotspots.stacked_total(stacked.iloc[:0]) == 0
    kept, found = hotspots.without_stacked(tickets)
    assert len(kept) == 2_000 and found.equals(stacked)
    cases = repeats.repeat_cases(tickets, 50.0, 7.0)
    with_stack = repeats.repeat_cases(tickets, 50.0, 7.0, include_stacked=True)
    assert len(with_stack) - len(cases) == 299, "the stack: every ticket after the first is a 'repeat'"
    area = gpd.GeoDataFrame(geometry=[shapely.box(120.1, 30.2, 120.2, 30.3)], crs=4326)
    excluded = hotspots.kernel_density(tickets, area, 200.0).values
    included = hotspots.kernel_density(tickets, area, 200.0, include_stacked=True).values
    assert included.max() > 10 * excluded.max()


def test_a_busy_real_place_is_not_a_stack():
    rng = np.random.default_rng(5)
    tickets = stacked_field(stacked=0)
    market = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(120.15 + rng.normal(0, 2e-4, 400), 30.25 + rng.normal(0, 2e-4, 400)), crs=4326
    )
    assert hotspots.stacked_coordinates(pd.concat([tickets, market])).empty
    few = stacked_field(stacked=40)  # fewer than STACKED_MIN_POINTS on one coordinate
    assert hotspots.stacked_coordinates(few).empty


def test_the_demo_has_no_stacked_tickets():
    assert hotspots.stacked_coordinates(load_demo()["tickets"]).empty


def test_spot_counts_per_class_cold_and_emerging():
    table = pd.DataFrame(
        {"confidence": [3, 3, 2, 0, -1, -3], "pattern": ["new", "persistent", "intensifying", "none", "none", "none"]}
    )
    counts = hotspots.SpotCounts.of(table)
    assert counts == hotspots.SpotCounts(hot={3: 2, 2: 1, 1: 0}, cold=2, emerging=2)
    assert list(counts.hot) == [3, 2, 1]  # most confident first, as shown
