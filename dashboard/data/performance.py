"""Caches of the Performance page (views/performance.py): indicators, rankings, the meeting report."""

from __future__ import annotations

from datetime import date

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from core import exports, geometry, metrics, schema
from dashboard.components import map_builders, maps, report
from dashboard.data.workspace import (
    as_of,
    boundary_version,
    display_boundaries,
    grid_base,
    joined,
    layer,
    workspace,
    workspace_timezone,
)
from dashboard.i18n import translate

# ---- Performance -------------------------------------------------------------------------------
WEIGHTS_SETTING = "composite_weights"


def composite_weights(name: str) -> dict[str, float]:
    """The workspace's saved composite weights (the defaults until someone saves others)."""
    saved = workspace(name).get_setting(WEIGHTS_SETTING)
    return dict(saved) if saved else dict(metrics.DEFAULT_WEIGHTS)


def save_composite_weights(name: str, weights: dict[str, float]) -> None:
    workspace(name).set_setting(WEIGHTS_SETTING, weights)


@st.cache_data(show_spinner=False, max_entries=32)
def performance(
    name: str, ver: int, first: date, last: date, level: str, weights: tuple[tuple[str, float], ...]
) -> pd.DataFrame:
    """The ranking table of ``level`` for the period, with changes against the previous period."""
    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    clock = as_of(name, ver) or period.end
    tickets, grids = joined(name, ver, schema.TICKETS.name), layer(name, ver, schema.GRIDS.name)
    current = metrics.indicators(tickets, grids, period, clock, level)
    previous = metrics.indicators(tickets, grids, metrics.previous_period(period), clock, level)
    return metrics.ranking(current, previous, dict(weights))


@st.cache_data(show_spinner=False, max_entries=16)
def outside_grids(name: str, ver: int, first: date, last: date) -> int:
    """Tickets of the period outside every grid (in Overview's count, in no unit's)."""
    return metrics.outside_grids_in_period(
        joined(name, ver, schema.TICKETS.name), metrics.Period.from_dates(first, last, workspace_timezone(name))
    )


@st.cache_data(show_spinner=False, max_entries=16)
def year_over_year(name: str, ver: int, first: date, last: date, level: str) -> pd.DataFrame:
    """同比: the change of every indicator against the same period a year earlier."""
    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    clock = as_of(name, ver) or period.end
    tickets, grids = joined(name, ver, schema.TICKETS.name), layer(name, ver, schema.GRIDS.name)
    return metrics.changes(
        metrics.indicators(tickets, grids, period, clock, level),
        metrics.indicators(tickets, grids, metrics.same_period_last_year(period), clock, level),
    )


@st.cache_data(show_spinner=False, max_entries=8)
def monthly(name: str, ver: int, level: str) -> pd.DataFrame:
    """Every indicator per unit and calendar month over the data's last 12 months (long format)."""
    clock = as_of(name, ver)
    if clock is None:
        return pd.DataFrame()
    tickets, grids = joined(name, ver, schema.TICKETS.name), layer(name, ver, schema.GRIDS.name)
    end = clock.tz_localize(None).normalize().replace(day=1) + pd.DateOffset(months=1)
    frames = []
    for k in range(12, 0, -1):
        start = end - pd.DateOffset(months=k)
        table = metrics.indicators(tickets, grids, metrics.Period.month_of(start, clock.tz), clock, level)
        frames.append(
            table.reset_index().rename(columns={metrics.LEVELS[level]: "unit"}).assign(month=start.strftime("%Y-%m"))
        )
    return pd.concat(frames, ignore_index=True)


@st.cache_data(show_spinner=False, max_entries=16)
def behind(
    name: str, ver: int, first: date, last: date, level: str, unit: str, numerator: str, denominator: str
) -> pd.DataFrame:
    """The tickets behind an indicator of one unit: those its denominator counts, with a flag for the
    ones its numerator counts."""
    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    tickets = joined(name, ver, schema.TICKETS.name)
    flags = metrics.ticket_flags(tickets, period, as_of(name, ver) or period.end)
    mine = (tickets[metrics.LEVELS[level]] == unit).to_numpy() & tickets[schema.ASSIGNED].to_numpy(dtype=bool)
    rows = mine & flags[denominator].to_numpy()
    return pd.DataFrame(tickets.drop(columns="geometry")[rows]).assign(counted=flags[numerator].to_numpy()[rows])


@st.cache_data(show_spinner=False, max_entries=8)
def unit_names(name: str, ver: int, level: str) -> dict[str, str]:
    """Display names of the units (grid names; communities and streets are their own names)."""
    grids = layer(name, ver, schema.GRIDS.name)
    key = metrics.LEVELS[level]
    if level != "grid":
        return {k: k for k in grids[key].dropna().unique()}
    return dict(zip(grids[schema.GRID_ID], grids[schema.NAME].fillna(grids[schema.GRID_ID]), strict=True))


@st.cache_data(show_spinner=False, max_entries=16)
def period_tickets(name: str, ver: int, first: date, last: date) -> pd.DataFrame:
    """The registered tickets of the period, inside the grids, without geometry (for the patterns)."""
    tickets = joined(name, ver, schema.TICKETS.name)
    tz = workspace_timezone(name)
    flags = metrics.ticket_flags(
        tickets, metrics.Period.from_dates(first, last, tz), as_of(name, ver) or pd.Timestamp.now(tz=tz)
    )
    keep = flags["registered"].to_numpy() & tickets[schema.ASSIGNED].to_numpy(dtype=bool)
    return pd.DataFrame(tickets.drop(columns="geometry")[keep])


@st.cache_data(show_spinner=False, max_entries=8)
def unit_shapes(name: str, boundary_ver: int, level: str) -> gpd.GeoDataFrame:
    """Display outlines of every unit of ``level``."""
    grids, communities = display_boundaries(name, boundary_ver)
    if level == "grid":
        return grids
    return communities if level == "community" else geometry.streets_from_grids(grids)


@st.cache_data(show_spinner=False, max_entries=8)
def performance_base(name: str, boundary_ver: int, level: str) -> dict:
    """The outlines of the units of ``level`` for an indicator map (grids: shared with every page)."""
    if level == "grid":
        return grid_base(name, boundary_ver)
    return maps.choropleth_config(unit_shapes(name, boundary_ver, level), metrics.LEVELS[level])


def performance_map(
    name: str, ver: int, table: pd.DataFrame, level: str, column: str, lang: str
) -> tuple[folium.Map, folium.FeatureGroup]:
    """The units of ``level`` (drawn once per boundary version and level) and, swapped into them, the
    colours of ``column`` of the ranking table."""
    boundary_ver = boundary_version(name, ver)
    shapes = unit_shapes(name, boundary_ver, level)
    values = table[column].reindex(shapes[metrics.LEVELS[level]].to_numpy())
    return (
        maps.choropleth_base_map(performance_base(name, boundary_ver, level)),
        map_builders.performance_update(values, column, title=translate(lang, f"perf.col.{column}")),
    )


@st.cache_data(show_spinner=False, max_entries=8)
def xlsx_bytes(table: pd.DataFrame, sheet: str) -> bytes:
    return exports.xlsx_bytes(table, sheet)


REPORT_COLUMNS = (
    "rank",
    "composite_score",
    "registered",
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "satisfaction_rate",
    "overdue",
)

REPORT_ROWS = 30


@st.cache_data(show_spinner=False, max_entries=8)
def meeting_report(
    name: str, ver: int, first: date, last: date, level: str, weights: tuple[tuple[str, float], ...], lang: str
) -> tuple[bytes, str]:
    """The meeting report as (PDF bytes, HTML text) in ``lang``."""

    def tr(key: str, **values) -> str:
        return translate(lang, key, **values)

    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    clock = as_of(name, ver) or period.end
    tickets, grids = joined(name, ver, schema.TICKETS.name), layer(name, ver, schema.GRIDS.name)
    now = metrics.indicators(tickets, grids, period, clock, "street")[list(metrics.COUNTS)].sum()
    before = metrics.indicators(tickets, grids, metrics.previous_period(period), clock, "street")[
        list(metrics.COUNTS)
    ].sum()
    totals = []
    for column in ("registered", "due", "closed", "on_time"):
        totals.append((tr(f"perf.col.{column}"), f"{int(now[column]):,}", ""))
    district = pd.DataFrame({"registered": [int(now["registered"])]}, index=[tr("report.district")])
    for rate, (numerator, denominator) in metrics.RATES.items():
        value = now[numerator] / now[denominator] if now[denominator] else float("nan")
        earlier = before[numerator] / before[denominator] if before[denominator] else float("nan")
        district[f"{rate}_change"] = value - earlier
        totals.append(
            (
                tr(f"perf.col.{rate}"),
                "–" if pd.isna(value) else f"{value:.2%}",
                tr(
                    "perf.formula",
                    rate=tr(f"perf.col.{rate}"),
                    numerator=tr(f"perf.col.{numerator}"),
                    denominator=tr(f"perf.col.{denominator}"),
                    n=f"{int(now[numerator]):,}",
                    d=f"{int(now[denominator]):,}",
                ),
            )
        )
    table = performance(name, ver, first, last, level, weights)
    names = unit_names(name, ver, level)
    flags = pd.concat([metrics.worsened(district), metrics.worsened(table)], ignore_index=True)
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
        for row in flags.itertuples()
    ]
    shapes = unit_shapes(name, boundary_version(name, ver), level)
    key = metrics.LEVELS[level]
    fills, legend, _ = maps.choropleth_classes(
        table["composite_score"].reindex(shapes[key].to_numpy()), title="", better=True, percent=False
    )
    monthly_street = monthly(name, ver, "street").groupby("month")[list(metrics.COUNTS)].sum()
    trend = {
        tr(f"perf.col.{rate}"): (
            monthly_street[metrics.RATES[rate][0]]
            * 100
            / monthly_street[metrics.RATES[rate][1]].where(monthly_street[metrics.RATES[rate][1]] > 0)
        )
        .round(1)
        .tolist()
        for rate in ("closure_rate", "on_time_rate", "satisfaction_rate")
    }
    ranking = table[list(REPORT_COLUMNS)].head(REPORT_ROWS).copy()
    for column in ranking.columns:
        if column.endswith("rate"):
            ranking[column] = (ranking[column] * 100).round(1)
        elif ranking[column].dtype.kind == "f":
            ranking[column] = ranking[column].round(1)
    ranking.insert(0, "unit", table.index[:REPORT_ROWS].map(lambda k: names.get(k, k)))
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
        months=monthly_street.index.tolist(),
        trend=trend,
        ranking_title=tr("report.ranking", count=min(REPORT_ROWS, len(table))),
        ranking=ranking.rename(columns=lambda c: tr(f"perf.col.{c}")),
    )
    return report.report_pdf(content), report.report_html(content, lang)
