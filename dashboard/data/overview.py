"""Caches of the Overview page (views/overview.py)."""

from __future__ import annotations

from datetime import date

import folium
import pandas as pd
import streamlit as st

from core import metrics, schema
from dashboard.components import map_builders, maps
from dashboard.data import shared
from dashboard.i18n import translate


@st.cache_data(show_spinner=False, max_entries=32)
def overview(name: str, ver: int, first: date, last: date) -> tuple[metrics.HeadlineFigures, pd.Series]:
    """Headline figures and per-grid ticket counts for the period ``first``…``last``."""
    period = metrics.Period.from_dates(first, last, shared.workspace_timezone(name))
    grids = shared.layer(name, ver, schema.GRIDS.name)
    tickets = shared.joined(name, ver, schema.TICKETS.name)
    figures = metrics.headline_figures(
        grids,
        shared.layer(name, ver, schema.CAMERAS.name),
        tickets,
        shared.layer(name, ver, schema.MEMBERS.name),
        period,
        shared.as_of(name, ver) or period.end,
    )
    return figures, metrics.ticket_count_by_grid(tickets, grids, period)


def overview_map(name: str, ver: int, first: date, last: date, lang: str) -> tuple[folium.Map, folium.FeatureGroup]:
    """The grids (drawn once per boundary version) and, swapped into them, their ticket counts in the
    period (a new map each run: st_folium renames a map's variables as it renders it, so one map object
    must not be shown twice)."""
    boundary_ver = shared.boundary_version(name, ver)
    grids, _ = shared.display_boundaries(name, boundary_ver)
    _, counts = overview(name, ver, first, last)
    labels = {key: translate(lang, f"map.{key}") for key in ("tickets", "legend")}
    aligned = counts.reindex(grids[schema.GRID_ID]).reset_index(drop=True).set_axis(grids.index)
    return maps.choropleth_base_map(shared.district_base(name, boundary_ver)), map_builders.district_counts(
        aligned, labels=labels
    )
