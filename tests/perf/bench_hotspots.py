"""Benchmark: Getis-Ord Gi* on a city's 20,000 grids and on the H3 bins of 1,000,000 tickets.

Target (issue 7): each ≤ 10 s on this machine, weights included. Baseline, measured in the same run:
the same Gi* through libpysal's older ``weights.Queen`` (``W``) object instead of ``libpysal.graph``.
The z-scores of both are checked to be equal.

    python tests/perf/bench_hotspots.py
"""

from __future__ import annotations

import time

import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import shapely
from esda.getisord import G_Local

from core import hexes, hotspots, schema

GRIDS = 20_000
TICKETS = 1_000_000
SIDE_M = 50_000.0  # a 50 km × 50 km city
RESOLUTION = 9
TARGET_S = 10.0
UTM_51N = "EPSG:32651"
ORIGIN = (200_000.0, 3_330_000.0)  # near Hangzhou in UTM 51N


def city(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Voronoi grids over the square and tickets: a uniform background plus 40 Gaussian clusters."""
    x0, y0 = ORIGIN
    frame = shapely.box(x0, y0, x0 + SIDE_M, y0 + SIDE_M)
    seeds = shapely.points(rng.uniform((x0, y0), (x0 + SIDE_M, y0 + SIDE_M), (GRIDS, 2)))
    cells = shapely.intersection(
        np.array(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame).geoms), frame
    )
    grids = gpd.GeoDataFrame(
        {schema.GRID_ID: [f"G{i:05d}" for i in range(len(cells))]}, geometry=cells, crs=UTM_51N
    ).to_crs(schema.STORAGE_CRS)
    background = rng.uniform((x0, y0), (x0 + SIDE_M, y0 + SIDE_M), (TICKETS * 7 // 10, 2))
    centres = rng.uniform((x0, y0), (x0 + SIDE_M, y0 + SIDE_M), (40, 2))
    clustered = centres[rng.integers(0, 40, TICKETS - len(background))]
    clustered = clustered + rng.normal(0, 300, clustered.shape)
    xy = np.clip(np.vstack([background, clustered]), (x0, y0), (x0 + SIDE_M - 1, y0 + SIDE_M - 1))
    tickets = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM_51N).to_crs(schema.STORAGE_CRS)
    return grids, tickets


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<58} {seconds:7.2f} s")
    return result, seconds


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"building a synthetic city: {GRIDS:,} grids, {TICKETS:,} tickets …")
    grids, tickets = city(rng)
    per_grid = pd.Series(rng.poisson(30, len(grids)), index=grids[schema.GRID_ID])

    print("Gi* on grids")
    graph, t_graph = timed("queen contiguity (libpysal.graph)", lambda: hotspots.grid_graph(grids))
    result, t_gi = timed("Gi* z, p and classes, FDR (esda)", lambda: hotspots.gi_star(per_grid, graph, fdr=True))
    grids_total = t_graph + t_gi

    def baseline():
        w = libpysal.weights.Queen.from_dataframe(grids, use_index=False, silence_warnings=True)
        w.transform = "B"
        w = libpysal.weights.fill_diagonal(w, 1.0)
        return G_Local(per_grid.to_numpy(float), w, transform="B", permutations=0, star=True)

    legacy, t_legacy = timed("baseline: weights.Queen (W) + G_Local", baseline)
    same = np.allclose(np.sort(legacy.Zs), np.sort(result["z"].to_numpy()))

    print(f"Gi* on H3 bins (resolution {RESOLUTION}) of {TICKETS:,} tickets")
    area = gpd.GeoSeries([grids.union_all()], crs=schema.STORAGE_CRS)
    cells, t_cover = timed("cells covering the city (empty ones included)", lambda: hexes.hex_cover(area, RESOLUTION))
    counts, t_bin = timed(
        "binning the tickets (h3.latlng_to_cell)",
        lambda: hexes.hex_counts(tickets, RESOLUTION).reindex(cells, fill_value=0),
    )
    hex_graph, t_hex_graph = timed("ring-1 neighbours (libpysal.graph.build_h3)", lambda: hotspots.hex_graph(cells))
    hex_result, t_hex_gi = timed(
        "Gi* z, p and classes, FDR (esda)", lambda: hotspots.gi_star(counts, hex_graph, fdr=True)
    )
    hex_total = t_cover + t_bin + t_hex_graph + t_hex_gi

    months = pd.DataFrame(rng.poisson(3, (len(grids), 12)), index=grids[schema.GRID_ID])
    emerging, t_emerging = timed(
        "emerging hot spots, 12 months × 20,000 grids", lambda: hotspots.emerging_hotspots(months, graph)
    )

    print()
    print(
        f"grids: {grids_total:.2f} s for {len(grids):,} grids (target ≤ {TARGET_S:g} s: "
        f"{'met' if grids_total <= TARGET_S else 'MISSED'}); baseline W path {t_legacy:.2f} s "
        f"→ {t_legacy / grids_total:.1f}× faster; same z-scores: {same}"
    )
    print(
        f"hexes: {hex_total:.2f} s for {len(cells):,} cells, {int(counts.sum()):,} tickets binned "
        f"(target ≤ {TARGET_S:g} s: {'met' if hex_total <= TARGET_S else 'MISSED'}); "
        f"99% hot cells: {(hex_result['confidence'] == 3).sum():,}"
    )
    print(f"emerging: {t_emerging:.2f} s; classes: {emerging['pattern'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
