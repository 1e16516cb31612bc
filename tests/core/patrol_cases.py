"""Hand-built cases shared by the patrol, roster, workload, contiguity and district tests: a five-grid
district with three teams, and a block of awkward shapes (a MultiPolygon grid, a ring with a grid in
its hole, an island)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, box

from core import schema

TZ = schema.DEFAULT_TIMEZONE
UTM = 32651  # UTM 51N, Hangzhou
X0, Y0 = 300_000.0, 3_357_000.0  # near Hangzhou (120.9° E), metres


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


# ---- a five-grid district with three teams ---------------------------------------------------------


def small_grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2", "g3", "g4", "g5"],
            schema.NAME: ["一网格", "二网格", "三网格", "四网格", "五网格"],
            schema.COMMUNITY: ["c1", "c1", "c2", "c2", "c2"],
            schema.POPULATION: [1000, 1000, 2000, 0, 1000],
        },
        geometry=[box(X0 + k * 1000, Y0, X0 + (k + 1) * 1000, Y0 + 1000) for k in range(5)],
        crs=UTM,
    ).to_crs(4326)


def small_teams() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.TEAM_ID: ["A", "B", "C"], schema.NAME: ["甲队", "乙队", "丙队"]},
        geometry=gpd.points_from_xy([X0, X0 + 2500, X0 + 5000], [Y0, Y0 + 500, Y0 + 500]),
        crs=UTM,
    ).to_crs(4326)


def small_assignments() -> pd.DataFrame:
    return pd.DataFrame({schema.TEAM_ID: ["A", "A", "B", "C", "C"], schema.GRID_ID: ["g1", "g2", "g3", "g4", "g5"]})


# ---- awkward shapes ---------------------------------------------------------------------------------

ISLAND, INNER, RING, MULTI = "island", "inner", "ring", "multi"


def awkward_grids() -> gpd.GeoDataFrame:
    """A 6 × 4 block of 200 m cells; above it a row of four cells flanked by the two pieces of one
    MultiPolygon grid; east of it a ring grid whose hole is another grid; 400 m further east an island."""
    s = 200.0
    cells = {
        f"r{r}c{c}": box(X0 + c * s, Y0 + r * s, X0 + (c + 1) * s, Y0 + (r + 1) * s) for r in range(4) for c in range(6)
    }
    cells.update({f"top{c}": box(X0 + c * s, Y0 + 4 * s, X0 + (c + 1) * s, Y0 + 5 * s) for c in range(1, 5)})
    cells[MULTI] = MultiPolygon(
        [box(X0, Y0 + 4 * s, X0 + s, Y0 + 5 * s), box(X0 + 5 * s, Y0 + 4 * s, X0 + 6 * s, Y0 + 5 * s)]
    )
    hole = box(X0 + 7 * s, Y0 + s, X0 + 8 * s, Y0 + 2 * s)
    cells[RING] = box(X0 + 6 * s, Y0, X0 + 9 * s, Y0 + 3 * s).difference(hole)
    cells[INNER] = hole
    cells[ISLAND] = box(X0 + 11 * s, Y0, X0 + 12 * s, Y0 + s)
    rng = np.random.default_rng(7)
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: list(cells),
            schema.NAME: list(cells),
            schema.COMMUNITY: "c",
            schema.POPULATION: rng.integers(100, 1000, len(cells)),
        },
        geometry=list(cells.values()),
        crs=UTM,
    ).to_crs(4326)


def teams_at(grids: gpd.GeoDataFrame, k: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    points = grids.geometry.representative_point().iloc[rng.choice(len(grids), k, replace=False)]
    return gpd.GeoDataFrame(
        {schema.TEAM_ID: [f"T{t}" for t in range(k)], schema.NAME: [f"队{t}" for t in range(k)]},
        geometry=points.to_numpy(),
        crs=grids.crs,
    )


def random_workload(grids: gpd.GeoDataFrame, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.lognormal(0, 0.5, len(grids)), index=grids[schema.GRID_ID])


def geometric_parts_ok(grids: gpd.GeoDataFrame, assignment: pd.Series) -> None:
    """Each district's union is one piece, except for a piece the island grid or the second piece of
    the MultiPolygon grid genuinely adds."""
    for team, ids in assignment.groupby(assignment).groups.items():
        mine = grids[grids[schema.GRID_ID].isin(ids)]
        union = shapely.union_all(mine.geometry.to_numpy())
        allowed = 1 + (ISLAND in ids) + (MULTI in ids)
        assert shapely.get_num_geometries(union) <= allowed, (team, sorted(ids))
