"""Cached loaders: every ``st.cache_*`` of the dashboard lives here.

Keys are the workspace name, its version (which changes on every write) and plain parameters — never a
GeoDataFrame (CRS objects break Streamlit's hashing). Heavy work (reading layers, the point→grid join,
display geometry, the map) happens once per workspace version, not on every rerun.
"""

from __future__ import annotations

from datetime import date

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from core import geometry, joins, metrics, schema, store
from dashboard.components import maps
from dashboard.i18n import translate
from geodata import load_demo

DEMO_WORKSPACE = "demo"


@st.cache_resource(show_spinner=False)
def workspace_names() -> list[str]:
    """Workspaces under the data directory; seeds the demo district on first run."""
    names = store.list_workspaces()
    if not names:
        store.open_store(DEMO_WORKSPACE).initialize(load_demo(), note="demo district (synthetic)")
        names = store.list_workspaces()
    return names


@st.cache_resource(show_spinner=False)
def workspace(name: str) -> store.Store:
    return store.open_store(name)


def version(name: str) -> int:
    """The workspace's active version (a cheap read; the key of every cache below)."""
    return workspace(name).version()


@st.cache_data(show_spinner=False, max_entries=32)
def layer(name: str, ver: int, layer_name: str) -> gpd.GeoDataFrame:
    return workspace(name).read(layer_name, ver)


@st.cache_resource(show_spinner=False, max_entries=4)
def grid_index(name: str, ver: int) -> joins.GridIndex:
    return joins.GridIndex.from_grids(layer(name, ver, schema.GRIDS.name))


@st.cache_data(show_spinner=False, max_entries=16)
def joined(name: str, ver: int, layer_name: str) -> gpd.GeoDataFrame:
    """A point layer with grid_id/community/street from the active grids; tickets also carry the grid
    they had under the boundaries active when they were created."""
    grids = layer(name, ver, schema.GRIDS.name)
    points = joins.join_to_grids(layer(name, ver, layer_name), grids, grid_index(name, ver))
    if layer_name == schema.TICKETS.name:
        eras = [(pd.Timestamp(info.created_at), layer(name, info.version, schema.GRIDS.name))
                for info in workspace(name).layer_history(schema.GRIDS.name) if info.version <= ver]
        points[schema.GRID_ID_AT_CREATION] = joins.grid_at_time(points, points[schema.CREATED_AT], eras)
    return points


@st.cache_data(show_spinner=False, max_entries=4)
def display_boundaries(name: str, ver: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Grids and community outlines simplified for the web map."""
    grids = geometry.simplify_for_display(layer(name, ver, schema.GRIDS.name))
    return grids, geometry.communities_from_grids(grids)


@st.cache_data(show_spinner=False, max_entries=8)
def as_of(name: str, ver: int) -> pd.Timestamp | None:
    return metrics.data_as_of(layer(name, ver, schema.TICKETS.name))


@st.cache_data(show_spinner=False, max_entries=32)
def overview(name: str, ver: int, first: date, last: date) -> tuple[metrics.HeadlineFigures, pd.Series]:
    """Headline figures and per-grid ticket counts for the period ``first``…``last``."""
    period = metrics.Period.from_dates(first, last)
    grids = layer(name, ver, schema.GRIDS.name)
    tickets = joined(name, ver, schema.TICKETS.name)
    figures = metrics.headline_figures(grids, layer(name, ver, schema.CAMERAS.name), tickets,
                                       layer(name, ver, schema.MEMBERS.name), period,
                                       as_of(name, ver) or period.end)
    return figures, metrics.ticket_count_by_grid(tickets, grids, period)


def overview_map(name: str, ver: int, first: date, last: date, lang: str) -> folium.Map:
    """A new map each run from cached parts (st_folium renames a map's variables as it renders it, so
    one map object must not be shown twice)."""
    grids, communities = display_boundaries(name, ver)
    _, counts = overview(name, ver, first, last)
    labels = {key: translate(lang, f"map.{key}")
              for key in ("grid", "tickets", "grids_layer", "communities_layer", "legend")}
    aligned = counts.reindex(grids[schema.GRID_ID]).reset_index(drop=True).set_axis(grids.index)
    return maps.district_map(grids, communities, aligned, labels=labels)
