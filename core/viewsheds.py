"""Camera views: what the cameras see of each grid, what is lost while some are down, and which
recent tickets and key points lie in view.

A camera sees a sector: from its position, ``fov_deg`` wide around ``azimuth_deg`` (clockwise from
north), out to ``range_m``; a camera without an azimuth, or with a 360° field of view, is a dome and
sees a circle (``camera_views``). Arcs are drawn with a vertex at least every ``VIEW_STEP_DEG``,
pushed out just enough that every polygon has the exact area of its true sector or circle (radius ×
sqrt(θ / sin θ) for a step of θ), so shares match the analytic ones and not a slightly smaller
inscribed polygon. Only online cameras cover; the area that only offline or faulty cameras see is
coverage *lost* while they are down. A view counts for every grid it reaches, whichever grid its
camera stands in.

Every function takes canonical layers in EPSG:4326 and measures in the grids' metric CRS. Tables come
back one row per grid, indexed by ``grid_id`` in the order of ``grids``; geometries for the map come
back in EPSG:4326.

How it stays fast (50,000 cameras over 20,000 grids in under 10 s on 2 cores; see
``tests/perf/bench_coverage.py``): views are built in one vectorised pass, an STRtree pairs each view
with the grids it reaches, views inside a grid are kept whole and the others clipped, and the pieces
are unioned grid by grid — small local unions instead of one city-wide union.

Not here: the 15-minute service circle (``core.reach``), members and staffing (``core.coverage``),
where to add cameras (``core.siting``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from core import metrics, schema
from core.errors import Problem, ValidationError
from core.geometry import metric_crs
from core.overlay import (
    areas,
    display_frame,
    grid_positions,
    metric_grids,
    numeric_column,
    points_xy,
    polygonal,
    require_points,
    row_ids,
    sector_polygons,
    share,
    union_by_group,
)

__all__ = [
    "COVERAGE_PARTS",
    "KEY_SITE_KINDS",
    "TICKET_DAYS",
    "VIEW_STEP_DEG",
    "camera_coverage",
    "camera_views",
    "coverage_geometries",
]

VIEW_STEP_DEG = 5.0
"""Largest angle between two arc vertices of a camera view (0.11 m from the true arc at 120 m)."""
KEY_SITE_KINDS = ("intersection", "community_entrance")
"""Camera site kinds whose sites are key points: covered when some online view reaches them."""
TICKET_DAYS = 90
"""Tickets of this many days up to the data's date count as recent."""
COVERAGE_PARTS = ("covered", "lost", "gap")


def camera_views(cameras: gpd.GeoDataFrame, crs: pyproj.CRS | None = None) -> gpd.GeoSeries:
    """Each camera's view polygon in the metric ``crs`` (default: the cameras' UTM zone), index as
    ``cameras``: a sector from ``azimuth_deg``, ``fov_deg`` and ``range_m``, or a circle for a dome.

    Azimuths are taken against the projection's grid north (within a degree or two of true north in
    a UTM zone). Raises ``ValidationError`` for rows without a usable point, field of view or range.
    """
    _check_cameras(cameras, (schema.AZIMUTH_DEG, schema.FOV_DEG, schema.RANGE_M))
    require_points(cameras, schema.CAMERAS.name)
    crs = metric_crs(cameras) if crs is None else pyproj.CRS(crs)
    xy = points_xy(cameras, schema.CAMERAS.name, crs)
    views = sector_polygons(
        xy[:, 0],
        xy[:, 1],
        numeric_column(cameras, schema.AZIMUTH_DEG),
        numeric_column(cameras, schema.FOV_DEG),
        numeric_column(cameras, schema.RANGE_M),
        VIEW_STEP_DEG,
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
    camera_grid = grid_positions(cameras, grids)
    online = state.online

    out = pd.DataFrame(index=pd.Index(grids[schema.GRID_ID], name=schema.GRID_ID))
    out["cameras_total"] = _count(camera_grid, n)
    out["cameras_online"] = _count(camera_grid[online], n)
    covered_m2 = areas(state.covered)
    out["covered_share"] = share(covered_m2, state.grid_areas)
    out["covered_area_km2"] = covered_m2 / 1e6
    out["lost_share"] = share(areas(state.lost), state.grid_areas)

    ticket_grid, seen = np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    as_of = metrics.data_as_of(tickets) if as_of is None and tickets is not None else as_of
    if tickets is not None and as_of is not None:
        created = tickets[schema.CREATED_AT]
        recent = (created > as_of - pd.Timedelta(days=ticket_days)) & (created <= as_of)
        if schema.STAGE in tickets:
            recent &= metrics.registered_mask(tickets)
        recent_tickets = tickets[recent.to_numpy(dtype=bool)]
        ticket_grid = grid_positions(recent_tickets, grids)
        seen = _seen(points_xy(recent_tickets, schema.TICKETS.name, state.crs), state.online_views)
    out["tickets_recent"] = _count(ticket_grid, n)
    out["tickets_in_view"] = _count(ticket_grid[seen], n)
    out["tickets_in_view_share"] = share(out["tickets_in_view"].to_numpy(float), out["tickets_recent"].to_numpy(float))

    key_site = cameras[schema.SITE_KIND].isin(KEY_SITE_KINDS).to_numpy(dtype=bool)
    key_grids = [camera_grid[key_site]]
    key_xy = [points_xy(cameras[key_site], schema.CAMERAS.name, state.crs)]
    if key_points is not None and len(key_points):
        key_grids.append(grid_positions(key_points, grids))
        key_xy.append(points_xy(key_points, "key_points", state.crs))
    key_grid = np.concatenate(key_grids)
    key_seen = _seen(np.concatenate(key_xy), state.online_views)
    out["key_points"] = _count(key_grid, n)
    out["key_points_covered"] = _count(key_grid[key_seen], n)
    out["key_points_covered_share"] = share(
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
        display_frame(ids, part, geometries, state.crs)
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
        crs, geometries = metric_grids(grids)
        _check_cameras(cameras, (schema.SITE_KIND, schema.STATUS, schema.AZIMUTH_DEG, schema.FOV_DEG, schema.RANGE_M))
        views = np.asarray(camera_views(cameras, crs).array, dtype=object)
        online = (cameras[schema.STATUS] == "online").to_numpy(dtype=bool)
        # Clip every view to every grid it reaches, then union the pieces grid by grid: cheaper than
        # one union of all views (each union is small and local) and it yields per-grid geometry.
        shapely.prepare(geometries)
        view_i, grid_i = shapely.STRtree(geometries).query(views, predicate="intersects")
        pieces = views[view_i]
        clip = ~shapely.contains_properly(geometries[grid_i], pieces)
        pieces[clip] = polygonal(shapely.intersection(pieces[clip], geometries[grid_i[clip]]))
        kept = ~shapely.is_missing(pieces)
        up = online[view_i] & kept
        down = ~online[view_i] & kept
        covered = union_by_group(pieces[up], grid_i[up], len(geometries))
        lost = union_by_group(pieces[down], grid_i[down], len(geometries))
        overlap = ~shapely.is_missing(lost) & ~shapely.is_missing(covered)
        lost[overlap] = polygonal(shapely.difference(lost[overlap], covered[overlap]))
        return cls(crs, geometries, areas(geometries), online, views[online], covered, lost)


def _check_cameras(cameras: gpd.GeoDataFrame, columns: tuple[str, ...]) -> None:
    """Raise ``ValidationError`` listing every problem with the camera ``columns`` a measure needs:
    missing columns, fields of view and ranges that are not positive numbers, unknown statuses."""
    layer = schema.CAMERAS.name
    missing = [c for c in columns if c not in cameras.columns]
    if missing:
        fix = "add a `{}` column (see core.schema.CAMERAS), or map one of the file's columns to it"
        raise ValidationError(layer, [Problem.missing_column(layer, c, fix.format(c)) for c in missing])
    problems = []
    for column in (c for c in (schema.FOV_DEG, schema.RANGE_M) if c in columns):
        values = pd.to_numeric(cameras[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~(values > 0) | ~np.isfinite(values)
        if bad.any():
            problems.append(
                Problem(
                    layer,
                    column,
                    row_ids(cameras, bad, schema.CAMERA_ID),
                    "is empty, not a number or not positive",
                    f"fill `{column}` with a positive number (degrees for the field of view, metres for the range)",
                    code="not_positive",
                    params={"column": column},
                )
            )
    if schema.STATUS in columns:
        status = ~cameras[schema.STATUS].isin(schema.CAMERA_STATUSES).to_numpy(dtype=bool)
        if status.any():
            rows = row_ids(cameras, status, schema.CAMERA_ID)
            fix = "map the file's status values to these codes"
            problems.append(Problem.not_a_code(layer, schema.STATUS, rows, schema.CAMERA_STATUSES, fix))
    if problems:
        raise ValidationError(layer, problems)


def _seen(xy: np.ndarray, views: np.ndarray) -> np.ndarray:
    """Whether each point lies in (or on the edge of) some of ``views``."""
    seen = np.zeros(len(xy), dtype=bool)
    if len(xy) and len(views):
        hits, _ = shapely.STRtree(views).query(shapely.points(xy), predicate="intersects")
        seen[hits] = True
    return seen


def _count(positions: np.ndarray, n: int) -> np.ndarray:
    """How many of ``positions`` fall on each of 0 … n-1 (-1 counts nowhere)."""
    return np.bincount(positions[positions >= 0], minlength=n).astype(np.int64)
