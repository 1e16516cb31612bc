"""Benchmark the Data page's boundary upload, stage by stage, against named baselines in the same run.

    python tests/perf/bench_upload.py                   # 20,000 grids, 100,000 tickets
    python tests/perf/bench_upload.py --grids 2000      # a smaller district

The active version tiles a district with irregular grids: Voronoi cells of random seeds (denser
downtown) clipped to a ragged outline, their shared borders densified once and bent by a smooth warp,
so neighbours share every vertex (a clean coverage, like a file kept in a topology-aware GIS; ~30
vertices per grid, ~0.05 km² like Xiacheng's). Communities are contiguous groups of ~12 grids, streets
groups of ~12 communities. The uploaded version edits it the way a real revision does and adds the
mistakes the checks must catch: grids renamed and re-staffed, neighbours merged, grids split (their
neighbours keep the old vertices), grids deleted at the edge, new grids east of the district, grids
shifted by 15 m (overlaps, some across community lines, and gaps), a duplicate row and a stray sliver.
It travels as GeoJSON bytes.

Stages (the target is the whole pipeline in 10 s on 2 cores):
read (core.io.read_upload from bytes, as the Data page does), schema (core.validate.problems_in), outline (core.boundaries.district_outline
of the active grids), topology (core.boundaries.boundary_problems), diff (core.changes.diff_grids),
index (the active grids' GridIndex, as the dashboard builds it), impact (core.changes.join_impact on
100,000 tickets with that index; it builds the new version's), map
(dashboard.components.map_builders.boundary_change_map: the grids the change touches, simplified, over the
district outline, as the Data page shows a city) and html (``m.get_root().render()``, the live part added). Stages marked * depend on the active
version only; the dashboard caches them per version (``dashboard/data/``), so an upload pays the rest.

Baselines, on the same data in the same run: topology — geopandas ``sjoin(predicate="intersects")`` on
the projected grids and the intersection area of every pair, plus ``union_all`` and a difference for
gaps; outline — ``shapely.union_all``; diff — the symmetric difference of every common grid; impact —
``geopandas.sjoin(predicate="within")`` against both versions, against index + impact. The run with
the smallest total of ``--repeats`` is shown.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core import boundaries, changes, schema
from core.geometry import metric_crs
from core.io import read_upload
from core.joins import GridIndex
from core.validate import problems_in
from dashboard.components import map_builders

UTM = "EPSG:32651"
CENTRE = pyproj.Transformer.from_crs(schema.STORAGE_CRS, UTM, always_xy=True).transform(120.17, 30.28)
GRID_SIDE_M = 230.0  # Xiacheng's median grid is 0.05 km²
TARGET_S = 10.0
LABELS = {
    "grid": "grid",
    "active_layer": "active",
    "new_layer": "new",
    "outline_layer": "outline",
    "status.added": "added",
    "status.changed": "changed",
    "status.unchanged": "unchanged",
}


# ---- the district -----------------------------------------------------------------------------------
def active_grids(n_grids: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """About ``n_grids`` grids tiling a ragged district, with canonical columns (a clean coverage)."""
    radius = GRID_SIDE_M * np.sqrt(n_grids / np.pi)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 80))
    radii = radius * (1 + 0.2 * np.sin(3 * angles + rng.uniform(0, 6)) + rng.uniform(-0.05, 0.05, 80))
    outline = shapely.Polygon(np.column_stack([CENTRE[0] + radii * np.cos(angles), CENTRE[1] + radii * np.sin(angles)]))
    xmin, ymin, xmax, ymax = outline.bounds
    seeds = np.empty((0, 2))
    while len(seeds) < n_grids:
        candidates = np.concatenate(
            [
                rng.normal(CENTRE, radius / 2.5, size=(n_grids, 2)),
                rng.uniform((xmin, ymin), (xmax, ymax), size=(n_grids, 2)),
            ]
        )
        inside = shapely.contains_xy(outline, candidates[:, 0], candidates[:, 1])
        seeds = np.concatenate([seeds, candidates[inside]])[:n_grids]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline))
    cells = shapely.intersection(cells, outline)
    # every border once: noded, densified, polygonized back, so neighbours share every vertex
    borders = shapely.segmentize(shapely.union_all(shapely.boundary(cells)), GRID_SIDE_M / 7)
    cells = shapely.get_parts(shapely.polygonize(shapely.get_parts(borders)))
    cells = shapely.transform(cells, _warp(rng))
    to_lonlat = pyproj.Transformer.from_crs(UTM, schema.STORAGE_CRS, always_xy=True)
    cells = shapely.transform(cells, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    return _with_attributes(cells, rng)


def _warp(rng: np.random.Generator):
    """A smooth one-to-one bend of the plane, so straight Voronoi borders wiggle but stay shared."""
    phase = rng.uniform(0, 2 * np.pi, 4)
    k = 2 * np.pi / (1.7 * GRID_SIDE_M)
    amplitude = 0.15 * GRID_SIDE_M  # amplitude * k < 1 keeps it one-to-one

    def warp(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack(
            [
                x + amplitude * np.sin(k * y + phase[0]) * np.cos(0.3 * k * x + phase[1]),
                y + amplitude * np.sin(k * x + phase[2]) * np.cos(0.3 * k * y + phase[3]),
            ]
        )

    return warp


def _with_attributes(cells: np.ndarray, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Canonical grid columns; communities are the grids nearest one of n/12 seeds, streets likewise."""
    centres = shapely.point_on_surface(cells)
    community_seeds = centres[rng.choice(len(cells), max(len(cells) // 12, 1), replace=False)]
    _, community = shapely.STRtree(community_seeds).query_nearest(centres, all_matches=False)
    street_seeds = community_seeds[rng.choice(len(community_seeds), max(len(community_seeds) // 12, 1), replace=False)]
    _, street_of = shapely.STRtree(street_seeds).query_nearest(community_seeds, all_matches=False)
    order = np.lexsort((np.arange(len(cells)), community))
    cells, community = cells[order], community[order]
    sequence = np.arange(len(cells)) - np.searchsorted(community, community)
    surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"))
    given = np.array(["芳", "伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "涛"])
    n = len(cells)
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: [f"330102{i:08d}" for i in range(n)],
            schema.NAME: [f"第{c + 1}社区第{s + 1}网格" for c, s in zip(community, sequence)],
            schema.COMMUNITY: [f"第{c + 1}社区" for c in community],
            schema.STREET: [f"第{s + 1}街道" for s in street_of[community]],
            schema.LEADER: np.char.add(rng.choice(surnames, n), rng.choice(given, n)),
            schema.WORKER: np.char.add(rng.choice(surnames, n), rng.choice(given, n)),
            schema.WORKER_PHONE: [f"13{v:09d}" for v in rng.integers(0, 10**9, n)],
            schema.HOUSEHOLDS: rng.integers(200, 900, n),
            schema.POPULATION: rng.integers(500, 2500, n),
        },
        geometry=cells,
        crs=schema.STORAGE_CRS,
    )


def revised(active: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The uploaded version: a realistic revision of ``active`` plus mistakes for the checks to find."""
    metric = active.to_crs(UTM)
    geometries = np.asarray(metric.geometry.array, dtype=object).copy()
    n = len(active)
    frame = metric.drop(columns="geometry")
    frame.loc[rng.choice(n, n // 100, replace=False), schema.NAME] += "（调整）"
    frame.loc[rng.choice(n, n // 70, replace=False), schema.WORKER] = "新网格员"
    tree = shapely.STRtree(geometries)
    touched = np.zeros(n, dtype=bool)
    dropped, extra_rows, extra_geometries = [], [], []

    def untouched(k: int) -> np.ndarray:
        chosen = rng.choice(np.flatnonzero(~touched), k, replace=False)
        touched[chosen] = True
        return chosen

    def add(grid: int, geometry: shapely.Geometry, **values) -> None:
        extra_rows.append({**frame.iloc[grid].to_dict(), **values})
        extra_geometries.append(geometry)

    for grid in rng.choice(n, n // 400, replace=False):  # merge a grid with a free neighbour
        _, neighbours = tree.query(geometries[[grid]], predicate="touches")
        free = [j for j in neighbours if not touched[[j, grid]].any()]
        if free:
            geometries[grid] = shapely.union(geometries[grid], geometries[free[0]])
            touched[[grid, free[0]]] = True
            dropped.append(free[0])
    for grid in untouched(n // 650):  # split in two; the neighbours keep their old vertices
        x = shapely.centroid(geometries[grid]).x
        xmin, ymin, xmax, ymax = geometries[grid].bounds
        add(
            grid,
            shapely.clip_by_rect(geometries[grid], x, ymin, xmax, ymax),
            grid_id=frame.iloc[grid][schema.GRID_ID] + "B",
        )
        geometries[grid] = shapely.clip_by_rect(geometries[grid], xmin, ymin, x, ymax)
    shifted = untouched(10)  # drawn 15 m off: overlaps, some across community lines, and gaps
    geometries[shifted] = [shapely.affinity.translate(g, 15.0, 10.0) for g in geometries[shifted]]
    owner, donor = untouched(2)  # a 4 m x 4 m piece filed under a grid far away: a stray sliver
    centre = shapely.get_coordinates(shapely.point_on_surface(geometries[donor]))[0]
    piece = shapely.box(*(centre - 2), *(centre + 2))
    geometries[donor] = shapely.difference(geometries[donor], piece)
    geometries[owner] = shapely.multipolygons([*shapely.get_parts(geometries[owner]), piece])
    (duplicate,) = untouched(1)
    add(duplicate, geometries[duplicate], grid_id=frame.iloc[duplicate][schema.GRID_ID] + "D")
    district = shapely.union_all(geometries)
    edge = np.flatnonzero(~touched & shapely.intersects(geometries, district.boundary))
    dropped += list(rng.choice(edge, 20, replace=False))  # grids given up at the edge
    east = district.bounds[2]
    for k in range(5):  # new grids east of the district
        left = east + 50 + 200 * k
        add(0, shapely.box(left, CENTRE[1], left + 180, CENTRE[1] + 200), grid_id=f"33010299{k:06d}", name="新增网格")
    keep = np.setdiff1d(np.arange(n), dropped)
    rows = pd.concat([frame.iloc[keep], pd.DataFrame(extra_rows)], ignore_index=True)
    polygons = np.concatenate([geometries[keep], np.array(extra_geometries, dtype=object)])
    return gpd.GeoDataFrame(rows, geometry=polygons, crs=UTM).to_crs(schema.STORAGE_CRS)


def tickets(n: int, grids: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Half uniform over the grids' bounds, half clustered around random grids."""
    xmin, ymin, xmax, ymax = grids.total_bounds
    uniform = rng.uniform((xmin, ymin), (xmax, ymax), size=(n // 2, 2))
    centres = shapely.get_coordinates(
        shapely.point_on_surface(grids.geometry.array[rng.integers(0, len(grids), max(n // 2000, 5))])
    )
    clustered = rng.normal(centres[rng.integers(0, len(centres), n - n // 2)], 0.003)
    xy = np.concatenate([uniform, clustered])
    return gpd.GeoDataFrame(
        {schema.TICKET_ID: [f"T{i}" for i in range(n)]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=schema.STORAGE_CRS,
    )


def geojson_bytes(grids: gpd.GeoDataFrame) -> bytes:
    buffer = io.BytesIO()
    pyogrio.write_dataframe(grids, buffer, driver="GeoJSON")
    return buffer.getvalue()


# ---- the pipeline and its baselines -----------------------------------------------------------------
def pipeline(payload: bytes, active: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> tuple[dict, dict]:
    """Run every stage once: (seconds per stage, what each produced)."""
    seconds, out = {}, {}

    def stage(name, run):
        start = time.perf_counter()
        out[name] = run()
        seconds[name] = time.perf_counter() - start
        return out[name]

    new = stage("read", lambda: read_upload("grids.geojson", payload).frame)
    stage("schema", lambda: problems_in(new, "grids"))
    outline = stage("outline*", lambda: boundaries.district_outline(active))
    stage("topology", lambda: boundaries.boundary_problems(new, outline=outline))
    diff = stage("diff", lambda: changes.diff_grids(active, new))
    index = stage("index*", lambda: GridIndex.from_grids(active))
    stage("impact", lambda: changes.join_impact({"tickets": points}, active, new, active_index=index))
    preview, live = stage("map", lambda: map_builders.boundary_change_map(active, new, diff, outline, labels=LABELS))
    stage("html", lambda: live.add_to(preview).get_root().render())  # as st_folium adds the live part
    return seconds, out


def baseline_topology(new: gpd.GeoDataFrame, outline: shapely.Geometry) -> tuple[int, int]:
    """Overlapping pairs and gap pieces (≥ 1 m²) the plain geopandas way."""
    metric = new.to_crs(metric_crs(new))[["geometry"]].reset_index(drop=True)
    metric["geometry"] = metric.make_valid()
    pairs = gpd.sjoin(metric, metric, predicate="intersects")
    pairs = pairs[pairs.index < pairs["index_right"]]
    shared = (
        metric.geometry.loc[pairs.index]
        .reset_index(drop=True)
        .intersection(metric.geometry.loc[pairs["index_right"]].reset_index(drop=True))
    )
    union = metric.union_all()
    boundary = gpd.GeoSeries([outline], crs=new.crs).to_crs(metric.crs).iloc[0]
    gaps = shapely.get_parts(shapely.difference(boundary, union))
    return int((shared.area >= 1.0).sum()), int((shapely.area(gaps) >= 1.0).sum())


def baseline_diff(active: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> int:
    """Changed shapes: the symmetric difference of every common grid, in metres."""
    crs = metric_crs(new)
    merged = active[[schema.GRID_ID, "geometry"]].merge(
        pd.DataFrame(new[[schema.GRID_ID, "geometry"]]), on=schema.GRID_ID, suffixes=("_old", "_new")
    )
    old = gpd.GeoSeries(merged["geometry_old"], crs=active.crs).to_crs(crs).make_valid()
    now = gpd.GeoSeries(merged["geometry_new"], crs=new.crs).to_crs(crs).make_valid()
    return int((old.symmetric_difference(now).area > 1.0).sum())


def baseline_impact(points: gpd.GeoDataFrame, active: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> int:
    """Points whose grid id differs between the versions, by ``geopandas.sjoin``."""

    def grid_of(grids):
        joined = gpd.sjoin(points, grids[[schema.GRID_ID, "geometry"]], predicate="within")
        return joined[~joined.index.duplicated()][schema.GRID_ID].reindex(points.index)

    before, after = grid_of(active), grid_of(new)
    return int((before.fillna("") != after.fillna("")).sum())


def timed(run):
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    start = time.perf_counter()
    active = active_grids(args.grids, rng)
    new = revised(active, rng)
    points = tickets(args.tickets, active, rng)
    payload = geojson_bytes(new)
    vertices = shapely.get_num_coordinates(active.geometry.array).mean()
    print(
        f"data: {len(active):,} active grids ({vertices:.0f} vertices each, clean coverage: "
        f"{shapely.coverage_is_valid(active.geometry.array)}), {len(new):,} uploaded grids as "
        f"{len(payload) / 2**20:.1f} MB of GeoJSON, {len(points):,} tickets; built in "
        f"{time.perf_counter() - start:.0f} s"
    )

    runs = [pipeline(payload, active, points) for _ in range(args.repeats)]
    seconds, out = min(runs, key=lambda run: sum(run[0].values()))
    uploaded = out["read"]
    outline_s, _ = timed(lambda: shapely.union_all(active.geometry.array))
    topology_s, baseline_found = timed(lambda: baseline_topology(uploaded, out["outline*"]))
    diff_s, baseline_changed = timed(lambda: baseline_diff(active, uploaded))
    impact_s, baseline_moved = timed(lambda: baseline_impact(points, active, uploaded))
    # stage: (baseline name, baseline seconds, our seconds for the same work)
    baselines = {
        "outline*": ("shapely.union_all", outline_s, seconds["outline*"]),
        "topology": ("sjoin + pairwise intersection + union_all", topology_s, seconds["topology"]),
        "diff": ("symmetric difference of every common grid", diff_s, seconds["diff"]),
        "impact": ("geopandas.sjoin on both (vs index* + impact)", impact_s, seconds["index*"] + seconds["impact"]),
    }
    print(f"\n{'stage':<10} {'seconds':>8}  {'baseline':<46} {'seconds':>8} {'x faster':>8}")
    for name, took in seconds.items():
        label, base, ours = baselines.get(name, ("", None, None))
        compared = f"{base:>8.2f} {base / ours:>8.1f}" if base is not None else ""
        print(f"{name:<10} {took:>8.2f}  {label:<46} {compared}")
    total = sum(seconds.values())
    per_upload = sum(took for name, took in seconds.items() if not name.endswith("*"))
    drawing = seconds["map"] + seconds["html"]
    print(f"{'total':<10} {total:>8.2f}  target {TARGET_S:.0f} s: {'met' if total <= TARGET_S else 'MISSED'}")
    print(
        f"* per active version, cached by the dashboard; per upload: {per_upload:.2f} s, of which the "
        f"map (build + html) {drawing:.2f} s and the rest {per_upload - drawing:.2f} s "
        f"(fastest of {args.repeats} runs)"
    )

    problems = out["topology"]
    kinds = pd.Series([_kind(p.what) for p in problems]).value_counts()
    diff, impact = out["diff"], out["impact"]
    print(
        f"\nreport: {len(out['schema'])} schema problems, {len(problems)} topology problems "
        f"({', '.join(f'{count} {kind}' for kind, count in kinds.items())})"
    )
    print(
        f"baseline: {baseline_found[0]} overlapping pairs >= 1 m2 and {baseline_found[1]} gaps >= 1 m2; "
        f"ours: {sum('overlap by' in p.what or 'same polygon' in p.what for p in problems)} overlapping or "
        f"duplicate pairs and {sum(' is in no grid ' in p.what for p in problems)} gaps listed, "
        f"the rest summed up"
    )
    print(
        f"diff: {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed "
        f"({int(diff.changed[changes.GEOMETRY_CHANGED].sum())} in shape; baseline {baseline_changed}), "
        f"{diff.unchanged:,} unchanged"
    )
    print(
        f"impact: {impact.summary_lines()[0]}; {len(impact.moves)} distinct moves "
        f"(baseline: {baseline_moved} points change grid)"
    )
    print(f"map: {len(out['html']) / 2**20:.1f} MB of HTML")


def _kind(what: str) -> str:
    """What kind of topology problem a problem's text describes."""
    for phrase, kind in (
        ("same polygon", "duplicate"),
        ("cross the line", "community line"),
        ("overlap by", "overlap"),
        ("is in no grid", "gap"),
        ("more gaps", "gap summary"),
        ("more overlapping", "overlap summary"),
        ("is only", "sliver"),
        ("separate piece", "sliver"),
        ("beyond the active", "outside"),
        ("lies outside", "outside"),
    ):
        if phrase in what:
            return kind
    return "other"


if __name__ == "__main__":
    main()
