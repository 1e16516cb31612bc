"""Caches of the Hotspots page (views/hotspots.py): analysis units, Gi*, emerging patterns, repeats."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from core import command, geometry, hotspots, metrics, schema
from dashboard.components import map_builders, maps
from dashboard.components.palettes import EMERGING_COLORS, HOT_COLORS
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
MIN_EMERGING_MONTHS = 6  # fewer months in the period: the twelve months that end with it are analysed

DENSITY_BANDWIDTH_M = 250.0


@st.cache_data(show_spinner=False, max_entries=8)
def hex_units(name: str, boundary_ver: int, resolution: int) -> gpd.GeoDataFrame:
    """The H3 cells covering the district (empty ones included), with their outlines and a label."""
    grids = layer(name, boundary_ver, schema.GRIDS.name)
    cells = hotspots.hex_cover(geometry.streets_from_grids(grids), resolution)
    polygons = [shapely.Polygon(ring) for ring in hotspots.hex_boundaries(cells)]
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
    tickets = flt.apply(joined(name, ver, schema.TICKETS.name))
    return tickets[metrics.registered_mask(tickets) & tickets[schema.ASSIGNED].astype(bool)]


@st.cache_data(show_spinner=False, max_entries=8)
def stacked_tickets(name: str, ver: int, flt: command.TicketFilter) -> pd.DataFrame:
    """The coordinates ``hotspot_tickets`` are stacked on (a default point), left out of the analyses."""
    return hotspots.stacked_coordinates(hotspot_tickets(name, ver, flt))


def in_period(tickets: pd.DataFrame, name: str, first: date, last: date) -> pd.DataFrame:
    """Those of ``tickets`` created in the days ``first`` … ``last`` of the workspace's calendar."""
    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    return tickets[period.contains(tickets[schema.CREATED_AT])]


def analysed_tickets(name: str, ver: int, flt: command.TicketFilter, first: date, last: date) -> pd.DataFrame:
    """The period's ``hotspot_tickets`` without those on stacked coordinates, found once over all of
    them: what Gi*, the density surface and the repeat cases are computed from (the page says how many
    were left out; a clicked unit still lists them)."""
    tickets = hotspot_tickets(name, ver, flt)
    kept = tickets[~hotspots.stacked_mask(tickets, stacked_tickets(name, ver, flt))]
    return in_period(kept, name, first, last)


@st.cache_resource(show_spinner=False, max_entries=3)
def ticket_cells(name: str, ver: int, flt: command.TicketFilter, resolution: int) -> pd.Series:
    """The H3 cell of each of ``hotspot_tickets``."""
    tickets = hotspot_tickets(name, ver, flt)
    return pd.Series(hotspots.hex_cells_of(tickets, resolution), index=tickets.index)


def unit_keys(name: str, ver: int, flt: command.TicketFilter, unit: str, resolution: int) -> pd.Series:
    """Each ticket's analysis unit: its H3 cell or its grid."""
    if unit == "hex":
        return ticket_cells(name, ver, flt, resolution)
    return hotspot_tickets(name, ver, flt)[schema.GRID_ID]


def analysis_months(first: date, last: date) -> pd.PeriodIndex:
    """The calendar months of the emerging analysis: those of the period, or the twelve ending with it
    when the period spans fewer than ``MIN_EMERGING_MONTHS``."""
    months = pd.period_range(first, last, freq="M")
    if len(months) >= MIN_EMERGING_MONTHS:
        return months
    return pd.period_range(end=pd.Period(last, freq="M"), periods=12, freq="M")


@st.cache_data(show_spinner=False, max_entries=16)
def hotspot_table(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, unit: str, resolution: int, fdr: bool
) -> pd.DataFrame:
    """Per unit: tickets in the period, rates (grids), Gi* z / p / confidence, and the emerging class."""
    boundary_ver = boundary_version(name, ver)
    graph = hotspot_graph(name, boundary_ver, unit, resolution)
    tickets = hotspot_tickets(name, ver, flt)
    key = unit_keys(name, ver, flt, unit, resolution)
    keep = ~hotspots.stacked_mask(tickets, stacked_tickets(name, ver, flt))  # like density and repeats
    tickets, key = tickets[keep], key[keep]
    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    in_period = period.contains(tickets[schema.CREATED_AT])
    units = pd.Index(graph.unique_ids)
    table = hotspots.gi_star(key[in_period].value_counts().reindex(units, fill_value=0), graph, fdr)
    table = table.rename(columns={"value": "tickets"})
    table["tickets"] = table["tickets"].astype("int64")
    if unit == "grid":
        grids = layer(name, ver, schema.GRIDS.name).set_index(schema.GRID_ID)
        table.insert(0, "name", grids[schema.NAME].reindex(units))
        table.insert(1, "community", grids[schema.COMMUNITY].reindex(units))
        km2 = geometry.area_km2(grids).reindex(units)
        population = pd.to_numeric(grids[schema.POPULATION], errors="coerce").reindex(units)
        table["per_1000"] = table["tickets"] * 1000 / population.where(population > 0)
        table["per_km2"] = table["tickets"] / km2.where(km2 > 0)
    months = analysis_months(first, last)
    counts = hotspots.monthly_counts(tickets, key, units, months)
    emerging = hotspots.emerging_hotspots(counts, graph, fdr)
    return table.join(emerging[["pattern", "hot_months", "trend_tau", "trend_p"]])


@st.cache_data(show_spinner=False, max_entries=8)
def hotspot_base(name: str, boundary_ver: int, unit: str, resolution: int) -> dict:
    if unit == "grid":
        return grid_base(name, boundary_ver)
    return maps.choropleth_config(hotspot_shapes(name, boundary_ver, unit, resolution), schema.NAME)


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
    flow = analysed_tickets(name, ver, flt, first, last)
    found = hotspots.repeat_cases(flow, distance_m, days, include_stacked=True)  # left out already
    columns = [schema.TICKET_ID, schema.CREATED_AT, schema.CATEGORY, schema.DESCRIPTION, schema.GRID_ID]
    cases = pd.DataFrame(flow.loc[found.index, columns]).join(found)
    grids = layer(name, ver, schema.GRIDS.name).set_index(schema.GRID_ID)
    rates = hotspots.repeat_rates(flow, found, pd.Index(grids.index))
    rates.insert(0, "name", grids[schema.NAME])
    return cases.sort_values(schema.CREATED_AT, ascending=False), rates.sort_values(
        ["repeats", "repeat_rate"], ascending=False
    )


@st.cache_data(show_spinner=False, max_entries=8)
def time_patterns(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weekday × hour table of the period's tickets, month × category table of the analysis months)."""
    tickets = pd.DataFrame(hotspot_tickets(name, ver, flt).drop(columns="geometry"))
    flow = tickets[
        metrics.Period.from_dates(first, last, workspace_timezone(name)).contains(tickets[schema.CREATED_AT])
    ]
    return hotspots.hour_weekday(flow), hotspots.monthly_seasonality(tickets, analysis_months(first, last))


def unit_tickets(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, unit: str, resolution: int, unit_id: str
) -> pd.DataFrame:
    """The period's tickets in one unit (a map click), newest first."""
    tickets = hotspot_tickets(name, ver, flt)
    key = unit_keys(name, ver, flt, unit, resolution)
    mine = in_period(tickets[key == unit_id], name, first, last)
    columns = [schema.TICKET_ID, schema.CREATED_AT, schema.CATEGORY, schema.DESCRIPTION, schema.SOURCE, schema.STAGE]
    return pd.DataFrame(mine[columns]).sort_values(schema.CREATED_AT, ascending=False)
