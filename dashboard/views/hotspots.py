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

from core import hotspots, schema
from core.hotspots import HotspotError
from dashboard import data, state
from dashboard.components import charts, hints, tables
from dashboard.components.downloads import table_downloads
from dashboard.components.filters import ticket_filter
from dashboard.components.map_view import show_map
from dashboard.components.text import md_text
from dashboard.components.tickets import readable
from dashboard.i18n import error_text, t

SHOW = ("gi", "emerging", "density", "tickets", "per_1000")
RESOLUTIONS = (7, 8, 9, 10)
SEASON_CATEGORIES = 8  # lines in the month-by-month chart: the busiest categories
TABLE = (
    "name",
    "community",
    "tickets",
    "per_1000",
    "per_km2",
    "z",
    "p",
    "confidence",
    "pattern",
    "hot_months",
    "trend_tau",
)
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
        format_func=lambda r: t("hot.resolution_value", r=r, m=f"{hotspots.hex_edge_m(r):,.0f}"),
    )
    fdr = cols[2].toggle(t("hot.fdr"), value=True, key=state.HOT_FDR, help=t("hot.fdr_help"))
    stacked = data.stacked_tickets(sel.workspace, sel.version, flt)
    if len(stacked):
        st.caption(
            t(
                "hot.stacked",
                count=f"{int(stacked['count'].sum()):,}",
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
        unit_table(table, unit)
    time_patterns(sel, flt)
    repeat_cases(sel, flt)


def summary(table: pd.DataFrame, sel) -> None:
    counts = hotspots.SpotCounts.of(table)
    row = st.columns(5)
    for box, (level, count) in zip(row, counts.hot.items()):
        box.metric(t(f"hot.class.{level}"), f"{count:,}")
    row[3].metric(t("hot.cold_spots"), f"{counts.cold:,}")
    row[4].metric(t("hot.emerging"), f"{counts.emerging:,}", help=t("hot.emerging_help"))
    months = data.analysis_months(sel.first, sel.last)
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
        return hotspots.hex_cell_at(clicked["lng"], clicked["lat"], resolution)
    return data.grid_at(sel.workspace, sel.version, clicked["lng"], clicked["lat"])


def unit_table(table: pd.DataFrame, unit: str) -> None:
    st.subheader(t("hot.table"))
    shown = table[[c for c in TABLE if c in table.columns]].copy()
    shown = shown.sort_values(["confidence", "z"], ascending=False)
    shown["confidence"] = shown["confidence"].map(lambda c: t(f"hot.class.{int(c)}"))
    shown["pattern"] = shown["pattern"].map(lambda p: t(f"hot.pattern.{p}"))
    shown = tables.rounded(shown, {"per_1000": 2, "per_km2": 2, "z": 2, "trend_tau": 2, "p": 4})
    shown.insert(0, "unit", shown.index)
    shown = shown.rename(columns=lambda c: t(f"hot.col.{c}"))
    st.dataframe(shown, hide_index=True, width="stretch", height=320, key=state.HOT_TABLE)
    table_downloads(shown, f"gridwatch_hotspots_{unit}", state.HOT_TABLE, t("hot.title"))


def time_patterns(sel, flt) -> None:
    st.subheader(t("hot.time"))
    matrix, season = data.time_patterns(sel.workspace, sel.version, sel.first, sel.last, flt)
    left, right = st.columns(2)
    left.altair_chart(
        charts.hour_weekday(
            matrix, [t(f"perf.weekday.{d}") for d in range(hotspots.WEEKDAYS)], t("perf.col.registered")
        ),
        width="stretch",
    )
    right.altair_chart(
        charts.season_lines(
            season, SEASON_CATEGORIES, t("hot.season"), t("perf.col.registered"), t("command.category")
        ),
        width="stretch",
    )


def repeat_cases(sel, flt) -> None:
    st.subheader(t("hot.repeats"))
    cols = st.columns([1, 1, 3])
    distance = cols[0].number_input(
        t("hot.repeat_distance"), 10, 500, int(hotspots.REPEAT_DISTANCE_M), step=10, key=state.HOT_REPEAT_M
    )
    days = cols[1].number_input(t("hot.repeat_days"), 1, 90, int(hotspots.REPEAT_DAYS), key=state.HOT_REPEAT_DAYS)
    cases, rates = data.repeats(sel.workspace, sel.version, sel.first, sel.last, flt, float(distance), float(days))
    total, share = hotspots.repeat_share(cases, rates)
    cols[2].metric(t("hot.repeat_count"), f"{len(cases):,}", help=t("hot.repeat_help", m=distance, d=days))
    if total:
        cols[2].caption(t("hot.repeat_share", share=f"{share:.1%}", total=f"{total:,}"))
    left, right = st.columns([3, 2])
    shown = readable(cases, list(cases.columns))
    shown = tables.rounded(shown, {"gap_hours": 1})
    shown = shown.rename(columns=lambda c: t(f"hot.rep.{c}"))
    left.dataframe(shown, hide_index=True, width="stretch", height=300, key=state.HOT_REPEATS)
    per_grid = tables.rounded(rates[rates["tickets"] > 0], {"repeat_rate": 1}, percent=("repeat_rate",))
    per_grid = per_grid.reset_index().rename(columns=lambda c: t(f"hot.rep.{c}"))
    right.dataframe(per_grid, hide_index=True, width="stretch", height=300, key=state.HOT_REPEAT_RATES)
    table_downloads(shown, "gridwatch_repeat_cases", state.HOT_REPEATS, t("hot.title"))
