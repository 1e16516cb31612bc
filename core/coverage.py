"""Coverage of the grids: camera views, the 15-minute service circle, party members and staffing.

Every function takes canonical layers in EPSG:4326 and measures in the grids' metric CRS
(``core.geometry.metric_crs``), never in degrees. Tables come back one row per grid, indexed by
``grid_id`` in the order of ``grids``; geometries for the map come back in EPSG:4326.

**Cameras.** A camera sees a sector: from its position, ``fov_deg`` wide around ``azimuth_deg``
(clockwise from north), out to ``range_m``; a camera without an azimuth, or with a 360° field of view,
is a dome and sees a circle (``camera_views``). Arcs are drawn with a vertex at least every
``VIEW_STEP_DEG``, pushed out just enough that every polygon has the exact area of its true sector or
circle (radius × sqrt(θ / sin θ) for a step of θ), so shares match the analytic ones and not a slightly
smaller inscribed polygon. Only online cameras cover; the area that only offline or faulty cameras
see is coverage *lost* while they are down. A view counts for every grid it reaches, whichever grid
its camera stands in.

**15-minute service circle (一刻钟便民服务圈).** Population is spread evenly over each grid, so the
share of a grid's area within reach of a kind of service point is the share of its population served.
Without a road network, reach is the straight-line radius ``WalkSettings.radius_m`` (walking distance
divided by a detour factor); with one (``RoadNetwork``), it is every road within the walking distance
along the network from a service point, widened by ``off_road_m`` on both sides.

**Members and staffing.** Counts per grid from the joined members layer, 联户覆盖率, and households per
grid worker against a target range.

How it stays fast (50,000 cameras over 20,000 grids in under 10 s on 2 cores; see
``tests/perf/bench_coverage.py``): views are built in one vectorised pass, an STRtree pairs each view
with the grids it reaches, views inside a grid are kept whole and the others clipped, and the pieces
are unioned grid by grid — small local unions instead of one city-wide union. Reach areas, which can
span a city, are first quartered into small pieces so that each grid overlays only the pieces near it.
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

from core import joins, metrics, schema
from core.errors import Problem, ValidationError
from core.geometry import metric_crs

VIEW_STEP_DEG = 5.0
"""Largest angle between two arc vertices of a camera view (0.11 m from the true arc at 120 m)."""
REACH_STEP_DEG = 1.0
"""Largest angle between two arc vertices of a straight-line reach circle (0.04 m off at 1 km)."""
KEY_SITE_KINDS = ("intersection", "community_entrance")
"""Camera site kinds whose sites are key points: covered when some online view reaches them."""
TICKET_DAYS = 90
ANY_KIND = "any"
"""The service "kind" that stands for every kind together."""
COVERAGE_PARTS = ("covered", "lost", "gap")
STAFFING_STATUSES = ("no_worker", "unknown", "under", "within", "over")
HOUSEHOLDS_PER_WORKER = (300, 500)  # the target range of households per grid worker, inclusive
DISPLAY_TOLERANCE_M = 0.5  # simplification of map geometries (a 5° arc of 120 m strays 0.11 m from its chord)
SLIVER_M2 = 1.0  # map polygons (or parts) smaller than this are dropped
MAX_EDGE_M = 25.0  # road lines are densified to this, so a service point snaps within 12.5 m of its road
SNAP_M = 0.5  # road vertices closer than about this are one node
PIECE_VERTICES = 256  # reach areas are cut into pieces this small before grids are overlaid with them

_POLYGON, _LINESTRING, _LINEARRING, _MULTILINESTRING, _MULTIPOLYGON, _COLLECTION = 3, 1, 2, 5, 6, 7
_POINT = 0


# ---- cameras ------------------------------------------------------------------------------------
def camera_views(cameras: gpd.GeoDataFrame, crs: pyproj.CRS | None = None) -> gpd.GeoSeries:
    """Each camera's view polygon in the metric ``crs`` (default: the cameras' UTM zone), index as
    ``cameras``: a sector from ``azimuth_deg``, ``fov_deg`` and ``range_m``, or a circle for a dome.

    Azimuths are taken against the projection's grid north (within a degree or two of true north in
    a UTM zone). Raises ``ValidationError`` for rows without a usable point, field of view or range.
    """
    _check_cameras(cameras, (schema.AZIMUTH_DEG, schema.FOV_DEG, schema.RANGE_M))
    _require_points(cameras, schema.CAMERAS.name)
    crs = metric_crs(cameras) if crs is None else pyproj.CRS(crs)
    xy = points_xy(cameras, schema.CAMERAS.name, crs)
    views = _view_polygons(
        xy[:, 0],
        xy[:, 1],
        _numeric(cameras, schema.AZIMUTH_DEG),
        _numeric(cameras, schema.FOV_DEG),
        _numeric(cameras, schema.RANGE_M),
    )
    return gpd.GeoSeries(views, index=cameras.index, crs=crs)


def camera_coverage(
    grids: gpd.GeoDataFrame,
    cameras: gpd.GeoDataFrame,
    tickets: pd.DataFrame | None = None,
    key_points: gpd.GeoDataFrame | None = None,
    as_of: pd.Timestamp | None = None,
    ticket_days: int = TICKET_DAYS,
) -> pd.DataFrame:
    """Camera measures per grid (index ``grid_id``, in ``grids`` order):

    * ``cameras_total`` / ``cameras_online``: cameras standing in the grid (by their ``grid_id`` if
      joined, otherwise located here);
    * ``covered_share``: share of the grid's area inside some online camera's view (views of cameras
      in neighbouring grids count), and that area as ``covered_area_km2``;
    * ``lost_share``: share seen only by offline or faulty cameras — what is lost while they are down;
    * ``tickets_recent``: the grid's tickets (``grid_id`` column; cancelled ones left out) created in
      the ``ticket_days`` days up to ``as_of`` (default: ``metrics.data_as_of(tickets)``),
      ``tickets_in_view`` of them inside some online view, and ``tickets_in_view_share`` (empty when
      the grid had none);
    * ``key_points`` / ``key_points_covered`` / ``key_points_covered_share``: key points in the grid —
      the sites of cameras of ``KEY_SITE_KINDS`` (each camera's position; an online camera covers its
      own site) and the points of ``key_points`` — and how many lie in some online view.

    Shares of a grid without area are empty.
    """
    state = _CameraState.build(grids, cameras)
    n = len(grids)
    camera_grid = _grid_positions(cameras, grids)
    online = state.online

    out = pd.DataFrame(index=pd.Index(grids[schema.GRID_ID], name=schema.GRID_ID))
    out["cameras_total"] = _count(camera_grid, n)
    out["cameras_online"] = _count(camera_grid[online], n)
    covered_m2 = _areas(state.covered)
    out["covered_share"] = _share(covered_m2, state.grid_areas)
    out["covered_area_km2"] = covered_m2 / 1e6
    out["lost_share"] = _share(_areas(state.lost), state.grid_areas)

    ticket_grid, seen = np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    as_of = metrics.data_as_of(tickets) if as_of is None and tickets is not None else as_of
    if tickets is not None and as_of is not None:
        created = tickets[schema.CREATED_AT]
        recent = (created > as_of - pd.Timedelta(days=ticket_days)) & (created <= as_of)
        if schema.STAGE in tickets:
            recent &= metrics.registered_mask(tickets)
        recent_tickets = tickets[recent.to_numpy(dtype=bool)]
        ticket_grid = _grid_positions(recent_tickets, grids)
        seen = _seen(points_xy(recent_tickets, schema.TICKETS.name, state.crs), state.online_views)
    out["tickets_recent"] = _count(ticket_grid, n)
    out["tickets_in_view"] = _count(ticket_grid[seen], n)
    out["tickets_in_view_share"] = _share(out["tickets_in_view"].to_numpy(float), out["tickets_recent"].to_numpy(float))

    key_site = cameras[schema.SITE_KIND].isin(KEY_SITE_KINDS).to_numpy(dtype=bool)
    key_grid = [camera_grid[key_site]]
    key_xy = [points_xy(cameras[key_site], schema.CAMERAS.name, state.crs)]
    if key_points is not None and len(key_points):
        key_grid.append(_grid_positions(key_points, grids))
        key_xy.append(points_xy(key_points, "key_points", state.crs))
    key_grid = np.concatenate(key_grid)
    key_seen = _seen(np.concatenate(key_xy), state.online_views)
    out["key_points"] = _count(key_grid, n)
    out["key_points_covered"] = _count(key_grid[key_seen], n)
    out["key_points_covered_share"] = _share(
        out["key_points_covered"].to_numpy(float), out["key_points"].to_numpy(float)
    )
    return out


def coverage_geometries(grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The camera coverage of each grid for the map, in EPSG:4326: one row per grid and ``part``
    (``COVERAGE_PARTS``): ``covered`` by online views, ``lost`` (seen only by cameras that are down)
    and ``gap`` (not covered by any online view; includes the lost part). Columns ``grid_id``,
    ``part``, ``area_m2`` (before simplification), geometry. Simplified by ``DISPLAY_TOLERANCE_M``;
    parts under ``SLIVER_M2`` are dropped, and rows left empty are omitted.
    """
    state = _CameraState.build(grids, cameras)
    gap = state.grid_geometries.copy()
    has = ~shapely.is_missing(state.covered)
    gap[has] = shapely.difference(gap[has], state.covered[has])
    ids = grids[schema.GRID_ID].to_numpy(dtype=object)
    frames = [
        _display_frame(ids, part, geometries, state.crs)
        for part, geometries in zip(COVERAGE_PARTS, (state.covered, state.lost, gap))
    ]
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True, eq=False)
class _CameraState:
    """Grids and views in the metric CRS, with each grid's covered and lost area as a geometry
    (None where there is none)."""

    crs: pyproj.CRS
    grid_geometries: np.ndarray
    grid_areas: np.ndarray
    online: np.ndarray
    online_views: np.ndarray
    covered: np.ndarray
    lost: np.ndarray

    @classmethod
    def build(cls, grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame) -> _CameraState:
        crs, geometries = _metric_grids(grids)
        _check_cameras(cameras, (schema.SITE_KIND, schema.STATUS, schema.AZIMUTH_DEG, schema.FOV_DEG, schema.RANGE_M))
        views = np.asarray(camera_views(cameras, crs).array, dtype=object)
        online = (cameras[schema.STATUS] == "online").to_numpy(dtype=bool)
        # Clip every view to every grid it reaches, then union the pieces grid by grid: cheaper than
        # one union of all views (each union is small and local) and it yields per-grid geometry.
        shapely.prepare(geometries)
        view_i, grid_i = shapely.STRtree(geometries).query(views, predicate="intersects")
        pieces = views[view_i]
        clip = ~shapely.contains_properly(geometries[grid_i], pieces)
        pieces[clip] = _polygonal(shapely.intersection(pieces[clip], geometries[grid_i[clip]]))
        kept = ~shapely.is_missing(pieces)
        up = online[view_i] & kept
        down = ~online[view_i] & kept
        covered = _union_by_group(pieces[up], grid_i[up], len(geometries))
        lost = _union_by_group(pieces[down], grid_i[down], len(geometries))
        overlap = ~shapely.is_missing(lost) & ~shapely.is_missing(covered)
        lost[overlap] = _polygonal(shapely.difference(lost[overlap], covered[overlap]))
        return cls(crs, geometries, _areas(geometries), online, views[online], covered, lost)


def _check_cameras(cameras: gpd.GeoDataFrame, columns: tuple[str, ...]) -> None:
    """Raise ``ValidationError`` listing every problem with the camera ``columns`` a measure needs:
    missing columns, fields of view and ranges that are not positive numbers, unknown statuses."""
    layer = schema.CAMERAS.name
    missing = [c for c in columns if c not in cameras.columns]
    if missing:
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    c,
                    (),
                    f"required column `{c}` is missing",
                    f"add a `{c}` column (see core.schema.CAMERAS), or map one of the file's columns to it",
                    code="missing_column",
                    params={"column": c},
                )
                for c in missing
            ],
        )
    problems = []
    for column in (c for c in (schema.FOV_DEG, schema.RANGE_M) if c in columns):
        values = pd.to_numeric(cameras[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~(values > 0) | ~np.isfinite(values)
        if bad.any():
            problems.append(
                Problem(
                    layer,
                    column,
                    _row_ids(cameras, bad, schema.CAMERA_ID),
                    "is empty, not a number or not positive",
                    f"fill `{column}` with a positive number (degrees for the field of view, metres for the range)",
                )
            )
    if schema.STATUS in columns:
        status = ~cameras[schema.STATUS].isin(schema.CAMERA_STATUSES).to_numpy(dtype=bool)
        if status.any():
            problems.append(
                Problem(
                    layer,
                    schema.STATUS,
                    _row_ids(cameras, status, schema.CAMERA_ID),
                    f"is not one of {', '.join(schema.CAMERA_STATUSES)}",
                    "map the file's status values to these codes",
                )
            )
    if problems:
        raise ValidationError(layer, problems)


def _view_polygons(
    x: np.ndarray,
    y: np.ndarray,
    azimuth_deg: np.ndarray,
    fov_deg: np.ndarray,
    range_m: np.ndarray,
    step_deg: float = VIEW_STEP_DEG,
) -> np.ndarray:
    """Sector (or, where the azimuth is NaN or the field of view ≥ 360°, circle) polygons, all built in
    one vectorised pass: a ragged array of ring vertices, then ``shapely.linearrings`` by index.

    A sector's ring is its apex followed by its arc; a circle's ring is its arc alone. Arc vertices sit
    at radius r·sqrt(θ/sin θ) for a step of θ, so each apex–chord triangle has the area of its circular
    slice and every polygon the exact area of the true sector or circle.
    """
    n = len(x)
    dome = np.isnan(azimuth_deg) | (fov_deg >= 360)
    fov = np.radians(np.where(dome, 360.0, fov_deg))
    steps = np.maximum(np.ceil(np.degrees(fov) / step_deg - 1e-9), 1).astype(np.int64)
    n_vertices = np.where(dome, steps, steps + 2)  # arc points (steps + 1 for an open arc) + apex
    ring = np.repeat(np.arange(n), n_vertices)
    within = np.arange(len(ring)) - np.repeat(np.cumsum(n_vertices) - n_vertices, n_vertices)
    arc_index = np.where(dome[ring], within, within - 1)  # a sector's vertex 0 is the apex
    step = fov / steps
    radius = range_m * np.sqrt(step / np.sin(step))
    start = np.where(dome, 0.0, np.radians(np.nan_to_num(azimuth_deg)) - fov / 2)
    angle = start[ring] + arc_index * step[ring]
    reach = np.where(arc_index >= 0, radius[ring], 0.0)
    coords = np.column_stack([x[ring] + reach * np.sin(angle), y[ring] + reach * np.cos(angle)])
    views = np.empty(n, dtype=object)
    if n:
        views[:] = shapely.polygons(shapely.linearrings(coords, indices=ring))
    return views


def _seen(xy: np.ndarray, views: np.ndarray) -> np.ndarray:
    """Whether each point lies in (or on the edge of) some of ``views``."""
    seen = np.zeros(len(xy), dtype=bool)
    if len(xy) and len(views):
        hits, _ = shapely.STRtree(views).query(shapely.points(xy), predicate="intersects")
        seen[hits] = True
    return seen


# ---- the 15-minute service circle ---------------------------------------------------------------
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
                )
            )
        if wrong.any():
            names = np.array(
                [
                    "Point",
                    "LineString",
                    "LinearRing",
                    "Polygon",
                    "MultiPoint",
                    "MultiLineString",
                    "MultiPolygon",
                    "GeometryCollection",
                ]
            )
            problems.append(
                Problem(
                    layer,
                    schema.GEOMETRY,
                    _row_ids(roads, wrong, None),
                    f"geometry is {'/'.join(sorted(set(names[types[wrong]])))}, expected LineString or MultiLineString",
                    "upload the road centre lines (polylines), not areas or points",
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
    service point present (``schema.SERVICE_KINDS`` order) and for ``ANY_KIND``, ``<kind>_share`` —
    the share of the grid's population within reach, population spread evenly over the grid's area —
    and ``<kind>_served``, that share of the grid's ``population`` (empty where it is unknown)."""
    crs, geometries = _metric_grids(grids)
    area = _areas(geometries)
    population = _numeric(grids, schema.POPULATION)
    columns = {}
    for kind, region in _reach(service_points, settings, roads, crs).items():
        share = np.clip(_share(_areas_within(geometries, region), area), 0, 1)
        columns[f"{kind}_share"] = share
        columns[f"{kind}_served"] = share * population
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
    crs, geometries = _metric_grids(grids)
    kind = ANY_KIND if kind is None else kind
    if kind != ANY_KIND and kind not in schema.SERVICE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(schema.SERVICE_KINDS)} or None, got {kind!r}")
    region = _reach(service_points, settings, roads, crs).get(kind)
    grid_i, pieces = _pieces_within(geometries, region)
    served = _union_by_group(pieces, grid_i, len(geometries))
    gaps = geometries.copy()
    has = ~shapely.is_missing(served)
    gaps[has] = _polygonal(shapely.difference(gaps[has], served[has]))
    frame = _display_frame(grids[schema.GRID_ID].to_numpy(dtype=object), None, gaps, crs)
    frame.insert(1, schema.KIND, kind)
    return frame


def _reach(
    service_points: gpd.GeoDataFrame, settings: WalkSettings, roads: gpd.GeoDataFrame | None, crs: pyproj.CRS
) -> dict[str, shapely.Geometry]:
    """The reach of each kind present and of ``ANY_KIND``, in the metric ``crs``."""
    layer = schema.SERVICE_POINTS.name
    if schema.KIND not in service_points.columns:
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    schema.KIND,
                    (),
                    f"required column `{schema.KIND}` is missing",
                    "add the kind of each service point",
                    code="missing_column",
                    params={"column": schema.KIND},
                )
            ],
        )
    kinds = service_points[schema.KIND].to_numpy(dtype=object)
    unknown = ~np.isin(kinds, schema.SERVICE_KINDS)
    if unknown.any():
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    schema.KIND,
                    _row_ids(service_points, unknown, schema.POINT_ID),
                    f"is not one of {', '.join(schema.SERVICE_KINDS)}",
                    "map the file's kinds to these codes",
                )
            ],
        )
    xy = points_xy(service_points, layer, crs)
    network = RoadNetwork.from_roads(roads, crs) if roads is not None else None
    reach = {}
    for kind in (k for k in schema.SERVICE_KINDS if k in set(kinds)):
        mine = xy[kinds == kind]
        if network is None:
            dome = np.full(len(mine), np.nan)
            reach[kind] = shapely.union_all(
                _view_polygons(
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
    pieces[clip] = _polygonal(shapely.intersection(tiles[tile_i[clip]], pieces[clip]))
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
        cut = _polygonal(shapely.intersection(np.tile(pieces[big], 4), quarters))
        pieces = shapely.get_parts(cut[~shapely.is_missing(cut)])
    return np.concatenate(done)


# ---- members and staffing -----------------------------------------------------------------------
def member_measures(grids: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Party members per grid (index ``grid_id``, in ``grids`` order), from members joined to the
    grids (``core.joins.join_to_grids``; unassigned members count nowhere):

    * ``members``, ``community_members`` and ``in_service_members`` (``kind``);
    * ``linked_households``: households the grid's members are linked to (党员联户), summed;
    * ``linked_share`` (联户覆盖率) = linked households / ``households``, capped at 1 — two members may
      list the same household, so the sum can exceed the households there are; empty where the
      grid's households are unknown or zero;
    * ``has_member``.
    """
    layer = schema.MEMBERS.name
    missing = [c for c in (schema.GRID_ID, schema.KIND, schema.LINKED_HOUSEHOLDS) if c not in members.columns]
    if missing:
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    c,
                    (),
                    f"required column `{c}` is missing",
                    "join the members to the grids first (core.joins.join_to_grids)"
                    if c == schema.GRID_ID
                    else f"add a `{c}` column (see core.schema.MEMBERS)",
                    code="missing_column",
                    params={"column": c},
                )
                for c in missing
            ],
        )
    ids = pd.Index(grids[schema.GRID_ID], name=schema.GRID_ID)
    mine = members[members[schema.GRID_ID].isin(ids)]

    def count(frame: pd.DataFrame) -> np.ndarray:
        return frame[schema.GRID_ID].value_counts().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)

    linked = pd.to_numeric(mine[schema.LINKED_HOUSEHOLDS], errors="coerce").fillna(0)
    linked = linked.groupby(mine[schema.GRID_ID]).sum().reindex(ids, fill_value=0).to_numpy(dtype=float)
    households = _numeric(grids, schema.HOUSEHOLDS)
    out = pd.DataFrame(index=ids)
    out["members"] = count(mine)
    out["community_members"] = count(mine[mine[schema.KIND] == "community"])
    out["in_service_members"] = count(mine[mine[schema.KIND] == "in_service"])
    out["linked_households"] = linked.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["linked_share"] = np.where(households > 0, np.minimum(linked / households, 1.0), np.nan)
    out["has_member"] = out["members"] > 0
    return out


def staffing(grids: pd.DataFrame, households_per_worker: tuple[float, float] = HOUSEHOLDS_PER_WORKER) -> pd.DataFrame:
    """Staffing per grid (index ``grid_id``, in ``grids`` order): ``no_leader`` and ``no_worker``
    (empty or blank names), ``households_per_worker`` (a grid has one grid worker, so its households;
    empty without a worker) and ``status`` (``STAFFING_STATUSES``): ``no_worker``, ``unknown``
    (households not known), or ``under`` / ``within`` / ``over`` the inclusive target range."""
    low, high = households_per_worker
    if not 0 <= low <= high:
        raise ValueError(f"households_per_worker must be (low, high) with 0 <= low <= high, got {(low, high)}")
    no_leader, no_worker = _blank(grids, schema.LEADER), _blank(grids, schema.WORKER)
    households = _numeric(grids, schema.HOUSEHOLDS)
    per_worker = np.where(no_worker, np.nan, households)
    status = np.select(
        [no_worker, np.isnan(households), households < low, households > high],
        ["no_worker", "unknown", "under", "over"],
        "within",
    )
    return pd.DataFrame(
        {"no_leader": no_leader, "no_worker": no_worker, "households_per_worker": per_worker, "status": status},
        index=pd.Index(grids[schema.GRID_ID], name=schema.GRID_ID),
    )


# ---- shared helpers -----------------------------------------------------------------------------
def points_xy(frame: gpd.GeoDataFrame, layer: str, crs: pyproj.CRS) -> np.ndarray:
    """Coordinates (n, 2) of a point layer in the metric ``crs``. Raises ``ValidationError`` naming the
    rows whose geometry is missing, empty or not a point, or if the layer has no CRS."""
    _require_points(frame, layer)
    if not len(frame):
        return np.empty((0, 2))
    geometries = np.asarray(frame.geometry.array, dtype=object)
    to_metric = pyproj.Transformer.from_crs(frame.crs, crs, always_xy=True)
    return np.column_stack(to_metric.transform(shapely.get_x(geometries), shapely.get_y(geometries)))


def _require_points(frame: gpd.GeoDataFrame, layer: str) -> None:
    """Raise ``ValidationError`` unless ``frame`` has a CRS and one point in every row."""
    id_column = schema.LAYERS[layer].id_column if layer in schema.LAYERS else None
    if frame.crs is None:
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    schema.GEOMETRY,
                    (),
                    "has no coordinate reference system",
                    "set the CRS the points were recorded in (stored layers are EPSG:4326)",
                    code="no_crs",
                )
            ],
        )
    geometries = np.asarray(frame.geometry.array, dtype=object) if len(frame) else np.empty(0, object)
    bad = (shapely.get_type_id(geometries) != _POINT) | shapely.is_empty(geometries)
    if bad.any():
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    schema.GEOMETRY,
                    _row_ids(frame, bad, id_column),
                    "has no point geometry (missing, empty or another shape)",
                    "give every row one point location, or remove the row",
                )
            ],
        )


def _metric_grids(grids: gpd.GeoDataFrame) -> tuple[pyproj.CRS, np.ndarray]:
    """The grids' metric CRS and their 2-D polygons in it (None for a row without geometry)."""
    layer = schema.GRIDS.name
    problems = []
    if schema.GRID_ID not in grids.columns:
        problems.append(
            Problem(
                layer,
                schema.GRID_ID,
                (),
                f"required column `{schema.GRID_ID}` is missing",
                f"add a `{schema.GRID_ID}` column, or map one of the file's columns to it",
            )
        )
    if grids.crs is None:
        problems.append(
            Problem(
                layer,
                schema.GEOMETRY,
                (),
                "has no coordinate reference system",
                "set the CRS the grids were drawn in (stored layers are EPSG:4326)",
            )
        )
    if problems:
        raise ValidationError(layer, problems)
    geometries = np.asarray(grids.geometry.array, dtype=object) if len(grids) else np.empty(0, object)
    types = shapely.get_type_id(geometries)
    wrong = (types >= 0) & ~np.isin(types, (_POLYGON, _MULTIPOLYGON)) & ~shapely.is_empty(geometries)
    if wrong.any():
        raise ValidationError(
            layer,
            [
                Problem(
                    layer,
                    schema.GEOMETRY,
                    _row_ids(grids, wrong, schema.GRID_ID),
                    "geometry is not a Polygon or MultiPolygon",
                    "upload the grid boundaries as polygons",
                    code="wrong_geometry_polygon",
                    params={"found": "/".join(sorted(set(grids.geom_type[wrong])))},
                )
            ],
        )
    crs = metric_crs(grids)
    projected = np.asarray(grids.geometry.to_crs(crs).array, dtype=object)
    return crs, shapely.force_2d(projected) if len(projected) else projected


def _grid_positions(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> np.ndarray:
    """Row position in ``grids`` of each point's grid: by its ``grid_id`` if it has been joined,
    otherwise by locating it (``core.joins``); -1 for none."""
    if schema.GRID_ID in points.columns:
        return pd.Index(grids[schema.GRID_ID]).get_indexer(points[schema.GRID_ID]).astype(np.int64)
    if points.crs != grids.crs:
        points = points.to_crs(grids.crs)
    return joins.assign_points(points, grids)


def _union_by_group(pieces: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """The union of the ``pieces`` of each group ``0 … n-1``; a lone polygon is kept as it is, None
    where a group has no pieces. Shapely has no grouped union, so groups of two or more pieces take
    one ``union_all`` call each: one per grid, never one per camera."""
    out = np.full(n, None, dtype=object)
    if not len(pieces):
        return out
    order = np.argsort(group, kind="stable")
    group, pieces = group[order], pieces[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    single = (ends - starts == 1) & (shapely.get_type_id(pieces[starts]) != _COLLECTION)
    out[group[starts[single]]] = pieces[starts[single]]
    for start, end in zip(starts[~single], ends[~single]):
        out[group[start]] = shapely.union_all(pieces[start:end])
    return out


def _polygonal(geometries: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry (overlays can add stray lines and points where shapes
    touch); None where there is none."""
    out = np.asarray(geometries, dtype=object).copy()
    types = shapely.get_type_id(out)
    out[~np.isin(types, (_POLYGON, _MULTIPOLYGON, _COLLECTION)) | shapely.is_empty(out)] = None
    mixed = np.flatnonzero((types == _COLLECTION) & ~shapely.is_empty(out))
    if mixed.size:
        parts, which = shapely.get_parts(out[mixed], return_index=True)
        polygons, inner = shapely.get_parts(parts, return_index=True)  # a collection may hold multipolygons
        which = which[inner]
        keep = shapely.get_type_id(polygons) == _POLYGON
        out[mixed] = None
        filled, rebuilt = _multipolygons_by(polygons[keep], which[keep])
        out[mixed[filled]] = rebuilt
    return out


def _multipolygons_by(polygons: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One MultiPolygon per distinct value of ``index`` (ascending, one per polygon): those values and
    the multipolygons."""
    values, dense = np.unique(index, return_inverse=True)
    return values, shapely.multipolygons(polygons, indices=dense) if len(values) else np.empty(0, object)


def _display_frame(ids: np.ndarray, part: str | None, geometries: np.ndarray, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Rows of ``grid_id`` (and ``part``), ``area_m2`` and the geometry in EPSG:4326 for the map:
    parts under ``SLIVER_M2`` dropped, simplified by ``DISPLAY_TOLERANCE_M``, empty rows omitted."""
    geometries = _polygonal(geometries)
    present = np.flatnonzero(~shapely.is_missing(geometries))
    parts, row = shapely.get_parts(geometries[present], return_index=True)
    big = shapely.area(parts) >= SLIVER_M2
    rows, kept = _multipolygons_by(parts[big], row[big])
    columns = {schema.GRID_ID: ids[present[rows]]}
    if part is not None:
        columns["part"] = part
    columns["area_m2"] = shapely.area(kept)
    kept = shapely.simplify(kept, DISPLAY_TOLERANCE_M, preserve_topology=True)
    shapes = gpd.GeoSeries(kept, crs=crs).to_crs(schema.STORAGE_CRS)
    return gpd.GeoDataFrame(columns, geometry=shapes.array, crs=schema.STORAGE_CRS)


def _areas(geometries: np.ndarray) -> np.ndarray:
    """Area of each geometry, 0 for None."""
    return np.nan_to_num(shapely.area(geometries), nan=0.0)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole, empty where whole is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1), np.nan)


def _count(positions: np.ndarray, n: int) -> np.ndarray:
    """How many of ``positions`` fall on each of 0 … n-1 (-1 counts nowhere)."""
    return np.bincount(positions[positions >= 0], minlength=n).astype(np.int64)


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats, NaN where absent or not a number."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _blank(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Whether each value is missing or only whitespace (all, when the column is absent)."""
    if column not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    values = frame[column]
    return (values.isna() | (values.astype("string").str.strip() == "")).to_numpy(dtype=bool, na_value=True)


def _row_ids(frame: pd.DataFrame, mask: np.ndarray, id_column: str | None) -> tuple[str, ...]:
    """The ids (``id_column``, else the index labels) of the rows where ``mask`` holds."""
    labels = frame[id_column] if id_column is not None and id_column in frame.columns else frame.index
    return tuple(str(v) for v in np.asarray(labels)[mask])


# ---- district figures ---------------------------------------------------------------------------
OFF_TARGET_STATUSES = ("no_worker", "under", "over")  # of STAFFING_STATUSES: what a grid needs done about


def district_shares(table: pd.DataFrame) -> dict[str, float]:
    """The district's figures from a coverage table (one row per grid: ``area_km2``, ``households``,
    ``population`` and the columns of ``camera_coverage``, ``service_reach``, ``member_measures`` and
    ``staffing``). Shares are of the district's sums, NaN where that sum is 0; a figure whose columns
    the table lacks (its layer is not loaded) is left out:

    * ``covered_share``, ``tickets_in_view_share``, ``key_points_covered_share`` and ``served_share``
      (``any_served`` of the population);
    * ``lost_share``: the grids' lost shares weighted by their areas;
    * ``linked_share``: linked households of the grids with known households, each grid's capped at its
      households (联户 counts a household once);
    * ``grids_without_member`` and ``grids_off_target`` (``OFF_TARGET_STATUSES``), counts.
    """

    def share(part: pd.Series, whole: pd.Series) -> float:
        total = whole.sum()
        return float(part.sum() / total) if total else np.nan

    out: dict[str, float] = {}
    for name, (part, whole) in {
        "covered_share": ("covered_area_km2", "area_km2"),
        "lost_share": ("lost_share", "area_km2"),
        "tickets_in_view_share": ("tickets_in_view", "tickets_recent"),
        "key_points_covered_share": ("key_points_covered", "key_points"),
        "served_share": ("any_served", schema.POPULATION),
        "linked_share": ("linked_households", schema.HOUSEHOLDS),
    }.items():
        if part not in table or whole not in table:
            continue
        if name == "lost_share":
            out[name] = share(table[part] * table[whole], table[whole])
        elif name == "linked_share":
            known = table[whole].notna() & (table[whole] > 0)
            households = table.loc[known, whole]
            out[name] = share(table.loc[known, part].clip(upper=households), households)
        else:
            out[name] = share(table[part], table[whole])
    if "has_member" in table:
        out["grids_without_member"] = int((~table["has_member"].astype(bool)).sum())
    out["grids_off_target"] = int(table["status"].isin(OFF_TARGET_STATUSES).sum())
    return out
