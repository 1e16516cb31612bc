"""The district's geometry, built in metres (UTM 51N) and snapped into lon/lat as one topology.

Steps, each a small function:

1. ``street_outline`` — an irregular blob of a given area (a few harmonics on a circle).
2. ``density_at`` — where people live: an old town, a newer residential cluster, a thin periphery.
3. ``communities`` — k-means on points drawn from (a softened) density, Voronoi cells clipped to the
   outline: populous areas get smaller communities, as in real street offices.
4. ``grids_in`` — k-means on density points inside one community, so each grid holds about the same
   number of households; Voronoi cells clipped to the community.
5. ``to_lonlat_topology`` — clean the tiling as a coverage (shared edges identical), reproject, round
   point-wise to a 1e-7° lattice, so neighbouring grids still share their borders exactly.

Also: ``sample_in_polygons`` (uniform points inside given polygons) and ``road_nodes`` (a jittered
street lattice whose nodes are the intersections cameras and patrols use).
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from shapely import Polygon

METRIC_CRS = "EPSG:32651"  # WGS 84 / UTM zone 51N
DEMO_TIMEZONE = "Asia/Shanghai"  # the demo district's clock, whatever a workspace started from it uses
CENTRE_LONLAT = (120.205, 30.305)
LONLAT_GRID_SIZE = 1e-7  # degrees; about 1 cm, shared by every polygon so borders stay shared
POINT_DECIMALS = 6  # about 0.1 m for point layers

_TO_LONLAT = pyproj.Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
_TO_METRIC = pyproj.Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)

OUTLINE_VERTICES = 360
OUTLINE_ASPECT = 1.35  # east–west stretch of the outline
KMEANS_ITERATIONS = 25


def centre_metric() -> tuple[float, float]:
    """The district centre in UTM 51N metres."""
    x, y = _TO_METRIC.transform(*CENTRE_LONLAT)
    return float(x), float(y)


def street_outline(rng: np.random.Generator, area_m2: float) -> Polygon:
    """An irregular, star-shaped street outline of exactly ``area_m2`` around ``CENTRE_LONLAT``.

    The radius varies with a few low harmonics (the overall shape) and some weak higher ones (borders
    that follow rivers and roads); the blob is stretched east–west and rotated a little.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, OUTLINE_VERTICES, endpoint=False)
    k = np.arange(2, 25)
    amplitude = 0.13 / k**0.8 * rng.uniform(0.4, 1.0, k.size)
    phase = rng.uniform(0.0, 2.0 * np.pi, k.size)
    radius = 1.0 + (amplitude[:, None] * np.cos(k[:, None] * theta + phase[:, None])).sum(axis=0)
    x, y = OUTLINE_ASPECT * radius * np.cos(theta), radius * np.sin(theta)
    tilt = rng.uniform(-0.35, 0.35)
    x, y = x * np.cos(tilt) - y * np.sin(tilt), x * np.sin(tilt) + y * np.cos(tilt)
    unit = Polygon(np.column_stack([x, y]))
    scale = np.sqrt(area_m2 / unit.area)
    cx, cy = centre_metric()
    return Polygon(np.column_stack([cx + scale * x, cy + scale * y]))


class Density:
    """Relative residential density: two Gaussian centres over a thin background.

    ``peaks`` are (x, y, sigma_m, weight) in metres; the old town is denser and tighter than the
    newer cluster; the background stands for villages, parks and industry at the edge.
    """

    def __init__(self, rng: np.random.Generator, outline: Polygon):
        x0, y0, x1, y1 = outline.bounds
        w, h = x1 - x0, y1 - y0
        cx, cy = outline.centroid.x, outline.centroid.y
        old_town = (cx - 0.18 * w + rng.normal(0, 0.03 * w), cy + 0.08 * h, 0.13 * w, 1.0)
        new_town = (cx + 0.22 * w, cy - 0.12 * h + rng.normal(0, 0.03 * h), 0.10 * w, 0.6)
        self.peaks = (old_town, new_town)
        self.background = 0.035

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        d = np.full(np.shape(x), self.background, dtype=float)
        for px, py, sigma, weight in self.peaks:
            d += weight * np.exp(-((x - px) ** 2 + (y - py) ** 2) / (2.0 * sigma**2))
        return d

    @property
    def maximum(self) -> float:
        return self.background + sum(p[3] for p in self.peaks)


def density_points(
    rng: np.random.Generator, polygon: Polygon, density: Density, n: int, power: float = 1.0
) -> np.ndarray:
    """``n`` points inside ``polygon`` drawn with probability ∝ ``density ** power`` (rejection)."""
    x0, y0, x1, y1 = polygon.bounds
    out = np.empty((0, 2))
    shapely.prepare(polygon)
    while len(out) < n:
        m = 4 * (n - len(out)) + 256
        x, y = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
        keep = shapely.contains_xy(polygon, x, y)
        keep &= rng.random(m) < (density(x, y) / density.maximum) ** power
        out = np.vstack([out, np.column_stack([x[keep], y[keep]])])
    return out[:n]


def kmeans(rng: np.random.Generator, points: np.ndarray, k: int, iterations: int = KMEANS_ITERATIONS) -> np.ndarray:
    """Lloyd's k-means (k-means++ start): ``k`` centres that split ``points`` into equal-mass cells."""
    centres = points[[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).min(axis=1)
        centres = np.vstack([centres, points[rng.choice(len(points), p=d2 / d2.sum())]])
    for _ in range(iterations):
        label = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        counts = np.bincount(label, minlength=k)
        sums = np.stack([np.bincount(label, weights=points[:, j], minlength=k) for j in (0, 1)], 1)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


def voronoi_cells(centres: np.ndarray, region: Polygon) -> np.ndarray:
    """Voronoi cells of ``centres`` (in their order) clipped to ``region``; tiny parts merged."""
    envelope = shapely.buffer(shapely.envelope(region), region.length)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=envelope, ordered=True))
    return merge_fragments(shapely.intersection(cells, region))


def merge_fragments(cells: np.ndarray) -> np.ndarray:
    """Make every cell one Polygon: keep each cell's largest part, give stray parts to a neighbour.

    Clipping a convex Voronoi cell to a concave region can leave a cell in two pieces; the smaller piece
    goes to the cell it shares the longest border with, which keeps the tiling without gaps.
    """
    cells = np.array(cells, dtype=object)
    for i in range(len(cells)):
        parts = shapely.get_parts(cells[i])
        if len(parts) <= 1:
            continue
        parts = parts[np.argsort(-shapely.area(parts))]
        cells[i] = parts[0]
        for stray in parts[1:]:
            shared = shapely.length(shapely.intersection(shapely.boundary(cells), stray.boundary))
            shared[i] = -1.0
            j = int(np.argmax(shared))
            cells[j] = shapely.union(cells[j], stray)
    return np.array([_largest_part(c) for c in cells], dtype=object)


def _largest_part(geom) -> Polygon:
    parts = shapely.get_parts(geom)
    return parts[np.argmax(shapely.area(parts))] if len(parts) > 1 else parts[0]


def communities(rng: np.random.Generator, outline: Polygon, density: Density, k: int) -> np.ndarray:
    """``k`` community polygons tiling ``outline``; denser areas get smaller communities."""
    sample = density_points(rng, outline, density, 6_000, power=0.55)
    centres = kmeans(rng, sample, k)
    centres = centres[np.lexsort((centres[:, 0], -np.round(centres[:, 1], -3)))]  # north-west first
    return voronoi_cells(centres, outline)


def grid_counts(
    rng: np.random.Generator, community_polys: np.ndarray, density: Density, total: int, minimum: int
) -> np.ndarray:
    """Grids per community, proportional to its estimated population (largest remainder)."""
    mass = np.array(
        [density(*density_points(rng, p, density, 400, power=0.0).T).mean() * p.area for p in community_polys]
    )
    extra = total - minimum * len(mass)
    share = extra * mass / mass.sum()
    counts = minimum + np.floor(share).astype(int)
    remainder = share - np.floor(share)
    counts[np.argsort(-remainder)[: total - counts.sum()]] += 1
    return counts


def grids_in(rng: np.random.Generator, community: Polygon, density: Density, k: int) -> np.ndarray:
    """``k`` grid polygons tiling ``community``, each holding about the same population."""
    sample = density_points(rng, community, density, 250 * k)
    centres = kmeans(rng, sample, k)
    angle = np.arctan2(centres[:, 1] - community.centroid.y, centres[:, 0] - community.centroid.x)
    return voronoi_cells(centres[np.argsort(-angle)], community)  # numbered clockwise from the west


def to_lonlat(geoms: np.ndarray) -> np.ndarray:
    """Reproject metric geometries to lon/lat (pyproj on coordinate arrays)."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1])))


def to_metric(geoms: np.ndarray) -> np.ndarray:
    """Reproject lon/lat geometries to UTM 51N metres."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))


def to_lonlat_topology(polys_metric: np.ndarray) -> np.ndarray:
    """Reproject a polygon tiling to lon/lat as one clean coverage with shared borders kept shared.

    ``shapely.coverage_clean`` first makes every shared edge identical in both neighbours (clipping
    grids to different communities leaves vertices on one side only) and closes sub-metre gaps. The
    identical vertices reproject identically and are then rounded point-wise to ``LONLAT_GRID_SIZE``,
    so rounding cannot open a gap or an overlap. Raises if the result is not a valid coverage.
    """
    cleaned = shapely.coverage_clean(polys_metric, gap_width=1.0)
    rounded = shapely.set_precision(to_lonlat(cleaned), LONLAT_GRID_SIZE, mode="pointwise")
    rounded = shapely.remove_repeated_points(rounded)
    single = np.array([_largest_part(g) if shapely.get_num_geometries(g) == 1 else g for g in rounded], dtype=object)
    if not (
        shapely.is_valid(single).all()
        and shapely.coverage_is_valid(single)
        and (shapely.get_type_id(single) == 3).all()
    ):
        raise RuntimeError("the grids did not survive reprojection as a valid polygon coverage")
    return single


def round_points(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Lon/lat point geometries rounded to ``POINT_DECIMALS``."""
    return shapely.points(np.round(x, POINT_DECIMALS), np.round(y, POINT_DECIMALS))


def points_to_lonlat(xy: np.ndarray) -> np.ndarray:
    """Metric (n, 2) coordinates → rounded lon/lat point geometries."""
    lon, lat = _TO_LONLAT.transform(xy[:, 0], xy[:, 1])
    return round_points(np.asarray(lon), np.asarray(lat))


def sample_in_polygons(
    rng: np.random.Generator, polys: np.ndarray, which: np.ndarray, shrink_m: float = 0.0
) -> np.ndarray:
    """One uniform random point (metres) inside ``polys[which[i]]`` for every i.

    ``shrink_m`` keeps points that far inside the border (falls back to the polygon if that empties it).
    """
    out = np.empty((len(which), 2))
    for i in np.unique(which):
        rows = np.flatnonzero(which == i)
        poly = polys[i]
        inner = shapely.buffer(poly, -shrink_m) if shrink_m else poly
        if shapely.is_empty(inner) or shapely.area(inner) < 0.05 * shapely.area(poly):
            inner = poly
        out[rows] = _uniform_in(rng, inner, len(rows))
    return out


def grid_index(polys: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Index of the polygon holding each (x, y) point, -1 where none does (an STRtree query)."""
    point, poly = shapely.STRtree(polys).query(shapely.points(xy), predicate="within")
    out = np.full(len(xy), -1)
    out[point] = poly
    return out


def _uniform_in(rng: np.random.Generator, poly, n: int) -> np.ndarray:
    x0, y0, x1, y1 = shapely.bounds(poly)
    shapely.prepare(poly)
    got = np.empty((0, 2))
    while len(got) < n:
        m = 3 * (n - len(got)) + 32
        x, y = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
        keep = shapely.contains_xy(poly, x, y)
        got = np.vstack([got, np.column_stack([x[keep], y[keep]])])
    return got[:n]


def road_nodes(
    rng: np.random.Generator, outline: Polygon, density: Density, spacing_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Intersections of a jittered, slightly rotated street lattice inside the outline.

    Returns (xy, row, col, bearing): node coordinates, the lattice row (east–west road) and column
    (north–south road) of each node, and the lattice's bearing in radians. Sparse areas keep fewer
    nodes (fewer roads), the dense old town keeps them all; nodes in the outer 40 m are dropped.
    """
    bearing = rng.uniform(-0.25, 0.25)
    x0, y0, x1, y1 = outline.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = 0.75 * max(x1 - x0, y1 - y0)
    ticks = np.arange(-half, half + spacing_m, spacing_m)
    col, row = np.meshgrid(np.arange(ticks.size), np.arange(ticks.size))
    u, v = ticks[col.ravel()], ticks[row.ravel()]
    u = u + rng.normal(0, 0.08 * spacing_m, u.size)
    v = v + rng.normal(0, 0.08 * spacing_m, v.size)
    x = cx + u * np.cos(bearing) - v * np.sin(bearing)
    y = cy + u * np.sin(bearing) + v * np.cos(bearing)
    inner = shapely.buffer(outline, -40.0)
    keep = shapely.contains_xy(inner, x, y)
    keep &= rng.random(x.size) < np.clip(0.3 + 0.9 * density(x, y) / density.maximum, 0, 1)
    return np.column_stack([x[keep], y[keep]]), row.ravel()[keep], col.ravel()[keep], bearing
