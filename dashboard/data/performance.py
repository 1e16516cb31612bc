"""Caches of the Performance page (views/performance.py): indicators, rankings, the meeting report."""

from __future__ import annotations

from datetime import date

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from core import exports, geometry, indicators, metrics, schema, workspaces
from dashboard.components import map_builders, maps, report, tables
from dashboard.data import shared
from dashboard.i18n import translate


# ---- Performance -------------------------------------------------------------------------------
def composite_weights(name: str) -> dict[str, float]:
    """The workspace's saved composite weights (the defaults until someone saves others)."""
    return workspaces.composite_weights(shared.workspace(name))


def save_composite_weights(name: str, weights: dict[str, float]) -> None:
    workspaces.save_composite_weights(shared.workspace(name), weights)


@st.cache_data(show_spinner=False, max_entries=32)
def performance(
    name: str, ver: int, first: date, last: date, level: str, weights: tuple[tuple[str, float], ...]
) -> pd.DataFrame:
    """The ranking table of ``level`` for the period, with changes against the previous period."""
    period = metrics.Period.from_dates(first, last, shared.workspace_timezone(name))
    tickets, grids = shared.joined(name, ver, schema.TICKETS.name), shared.layer(name, ver, schema.GRIDS.name)
    return indicators.period_ranking(
        tickets, grids, period, shared.as_of(name, ver) or period.end, level, dict(weights)
    )


@st.cache_data(show_spinner=False, max_entries=16)
def outside_grids(name: str, ver: int, first: date, last: date) -> int:
    """Tickets of the period outside every grid (in Overview's count, in no unit's)."""
    return metrics.outside_grids_in_period(
        shared.joined(name, ver, schema.TICKETS.name),
        metrics.Period.from_dates(first, last, shared.workspace_timezone(name)),
    )


@st.cache_data(show_spinner=False, max_entries=16)
def year_over_year(name: str, ver: int, first: date, last: date, level: str) -> pd.DataFrame:
    """同比: the change of every indicator against the same period a year earlier."""
    period = metrics.Period.from_dates(first, last, shared.workspace_timezone(name))
    tickets, grids = shared.joined(name, ver, schema.TICKETS.name), shared.layer(name, ver, schema.GRIDS.name)
    return indicators.year_over_year(tickets, grids, period, shared.as_of(name, ver) or period.end, level)


@st.cache_data(show_spinner=False, max_entries=8)
def monthly(name: str, ver: int, level: str) -> pd.DataFrame:
    """Every indicator per unit and calendar month over the data's last 12 months (long format)."""
    clock = shared.as_of(name, ver)
    if clock is None:
        return pd.DataFrame()
    tickets, grids = shared.joined(name, ver, schema.TICKETS.name), shared.layer(name, ver, schema.GRIDS.name)
    return indicators.monthly_indicators(tickets, grids, clock, level)


@st.cache_data(show_spinner=False, max_entries=16)
def behind(
    name: str, ver: int, first: date, last: date, level: str, unit: str, numerator: str, denominator: str
) -> pd.DataFrame:
    """The tickets behind an indicator of one unit: those its denominator counts, with a flag for the
    ones its numerator counts."""
    period = metrics.Period.from_dates(first, last, shared.workspace_timezone(name))
    return indicators.tickets_behind(
        shared.joined(name, ver, schema.TICKETS.name),
        period,
        shared.as_of(name, ver) or period.end,
        level,
        unit,
        numerator,
        denominator,
    )


@st.cache_data(show_spinner=False, max_entries=8)
def unit_names(name: str, ver: int, level: str) -> dict[str, str]:
    """Display names of the units (grid names; communities and streets are their own names)."""
    return indicators.unit_names(shared.layer(name, ver, schema.GRIDS.name), level)


@st.cache_data(show_spinner=False, max_entries=16)
def period_tickets(name: str, ver: int, first: date, last: date) -> pd.DataFrame:
    """The registered tickets of the period, inside the grids, without geometry (for the patterns)."""
    tz = shared.workspace_timezone(name)
    return indicators.period_tickets(
        shared.joined(name, ver, schema.TICKETS.name),
        metrics.Period.from_dates(first, last, tz),
        shared.as_of(name, ver) or pd.Timestamp.now(tz=tz),
    )


@st.cache_data(show_spinner=False, max_entries=8)
def unit_shapes(name: str, boundary_ver: int, level: str) -> gpd.GeoDataFrame:
    """Display outlines of every unit of ``level``."""
    grids, communities = shared.display_boundaries(name, boundary_ver)
    if level == "grid":
        return grids
    return communities if level == "community" else geometry.streets_from_grids(grids)


@st.cache_data(show_spinner=False, max_entries=8)
def performance_base(name: str, boundary_ver: int, level: str) -> dict:
    """The outlines of the units of ``level`` for an indicator map (grids: shared with every page)."""
    if level == "grid":
        return shared.grid_base(name, boundary_ver)
    return maps.choropleth_config(unit_shapes(name, boundary_ver, level), metrics.LEVELS[level])


def performance_map(
    name: str, ver: int, table: pd.DataFrame, level: str, column: str, lang: str
) -> tuple[folium.Map, folium.FeatureGroup]:
    """The units of ``level`` (drawn once per boundary version and level) and, swapped into them, the
    colours of ``column`` of the ranking table."""
    boundary_ver = shared.boundary_version(name, ver)
    shapes = unit_shapes(name, boundary_ver, level)
    values = table[column].reindex(shapes[metrics.LEVELS[level]].to_numpy())
    return (
        maps.choropleth_base_map(performance_base(name, boundary_ver, level)),
        map_builders.performance_update(values, column, title=translate(lang, f"perf.col.{column}")),
    )


@st.cache_data(show_spinner=False, max_entries=8)
def xlsx_bytes(table: pd.DataFrame, sheet: str) -> bytes:
    return exports.xlsx_bytes(table, sheet)


@st.cache_data(show_spinner=False, max_entries=8)
def meeting_report(
    name: str, ver: int, first: date, last: date, level: str, weights: tuple[tuple[str, float], ...], lang: str
) -> tuple[bytes, str]:
    """The meeting report as (PDF bytes, HTML text) in ``lang``: the figures are
    ``core.indicators.meeting_figures``, worded here and drawn by ``components.report``."""

    def tr(key: str, **values) -> str:
        return translate(lang, key, **values)

    period = metrics.Period.from_dates(first, last, shared.workspace_timezone(name))
    clock = shared.as_of(name, ver) or period.end
    table = performance(name, ver, first, last, level, weights)
    names = unit_names(name, ver, level)
    figures = indicators.meeting_figures(
        shared.joined(name, ver, schema.TICKETS.name),
        shared.layer(name, ver, schema.GRIDS.name),
        period,
        clock,
        table,
        monthly(name, ver, "street"),
        names,
        tr("report.district"),
    )
    now = figures.totals
    totals = [(tr(f"perf.col.{c}"), f"{int(now[c]):,}", "") for c in ("registered", "due", "closed", "on_time")]
    for rate in metrics.RATES:
        value = figures.rates[rate]
        totals.append(
            (tr(f"perf.col.{rate}"), "–" if pd.isna(value) else f"{value:.2%}", tables.rate_formula(tr, rate, now))
        )
    flag_lines = [
        (
            row.severity,
            tr(
                "report.flag",
                unit=names.get(row.unit, row.unit),
                indicator=tr(f"perf.col.{row.indicator}"),
                points=f"{row.change * 100:+.1f}",
            ),
        )
        for row in figures.flags.itertuples()
    ]
    shapes = unit_shapes(name, shared.boundary_version(name, ver), level)
    key = metrics.LEVELS[level]
    fills, legend, _ = maps.choropleth_classes(
        table["composite_score"].reindex(shapes[key].to_numpy()), title="", better=True, percent=False
    )
    content = report.ReportContent(
        title=tr("report.title"),
        subtitle=tr(
            "report.subtitle",
            first=first.isoformat(),
            last=last.isoformat(),
            level=tr(f"perf.level.{level}"),
            as_of=clock.strftime("%Y-%m-%d %H:%M"),
        ),
        totals=totals,
        flags_title=tr("report.flags"),
        flags=flag_lines,
        no_flags=tr("report.no_flags"),
        map_title=tr("report.map", level=tr(f"perf.level.{level}")),
        units=shapes,
        fills=fills,
        legend=list(zip(legend.colors, legend.labels, strict=True)),
        trend_title=tr("report.trend"),
        months=figures.trend.index.tolist(),
        trend={tr(f"perf.col.{rate}"): figures.trend[rate].tolist() for rate in figures.trend.columns},
        ranking_title=tr("report.ranking", count=min(indicators.REPORT_ROWS, len(table))),
        ranking=figures.ranking.rename(columns=lambda c: tr(f"perf.col.{c}")),
    )
    return report.report_pdf(content), report.report_html(content, lang)
