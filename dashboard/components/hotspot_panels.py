"""Parts of the Hotspots page: the table of units, the time patterns and the repeat cases, each with
its exports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import hotspots, repeats
from dashboard import data, state
from dashboard.components import charts, tables
from dashboard.components.downloads import table_downloads
from dashboard.components.tickets import readable
from dashboard.i18n import t

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
        t("hot.repeat_distance"), 10, 500, int(repeats.REPEAT_DISTANCE_M), step=10, key=state.HOT_REPEAT_M
    )
    days = cols[1].number_input(t("hot.repeat_days"), 1, 90, int(repeats.REPEAT_DAYS), key=state.HOT_REPEAT_DAYS)
    cases, rates = data.repeats(sel.workspace, sel.version, sel.first, sel.last, flt, float(distance), float(days))
    total, share = repeats.repeat_share(cases, rates)
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
