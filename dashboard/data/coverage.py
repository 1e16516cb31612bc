"""Caches of the Coverage page (views/coverage.py): camera and service reach, staffing, siting."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from core import command, coverage, geometry, grid_coverage, schema, siting, viewsheds
from core.errors import SitingError
from core.geometry import points_near  # camera_layers measures with it
from core.reach import ANY_KIND, WalkSettings, reach_areas, service_reach, unserved_areas
from core.siting_inputs import intersection_candidates, lattice_candidates, population_demand, ticket_demand
from dashboard.components import map_builders, maps
from dashboard.data import shared
from dashboard.data.hotspots import hotspot_tickets
from dashboard.data.uploads import UPLOAD_HASH, Upload, extra_frame
from dashboard.i18n import translate

# ---- Coverage ------------------------------------------------------------------------------------
MAX_DRAWN_CAMERAS = 10_000  # more cameras than this: the camera layers are drawn for one community

VIEW_DISPLAY_M = 2.0  # camera views are simplified this much for the map

DEMAND_SPACING_M = 100.0  # residents are spread over a lattice this fine when they are the siting demand

SITING_SECONDS = 20.0

LINE_TYPES = ("LineString", "MultiLineString")

POINT_TYPES = ("Point",)


@st.cache_data(show_spinner=False, max_entries=4, hash_funcs=UPLOAD_HASH)
def camera_table(name: str, ver: int, key_points: Upload | None) -> pd.DataFrame | None:
    """Camera measures per grid (None without cameras)."""
    if schema.CAMERAS.name not in shared.workspace(name).layers(ver):
        return None
    tickets = shared.joined(name, ver, schema.TICKETS.name) if shared.as_of(name, ver) is not None else None

    def measured() -> pd.DataFrame:
        return viewsheds.camera_coverage(
            shared.layer(name, ver, schema.GRIDS.name),
            shared.joined(name, ver, schema.CAMERAS.name),
            tickets,
            extra_frame(key_points, POINT_TYPES),
            as_of=shared.as_of(name, ver),
        )

    if key_points is not None:
        return measured()  # an uploaded file's: for this session only
    inputs = (schema.GRIDS.name, schema.CAMERAS.name, schema.TICKETS.name)
    return shared.kept(name, ver, "camera-table", inputs, measured)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=UPLOAD_HASH)
def service_table(name: str, ver: int, walk: WalkSettings, roads: Upload | None) -> pd.DataFrame | None:
    """The 15-minute circle per grid (None without service points)."""
    if schema.SERVICE_POINTS.name not in shared.workspace(name).layers(ver):
        return None

    def measured() -> pd.DataFrame:
        return service_reach(
            shared.layer(name, ver, schema.GRIDS.name),
            shared.layer(name, ver, schema.SERVICE_POINTS.name),
            walk,
            extra_frame(roads, LINE_TYPES),
        )

    if roads is not None:
        return measured()  # an uploaded road network's: for this session only
    return shared.kept(name, ver, "service-table", (schema.GRIDS.name, schema.SERVICE_POINTS.name), measured, walk)


@st.cache_data(show_spinner=False, max_entries=4)
def member_table(name: str, ver: int) -> pd.DataFrame | None:
    if schema.MEMBERS.name not in shared.workspace(name).layers(ver):
        return None
    return coverage.member_measures(
        shared.layer(name, ver, schema.GRIDS.name), shared.joined(name, ver, schema.MEMBERS.name)
    )


def coverage_table(
    name: str,
    ver: int,
    walk: WalkSettings,
    households_per_worker: tuple[float, float],
    roads: Upload | None,
    key_points: Upload | None,
) -> pd.DataFrame:
    """Every coverage measure per grid: cameras, the 15-minute circle, members (each cached on what it
    depends on) and staffing; the parts of layers the workspace lacks are left out."""
    return grid_coverage.coverage_table(
        shared.layer(name, ver, schema.GRIDS.name),
        [camera_table(name, ver, key_points), service_table(name, ver, walk, roads), member_table(name, ver)],
        households_per_worker,
        area_km2=grid_areas(name, ver),
    )


@st.cache_data(show_spinner=False, max_entries=4)
def grid_areas(name: str, ver: int) -> np.ndarray:
    return geometry.area_km2(shared.layer(name, ver, schema.GRIDS.name)).to_numpy()


@st.cache_data(show_spinner=False, max_entries=8)
def camera_layers(name: str, ver: int, community: str | None) -> dict[str, object]:
    """Display geometry of the camera layers (for ``community`` only, if given): views of online and of
    offline/faulty cameras with each camera's name and status, coverage lost and camera gaps."""
    grids = shared.layer(name, ver, schema.GRIDS.name)
    if community is not None:
        grids = grids[grids[schema.COMMUNITY] == community]
    near = points_near(
        shared.layer(name, ver, schema.CAMERAS.name), grids, schema.CAMERAS.column(schema.RANGE_M).max
    )  # no view reaches farther
    views = viewsheds.camera_views(near).simplify(VIEW_DISPLAY_M).to_crs(schema.STORAGE_CRS).array
    online = (near[schema.STATUS] == "online").to_numpy()
    names = near[schema.NAME].fillna(near[schema.CAMERA_ID]).astype(str).to_numpy()
    parts = viewsheds.coverage_geometries(grids, near)
    return {
        "views": np.asarray(views[online], dtype=object),
        "down": np.asarray(views[~online], dtype=object),
        "names": (names[online], names[~online]),
        "status": near[schema.STATUS].to_numpy()[~online],
        "lost": np.asarray(parts.loc[parts["part"] == "lost"].geometry.array, dtype=object),
        "gap": np.asarray(parts.loc[parts["part"] == "gap"].geometry.array, dtype=object),
    }


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=UPLOAD_HASH)
def service_layers(
    name: str, ver: int, community: str | None, kind: str, walk: WalkSettings, roads: Upload | None
) -> tuple[np.ndarray, np.ndarray]:
    """Display geometry of the 15-minute reach of ``kind`` and of what it leaves unserved."""
    grids = shared.layer(name, ver, schema.GRIDS.name)
    if community is not None:
        grids = grids[grids[schema.COMMUNITY] == community]
    services = shared.layer(name, ver, schema.SERVICE_POINTS.name)
    road_frame = extra_frame(roads, LINE_TYPES)
    reach = reach_areas(services, walk, road_frame)
    unserved = unserved_areas(grids, services, None if kind == ANY_KIND else kind, walk, road_frame)
    return (
        np.asarray(reach.loc[reach["kind"] == kind].geometry.array, dtype=object),
        np.asarray(unserved.geometry.array, dtype=object),
    )


def coverage_overlays(
    name: str,
    ver: int,
    community: str | None,
    kind: str,
    walk: WalkSettings,
    roads: Upload | None,
    cameras_on: bool,
    lang: str,
) -> tuple[maps.Overlay, ...]:
    """The map's layers: camera views (online / down), coverage lost while cameras are down, camera
    gaps, the 15-minute reach of ``kind`` and what it leaves unserved. The camera layers start switched
    on when ``cameras_on``, the service layers otherwise."""

    def tr(key: str, **values) -> str:
        return translate(lang, key, **values)

    held = shared.workspace(name).layers(ver)
    cameras = camera_layers(name, ver, community) if schema.CAMERAS.name in held else None
    services = service_layers(name, ver, community, kind, walk, roads) if schema.SERVICE_POINTS.name in held else None
    kind_label = tr(f"service_kind.{kind}") if kind != ANY_KIND else tr("cov.any_kind")
    labels = {key: tr(f"cov.layer.{key}") for key in ("views", "down", "lost", "gap")} | {
        "reach": tr("cov.layer.reach", kind=kind_label),
        "unserved": tr("cov.layer.unserved", kind=kind_label),
        "status": {s: tr(f"camera_status.{s}") for s in schema.CAMERA_STATUSES},
    }
    return map_builders.coverage_overlays(cameras, services, labels=labels, cameras_on=cameras_on)


def coverage_map(
    name: str,
    ver: int,
    table: pd.DataFrame,
    measure: str,
    title: str,
    overlays: tuple[maps.Overlay, ...],
    sites: maps.Overlay | None,
) -> tuple[folium.Map, folium.FeatureGroup]:
    """Grids coloured by ``measure`` (more coverage green, more coverage lost red; legend ``title``), with
    the coverage layers and the proposed sites."""
    boundary_ver = shared.boundary_version(name, ver)
    grids, _ = shared.display_boundaries(name, boundary_ver)
    values = table[measure].reindex(grids[schema.GRID_ID].to_numpy()).astype(float)
    layers = overlays + ((sites,) if sites is not None else ())
    return (
        maps.choropleth_base_map(shared.grid_base(name, boundary_ver)),
        map_builders.coverage_update(values, measure, title=title, overlays=layers),
    )


@st.cache_data(show_spinner=False, max_entries=4, hash_funcs=UPLOAD_HASH)
def siting_inputs(
    name: str,
    ver: int,
    target: str,
    kind: str,
    demand_kind: str,
    weights: tuple[tuple[str, float], ...],
    candidates_kind: str,
    spacing_m: float,
    roads: Upload | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(demand, candidate sites, existing sites) of a siting run.

    Demand: the tickets of the last ``TICKET_DAYS`` (weighted by category) or the population spread over
    a lattice. Candidates: a lattice of ``spacing_m`` or the intersections (roads, cameras at crossings).
    Existing: the online cameras, or the service points of ``kind``."""
    grids = shared.layer(name, ver, schema.GRIDS.name)
    if demand_kind == "tickets":
        clock = shared.as_of(name, ver)
        if clock is None:
            raise SitingError(
                "the workspace has no tickets: choose residents as the demand, or load tickets",
                code="siting_no_tickets",
            )
        tickets = hotspot_tickets(name, ver, command.TicketFilter())  # registered, inside the district
        recent = tickets[tickets[schema.CREATED_AT] > clock - pd.Timedelta(days=viewsheds.TICKET_DAYS)]
        demand = ticket_demand(recent, dict(weights))
    else:
        demand = population_demand(grids, DEMAND_SPACING_M)
    cameras = (
        shared.layer(name, ver, schema.CAMERAS.name)
        if schema.CAMERAS.name in shared.workspace(name).layers(ver)
        else None
    )
    if candidates_kind == "lattice":
        candidates = lattice_candidates(grids, spacing_m)
    else:
        candidates = intersection_candidates(extra_frame(roads, LINE_TYPES), cameras)
    if target == "cameras":
        existing = cameras[cameras[schema.STATUS] == "online"] if cameras is not None else None
    else:
        services = shared.layer(name, ver, schema.SERVICE_POINTS.name)
        existing = services if kind == ANY_KIND else services[services[schema.KIND] == kind]
    return demand, candidates, existing


def run_siting(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    radius_m: float,
    k: int,
    progress,
) -> siting.SitingResult:
    """Solve the maximal covering model (not cached: the page keeps the result in the session)."""
    return siting.MaximalCovering.from_geodataframes(demand, candidates, radius_m, k, existing=existing).solve(
        time_limit_s=SITING_SECONDS, progress=progress
    )
