"""Caches of the Overview page (views/overview.py)."""

from __future__ import annotations

from datetime import date

import folium
import pandas as pd
import streamlit as st

from core import metrics, schema
from dashboard.components import maps
from dashboard.data.workspace import as_of, boundary_version, display_boundaries, joined, layer, workspace_timezone
from dashboard.i18n import translate


@st.cache_data(show_spinner=False, max_entries=32)
def overview(name: str, ver: int, first: date, last: date) -> tuple[metrics.HeadlineFigures, pd.Series]:
    """Headline figures and per-grid ticket counts for the period ``first``…``last``."""
    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    grids = layer(name, ver, schema.GRIDS.name)
    tickets = joined(name, ver, schema.TICKETS.name)
    figures = metrics.headline_figures(
        grids,
        layer(name, ver, schema.CAMERAS.name),
        tickets,
        layer(name, ver, schema.MEMBERS.name),
        period,
        as_of(name, ver) or period.end,
    )
    return figures, metrics.ticket_count_by_grid(tickets, grids, period)


def overview_map(name: str, ver: int, first: date, last: date, lang: str) -> folium.Map:
    """A new map each run from cached parts (st_folium renames a map's variables as it renders it, so
    one map object must not be shown twice)."""
    grids, communities = display_boundaries(name, boundary_version(name, ver))
    _, counts = overview(name, ver, first, last)
    labels = {
        key: translate(lang, f"map.{key}") for key in ("grid", "tickets", "grids_layer", "communities_layer", "legend")
    }
    aligned = counts.reindex(grids[schema.GRID_ID]).reset_index(drop=True).set_axis(grids.index)
    return maps.district_map(grids, communities, aligned, labels=labels)
