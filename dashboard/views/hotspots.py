"""Hotspots: where and when incidents concentrate — Getis-Ord Gi* hot and cold spots on grids or H3
hexagons (with the false-discovery-rate option), emerging hot spots, the kernel density surface, the
tickets behind a clicked unit, time patterns and repeat cases, with exports.

The analysis is ``core.hotspots``; the loaders in ``dashboard.data`` cache it per workspace version and
filter. The units are drawn once per boundary version, unit and resolution; switching what the map
shows only swaps colours into it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import hexes, hotspot_units, hotspots, schema
from core.errors import HotspotError
from dashboard import data, state
from dashboard.components import hints
from dashboard.components import hotspot_panels as panels
from dashboard.components.filters import ticket_filter
from dashboard.components.map_view import show_map
from dashboard.components.text import md_text
from dashboard.components.tickets import readable
from dashboard.i18n import error_text, t

SHOW = ("gi", "emerging", "density", "tickets", "per_1000")
RESOLUTIONS = (7, 8, 9, 10)
TICKET_COLUMNS = (schema.TICKET_ID, schema.CREATED_AT, schema.CATEGORY, schema.DESCRIPTION, schema.SOURCE, schema.STAGE)


def render() -> None:
    sel = st.session_state[state.SELECTION]
    st.title(t("hot.title"))
    st.caption(t("hot.caption", first=sel.first.isoformat(), last=sel.last.isoformat()))
    if hints.needs(sel, (schema.GRIDS.name, schema.TICKETS.name)):
        return
    flt = ticket_filter(sel, state.HOT_FILTER, st.columns(3), stages=False)
    cols = st.columns([1.2, 1, 1, 1.6])
    unit = cols[0].radio(
        t("hot.unit"), ("grid", "hex"), horizontal=True, key=state.HOT_UNIT, format_func=lambda u: t(f"hot.unit.{u}")
    )
    resolution = cols[1].selectbox(
        t("hot.resolution"),
        RESOLUTIONS,
        index=RESOLUTIONS.index(9),
        key=state.HOT_RESOLUTION,
        disabled=unit != "hex",
        help=t("hot.resolution_help"),
        format_func=lambda r: t("hot.resolution_value", r=r, m=f"{hexes.hex_edge_m(r):,.0f}"),
    )
    fdr = cols[2].toggle(t("hot.fdr"), value=True, key=state.HOT_FDR, help=t("hot.fdr_help"))
    stacked = data.stacked_tickets(sel.workspace, sel.version, flt)
    if len(stacked):
        st.caption(
            t(
                "hot.stacked",
                count=f"{hotspots.stacked_total(stacked):,}",
                places=len(stacked),
                where="; ".join(f"{r.lon:.6f}, {r.lat:.6f}" for r in stacked.head(3).itertuples()),
            )
        )
    try:
        table = data.hotspot_table(sel.workspace, sel.version, sel.first, sel.last, flt, unit, resolution, fdr)
    except HotspotError as exc:  # too few areas or months: the time patterns and repeats still work
        st.info(md_text(error_text(exc)))
    else:
        summary(table, sel)
        hotspot_map(sel, flt, unit, resolution, table)
        panels.unit_table(table, unit)
    panels.time_patterns(sel, flt)
    panels.repeat_cases(sel, flt)


def summary(table: pd.DataFrame, sel) -> None:
    counts = hotspots.SpotCounts.of(table)
    row = st.columns(5)
    for box, (level, count) in zip(row, counts.hot.items()):
        box.metric(t(f"hot.class.{level}"), f"{count:,}")
    row[3].metric(t("hot.cold_spots"), f"{counts.cold:,}")
    row[4].metric(t("hot.emerging"), f"{counts.emerging:,}", help=t("hot.emerging_help"))
    months = hotspot_units.analysis_months(sel.first, sel.last)
    st.caption(t("hot.months", first=str(months[0]), last=str(months[-1]), n=len(months)))


@st.fragment
def hotspot_map(sel, flt, unit: str, resolution: int, table: pd.DataFrame) -> None:
    """The map; choosing what it shows reruns only this part, a click lists the unit's tickets."""
    choices = SHOW if unit == "grid" else tuple(s for s in SHOW if s != "per_1000")
    show = st.radio(
        t("hot.show"), choices, horizontal=True, key=state.HOT_SHOW, format_func=lambda s: t(f"hot.show.{s}")
    )
    base, colours = data.hotspot_map(
        sel.workspace, sel.version, sel.first, sel.last, flt, unit, resolution, table, show, sel.language
    )
    clicked = show_map(
        base,
        key=state.key_of(state.HOT_MAP, unit, resolution),
        height=540,
        live=colours,
        returned_objects=["last_clicked"],
    ).get("last_clicked")
    unit_id = clicked_unit(sel, unit, resolution, clicked)
    if unit_id is None or unit_id not in table.index:
        st.caption(t("hot.click_hint"))
        return
    row = table.loc[unit_id]
    label = row["name"] if unit == "grid" else unit_id
    tickets = data.unit_tickets(sel.workspace, sel.version, sel.first, sel.last, flt, unit, resolution, unit_id)
    st.markdown(
        t(
            "hot.unit_caption",
            unit=md_text(label),
            cls=t(f"hot.class.{int(row['confidence'])}"),
            z=f"{row['z']:.2f}",
            n=len(tickets),
            pattern=t(f"hot.pattern.{row['pattern']}"),
        )
    )
    st.dataframe(
        readable(tickets, list(TICKET_COLUMNS)).rename(columns=lambda c: t(f"perf.ticket.{c}")),
        hide_index=True,
        width="stretch",
        key=state.HOT_UNIT_TICKETS,
    )


def clicked_unit(sel, unit: str, resolution: int, clicked: dict | None) -> str | None:
    if not clicked:
        return None
    if unit == "hex":
        return hexes.hex_cell_at(clicked["lng"], clicked["lat"], resolution)
    return data.grid_at(sel.workspace, sel.version, clicked["lng"], clicked["lat"])
