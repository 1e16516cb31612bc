"""Caches of the Hotspots page (views/hotspots.py): analysis units, Gi*, emerging patterns, repeats."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from core import command, geometry, hexes, hotspot_units, hotspots, metrics, schema
from dashboard.components import map_builders, maps
from dashboard.components.palettes import EMERGING_COLORS, HOT_COLORS
from dashboard.data import shared
from dashboard.i18n import translate

if TYPE_CHECKING:
    from libpysal.graph import Graph


# ---- Hotspots ------------------------------------------------------------------------------------

DENSITY_BANDWIDTH_M = 250.0


@st.cache_data(show_spinner=False, max_entries=8)
def hex_units(name: str, boundary_ver: int, resolution: int) -> gpd.GeoDataFrame:
    """The H3 cells covering the district (empty ones included), with their outlines and a label."""
    grids = shared.layer(name, boundary_ver, schema.GRIDS.name)
    cells = hexes.hex_cover(geometry.streets_from_grids(grids), resolution)
    polygons = [shapely.Polygon(ring) for ring in hexes.hex_boundaries(cells)]
    return gpd.GeoDataFrame({"unit": cells, schema.NAME: cells}, geometry=polygons, crs=schema.STORAGE_CRS)


def hotspot_shapes(name: str, boundary_ver: int, unit: str, resolution: int) -> gpd.GeoDataFrame:
    """The analysis units' display outlines with a ``unit`` id column (grid ids or H3 cells)."""
    if unit == "hex":
        return hex_units(name, boundary_ver, resolution)
    grids, _ = shared.display_boundaries(name, boundary_ver)
    return grids.assign(unit=grids[schema.GRID_ID])


@st.cache_resource(show_spinner=False, max_entries=8)
def hotspot_graph(name: str, boundary_ver: int, unit: str, resolution: int) -> Graph:
    if unit == "hex":
        return hotspots.hex_graph(pd.Index(hex_units(name, boundary_ver, resolution)["unit"]))
    links = shared.kept(
        name,
        boundary_ver,
        "grid-graph",
        (schema.GRIDS.name,),
        lambda: hotspots.graph_table(hotspots.grid_graph(shared.layer(name, boundary_ver, schema.GRIDS.name))),
    )
    return hotspots.graph_from_table(links)


@st.cache_resource(show_spinner=False, max_entries=3)
def hotspot_tickets(name: str, ver: int, flt: command.TicketFilter) -> gpd.GeoDataFrame:
    """Registered tickets inside the district that pass ``flt``."""
    return hotspot_units.registered_inside(flt.apply(shared.joined(name, ver, schema.TICKETS.name)))


@st.cache_data(show_spinner=False, max_entries=8)
def stacked_tickets(name: str, ver: int, flt: command.TicketFilter) -> pd.DataFrame:
    """The coordinates ``hotspot_tickets`` are stacked on (a default point), left out of the analyses."""
    return hotspots.stacked_coordinates(hotspot_tickets(name, ver, flt))


def analysed_tickets(name: str, ver: int, flt: command.TicketFilter, first: date, last: date) -> pd.DataFrame:
    """The period's ``hotspot_tickets`` without those on stacked coordinates, found once over all of
    them: what Gi*, the density surface and the repeat cases are computed from (the page says how many
    were left out; a clicked unit still lists them)."""
    return hotspot_units.analysed_tickets(
        hotspot_tickets(name, ver, flt),
        stacked_tickets(name, ver, flt),
        metrics.Period.from_dates(first, last, shared.workspace_timezone(name)),
    )


@st.cache_resource(show_spinner=False, max_entries=3)
def ticket_cells(name: str, ver: int, flt: command.TicketFilter, resolution: int) -> pd.Series:
    """The H3 cell of each of ``hotspot_tickets``."""
    return hotspot_units.ticket_cells(hotspot_tickets(name, ver, flt), resolution)


def unit_keys(name: str, ver: int, flt: command.TicketFilter, unit: str, resolution: int) -> pd.Series:
    """Each ticket's analysis unit: its H3 cell or its grid."""
    if unit == "hex":
        return ticket_cells(name, ver, flt, resolution)
    return hotspot_tickets(name, ver, flt)[schema.GRID_ID]


@st.cache_data(show_spinner=False, max_entries=16)
def hotspot_table(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, unit: str, resolution: int, fdr: bool
) -> pd.DataFrame:
    """Per unit: tickets in the period, rates (grids), Gi* z / p / confidence, and the emerging class.
    Without a filter (what the page opens with) it is kept beside the workspace for a restart."""

    def table() -> pd.DataFrame:
        return hotspot_units.unit_table(
            hotspot_tickets(name, ver, flt),
            unit_keys(name, ver, flt, unit, resolution),
            hotspot_graph(name, shared.boundary_version(name, ver), unit, resolution),
            metrics.Period.from_dates(first, last, shared.workspace_timezone(name)),
            hotspot_units.analysis_months(first, last),
            stacked=stacked_tickets(name, ver, flt),  # left out, like density and repeats
            grids=shared.layer(name, ver, schema.GRIDS.name) if unit == "grid" else None,
            fdr=fdr,
        )

    if flt != command.TicketFilter():
        return table()
    inputs = (schema.TICKETS.name, schema.GRIDS.name)
    return shared.kept(name, ver, f"hotspot-table-{unit}", inputs, table, (first, last, resolution, fdr))


@st.cache_data(show_spinner=False, max_entries=8)
def hotspot_base(name: str, boundary_ver: int, unit: str, resolution: int) -> dict:
    if unit == "grid":
        return shared.grid_base(name, boundary_ver)
    return maps.choropleth_config(hotspot_shapes(name, boundary_ver, unit, resolution), schema.NAME)


@st.cache_data(show_spinner=False, max_entries=8)
def density_surface(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, bandwidth_m: float
) -> hotspots.DensitySurface:
    return hotspots.kernel_density(
        analysed_tickets(name, ver, flt, first, last),
        shared.layer(name, ver, schema.GRIDS.name),
        bandwidth_m=bandwidth_m,
        include_stacked=True,
    )  # left out already


def hotspot_map(
    name: str,
    ver: int,
    first: date,
    last: date,
    flt: command.TicketFilter,
    unit: str,
    resolution: int,
    table: pd.DataFrame,
    show: str,
    lang: str,
) -> tuple[folium.Map, folium.FeatureGroup]:
    """The units (drawn once per boundary version, unit and resolution) and, swapped in, the colours of
    ``show``: ``gi`` hot/cold classes, ``emerging`` classes, ``tickets``/``per_1000`` quantiles, or
    ``density`` (the kernel surface over bare outlines)."""

    def tr(key: str, **values) -> str:
        return translate(lang, key, **values)

    boundary_ver = shared.boundary_version(name, ver)
    ids = hotspot_shapes(name, boundary_ver, unit, resolution)["unit"].to_numpy()
    labels: dict = {
        "title": tr(f"hot.show.{show}"),
        "tickets": tr("hot.show.tickets"),
        "class": {c: tr(f"hot.class.{c}") for c in HOT_COLORS},
        "pattern": {p: tr(f"hot.pattern.{p}") for p in EMERGING_COLORS},
    }
    surface = None
    if show == "density":
        surface = density_surface(name, ver, first, last, flt, DENSITY_BANDWIDTH_M)
        labels["density_legend"] = tr("hot.density_legend", bandwidth=f"{surface.bandwidth_m:g}")
    return (
        maps.choropleth_base_map(hotspot_base(name, boundary_ver, unit, resolution)),
        map_builders.hotspot_update(table.reindex(ids), show, labels=labels, surface=surface),
    )


@st.cache_data(show_spinner=False, max_entries=8)
def repeats(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, distance_m: float, days: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(repeat tickets of the period with their first report, repeat rates per grid)."""
    return hotspot_units.repeat_tables(
        analysed_tickets(name, ver, flt, first, last), shared.layer(name, ver, schema.GRIDS.name), distance_m, days
    )  # stacked coordinates left out already


@st.cache_data(show_spinner=False, max_entries=8)
def time_patterns(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weekday × hour table of the period's tickets, month × category table of the analysis months)."""
    return hotspot_units.time_patterns(
        hotspot_tickets(name, ver, flt),
        metrics.Period.from_dates(first, last, shared.workspace_timezone(name)),
        hotspot_units.analysis_months(first, last),
    )


def unit_tickets(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, unit: str, resolution: int, unit_id: str
) -> pd.DataFrame:
    """The period's tickets in one unit (a map click), newest first."""
    period = metrics.Period.from_dates(first, last, shared.workspace_timezone(name))
    tickets, keys = hotspot_tickets(name, ver, flt), unit_keys(name, ver, flt, unit, resolution)
    return hotspot_units.unit_tickets(tickets, keys, unit_id, period)
