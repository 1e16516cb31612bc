"""The 15-minute service circle (一刻钟便民服务圈): which parts of each grid lie within a walk of a
service point, by straight line or along the roads.

Population is spread evenly over each grid, so the share of a grid's area within reach of a kind of
service point is the share of its population served. Without a road network, reach is the
straight-line radius ``WalkSettings.radius_m`` (walking distance divided by a detour factor); with one
(``RoadNetwork``), it is every road within the walking distance along the network from a service
point, widened by ``off_road_m`` on both sides. Reach areas, which can span a city, are first
quartered into small pieces so that each grid overlays only the pieces near it.

Every function takes canonical layers in EPSG:4326 and measures in a metric CRS; tables come back one
row per grid, indexed by ``grid_id`` in the order of ``grids``; geometries for the map in EPSG:4326.

Not here: camera views (``core.viewsheds``), members and staffing (``core.coverage``), where to add
service points (``core.siting``, which uses ``RoadNetwork`` for road junctions).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from core import schema
from core.errors import Problem, ValidationError
from core.geometry import metric_crs
from core.overlay import (
    areas,
    display_frame,
    metric_grids,
    numeric_column,
    points_xy,
    polygonal,
    row_ids,
    sector_polygons,
    share,
    union_by_group,
)

__all__ = [
    "ANY_KIND",
    "MAX_EDGE_M",
    "PIECE_VERTICES",
    "REACH_STEP_DEG",
    "SNAP_M",
    "RoadNetwork",
    "WalkSettings",
    "reach_areas",
    "service_reach",
    "unserved_areas",
]

REACH_STEP_DEG = 1.0
"""Largest angle between two arc vertices of a straight-line reach circle (0.04 m off at 1 km)."""
ANY_KIND = "any"
"""The service "kind" that stands for every kind together."""
MAX_EDGE_M = 25.0  # road lines are densified to this, so a service point snaps within 12.5 m of its road
SNAP_M = 0.5  # road vertices closer than about this are one node
PIECE_VERTICES = 256  # reach areas are cut into pieces this small before grids are overlaid with them

_LINESTRING, _LINEARRING, _MULTILINESTRING = 1, 2, 5  # shapely geometry type ids


@dataclass(frozen=True)
class WalkSettings:
    """How far residents walk to a service point.

    ``walk_m`` = ``speed_kmh`` × ``minutes`` is the distance walked (1,250 m by default). Measured
    along a road network that is the reach; without one, the straight-line ``radius_m`` is
    ``walk_m`` / ``detour_factor`` (1,000 m by default: streets are not straight). With a network,
    places within ``off_road_m`` of a reachable road (or of the service point itself) count as reached.
    """

    minutes: float = 15.0
    speed_kmh: float = 5.0
    detour_factor: float = 1.25
    off_road_m: float = 100.0

    def __post_init__(self) -> None:
        for name in ("minutes", "speed_kmh"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.detour_factor >= 1:
            raise ValueError(
                f"detour_factor must be at least 1 (a walk is never shorter than the straight "
                f"line), got {self.detour_factor}"
            )
        if not self.off_road_m >= 0:
            raise ValueError(f"off_road_m must be zero or more, got {self.off_road_m}")

    @property
    def walk_m(self) -> float:
        return self.speed_kmh * 1000 / 60 * self.minutes

    @property
    def radius_m(self) -> float:
        return self.walk_m / self.detour_factor


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """Road centre lines as an undirected graph in a metric CRS.

    Nodes are the lines' vertices after densifying each line to at most ``MAX_EDGE_M`` between
    vertices and merging vertices within about ``SNAP_M`` (a ``SNAP_M`` grid), so lines that share a
    vertex meet, and lines that merely cross without one (a bridge, or a careless drawing) do not.
    ``edges`` are node pairs (unique, smaller node first) with their ``lengths`` in metres.
    """

    crs: pyproj.CRS
    nodes: np.ndarray
    edges: np.ndarray
    lengths: np.ndarray

    @classmethod
    def from_roads(cls, roads: gpd.GeoDataFrame, crs: pyproj.CRS) -> RoadNetwork:
        """The network of the LineString/MultiLineString rows of ``roads`` (rows without geometry are
        skipped). Raises ``ValidationError`` if ``roads`` has no CRS, holds other geometry types, or has
        no line at all."""
        layer = "roads"
        geometries = np.asarray(roads.geometry.array, dtype=object) if len(roads) else np.empty(0, object)
        types = shapely.get_type_id(geometries)
        present = (types >= 0) & ~shapely.is_empty(geometries)
        wrong = present & ~np.isin(types, (_LINESTRING, _LINEARRING, _MULTILINESTRING))
        problems = []
        if roads.crs is None:
            problems.append(
                Problem(
                    layer,
                    schema.GEOMETRY,
                    (),
                    "has no coordinate reference system",
                    "set the CRS the roads were drawn in (e.g. EPSG:4326) before using them",
                    code="no_crs",
                )
            )
        if wrong.any():
            found = "/".join(sorted(set(roads.geom_type[wrong])))
            problems.append(
                Problem(
                    layer,
                    schema.GEOMETRY,
                    row_ids(roads, wrong, None),
                    f"geometry is {found}, expected LineString or MultiLineString",
                    "upload the road centre lines (polylines), not areas or points",
                    code="wrong_geometry_line",
                    params={"found": found},
                )
            )
        elif not present.any():
            problems.append(
                Problem(
                    layer,
                    schema.GEOMETRY,
                    (),
                    "holds no road line",
                    "upload a layer of road centre lines (LineString/MultiLineString)",
                    code="no_road_lines",
                )
            )
        if problems:
            raise ValidationError(layer, problems)
        lines = shapely.get_parts(gpd.GeoSeries(geometries[present], crs=roads.crs).to_crs(crs).array)
        lines = shapely.segmentize(shapely.force_2d(lines), MAX_EDGE_M)
        coords, line = shapely.get_coordinates(lines, return_index=True)
        cells = np.round(coords / SNAP_M).astype(np.int64)
        _, first, node = np.unique(cells, axis=0, return_index=True, return_inverse=True)
        node = node.ravel()
        nodes = coords[first]
        same_line = line[1:] == line[:-1]
        u, v = node[:-1][same_line], node[1:][same_line]
        u, v = np.minimum(u, v)[u != v], np.maximum(u, v)[u != v]
        pairs = np.unique(np.column_stack([u, v]), axis=0)
        lengths = np.hypot(*(nodes[pairs[:, 1]] - nodes[pairs[:, 0]]).T)
        return cls(pyproj.CRS(crs), nodes, pairs, lengths)

    def degree(self) -> np.ndarray:
        """Edges at each node (3 or more: a junction)."""
        return np.bincount(self.edges.ravel(), minlength=len(self.nodes))

    def distances(self, xy: np.ndarray, limit: float = np.inf) -> np.ndarray:
        """Walking distance to every node from the nearest of the points ``xy`` (metric, (n, 2)): the
        straight line from a point to its nearest node, then along the roads; ``inf`` beyond ``limit``.
        """
        n = len(self.nodes)
        start = np.full(n, np.inf)
        if len(xy):
            snap, nearest = cKDTree(self.nodes).query(xy)
            np.minimum.at(start, nearest, snap)
        entry = np.flatnonzero(np.isfinite(start))
        # a virtual source (node n) with an edge to each entry node, weighted by the walk to it
        rows = np.concatenate([self.edges[:, 0], self.edges[:, 1], np.full(len(entry), n)])
        cols = np.concatenate([self.edges[:, 1], self.edges[:, 0], entry])
        weights = np.concatenate([self.lengths, self.lengths, start[entry]])
        graph = scipy.sparse.csr_matrix((weights, (rows, cols)), shape=(n + 1, n + 1))
        return dijkstra(graph, directed=True, indices=n, limit=limit)[:n]

    def reach_area(self, xy: np.ndarray, walk_m: float, off_road_m: float) -> shapely.Geometry:
        """The area within ``walk_m`` of the points ``xy`` along the network, widened by ``off_road_m``:
        every road walked (an edge is cut where the walk runs out, from either end) and the points
        themselves, buffered by ``off_road_m``."""
        distance = self.distances(xy, walk_m)
        u, v = self.edges[:, 0], self.edges[:, 1]
        length = self.lengths
        from_u = np.clip(walk_m - distance[u], 0, length)  # inf distance gives 0
        from_v = np.clip(walk_m - distance[v], 0, length)
        whole = from_u + from_v >= length
        direction = (self.nodes[v] - self.nodes[u]) / length[:, None]
        start_u, start_v = self.nodes[u], self.nodes[v]
        cut_u = ~whole & (from_u > 0)
        cut_v = ~whole & (from_v > 0)
        segments = np.concatenate(
            [
                np.stack([start_u[whole], start_v[whole]], axis=1),
                np.stack([start_u[cut_u], start_u[cut_u] + direction[cut_u] * from_u[cut_u, None]], axis=1),
                np.stack([start_v[cut_v] - direction[cut_v] * from_v[cut_v, None], start_v[cut_v]], axis=1),
            ]
        )
        # merged into long lines, buffered one by one, then unioned: far faster than buffering a
        # collection of thousands of short segments at once
        shapes = [shapely.points(xy)] if len(xy) else []
        if len(segments):
            shapes.append(
                shapely.get_parts(shapely.line_merge(shapely.multilinestrings(shapely.linestrings(segments))))
            )
        return shapely.union_all(shapely.buffer(np.concatenate(shapes), off_road_m)) if shapes else shapely.Polygon()


def reach_areas(
    service_points: gpd.GeoDataFrame,
    settings: WalkSettings = WalkSettings(),
    roads: gpd.GeoDataFrame | None = None,
    crs: pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """The area within reach of each kind of service point (one row per kind present, in
    ``schema.SERVICE_KINDS`` order, then ``ANY_KIND``), columns ``kind`` and geometry in EPSG:4326.
    Measured in ``crs`` (default: the service points' UTM zone); straight-line circles of
    ``settings.radius_m`` without ``roads``, network reach with them (see ``WalkSettings``)."""
    crs = metric_crs(service_points) if crs is None else pyproj.CRS(crs)
    reach = _reach(service_points, settings, roads, crs)
    geometries = gpd.GeoSeries(list(reach.values()), crs=crs).to_crs(schema.STORAGE_CRS)
    return gpd.GeoDataFrame({schema.KIND: list(reach)}, geometry=geometries.array, crs=schema.STORAGE_CRS)


def service_reach(
    grids: gpd.GeoDataFrame,
    service_points: gpd.GeoDataFrame,
    settings: WalkSettings = WalkSettings(),
    roads: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """The 15-minute service circle per grid (index ``grid_id``, in ``grids`` order): for each kind of
    service point present (``schema.SERVICE_KINDS`` order) and for ``ANY_KIND``, ``<kind>share`` —
    the share of the grid's population within reach, population spread evenly over the grid's area —
    and ``<kind>_served``, that share of the grid's ``population`` (empty where it is unknown)."""
    crs, geometries = metric_grids(grids)
    area = areas(geometries)
    population = numeric_column(grids, schema.POPULATION)
    columns = {}
    for kind, region in _reach(service_points, settings, roads, crs).items():
        within = np.clip(share(_areas_within(geometries, region), area), 0, 1)
        columns[f"{kind}_share"] = within
        columns[f"{kind}_served"] = within * population
    return pd.DataFrame(columns, index=pd.Index(grids[schema.GRID_ID], name=schema.GRID_ID))


def unserved_areas(
    grids: gpd.GeoDataFrame,
    service_points: gpd.GeoDataFrame,
    kind: str | None = None,
    settings: WalkSettings = WalkSettings(),
    roads: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The parts of each grid out of reach of every service point of ``kind`` (None: of any kind), for
    the gaps layer: columns ``grid_id``, ``kind``, ``area_m2`` and geometry in EPSG:4326, simplified
    by ``DISPLAY_TOLERANCE_M``, parts under ``SLIVER_M2`` dropped, fully served grids omitted."""
    crs, geometries = metric_grids(grids)
    kind = ANY_KIND if kind is None else kind
    if kind != ANY_KIND and kind not in schema.SERVICE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(schema.SERVICE_KINDS)} or None, got {kind!r}")
    region = _reach(service_points, settings, roads, crs).get(kind)
    grid_i, pieces = _pieces_within(geometries, region)
    served = union_by_group(pieces, grid_i, len(geometries))
    gaps = geometries.copy()
    has = ~shapely.is_missing(served)
    gaps[has] = polygonal(shapely.difference(gaps[has], served[has]))
    frame = display_frame(grids[schema.GRID_ID].to_numpy(dtype=object), None, gaps, crs)
    frame.insert(1, schema.KIND, kind)
    return frame


def _reach(
    service_points: gpd.GeoDataFrame, settings: WalkSettings, roads: gpd.GeoDataFrame | None, crs: pyproj.CRS
) -> dict[str, shapely.Geometry]:
    """The reach of each kind present and of ``ANY_KIND``, in the metric ``crs``."""
    layer = schema.SERVICE_POINTS.name
    if schema.KIND not in service_points.columns:
        raise ValidationError(layer, [Problem.missing_column(layer, schema.KIND, "add the kind of each service point")])
    kinds = service_points[schema.KIND].to_numpy(dtype=object)
    unknown = ~np.isin(kinds, schema.SERVICE_KINDS)
    if unknown.any():
        rows = row_ids(service_points, unknown, schema.POINT_ID)
        fix = "map the file's kinds to these codes"
        raise ValidationError(layer, [Problem.not_a_code(layer, schema.KIND, rows, schema.SERVICE_KINDS, fix)])
    xy = points_xy(service_points, layer, crs)
    network = RoadNetwork.from_roads(roads, crs) if roads is not None else None
    reach = {}
    for kind in (k for k in schema.SERVICE_KINDS if k in set(kinds)):
        mine = xy[kinds == kind]
        if network is None:
            dome = np.full(len(mine), np.nan)
            reach[kind] = shapely.union_all(
                sector_polygons(
                    mine[:, 0],
                    mine[:, 1],
                    dome,
                    np.full(len(mine), 360.0),
                    np.full(len(mine), settings.radius_m),
                    REACH_STEP_DEG,
                )
            )
        else:
            reach[kind] = network.reach_area(mine, settings.walk_m, settings.off_road_m)
    reach[ANY_KIND] = shapely.union_all(list(reach.values())) if reach else shapely.Polygon()
    return reach


def _areas_within(geometries: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Area of each of ``geometries`` inside ``region``, summed over ``_pieces_within`` (disjoint),
    so each overlay involves one grid and the small pieces near it."""
    grid_i, pieces = _pieces_within(geometries, region)
    return np.bincount(grid_i, shapely.area(pieces), minlength=len(geometries))


def _pieces_within(geometries: np.ndarray, region: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """``region`` cut into pieces by each of ``geometries``: (grid position, polygonal piece) pairs,
    pieces of one grid disjoint. A grid wholly inside one piece of ``_tiled(region)`` is its own piece."""
    tiles = _tiled(region)
    shapely.prepare(tiles)
    grid_i, tile_i = shapely.STRtree(tiles).query(geometries, predicate="intersects")
    pieces = geometries[grid_i].copy()
    clip = ~shapely.contains_properly(tiles[tile_i], pieces)
    pieces[clip] = polygonal(shapely.intersection(tiles[tile_i[clip]], pieces[clip]))
    kept = ~shapely.is_missing(pieces)
    return grid_i[kept], pieces[kept]


def _tiled(region: shapely.Geometry | None) -> np.ndarray:
    """The polygons of ``region``, quartered (by their bounding boxes) until each has at most
    ``PIECE_VERTICES`` vertices: an overlay with a small grid then clips a small piece, not the whole
    (possibly city-wide) region, and each level of quartering reads every vertex only once."""
    if region is None or region.is_empty:
        return np.empty(0, dtype=object)
    done, pieces = [], shapely.get_parts(region)
    while len(pieces):
        big = shapely.get_num_coordinates(pieces) > PIECE_VERTICES
        done.append(pieces[~big])
        xmin, ymin, xmax, ymax = shapely.bounds(pieces[big]).T
        xmid, ymid = (xmin + xmax) / 2, (ymin + ymax) / 2
        quarters = shapely.box(
            np.concatenate([xmin, xmid, xmin, xmid]),
            np.concatenate([ymin, ymin, ymid, ymid]),
            np.concatenate([xmid, xmax, xmid, xmax]),
            np.concatenate([ymid, ymid, ymax, ymax]),
        )
        cut = polygonal(shapely.intersection(np.tile(pieces[big], 4), quarters))
        pieces = shapely.get_parts(cut[~shapely.is_missing(cut)])
    return np.concatenate(done)
