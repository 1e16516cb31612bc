"""Balanced, contiguous patrol districts: the demo district and a synthetic city part.

    python tests/perf/bench_patrols.py [--grids 2000] [--teams 40] [--seed 0]

Two cases: the demo (130 grids, 6 teams, workload from its last three months of tickets, its plan of
communities dealt to teams nearest first) and a synthetic part of a city (a Voronoi tiling of random
points clipped to a wavy outline, in UTM 51N around Hangzhou, stored in EPSG:4326; log-normal
workloads; team bases at random grids). Each case times what the Patrols page waits for: the
contiguity graph, the problem, and ``DistrictPlan.solve``. The baseline, measured in the same run on
the same problem, is the start the solver improves on: spopt's contiguity-constrained Ward regions
labelled with teams (``solve(max_iterations=0)``), and on the demo also the dealt plan. Quality
figures: max/min ratio and Gini of team workloads, mean Polsby-Popper, contiguity. Targets (issue 8):
130 × 6 ≤ 2 s; 2,000 × 40 ≤ 60 s on this 2-core machine. The one-off import of libpysal and spopt
(~2 s, paid once per process) is shown apart.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core import metrics, schema
from core.contiguity import Contiguity
from core.districts import DistrictPlan
from core.joins import join_to_grids
from core.workload import plan_report, workload
from geodata.generate import demo_assignments, load_demo

TZ = schema.DEFAULT_TIMEZONE
UTM = 32651
TARGETS_S = {"demo": 2.0, "city": 60.0}


def demo_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """The demo's grids, teams, workload (last three months) and its dealt plan."""
    layers = load_demo()
    grids, teams = layers["grids"], layers["patrol_teams"]
    tickets = join_to_grids(layers["tickets"], grids)
    period = metrics.Period(pd.Timestamp("2026-08-01", tz=TZ), pd.Timestamp("2026-11-01", tz=TZ))
    return grids, teams, workload(grids, tickets, period), demo_assignments(layers)


def city_case(n_grids: int, n_teams: int, seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """A Voronoi tiling of ``n_grids`` random points inside a wavy outline of ~24 km across."""
    rng = np.random.default_rng(seed)
    cx, cy = 230_000.0, 3_357_000.0  # UTM 51N near Hangzhou (120.2° E, 30.3° N)
    angle = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    radius = 12_000 * (1 + 0.15 * np.sin(3 * angle))
    outline = shapely.Polygon(np.column_stack([cx + radius * np.cos(angle), cy + radius * np.sin(angle)]))
    x0, y0, x1, y1 = outline.bounds
    points = np.empty((0, 2))
    while len(points) < n_grids:
        batch = rng.uniform([x0, y0], [x1, y1], (n_grids, 2))
        points = np.vstack([points, batch[shapely.contains_xy(outline, batch[:, 0], batch[:, 1])]])
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(points[:n_grids]), extend_to=outline))
    cells = shapely.intersection(cells, outline)
    ids = [f"G{k:05d}" for k in range(len(cells))]
    grids = gpd.GeoDataFrame(
        {
            schema.GRID_ID: ids,
            schema.NAME: ids,
            schema.COMMUNITY: "synthetic",
            schema.POPULATION: rng.integers(500, 3000, len(cells)),
        },
        geometry=cells,
        crs=UTM,
    ).to_crs(schema.STORAGE_CRS)
    bases = grids.geometry.representative_point().iloc[rng.choice(len(grids), n_teams, replace=False)]
    teams = gpd.GeoDataFrame(
        {
            schema.TEAM_ID: [f"T{t:02d}" for t in range(n_teams)],
            schema.NAME: [f"巡防{t + 1}队" for t in range(n_teams)],
        },
        geometry=bases.to_numpy(),
        crs=schema.STORAGE_CRS,
    )
    return grids, teams, pd.Series(rng.lognormal(0, 0.6, len(grids)), index=grids[schema.GRID_ID])


def quality(grids, plan, teams, work, graph) -> str:
    _, summary = plan_report(grids, plan, teams, work, contiguity=graph)
    return (
        f"max/min {summary['max_min_ratio']:6.3f}   Gini {summary['gini']:6.4f}   "
        f"Polsby-Popper {summary['polsby_popper_mean']:5.3f}   contiguous {summary['contiguous']}"
    )


def run(name: str, grids, teams, work, current: pd.DataFrame | None, seed: int) -> None:
    print(f"\n== {name}: {len(grids)} grids × {len(teams)} teams (target {TARGETS_S[name]:g} s)")
    began = time.perf_counter()
    graph = Contiguity.from_grids(grids)
    built = time.perf_counter()
    plan = DistrictPlan.from_geodataframes(grids, teams, work, current=current, contiguity=graph)
    ready = time.perf_counter()
    result = plan.solve(seed=seed)
    done = time.perf_counter()
    baseline = DistrictPlan.from_geodataframes(grids, teams, work, contiguity=graph).solve(seed=seed, max_iterations=0)
    total = done - began
    print(
        f"contiguity {built - began:6.2f} s   problem {ready - built:6.2f} s   solve {done - ready:6.2f} s   "
        f"total {total:6.2f} s   ({total / TARGETS_S[name]:.0%} of target; {result.status}, "
        f"{result.iterations} rounds, best from {result.start})"
    )
    print(f"baseline (spopt Ward seed, labelled, no improvement): {baseline.seconds:6.2f} s")
    if current is not None:
        print(f"  dealt plan        {quality(grids, current, teams, work, graph)}")
    print(f"  baseline          {quality(grids, baseline.assignment, teams, work, graph)}")
    print(f"  proposed          {quality(grids, result.assignment, teams, work, graph)}")
    print(
        f"  imbalance (sum of squared relative deviations): baseline {baseline.imbalance:.4f} → proposed "
        f"{result.imbalance:.4f} ({baseline.imbalance / max(result.imbalance, 1e-12):.0f}× lower)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grids", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    began = time.perf_counter()
    import libpysal.graph  # noqa: F401  (the one-off imports core.districts defers)
    import spopt.region  # noqa: F401

    print(f"import libpysal + spopt: {time.perf_counter() - began:.2f} s (once per process)")
    grids, teams, work, current = demo_case()
    run("demo", grids, teams, work, current, args.seed)
    grids, teams, work = city_case(args.grids, args.teams, args.seed)
    run("city", grids, teams, work, None, args.seed)


if __name__ == "__main__":
    main()
