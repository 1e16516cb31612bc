"""The inputs of a siting model (``core.siting``): candidate sites and weighted demand points.

* **Candidates**: a square lattice over an area (``lattice_candidates``), or intersections
  (``intersection_candidates``: road junctions of a ``core.reach.RoadNetwork`` and cameras at
  intersections, corners of one junction merged).
* **Demand**: tickets weighted by category (``ticket_demand``), or each grid's population spread over
  a lattice inside it (``population_demand``).

Every layer comes back in EPSG:4326 with the columns ``core.siting.MaximalCovering.from_geodataframes``
reads (``candidate_id``; ``weight``).

Not here: the model and its solver (``core.siting``), what the cameras and service points already
cover (``core.viewsheds``, ``core.reach``).

Errors: ``core.errors.SitingError`` for a spacing or weights that make no sense, or no layer to take
intersections from.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from core import schema
from core.errors import SitingError
from core.geometry import metric_crs
from core.overlay import numeric_column, points_xy
from core.reach import RoadNetwork
from core.siting import CANDIDATE_ID, WEIGHT

__all__ = ["intersection_candidates", "lattice_candidates", "population_demand", "ticket_demand"]


def lattice_candidates(area: shapely.Geometry | gpd.GeoSeries | gpd.GeoDataFrame, spacing_m: float) -> gpd.GeoDataFrame:
    """Candidate sites on a square lattice of ``spacing_m`` inside ``area`` (a shapely geometry in
    EPSG:4326, or a layer whose union is the area, e.g. the grids): ``candidate_id`` L1, L2, … and
    points in EPSG:4326."""
    _check_spacing(spacing_m)
    shapes = (
        area if isinstance(area, (gpd.GeoSeries, gpd.GeoDataFrame)) else gpd.GeoSeries([area], crs=schema.STORAGE_CRS)
    )
    crs = metric_crs(shapes)
    xy, _ = _lattice_in(np.asarray(shapes.geometry.to_crs(crs).array, dtype=object), spacing_m)
    return _candidates("L", xy, crs)


def intersection_candidates(
    roads: gpd.GeoDataFrame | None = None, cameras: gpd.GeoDataFrame | None = None, merge_m: float = 30.0
) -> gpd.GeoDataFrame:
    """Candidate sites at intersections: road junctions (nodes where three or more road segments meet,
    see ``core.reach.RoadNetwork``) and the sites of cameras whose ``site_kind`` is "intersection".
    Sites within ``merge_m`` of each other (the corners of one junction) become one, at their mean.
    Returns ``candidate_id`` X1, X2, … and points in EPSG:4326."""
    layers = [layer for layer in (roads, cameras) if layer is not None and len(layer)]
    if not layers:
        raise SitingError(
            "intersection candidates need a road network or cameras at intersections", code="no_intersections"
        )
    crs = metric_crs(layers[0])
    found = [np.empty((0, 2))]
    if roads is not None and len(roads):
        network = RoadNetwork.from_roads(roads, crs)
        found.append(network.nodes[network.degree() >= 3])
    if cameras is not None and len(cameras):
        at_intersection = (cameras[schema.SITE_KIND] == "intersection").to_numpy(dtype=bool)
        found.append(points_xy(cameras[at_intersection], schema.CAMERAS.name, crs))
    xy = np.concatenate(found)
    if len(xy):
        pairs = cKDTree(xy).query_pairs(merge_m, output_type="ndarray")
        link = scipy.sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy),) * 2)
        n_sites, site = connected_components(link, directed=False)
        count = np.bincount(site, minlength=n_sites)
        xy = np.column_stack([np.bincount(site, xy[:, 0], n_sites), np.bincount(site, xy[:, 1], n_sites)])
        xy = xy / count[:, None]
    return _candidates("X", xy, crs)


def _candidates(prefix: str, xy: np.ndarray, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    points = gpd.GeoSeries(shapely.points(xy) if len(xy) else [], crs=crs).to_crs(schema.STORAGE_CRS)
    return gpd.GeoDataFrame(
        {CANDIDATE_ID: [f"{prefix}{i}" for i in range(1, len(xy) + 1)]}, geometry=points.array, crs=schema.STORAGE_CRS
    )


def _check_spacing(spacing_m: float) -> None:
    if not spacing_m > 0:
        raise SitingError(
            f"the lattice spacing must be a positive number of metres, got {spacing_m}",
            code="spacing",
            params={"value": spacing_m},
        )


def _lattice_in(shapes: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points of a square lattice (cell centres of a ``spacing_m`` grid aligned to multiples of it) that
    lie in or on one of the metric ``shapes``: (n, 2) coordinates and the position of the first shape
    each lies in."""
    present = shapes[~shapely.is_missing(shapes) & ~shapely.is_empty(shapes)]
    if not len(present):
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    xmin, ymin, xmax, ymax = shapely.total_bounds(present)
    xs = (np.floor(xmin / spacing_m) + 0.5 + np.arange(int((xmax - xmin) / spacing_m) + 2)) * spacing_m
    ys = (np.floor(ymin / spacing_m) + 0.5 + np.arange(int((ymax - ymin) / spacing_m) + 2)) * spacing_m
    xy = np.column_stack([a.ravel() for a in np.meshgrid(xs, ys)])
    point_i, shape_i = shapely.STRtree(shapes).query(shapely.points(xy), predicate="intersects")
    order = np.lexsort((shape_i, point_i))
    point_i, first = np.unique(point_i[order], return_index=True)  # a point on a shared border: first shape
    return xy[point_i], shape_i[order][first]


def ticket_demand(tickets: gpd.GeoDataFrame, category_weights: dict[str, float] | None = None) -> gpd.GeoDataFrame:
    """Tickets as demand points: ``ticket_id``, ``category``, ``weight`` (``category_weights`` of the
    ticket's category, 1 for a category not listed) and the point in EPSG:4326. Tickets of weight 0
    are left out."""
    weights = category_weights or {}
    bad = {c: w for c, w in weights.items() if not (np.isfinite(w) and w >= 0)}
    if bad:
        raise SitingError(
            f"category weights must be numbers of 0 or more; got {bad}",
            code="category_weights",
            params={"values": ", ".join(f"{k}={v}" for k, v in bad.items())},
        )
    weight = tickets[schema.CATEGORY].map(weights).fillna(1.0).to_numpy(dtype=float)
    keep = weight > 0
    demand = tickets.loc[keep, [schema.TICKET_ID, schema.CATEGORY, tickets.geometry.name]].copy()
    demand[WEIGHT] = weight[keep]
    return demand.to_crs(schema.STORAGE_CRS).reset_index(drop=True)


def population_demand(grids: gpd.GeoDataFrame, spacing_m: float) -> gpd.GeoDataFrame:
    """Each grid's ``population`` spread evenly over the points of a ``spacing_m`` lattice inside it
    (a grid too small to hold one gets a single point inside it), so the weights of a grid's points
    add up to its population (grids of unknown population add none). Columns ``grid_id``, ``weight``,
    point in EPSG:4326."""
    _check_spacing(spacing_m)
    crs = metric_crs(grids)
    polygons = np.asarray(grids.geometry.to_crs(crs).array, dtype=object)
    population = np.zeros(len(grids))
    if schema.POPULATION in grids.columns:
        population = np.nan_to_num(numeric_column(grids, schema.POPULATION))
    xy, grid_i = _lattice_in(polygons, spacing_m)
    empty = np.setdiff1d(np.flatnonzero(~shapely.is_empty(polygons) & ~shapely.is_missing(polygons)), grid_i)
    xy = np.concatenate([xy, shapely.get_coordinates(shapely.point_on_surface(polygons[empty]))])
    grid_i = np.concatenate([grid_i, empty])
    count = np.bincount(grid_i, minlength=len(polygons))
    weight = population[grid_i] / count[grid_i]
    points = gpd.GeoSeries(shapely.points(xy) if len(xy) else [], crs=crs).to_crs(schema.STORAGE_CRS)
    frame = pd.DataFrame({schema.GRID_ID: grids[schema.GRID_ID].to_numpy(dtype=object)[grid_i], WEIGHT: weight})
    return gpd.GeoDataFrame(frame, geometry=points.array, crs=schema.STORAGE_CRS)
