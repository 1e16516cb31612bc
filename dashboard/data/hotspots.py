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
from dashboard.components import live_map, maps
from dashboard.data.workspace import (
    boundary_version,
    display_boundaries,
    grid_base,
    joined,
    layer,
    workspace_timezone,
)
from dashboard.i18n import translate

if TYPE_CHECKING:
    from libpysal.graph import Graph


# ---- Hotspots ------------------------------------------------------------------------------------
HOT_COLORS = {-3: "#2166ac", -2: "#67a9cf", -1: "#d1e5f0", 0: "#f7f7f7", 1: "#fddbc7", 2: "#ef8a62", 3: "#b2182b"}

EMERGING_COLORS = dict(
    zip(
        hotspots.EMERGING_CLASSES,
        (  # new … historical, none
            "#fed976",
            "#fd8d3c",
            "#bd0026",
            "#800026",
            "#fc9272",
            "#c994c7",
            "#807dba",
            "#bdbdbd",
            "#f7f7f7",
        ),
        strict=True,
    )
)

DENSITY_BANDWIDTH_M = 250.0


@st.cache_data(show_spinner=False, max_entries=8)
def hex_units(name: str, boundary_ver: int, resolution: int) -> gpd.GeoDataFrame:
    """The H3 cells covering the district (empty ones included), with their outlines and a label."""
    grids = layer(name, boundary_ver, schema.GRIDS.name)
    cells = hexes.hex_cover(geometry.streets_from_grids(grids), resolution)
    polygons = [shapely.Polygon(ring) for ring in hexes.hex_boundaries(cells)]
    return gpd.GeoDataFrame({"unit": cells, schema.NAME: cells}, geometry=polygons, crs=schema.STORAGE_CRS)


def hotspot_shapes(name: str, boundary_ver: int, unit: str, resolution: int) -> gpd.GeoDataFrame:
    """The analysis units' display outlines with a ``unit`` id column (grid ids or H3 cells)."""
    if unit == "hex":
        return hex_units(name, boundary_ver, resolution)
    grids, _ = display_boundaries(name, boundary_ver)
    return grids.assign(unit=grids[schema.GRID_ID])


@st.cache_resource(show_spinner=False, max_entries=8)
def hotspot_graph(name: str, boundary_ver: int, unit: str, resolution: int) -> Graph:
    if unit == "hex":
        return hotspots.hex_graph(pd.Index(hex_units(name, boundary_ver, resolution)["unit"]))
    return hotspots.grid_graph(layer(name, boundary_ver, schema.GRIDS.name))


@st.cache_resource(show_spinner=False, max_entries=3)
def hotspot_tickets(name: str, ver: int, flt: command.TicketFilter) -> gpd.GeoDataFrame:
    """Registered tickets inside the district that pass ``flt``."""
    return hotspot_units.registered_inside(flt.apply(joined(name, ver, schema.TICKETS.name)))


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
        metrics.Period.from_dates(first, last, workspace_timezone(name)),
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
    """Per unit: tickets in the period, rates (grids), Gi* z / p / confidence, and the emerging class."""
    return hotspot_units.unit_table(
        hotspot_tickets(name, ver, flt),
        unit_keys(name, ver, flt, unit, resolution),
        hotspot_graph(name, boundary_version(name, ver), unit, resolution),
        metrics.Period.from_dates(first, last, workspace_timezone(name)),
        hotspot_units.analysis_months(first, last),
        stacked=stacked_tickets(name, ver, flt),  # left out, like density and repeats
        grids=layer(name, ver, schema.GRIDS.name) if unit == "grid" else None,
        fdr=fdr,
    )


@st.cache_data(show_spinner=False, max_entries=8)
def hotspot_base(name: str, boundary_ver: int, unit: str, resolution: int) -> dict:
    if unit == "grid":
        return grid_base(name, boundary_ver)
    return live_map.choropleth_config(hotspot_shapes(name, boundary_ver, unit, resolution), schema.NAME)


@st.cache_data(show_spinner=False, max_entries=8)
def density_surface(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, bandwidth_m: float
) -> hotspots.DensitySurface:
    return hotspots.kernel_density(
        analysed_tickets(name, ver, flt, first, last),
        layer(name, ver, schema.GRIDS.name),
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

    boundary_ver = boundary_version(name, ver)
    ids = hotspot_shapes(name, boundary_ver, unit, resolution)["unit"].to_numpy()
    rows = table.reindex(ids)
    base = live_map.choropleth_base_map(hotspot_base(name, boundary_ver, unit, resolution))
    title = tr(f"hot.show.{show}")
    if show == "gi":
        levels = sorted(HOT_COLORS, reverse=True)
        legend = maps.Legend(title, tuple(tr(f"hot.class.{c}") for c in levels), tuple(HOT_COLORS[c] for c in levels))
        fills = [HOT_COLORS[int(c)] for c in rows["confidence"].fillna(0)]
        values = [
            f"{tr(f'hot.class.{int(c)}')} (z = {z:.2f}, {n:,})"
            for c, z, n in zip(rows["confidence"].fillna(0), rows["z"].fillna(0), rows["tickets"].fillna(0))
        ]
        return base, live_map.colour_update(fills, values, legend)
    if show == "emerging":
        legend = maps.Legend(
            title, tuple(tr(f"hot.pattern.{p}") for p in EMERGING_COLORS), tuple(EMERGING_COLORS.values())
        )
        patterns = rows["pattern"].fillna("none")
        return base, live_map.colour_update(
            [EMERGING_COLORS[p] for p in patterns], [tr(f"hot.pattern.{p}") for p in patterns], legend
        )
    if show == "density":
        surface = density_surface(name, ver, first, last, flt, DENSITY_BANDWIDTH_M)
        legend = maps.Legend(
            tr("hot.density_legend", bandwidth=f"{surface.bandwidth_m:g}"),
            (f"{surface.values.max():,.0f}", f"{surface.values.max() / 10:,.0f}", f"{surface.values.max() / 100:,.0f}"),
            ("#bd0026", "#fd8d3c", "#ffffb2"),
        )
        return base, live_map.colour_update(
            ["#ffffff"] * len(ids),
            [f"{int(n):,}" for n in rows["tickets"].fillna(0)],
            legend,
            fill_opacity=0.0,
            hover_title=tr("hot.show.tickets"),
            overlay=live_map.density_overlay(surface.values, surface.bounds),
        )
    return base, live_map.choropleth_update(rows[show], title=title, better=None, percent=False, zero_neutral=True)


@st.cache_data(show_spinner=False, max_entries=8)
def repeats(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, distance_m: float, days: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(repeat tickets of the period with their first report, repeat rates per grid)."""
    return hotspot_units.repeat_tables(
        analysed_tickets(name, ver, flt, first, last), layer(name, ver, schema.GRIDS.name), distance_m, days
    )  # stacked coordinates left out already


@st.cache_data(show_spinner=False, max_entries=8)
def time_patterns(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weekday × hour table of the period's tickets, month × category table of the analysis months)."""
    return hotspot_units.time_patterns(
        hotspot_tickets(name, ver, flt),
        metrics.Period.from_dates(first, last, workspace_timezone(name)),
        hotspot_units.analysis_months(first, last),
    )


def unit_tickets(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, unit: str, resolution: int, unit_id: str
) -> pd.DataFrame:
    """The period's tickets in one unit (a map click), newest first."""
    return hotspot_units.unit_tickets(
        hotspot_tickets(name, ver, flt),
        unit_keys(name, ver, flt, unit, resolution),
        unit_id,
        metrics.Period.from_dates(first, last, workspace_timezone(name)),
    )
