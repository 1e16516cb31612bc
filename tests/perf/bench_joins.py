"""Benchmark core.joins against geopandas.sjoin, measured in the same run.

    python tests/perf/bench_joins.py            # all three sizes, about a minute on 2 cores
    python tests/perf/bench_joins.py --sizes 0  # only the smallest

Grids are irregular polygons tiling a district: Voronoi cells of random seeds (denser downtown) clipped
to a ragged outline, densified and bent by a smooth warp so borders wiggle but stay shared. Points are
half uniform over the district's bounds (some fall outside every grid), half in Gaussian clusters.

For each size it prints the index build time and points per second for ``GridIndex.assign`` on
coordinate arrays, for ``assign_points`` on a GeoDataFrame (coordinates extracted in the timing), and for
``geopandas.sjoin(points, grids, predicate="within")`` on the same GeoDataFrame, with the ratios to
sjoin for assign alone and for build + assign. Assignments must equal sjoin's (random float points never
fall exactly on a border, where ``within`` and our ``covers`` rule differ). Best of a few repeats.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.joins import GridIndex, assign_points
from core.schema import COMMUNITY, GRID_ID, STORAGE_CRS, STREET

SIZES = ((130, 100_000), (2_000, 1_000_000), (20_000, 5_000_000))
CENTRE = (120.17, 30.28)  # Hangzhou
GRID_SIDE_DEG = 0.004  # a typical urban grid is ~400 m across


def district_outline(n_grids: int, rng: np.random.Generator) -> shapely.Polygon:
    """A ragged, roughly round district big enough for ``n_grids`` typical grids."""
    radius = GRID_SIDE_DEG * np.sqrt(n_grids / np.pi)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 60))
    radii = radius * (1 + 0.25 * np.sin(3 * angles + rng.uniform(0, 6)) + rng.uniform(-0.08, 0.08, 60))
    return shapely.Polygon(np.column_stack([CENTRE[0] + radii * np.cos(angles), CENTRE[1] + radii * np.sin(angles)]))


def district_grids(n_grids: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """About ``n_grids`` irregular grids tiling a district, with grid_id, community and street."""
    outline = district_outline(n_grids, rng)
    xmin, ymin, xmax, ymax = outline.bounds
    seeds = np.empty((0, 2))
    while len(seeds) < n_grids:
        # denser towards the centre: half the candidates Gaussian, half uniform
        gauss = rng.normal(CENTRE, (xmax - xmin) / 5, size=(n_grids, 2))
        flat = rng.uniform((xmin, ymin), (xmax, ymax), size=(n_grids, 2))
        candidates = np.concatenate([gauss, flat])
        candidates = candidates[shapely.contains_xy(outline, candidates[:, 0], candidates[:, 1])]
        seeds = np.concatenate([seeds, candidates])[:n_grids]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline))
    cells = shapely.intersection(cells, outline)
    cells = cells[~shapely.is_empty(cells)]
    side = GRID_SIDE_DEG
    cells = shapely.segmentize(cells, side / 10)
    phase = rng.uniform(0, 2 * np.pi, 4)

    def warp(xy: np.ndarray) -> np.ndarray:
        # x' = x + A sin(k y), y' = y + A sin(k x) with A k < 1 stays one-to-one, so shared borders
        # stay shared and the tiling stays a tiling
        k = 2 * np.pi / (1.7 * side)
        amplitude = 0.2 * side
        return np.column_stack(
            [
                xy[:, 0] + amplitude * np.sin(k * xy[:, 1] + phase[0]) * np.cos(0.3 * k * xy[:, 0] + phase[1]),
                xy[:, 1] + amplitude * np.sin(k * xy[:, 0] + phase[2]) * np.cos(0.3 * k * xy[:, 1] + phase[3]),
            ]
        )

    cells = shapely.transform(cells, warp)
    ids = np.char.add("330102", np.char.zfill(np.arange(len(cells)).astype(str), 8))
    return gpd.GeoDataFrame(
        {
            GRID_ID: ids,
            COMMUNITY: np.char.add("community-", (np.arange(len(cells)) // 12).astype(str)),
            STREET: np.char.add("street-", (np.arange(len(cells)) // 150).astype(str)),
        },
        geometry=cells,
        crs=STORAGE_CRS,
    )


def random_points(n: int, grids: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Half uniform over the grids' bounds, half in Gaussian clusters around random grid centroids."""
    xmin, ymin, xmax, ymax = grids.total_bounds
    uniform = rng.uniform((xmin, ymin), (xmax, ymax), size=(n // 2, 2))
    centres = shapely.get_coordinates(
        shapely.centroid(grids.geometry.values[rng.integers(0, len(grids), max(n // 2000, 5))])
    )
    clustered = rng.normal(centres[rng.integers(0, len(centres), n - n // 2)], 2 * GRID_SIDE_DEG)
    xy = rng.permutation(np.concatenate([uniform, clustered]))
    return xy[:, 0].copy(), xy[:, 1].copy()


def best_time(repeats: int, run):
    """(fastest wall time in seconds, result of the last run)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def sjoin_assignment(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> np.ndarray:
    """sjoin's answer as grid positions (smallest where several match; -1 for none)."""
    joined = gpd.sjoin(points, grids, predicate="within")
    first = np.full(len(points), len(grids), dtype=np.int64)
    np.minimum.at(first, joined.index.to_numpy(), joined["index_right"].to_numpy())
    first[first == len(grids)] = -1
    return first


def run_size(n_grids: int, n_points: int, rng: np.random.Generator) -> dict:
    repeats = 3 if n_points <= 1_000_000 else 2
    grids = district_grids(n_grids, rng)
    x, y = random_points(n_points, grids, rng)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=STORAGE_CRS)

    build_s, index = best_time(repeats, lambda: GridIndex.from_grids(grids))
    assign_s, ours = best_time(repeats, lambda: index.assign(x, y))
    frame_s, from_frame = best_time(repeats, lambda: assign_points(points, grids, index))
    sjoin_s, reference = best_time(repeats, lambda: sjoin_assignment(points, grids))

    mismatched = int((ours != reference).sum())
    assert mismatched == 0, f"{mismatched} points assigned differently from sjoin"
    assert np.array_equal(ours, from_frame)
    return {
        "grids": len(grids),
        "points": n_points,
        "build_s": build_s,
        "raster": "x".join(map(str, index.labels.shape)),
        "raster_mb": index.labels.nbytes / 2**20,
        "edge_share": float(np.mean(index.labels == -2)),
        "assign": n_points / assign_s,
        "frame": n_points / frame_s,
        "sjoin": n_points / sjoin_s,
        "ratio_assign": sjoin_s / assign_s,
        "ratio_frame": sjoin_s / frame_s,
        "ratio_build": sjoin_s / (build_s + assign_s),
        "outside": float(np.mean(ours == -1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=range(len(SIZES)), help="which sizes to run (0, 1, 2)")
    parser.add_argument("--seed", type=int, default=20260301)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    header = (
        f"{'grids':>6} {'points':>9} {'build s':>8} {'raster':>11} {'MB':>5} {'edge':>5} "
        f"{'assign M/s':>10} {'frame M/s':>9} {'sjoin M/s':>9} "
        f"{'x assign':>8} {'x frame':>7} {'x build+assign':>14}"
    )
    print(header)
    for size in args.sizes:
        r = run_size(*SIZES[size], rng)
        print(
            f"{r['grids']:>6} {r['points']:>9} {r['build_s']:>8.3f} {r['raster']:>11} "
            f"{r['raster_mb']:>5.1f} {r['edge_share']:>5.1%} {r['assign'] / 1e6:>10.2f} "
            f"{r['frame'] / 1e6:>9.2f} {r['sjoin'] / 1e6:>9.2f} {r['ratio_assign']:>8.1f} "
            f"{r['ratio_frame']:>7.1f} {r['ratio_build']:>14.1f}",
            flush=True,
        )
    print(
        "x = sjoin time / ours (same points, same run); frame = assign_points on a GeoDataFrame; "
        "edge = share of raster cells needing the exact test"
    )


if __name__ == "__main__":
    main()
