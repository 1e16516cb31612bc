"""Where and when incidents concentrate: density, statistical hot spots, emerging hot spots and time
patterns.

* **Stacked points.** Coordinates holding far more tickets than any real place (a geocoder's or a call
  centre's default point) are found so that density and hot spots can leave them out.
* **Density.** A kernel density surface (tickets binned on a fine raster, then smoothed with a Gaussian
  kernel: the usual binned KDE, linear in the number of tickets).
* **Hot and cold spots.** Getis-Ord Gi* from ``esda`` on grids (queen contiguity; an island grid is joined
  to its nearest grid) or on hexagons (the cells within ``k`` rings). Each unit gets its z-score, a
  two-sided p-value and a confidence class (±3 = 99 %, ±2 = 95 %, ±1 = 90 %, 0 = not significant);
  with ``fdr=True`` each level's threshold is the Benjamini-Hochberg false-discovery-rate threshold
  (``esda.fdr``) instead of the raw p-value.
* **Emerging hot spots.** Gi* per month, then a Mann-Kendall trend test of each unit's monthly z-scores
  (Kendall's tau against time, vectorised over units; equal to ``scipy.stats.kendalltau``),
  classified as in ArcGIS's emerging hot spot
  analysis: new, consecutive, intensifying, persistent, diminishing, sporadic, oscillating, historical.
* **Time.** Hour-of-day × weekday and month-by-month tables, optionally by category.

Not here: H3 hexagon units, their cells and counts (``core.hexes``), repeat cases (``core.repeats``),
the Hotspots page's unit table (``core.hotspot_units``), the standard indicators per unit
(``core.metrics``), the maps and charts (``dashboard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import ndimage, stats
from scipy.spatial import cKDTree

from core import schema
from core.errors import HotspotError
from core.geometry import metric_crs

if TYPE_CHECKING:  # esda and libpysal take ~2 s to import: only the functions that use them do
    from libpysal.graph import Graph

__all__ = [
    "CONFIDENCE",
    "EMERGING",
    "EMERGING_CLASSES",
    "HOURS",
    "PERSISTENT_SHARE",
    "STACKED_DECIMALS",
    "STACKED_FACTOR",
    "STACKED_MIN_POINTS",
    "TREND_ALPHA",
    "WEEKDAYS",
    "DensitySurface",
    "HotspotError",
    "SpotCounts",
    "emerging_hotspots",
    "gi_star",
    "graph_from_table",
    "graph_table",
    "grid_graph",
    "hex_graph",
    "hour_weekday",
    "kernel_density",
    "monthly_counts",
    "monthly_seasonality",
    "stacked_coordinates",
    "stacked_mask",
    "stacked_total",
    "without_stacked",
]

CONFIDENCE = ((3, 0.01), (2, 0.05), (1, 0.10))  # class: two-sided p below which a unit is that confident
PERSISTENT_SHARE = 0.9  # hot in at least this share of months: persistent / intensifying / diminishing
TREND_ALPHA = 0.05  # Mann-Kendall significance for intensifying / diminishing
EMERGING_CLASSES = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
    "none",
)
EMERGING = ("new", "consecutive", "intensifying")  # of EMERGING_CLASSES: the ones to act on first
WEEKDAYS = 7
HOURS = 24


STACKED_MIN_POINTS = 50  # a coordinate holding at least this many points ...
STACKED_FACTOR = 20  # ... and this many times the 99th percentile of points per coordinate is "stacked"
STACKED_DECIMALS = 6  # coordinates are compared rounded to this many decimals (about 0.1 m)


# ---- stacked points -------------------------------------------------------------------------------
def stacked_coordinates(
    points: gpd.GeoDataFrame, min_points: int = STACKED_MIN_POINTS, factor: float = STACKED_FACTOR
) -> pd.DataFrame:
    """Coordinates that hold far more points than any real place: at least ``min_points`` and at least
    ``factor`` times the 99th percentile of points per distinct coordinate. Such stacks are a geocoder's
    or a call centre's default point (thousands of tickets "at" city hall), not a hot spot; a busy real
    place (a market, a school gate) spreads its tickets over many nearby coordinates and stays far below.
    Returns ``lon``, ``lat``, ``count`` per stacked coordinate, largest first (empty: none)."""
    _, xy = _point_xy(points)
    if not len(xy):
        return pd.DataFrame({"lon": [], "lat": [], "count": []}).astype({"count": "int64"})
    counts = pd.DataFrame(np.round(xy, STACKED_DECIMALS), columns=["lon", "lat"]).value_counts()
    limit = max(min_points, factor * np.percentile(counts.to_numpy(), 99))
    stacked = counts[counts >= limit]
    return stacked.rename("count").reset_index().astype({"count": "int64"})


def stacked_total(stacked: pd.DataFrame) -> int:
    """The points on all the coordinates of a ``stacked_coordinates`` table."""
    return int(stacked["count"].sum())


def stacked_mask(points: gpd.GeoDataFrame, stacked: pd.DataFrame | None = None) -> np.ndarray:
    """Which of ``points`` sit on one of the ``stacked`` coordinates (default: ``stacked_coordinates``)."""
    stacked = stacked_coordinates(points) if stacked is None else stacked
    mask = np.zeros(len(points), dtype=bool)
    if stacked.empty:
        return mask
    present, xy = _point_xy(points)
    keys = pd.MultiIndex.from_arrays([xy[:, 0], xy[:, 1]])
    mask[present] = keys.isin(pd.MultiIndex.from_frame(stacked[["lon", "lat"]]))
    return mask


def _point_xy(points: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(which rows are non-empty points, their coordinates rounded to ``STACKED_DECIMALS``)."""
    geoms = points.geometry.array
    present = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    return present, np.round(shapely.get_coordinates(geoms[present]), STACKED_DECIMALS)


def without_stacked(points: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """(``points`` without those on stacked coordinates, the stacked coordinates with their counts)."""
    stacked = stacked_coordinates(points)
    if stacked.empty:
        return points, stacked
    return points[~stacked_mask(points, stacked)], stacked


# ---- density --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DensitySurface:
    """A kernel density surface: tickets per km² on a raster (row 0 = north) over ``bounds`` (lon/lat)."""

    values: np.ndarray  # (rows, cols) tickets per km²
    bounds: tuple[float, float, float, float]  # west, south, east, north
    cell_m: float
    bandwidth_m: float


def kernel_density(
    points: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    bandwidth_m: float = 200.0,
    cell_m: float | None = None,
    max_cells: int = 250_000,
    include_stacked: bool = False,
) -> DensitySurface:
    """Gaussian kernel density of ``points`` over the extent of ``area`` (both EPSG:4326).

    Points are counted on a raster of ``cell_m`` (default a quarter of the bandwidth, coarsened until
    the raster has at most ``max_cells`` cells) and smoothed with a Gaussian of ``bandwidth_m``; the
    result integrates to the number of points (less what the kernel spreads past the edge). Points on
    stacked coordinates (``stacked_coordinates``) are left out unless ``include_stacked``.
    """
    if bandwidth_m <= 0:
        raise HotspotError(
            f"the kernel bandwidth must be positive; got {bandwidth_m} m",
            code="bandwidth",
            params={"value": bandwidth_m},
        )
    if not include_stacked:
        points, _ = without_stacked(points)
    crs = metric_crs(area)
    x0, y0, x1, y1 = area.to_crs(crs).total_bounds
    pad = 3 * bandwidth_m
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    cell = cell_m or bandwidth_m / 4
    while (x1 - x0) * (y1 - y0) / cell**2 > max_cells:
        cell *= 1.25
    cols, rows = int(np.ceil((x1 - x0) / cell)), int(np.ceil((y1 - y0) / cell))
    xy = shapely.get_coordinates(points.to_crs(crs).geometry.array) if len(points) else np.empty((0, 2))
    counts, _, _ = np.histogram2d(
        xy[:, 1], xy[:, 0], bins=(rows, cols), range=((y0, y0 + rows * cell), (x0, x0 + cols * cell))
    )
    smoothed = ndimage.gaussian_filter(counts, sigma=bandwidth_m / cell, mode="constant", truncate=3.0)
    per_km2 = smoothed[::-1] / (cell * cell / 1e6)
    back = pyproj.Transformer.from_crs(crs, schema.STORAGE_CRS, always_xy=True)
    (west, east), (south, north) = back.transform([x0, x0 + cols * cell], [y0, y0 + rows * cell])
    return DensitySurface(per_km2, (west, south, east, north), cell, bandwidth_m)


# ---- hot and cold spots ----------------------------------------------------------------------------
def grid_graph(grids: gpd.GeoDataFrame) -> Graph:
    """Queen contiguity between grids (ids: ``grid_id``); a grid with no neighbour (an island) is
    joined both ways to its nearest grid, so that every grid has a neighbourhood to compare with."""
    from libpysal.graph import Graph

    ids = pd.Index(grids[schema.GRID_ID], name="focal")
    frame = gpd.GeoDataFrame(geometry=grids.geometry.array, index=ids, crs=grids.crs)
    graph = Graph.build_contiguity(frame, rook=False)
    xy = shapely.get_coordinates(frame.to_crs(metric_crs(frame)).representative_point().array)
    return _join_isolates(graph, ids, xy)


def graph_table(graph: Graph) -> pd.DataFrame:
    """``graph``'s links as a table (``focal``, ``neighbor``, ``weight``), to keep it on disk."""
    return graph.adjacency.reset_index()


def graph_from_table(table: pd.DataFrame, transformation: str = "O") -> Graph:
    """The graph whose links ``graph_table`` listed (every unit has a link: ``grid_graph`` and
    ``hex_graph`` join each isolate to its nearest unit)."""
    from libpysal.graph import Graph

    return Graph(table.set_index(["focal", "neighbor"])["weight"], transformation=transformation, is_sorted=True)


def hex_graph(cells: pd.Index, rings: int = 1) -> Graph:
    """H3 cells within ``rings`` steps of each other are neighbours (a distance band of about
    ``rings`` × the cell spacing); a cell with none in the set is joined to its nearest cell."""
    from libpysal.graph import Graph

    ids = pd.Index(cells, name="focal")
    graph = Graph.build_h3(ids, order=rings, weight="binary")
    centres = np.array([h3.cell_to_latlng(c) for c in ids]) if len(ids) else np.empty((0, 2))
    xy = centres[:, ::-1] * [np.cos(np.radians(centres[:, 0].mean() if len(ids) else 0)), 1.0]
    return _join_isolates(graph, ids, xy)


def _join_isolates(graph: Graph, ids: pd.Index, xy: np.ndarray) -> Graph:
    """``graph`` over every one of ``ids``, each unit without a neighbour joined both ways to the
    nearest unit (by ``xy``). libpysal keeps an isolate as a self-loop of weight 0 (contiguity) or
    leaves it out (``build_h3``)."""
    from libpysal.graph import Graph

    adjacency = graph.adjacency.reset_index()
    adjacency = adjacency[(adjacency["weight"] > 0) & (adjacency["focal"] != adjacency["neighbor"])]
    linked = pd.Index(adjacency["focal"]).union(pd.Index(adjacency["neighbor"]))
    lonely = np.flatnonzero(~ids.isin(linked))
    if not len(lonely) or len(ids) < 2:
        return graph
    nearest = cKDTree(xy).query(xy[lonely], k=2)[1][:, 1]
    focal = np.concatenate([adjacency["focal"].to_numpy(), ids[lonely], ids[nearest]])
    neighbor = np.concatenate([adjacency["neighbor"].to_numpy(), ids[nearest], ids[lonely]])
    pairs = pd.DataFrame({"focal": focal, "neighbor": neighbor}).drop_duplicates()
    return Graph.from_arrays(pairs["focal"].to_numpy(), pairs["neighbor"].to_numpy(), np.ones(len(pairs)))


def gi_star(values: pd.Series, graph: Graph, fdr: bool = False) -> pd.DataFrame:
    """Getis-Ord Gi* of ``values`` (index = the graph's units) with binary weights and the unit itself.

    Returns ``value``, ``z``, ``p`` (two-sided, from esda's normal approximation) and ``confidence``
    (signed class: +3 hot at 99 %, …, -3 cold at 99 %, 0 not significant). With ``fdr`` each level's
    p threshold is the false-discovery-rate threshold of the level (Benjamini-Hochberg), which keeps
    chance hot spots out when thousands of units are tested at once.
    """
    from esda import fdr as fdr_threshold

    units = graph.unique_ids
    y = values.reindex(units).fillna(0).to_numpy(dtype=float)
    if len(y) < 3:
        raise HotspotError(
            f"hot-spot analysis needs at least 3 areas; got {len(y)}", code="too_few_areas", params={"count": len(y)}
        )
    if y.sum() <= 0 or np.all(y == y[0]):
        z = np.zeros(len(y))
    else:
        from esda.getisord import G_Local

        g = G_Local(y, graph.assign_self_weight(1), transform="B", permutations=0, star=True)
        z = np.nan_to_num(np.asarray(g.Zs, dtype=float))
    p = np.minimum(2 * stats.norm.sf(np.abs(z)), 1.0)
    confidence = np.zeros(len(y), dtype="int64")
    for level, alpha in CONFIDENCE[::-1]:  # 90 → 99, so the most confident class is written last
        significant = p <= fdr_threshold(p, alpha) if fdr else p < alpha
        confidence[significant] = level
    confidence *= np.sign(z).astype("int64")
    return pd.DataFrame({"value": y, "z": z, "p": p, "confidence": confidence}, index=units)


# ---- emerging hot spots -----------------------------------------------------------------------------
def monthly_counts(tickets: pd.DataFrame, key: pd.Series, units: pd.Index, months: pd.PeriodIndex) -> pd.DataFrame:
    """Tickets per unit (rows, ``units`` order) and calendar month (columns, ``months``); ``key`` gives
    each ticket's unit (NaN = outside every unit). Months are those of the workspace's zone (the times'
    own)."""
    month = tickets[schema.CREATED_AT].dt.tz_localize(None).dt.to_period("M")
    table = pd.crosstab(key, month).reindex(index=units, columns=months, fill_value=0)
    return table.fillna(0).astype("int64")


def emerging_hotspots(counts: pd.DataFrame, graph: Graph, fdr: bool = False) -> pd.DataFrame:
    """Each unit's emerging hot-spot class from its monthly counts (``counts``: units × months, in time
    order). A month is *hot* when the unit's Gi* is hot at 90 % or more that month.

    Classes (as in ArcGIS's emerging hot spot analysis, hot side): ``new`` hot only in the last month;
    ``consecutive`` one unbroken run of hot months ending in the last, under 90 % of months;
    ``intensifying`` / ``persistent`` / ``diminishing`` hot in ≥ 90 % of months including the last, with
    a significant rising / no / falling Mann-Kendall trend of its z-scores; ``sporadic`` hot in the last
    month, on and off, never cold; ``oscillating`` the same but cold in some month; ``historical`` not hot
    in the last month but hot in ≥ 90 % of months; ``none`` otherwise.
    """
    if counts.shape[1] < 3:
        raise HotspotError(
            f"emerging hot spots need at least 3 months of tickets; got {counts.shape[1]}",
            code="too_few_months",
            params={"count": counts.shape[1]},
        )
    each = [gi_star(counts[m], graph, fdr).reindex(counts.index) for m in counts.columns]
    z = np.column_stack([g["z"].to_numpy() for g in each])
    conf = np.column_stack([g["confidence"].to_numpy() for g in each])
    hot, cold = conf > 0, conf < 0
    months = counts.shape[1]
    tau, trend_p = _mann_kendall(z)
    share = hot.mean(axis=1)
    last = hot[:, -1]
    ever_cold = cold.any(axis=1)
    run = _trailing_run(hot)
    hot_before_run = (hot.sum(axis=1) - run) > 0
    persistent = share >= PERSISTENT_SHARE
    rising = (trend_p < TREND_ALPHA) & (tau > 0)
    falling = (trend_p < TREND_ALPHA) & (tau < 0)
    pattern = np.select(
        [
            last & (hot.sum(axis=1) == 1),
            last & persistent & rising,
            last & persistent & falling,
            last & persistent,
            last & (run >= 2) & ~hot_before_run,
            last & ~ever_cold,
            last & ever_cold,
            ~last & persistent,
        ],
        ["new", "intensifying", "diminishing", "persistent", "consecutive", "sporadic", "oscillating", "historical"],
        default="none",
    )
    return pd.DataFrame(
        {
            "pattern": pattern,
            "hot_months": hot.sum(axis=1),
            "months": months,
            "trend_tau": tau,
            "trend_p": trend_p,
            "z_last": z[:, -1],
        },
        index=counts.index,
    )


@dataclass(frozen=True)
class SpotCounts:
    """Units per class of a hotspot table (``gi_star``'s ``confidence`` beside ``emerging_hotspots``'
    ``pattern``)."""

    hot: dict[int, int]  # confidence class (3 = 99 %, 2 = 95 %, 1 = 90 %) → hot spots of that class
    cold: int  # cold spots of any confidence
    emerging: int  # units of a pattern in EMERGING

    @classmethod
    def of(cls, table: pd.DataFrame) -> SpotCounts:
        return cls(
            hot={level: int((table["confidence"] == level).sum()) for level, _ in CONFIDENCE},
            cold=int((table["confidence"] < 0).sum()),
            emerging=int(table["pattern"].isin(EMERGING).sum()),
        )


def _mann_kendall(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Mann-Kendall trend test of every row against time at once: Kendall's tau-b and the two-sided
    p-value of S under the normal approximation with the tie-corrected variance (as
    ``scipy.stats.kendalltau(t, row, method="asymptotic")``, which would take one call per unit)."""
    n = z.shape[1]
    first, second = np.triu_indices(n, 1)
    s = np.sign(z[:, second] - z[:, first]).sum(axis=1)
    tie_size = (z[:, :, None] == z[:, None, :]).sum(axis=2)  # size of each value's tie group
    tie_term = ((tie_size - 1) * (2 * tie_size + 5)).sum(axis=1)  # Σ over groups t(t-1)(2t+5)
    variance = (n * (n - 1) * (2 * n + 5) - tie_term) / 18
    pairs = n * (n - 1) / 2
    tied_pairs = ((tie_size - 1).sum(axis=1)) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(tied_pairs < pairs, s / np.sqrt(pairs * (pairs - tied_pairs)), 0.0)
        p = np.where(variance > 0, 2 * stats.norm.sf(np.abs(s) / np.sqrt(variance)), 1.0)
    return tau, np.minimum(p, 1.0)


def _trailing_run(flags: np.ndarray) -> np.ndarray:
    """Length of the unbroken run of True at the end of each row."""
    return np.cumprod(flags[:, ::-1], axis=1).sum(axis=1)


# ---- time patterns -----------------------------------------------------------------------------------
def hour_weekday(tickets: pd.DataFrame) -> pd.DataFrame:
    """Tickets by weekday (rows 0 = Monday … 6) × local hour of day (columns 0 … 23)."""
    local = tickets[schema.CREATED_AT]  # in the workspace's zone, as the store reads them
    table = pd.crosstab(local.dt.day_of_week, local.dt.hour)
    return table.reindex(index=range(WEEKDAYS), columns=range(HOURS), fill_value=0).astype("int64")


def monthly_seasonality(
    tickets: pd.DataFrame, months: pd.PeriodIndex, by: str | None = schema.CATEGORY
) -> pd.DataFrame:
    """Tickets per calendar month of ``months`` (rows, "YYYY-MM") and ``by`` (columns; one ``total`` column
    when None). Twelve consecutive months show the seasonal cycle; more show it year on year."""
    month = tickets[schema.CREATED_AT].dt.tz_localize(None).dt.to_period("M")
    if by is None:
        table = month.value_counts().to_frame("total")
    else:
        table = pd.crosstab(month, tickets[by])
    table = table.reindex(months, fill_value=0).astype("int64")
    return table.set_axis(months.strftime("%Y-%m"), axis=0).rename_axis("month")
