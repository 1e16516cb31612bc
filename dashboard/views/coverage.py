"""Coverage: which grids are blind (cameras), under-served (the 15-minute service circle), without party
members or under-staffed — and where the next cameras or service points would help most.

The measures are ``core.coverage``, the siting model ``core.siting``; ``dashboard.data`` caches them per
workspace version and settings. The grids are drawn once per boundary version; the measure shown and
the layers are swapped in.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import coverage, reach, schema
from dashboard import data, state
from dashboard.components import coverage_panels as panels
from dashboard.components import hints, tables
from dashboard.components.downloads import table_downloads
from dashboard.components.map_view import show_map
from dashboard.i18n import t

MEASURES = (
    "covered_share",
    "lost_share",
    "tickets_in_view_share",
    "key_points_covered_share",
    "cameras_online",
    "reach_share",
    "members",
    "linked_share",
    "households_per_worker",
)
CAMERA_MEASURES = MEASURES[:5]  # the camera layers are switched on with these; the service layers otherwise
HELP = {
    "cov.covered_help",
    "cov.lost_help",
    "cov.in_view_help",
    "cov.key_points_help",
    "cov.served_help",
    "cov.linked_help",
    "cov.staffing_help",
}
FIGURES = (  # (label, coverage.district_shares figure), in the order shown
    ("cov.covered", "covered_share"),
    ("cov.lost", "lost_share"),
    ("cov.in_view", "tickets_in_view_share"),
    ("cov.key_points", "key_points_covered_share"),
    ("cov.served", "served_share"),
    ("cov.linked", "linked_share"),
    ("cov.no_member", "grids_without_member"),
    ("cov.staffing", "grids_off_target"),
)


def render() -> None:
    sel = st.session_state[state.SELECTION]
    st.title(t("cov.title"))
    st.caption(t("cov.caption"))
    if hints.needs(sel, (schema.GRIDS.name,)):
        return
    hints.load_next(sel, (schema.CAMERAS.name, schema.SERVICE_POINTS.name, schema.MEMBERS.name))
    settings = panels.settings(sel)
    table = data.coverage_table(
        sel.workspace, sel.version, settings.walk, settings.households_per_worker, settings.roads, settings.key_points
    )
    headline(table)
    coverage_map(sel, table, settings)
    grid_table(table)
    panels.siting_panel(sel, settings)


def headline(table: pd.DataFrame) -> None:
    """District figures of the layers the workspace holds (a measure without its layer is not shown)."""
    figures = coverage.district_shares(table)
    shown = [(key, figure_text(name, figures[name])) for key, name in FIGURES if name in figures]
    for start in range(0, len(shown), 4):
        for box, (key, value) in zip(st.columns(4), shown[start : start + 4]):
            help_key = f"{key}_help"
            box.metric(t(key), value, help=t(help_key) if help_key in HELP else None)


def figure_text(name: str, value: float) -> str:
    if name.startswith("grids_"):  # a count
        return f"{int(value):,}"
    if pd.isna(value):
        return "–"
    return f"{value:.2%}" if name == "lost_share" else f"{value:.1%}"


@st.fragment
def coverage_map(sel, table: pd.DataFrame, settings: panels.Settings) -> None:
    """The map; choosing a measure, a kind or a community reruns only this part."""
    cols = st.columns([1.4, 1.2, 1.2])
    measures = [m for m in MEASURES if m in table.columns or (m == "reach_share" and "any_share" in table.columns)]
    measure = cols[0].selectbox(
        t("cov.measure"), measures, key=state.COV_MEASURE, format_func=lambda m: t(f"cov.col.{m}")
    )
    kinds = [reach.ANY_KIND, *[k for k in schema.SERVICE_KINDS if f"{k}_share" in table.columns]]
    kind = cols[1].selectbox(t("cov.kind"), kinds, key=state.COV_KIND, format_func=kind_label)
    community = panels.layer_community(sel, cols[2], table)
    overlays = data.coverage_overlays(
        sel.workspace,
        sel.version,
        community,
        kind,
        settings.walk,
        settings.roads,
        measure in CAMERA_MEASURES,
        sel.language,
    )
    column = f"{kind}_share" if measure == "reach_share" else measure
    title = t(f"cov.col.{measure}") + (f" · {kind_label(kind)}" if measure == "reach_share" else "")
    base, colours = data.coverage_map(
        sel.workspace, sel.version, table, column, title, overlays, panels.proposed_sites(sel)
    )
    show_map(base, key=state.COVERAGE_MAP, height=560, live=colours)
    st.caption(t("cov.map_hint"))


def kind_label(kind: str) -> str:
    return t("cov.any_kind") if kind == reach.ANY_KIND else t(f"service_kind.{kind}")


def grid_table(table: pd.DataFrame) -> None:
    st.subheader(t("cov.table"))
    shown = tables.percent_rounded(table[[c for c in panels.TABLE if c in table.columns]], ("_share",))
    shown["status"] = shown["status"].map(lambda s: t(f"cov.status.{s}"))
    shown = shown.reset_index().rename(columns=lambda c: t(f"cov.col.{c}"))
    st.dataframe(shown, hide_index=True, width="stretch", height=320, key=state.COV_TABLE)
    table_downloads(shown, "gridwatch_coverage", state.COV_DOWNLOADS, t("cov.title"))
