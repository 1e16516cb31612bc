"""Cached loaders: every ``st.cache_*`` of the dashboard lives here.

Keys are the workspace name, its version (which changes on every write) and plain parameters — never a
GeoDataFrame (CRS objects break Streamlit's hashing). Layers are ``cache_resource``: one shared,
read-only copy (no caller modifies a frame it is given; ``core`` functions return new frames). Heavy
work (reading layers, the point→grid join, display geometry, the map) happens once per workspace
version, not on every rerun.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from core import (
    command,
    coverage,
    exports,
    geometry,
    hotspots,
    io,
    joins,
    metrics,
    patrol,
    privacy,
    schema,
    siting,
    store,
    uploads,
    validate,
    workspaces,
)
from core.errors import WorkspaceError
from dashboard.components import live_map, maps, report, tables
from dashboard.i18n import translate
from geodata import demo_seed

if TYPE_CHECKING:
    from libpysal.graph import Graph

DEMO_WORKSPACE = "demo"
DISPLAY_VERTICES = 250_000  # grid vertices sent to a map: ~1 MB encoded, drawn in about a second


def workspace_names() -> list[str]:
    """Workspaces under the data directory, read on every run (a directory listing: cheap), so one made
    by ``gridwatch workspace create`` shows without a restart; seeds the demo district when there is none."""
    names = store.list_workspaces()
    if not names:
        try:
            create_workspace(DEMO_WORKSPACE, workspaces.Profile(), from_demo=True)
        except WorkspaceError as exc:
            if exc.code != "exists":  # another session seeded it first
                raise
        names = store.list_workspaces()
    return names


def create_workspace(name: str, profile: workspaces.Profile, *, from_demo: bool) -> None:
    layers, seed_settings = demo_seed() if from_demo else (None, None)
    workspaces.create_workspace(
        name, profile, layers=layers, seed_settings=seed_settings, note="demo district (synthetic)" if from_demo else ""
    )


def delete_workspace(name: str) -> None:
    """Delete the workspace and forget everything cached about it (a new one may take its name)."""
    workspaces.delete_workspace(name)
    st.cache_data.clear()
    st.cache_resource.clear()


@st.cache_resource(show_spinner=False)
def workspace(name: str) -> store.Store:
    return store.open_store(name, create=False)


def workspace_timezone(name: str) -> str:
    """The workspace's IANA time zone (its profile; a cheap read)."""
    return workspace(name).timezone()


def workspace_metric_crs(name: str) -> str:
    """The workspace's metric CRS: an EPSG code, or "auto" for the UTM zone of its data (a cheap read)."""
    return workspaces.profile_of(workspace(name)).metric_crs


def version(name: str) -> int:
    """The workspace's active version (a cheap read; the key of every cache below)."""
    return workspace(name).version()


@st.cache_resource(show_spinner=False, max_entries=32)
def layer(name: str, ver: int, layer_name: str) -> gpd.GeoDataFrame:
    """A stored layer, shared by every session: treat it as read-only. (``cache_data`` would hand out
    a copy on every call, and unpickling a million tickets takes seconds.) A point layer the workspace
    does not hold yet is empty, so pages show zeros for it (and ``missing`` names it); without grids
    there is nothing to join to, and reading them raises ``LayerNotFoundError``."""
    if layer_name != schema.GRIDS.name and layer_name not in workspace(name).layers(ver):
        return validate.empty_layer(layer_name, workspace(name).timezone())
    return workspace(name).read(layer_name, ver)


def missing(name: str, ver: int, layer_names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``layer_names`` the workspace does not hold at ``ver``, in the order given."""
    held = workspace(name).layers(ver)
    return tuple(n for n in layer_names if n not in held)


@st.cache_resource(show_spinner=False, max_entries=4)
def grid_index(name: str, ver: int) -> joins.GridIndex:
    return joins.GridIndex.from_grids(layer(name, ver, schema.GRIDS.name))


@st.cache_resource(show_spinner=False, max_entries=16)
def joined(name: str, ver: int, layer_name: str) -> gpd.GeoDataFrame:
    """A point layer with grid_id/community/street from the active grids; tickets also carry the grid
    they had under the boundaries active when they were created. Free text has its phone and ID numbers
    masked (``core.privacy``): everything shown or downloaded reads points from here. Shared and
    read-only, like ``layer``."""
    grids = layer(name, ver, schema.GRIDS.name)
    points = privacy.mask_free_text(joins.join_to_grids(layer(name, ver, layer_name), grids, grid_index(name, ver)))
    if layer_name == schema.TICKETS.name:
        eras = [
            (pd.Timestamp(info.created_at), layer(name, info.version, schema.GRIDS.name))
            for info in workspace(name).layer_history(schema.GRIDS.name)
            if info.version <= ver
        ]
        points[schema.GRID_ID_AT_CREATION] = joins.grid_at_time(points, points[schema.CREATED_AT], eras)
    return points


def boundary_version(name: str, ver: int) -> int:
    """The version in which the grids active at ``ver`` were stored: the key of display geometry, so a
    ticket written to the store does not re-simplify the boundaries."""
    changes = [info.version for info in history(name, ver) if schema.GRIDS.name in info.changed and info.version <= ver]
    return max(changes, default=ver)


@st.cache_data(show_spinner=False, max_entries=4)
def display_boundaries(name: str, boundary_ver: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Grids and community outlines simplified for the web map (at most ``DISPLAY_VERTICES`` vertices)."""
    grids = geometry.simplify_for_display(layer(name, boundary_ver, schema.GRIDS.name), max_vertices=DISPLAY_VERTICES)
    return grids, geometry.communities_from_grids(grids)


@st.cache_data(show_spinner=False, max_entries=8)
def as_of(name: str, ver: int) -> pd.Timestamp | None:
    """The data's own "now": the latest ticket creation time (None for a workspace without tickets)."""
    if schema.TICKETS.name not in workspace(name).layers(ver):
        return None
    return metrics.data_as_of(layer(name, ver, schema.TICKETS.name))


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


# ---- Command center ------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=4)
def command_base(name: str, boundary_ver: int, lang: str) -> dict:
    """The static map's configuration: encoded boundaries and translated labels."""
    grids, communities = display_boundaries(name, boundary_ver)
    outlines = [live_map.Outline(communities, "communities", "#1f3b73", 2.2)]
    if grids[schema.STREET].nunique() > 1:
        outlines.append(live_map.Outline(geometry.streets_from_grids(grids), "streets", "#08306b", 3.4))
    return live_map.base_config(grids, outlines, command_labels(lang))


def command_labels(lang: str) -> dict:
    words = {
        key: translate(lang, f"command.map.{key}")
        for key in ("cameras", "down", "services", "open", "overdue", "tickets", "members", "checkins")
    }
    layers = {
        f"layer.{group}": translate(lang, f"command.layer.{group}")
        for group in (
            "grids",
            "communities",
            "streets",
            "density",
            "cameras",
            "views",
            "services",
            "tickets",
            "checkins",
        )
    }
    return (
        words
        | layers
        | {
            "status": {s: translate(lang, f"camera_status.{s}") for s in schema.CAMERA_STATUSES},
            "service_kinds": {
                k: (translate(lang, f"service_kind.{k}"), translate(lang, f"command.symbol.{k}"))
                for k in schema.SERVICE_KINDS
            },
        }
    )


def command_map(name: str, ver: int, lang: str) -> folium.Map:
    return live_map.live_base_map(command_base(name, boundary_version(name, ver), lang))


@st.cache_data(show_spinner=False, max_entries=16)
def command_state(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter
) -> tuple[pd.DataFrame, command.Counters, pd.DataFrame]:
    """Per-grid measures, the counters and the overdue list for the filter."""
    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    clock = as_of(name, ver) or period.end
    tickets = flt.apply(joined(name, ver, schema.TICKETS.name))
    measures = command.grid_measures(
        layer(name, ver, schema.GRIDS.name), tickets, joined(name, ver, schema.MEMBERS.name), period, clock
    )
    counters = command.counters(
        tickets,
        layer(name, ver, schema.CAMERAS.name),
        layer(name, ver, schema.PATROL_TEAMS.name),
        layer(name, ver, schema.PATROL_CHECKINS.name),
        clock,
    )
    return measures, counters, command.overdue_list(tickets, clock)


@st.cache_data(show_spinner=False, max_entries=16)
def command_density(name: str, ver: int, first: date, last: date, flt: command.TicketFilter) -> dict:
    """H3 hexagons of the tickets created in the period."""
    period = metrics.Period.from_dates(first, last, workspace_timezone(name))
    tickets = flt.apply(joined(name, ver, schema.TICKETS.name))
    flow = tickets[period.contains(tickets[schema.CREATED_AT]) & metrics.registered_mask(tickets)]
    resolution = hotspots.hex_resolution_for(tuple(layer(name, ver, schema.GRIDS.name).total_bounds))
    counts = hotspots.hex_counts(flow, resolution)
    return live_map.density_payload(hotspots.hex_boundaries(counts.index), counts)


MEASURE_KINDS = {"open": "count", "overdue": "count", "per_1000": "ratio", "on_time_rate": "rate", "members": "count"}


@st.cache_data(show_spinner=False, max_entries=4)
def command_assets(name: str, ver: int) -> dict:
    """Cameras, service points and tonight's sign-ins as the map draws them (no filter changes them)."""
    clock = as_of(name, ver) or pd.Timestamp.now(tz=workspace_timezone(name))
    return live_map.asset_payload(
        layer(name, ver, schema.CAMERAS.name),
        layer(name, ver, schema.SERVICE_POINTS.name),
        command.tonight_checkins(
            layer(name, ver, schema.PATROL_CHECKINS.name), layer(name, ver, schema.PATROL_TEAMS.name), clock
        ),
    )


@st.cache_data(show_spinner=False, max_entries=16)
def command_tickets(
    name: str, ver: int, first: date, last: date, flt: command.TicketFilter, measure: str, lang: str
) -> dict:
    """Grid colours for ``measure`` and the open-ticket markers for this filter."""
    measures, _, _ = command_state(name, ver, first, last, flt)
    grids, _ = display_boundaries(name, boundary_version(name, ver))
    clock = as_of(name, ver) or metrics.Period.from_dates(first, last, workspace_timezone(name)).end
    tickets = flt.apply(joined(name, ver, schema.TICKETS.name))
    open_now = tickets[metrics.open_mask(tickets)]
    open_now = open_now.assign(overdue=metrics.overdue_mask(open_now, clock))
    labels = {
        "measure": translate(lang, f"command.measure.{measure}"),
        "deadline": translate(lang, "command.deadline"),
        "stage": {s: translate(lang, f"stage.{s}") for s in schema.TICKET_STAGES},
    }
    return live_map.ticket_payload(
        grids[schema.GRID_ID], measures, measure, MEASURE_KINDS[measure], open_tickets=open_now, labels=labels
    )


def command_payload(
    name: str,
    ver: int,
    first: date,
    last: date,
    flt: command.TicketFilter,
    measure: str,
    lang: str,
    focus: tuple[float, float] | None,
    selected: str | None,
) -> dict:
    """Everything the live layers draw for this selection (from the cached parts above)."""
    grids, _ = display_boundaries(name, boundary_version(name, ver))
    return live_map.live_payload(
        grids[schema.GRID_ID],
        command_tickets(name, ver, first, last, flt, measure, lang),
        command_assets(name, ver),
        command_density(name, ver, first, last, flt),
        focus=focus,
        selected=selected,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def grid_card(name: str, ver: int, grid_id: str) -> command.GridCard:
    return command.grid_card(
        grid_id,
        layer(name, ver, schema.GRIDS.name),
        joined(name, ver, schema.TICKETS.name),
        joined(name, ver, schema.CAMERAS.name),
        joined(name, ver, schema.PATROL_CHECKINS.name),
        layer(name, ver, schema.PATROL_TEAMS.name),
        joined(name, ver, schema.MEMBERS.name),
        as_of(name, ver) or pd.Timestamp.now(tz=workspace_timezone(name)),
    )


def grid_at(name: str, ver: int, lon: float, lat: float) -> str | None:
    """The grid under a map click (None outside every grid)."""
    position = grid_index(name, ver).assign(np.array([lon]), np.array([lat]))[0]
    return None if position < 0 else str(layer(name, ver, schema.GRIDS.name)[schema.GRID_ID].iloc[position])


@st.cache_data(show_spinner=False, max_entries=8)
def ticket_choices(name: str, ver: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Categories and communities present, for the filters."""
    grids = layer(name, ver, schema.GRIDS.name)
    categories = ()
    if schema.TICKETS.name in workspace(name).layers(ver):
        categories = tuple(sorted(layer(name, ver, schema.TICKETS.name)[schema.CATEGORY].dropna().unique()))
    return categories, tuple(sorted(grids[schema.COMMUNITY].dropna().unique()))


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
    return live_map.choropleth_config(unit_shapes(name, boundary_ver, level), metrics.LEVELS[level])


@st.cache_data(show_spinner=False, max_entries=4)
def grid_base(name: str, boundary_ver: int) -> dict:
    """The grids' display outlines for an indicator map (drawn once per boundary version)."""
    grids, _ = display_boundaries(name, boundary_ver)
    return live_map.choropleth_config(grids, schema.NAME)


def performance_map(
    name: str, ver: int, table: pd.DataFrame, level: str, column: str, lang: str
) -> tuple[folium.Map, folium.FeatureGroup]:
    """The units of ``level`` (drawn once per boundary version and level) and, swapped into them, the
    colours of ``column`` of the ranking table."""
    boundary_ver = boundary_version(name, ver)
    shapes = unit_shapes(name, boundary_ver, level)
    base = column.removesuffix("_smoothed")
    better = True if base == "composite_score" else metrics.HIGHER_IS_BETTER.get(base)
    values = table[column].reindex(shapes[metrics.LEVELS[level]].to_numpy())
    return (
        live_map.choropleth_base_map(performance_base(name, boundary_ver, level)),
        live_map.choropleth_update(
            values, title=translate(lang, f"perf.col.{column}"), better=better, percent=base in metrics.RATES
        ),
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
    now = metrics.district_counts(metrics.indicators(tickets, grids, period, clock, "street"))
    before = metrics.district_counts(
        metrics.indicators(tickets, grids, metrics.previous_period(period), clock, "street")
    )
    rates, earlier_rates = metrics.district_rates(now), metrics.district_rates(before)
    totals = []
    for column in ("registered", "due", "closed", "on_time"):
        totals.append((tr(f"perf.col.{column}"), f"{int(now[column]):,}", ""))
    district = pd.DataFrame({"registered": [int(now["registered"])]}, index=[tr("report.district")])
    for rate, (numerator, denominator) in metrics.RATES.items():
        value = rates[rate]
        district[f"{rate}_change"] = value - earlier_rates[rate]
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
    ranking = tables.percent_rounded(table[list(REPORT_COLUMNS)].head(REPORT_ROWS), ("rate",))
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


# ---- Hotspots ------------------------------------------------------------------------------------
HOT_COLORS = {-3: "#2166ac", -2: "#67a9cf", -1: "#d1e5f0", 0: "#f7f7f7", 1: "#fddbc7", 2: "#ef8a62", 3: "#b2182b"}
EMERGING_COLORS = dict(
    zip(
        hotspots.EMERGING_CLASSES,
        (  # new … historical, none
            "#fed976",
            "#fd8d3c",
            "#bd0026",
            "#800026",
            "#fc9272",
            "#c994c7",
            "#807dba",
            "#bdbdbd",
            "#f7f7f7",
        ),
        strict=True,
    )
)
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
    return live_map.choropleth_config(hotspot_shapes(name, boundary_ver, unit, resolution), schema.NAME)


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
    rows = table.reindex(ids)
    base = live_map.choropleth_base_map(hotspot_base(name, boundary_ver, unit, resolution))
    title = tr(f"hot.show.{show}")
    if show == "gi":
        levels = sorted(HOT_COLORS, reverse=True)
        legend = maps.Legend(title, tuple(tr(f"hot.class.{c}") for c in levels), tuple(HOT_COLORS[c] for c in levels))
        fills = [HOT_COLORS[int(c)] for c in rows["confidence"].fillna(0)]
        values = [
            f"{tr(f'hot.class.{int(c)}')} (z = {z:.2f}, {n:,})"
            for c, z, n in zip(rows["confidence"].fillna(0), rows["z"].fillna(0), rows["tickets"].fillna(0))
        ]
        return base, live_map.colour_update(fills, values, legend)
    if show == "emerging":
        legend = maps.Legend(
            title, tuple(tr(f"hot.pattern.{p}") for p in EMERGING_COLORS), tuple(EMERGING_COLORS.values())
        )
        patterns = rows["pattern"].fillna("none")
        return base, live_map.colour_update(
            [EMERGING_COLORS[p] for p in patterns], [tr(f"hot.pattern.{p}") for p in patterns], legend
        )
    if show == "density":
        surface = density_surface(name, ver, first, last, flt, DENSITY_BANDWIDTH_M)
        legend = maps.Legend(
            tr("hot.density_legend", bandwidth=f"{surface.bandwidth_m:g}"),
            (f"{surface.values.max():,.0f}", f"{surface.values.max() / 10:,.0f}", f"{surface.values.max() / 100:,.0f}"),
            ("#bd0026", "#fd8d3c", "#ffffb2"),
        )
        return base, live_map.colour_update(
            ["#ffffff"] * len(ids),
            [f"{int(n):,}" for n in rows["tickets"].fillna(0)],
            legend,
            fill_opacity=0.0,
            hover_title=tr("hot.show.tickets"),
            overlay=live_map.density_overlay(surface.values, surface.bounds),
        )
    return base, live_map.choropleth_update(rows[show], title=title, better=None, percent=False, zero_neutral=True)


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


# ---- Coverage ------------------------------------------------------------------------------------
MAX_DRAWN_CAMERAS = 10_000  # more cameras than this: the camera layers are drawn for one community
VIEW_DISPLAY_M = 2.0  # camera views are simplified this much for the map
SITE_COLOR = "#6a3d9a"
DEMAND_SPACING_M = 100.0  # residents are spread over a lattice this fine when they are the siting demand
SITING_SECONDS = 20.0
LINE_TYPES = ("LineString", "MultiLineString")
POINT_TYPES = ("Point",)
COVERAGE_COLORS = {
    "views": "#1a9850",
    "down": "#d73027",
    "lost": "#d73027",
    "gap": "#fee08b",
    "reach": "#4575b4",
    "unserved": "#f46d43",
}


@dataclass(frozen=True)
class Upload:
    """A file read for the session (a road network or key points): cached work is keyed by its name and
    digest, never by hashing its bytes again on every rerun."""

    name: str
    digest: str
    payload: bytes = field(repr=False)


UPLOAD_HASH = {Upload: lambda upload: (upload.name, upload.digest)}


@st.cache_resource(show_spinner=False, max_entries=2, hash_funcs=UPLOAD_HASH)  # a road network and key points
def extra_layer(upload: Upload, geometry_types: tuple[str, ...]) -> tuple[gpd.GeoDataFrame, int, str]:
    """The features of ``upload`` whose geometry is one of ``geometry_types`` (EPSG:4326), how many other
    features were left out, and the geometry types the file holds."""
    frame = io.read_upload(upload.name, upload.payload).frame
    keep = frame.geom_type.isin(geometry_types).to_numpy()
    found = ", ".join(sorted(set(frame.geom_type.dropna()))) or "–"
    return frame[keep].reset_index(drop=True), int((~keep).sum()), found


def _frame(upload: Upload | None, geometry_types: tuple[str, ...]) -> gpd.GeoDataFrame | None:
    return extra_layer(upload, geometry_types)[0] if upload is not None else None


@st.cache_data(show_spinner=False, max_entries=4, hash_funcs=UPLOAD_HASH)
def camera_table(name: str, ver: int, key_points: Upload | None) -> pd.DataFrame | None:
    """Camera measures per grid (None without cameras)."""
    if schema.CAMERAS.name not in workspace(name).layers(ver):
        return None
    tickets = joined(name, ver, schema.TICKETS.name) if as_of(name, ver) is not None else None
    return coverage.camera_coverage(
        layer(name, ver, schema.GRIDS.name),
        joined(name, ver, schema.CAMERAS.name),
        tickets,
        _frame(key_points, POINT_TYPES),
        as_of=as_of(name, ver),
    )


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=UPLOAD_HASH)
def service_table(name: str, ver: int, walk: coverage.WalkSettings, roads: Upload | None) -> pd.DataFrame | None:
    """The 15-minute circle per grid (None without service points)."""
    if schema.SERVICE_POINTS.name not in workspace(name).layers(ver):
        return None
    return coverage.service_reach(
        layer(name, ver, schema.GRIDS.name),
        layer(name, ver, schema.SERVICE_POINTS.name),
        walk,
        _frame(roads, LINE_TYPES),
    )


@st.cache_data(show_spinner=False, max_entries=4)
def member_table(name: str, ver: int) -> pd.DataFrame | None:
    if schema.MEMBERS.name not in workspace(name).layers(ver):
        return None
    return coverage.member_measures(layer(name, ver, schema.GRIDS.name), joined(name, ver, schema.MEMBERS.name))


def coverage_table(
    name: str,
    ver: int,
    walk: coverage.WalkSettings,
    households_per_worker: tuple[float, float],
    roads: Upload | None,
    key_points: Upload | None,
) -> pd.DataFrame:
    """Every coverage measure per grid: cameras, the 15-minute circle, members (each cached on what it
    depends on) and staffing; the parts of layers the workspace lacks are left out."""
    grids = layer(name, ver, schema.GRIDS.name)
    out = grids[[schema.GRID_ID, schema.NAME, schema.COMMUNITY, schema.HOUSEHOLDS, schema.POPULATION]].set_index(
        schema.GRID_ID
    )
    out["area_km2"] = grid_areas(name, ver)
    parts = [
        out,
        camera_table(name, ver, key_points),
        service_table(name, ver, walk, roads),
        member_table(name, ver),
        coverage.staffing(grids, households_per_worker),
    ]
    return pd.concat([p for p in parts if p is not None], axis=1)


@st.cache_data(show_spinner=False, max_entries=4)
def grid_areas(name: str, ver: int) -> np.ndarray:
    return geometry.area_km2(layer(name, ver, schema.GRIDS.name)).to_numpy()


def points_near(points: gpd.GeoDataFrame, area: gpd.GeoDataFrame, metres: float) -> gpd.GeoDataFrame:
    """The ``points`` within ``metres`` of the bounding box of ``area`` (or a little farther), padded
    in a metric CRS: a pad in degrees shrinks on the ground with the latitude."""
    crs = geometry.metric_crs(area)
    box = shapely.segmentize(
        shapely.box(*area.to_crs(crs).total_bounds).buffer(metres, join_style="mitre"), metres / 4
    )  # edges follow the earth's curve back in degrees
    minx, miny, maxx, maxy = gpd.GeoSeries([box], crs=crs).to_crs(schema.STORAGE_CRS).total_bounds
    return points.cx[minx:maxx, miny:maxy]


@st.cache_data(show_spinner=False, max_entries=8)
def camera_layers(name: str, ver: int, community: str | None) -> dict[str, object]:
    """Display geometry of the camera layers (for ``community`` only, if given): views of online and of
    offline/faulty cameras with each camera's name and status, coverage lost and camera gaps."""
    grids = layer(name, ver, schema.GRIDS.name)
    if community is not None:
        grids = grids[grids[schema.COMMUNITY] == community]
    near = points_near(
        layer(name, ver, schema.CAMERAS.name), grids, schema.CAMERAS.column(schema.RANGE_M).max
    )  # no view reaches farther
    views = coverage.camera_views(near).simplify(VIEW_DISPLAY_M).to_crs(schema.STORAGE_CRS).array
    online = (near[schema.STATUS] == "online").to_numpy()
    names = near[schema.NAME].fillna(near[schema.CAMERA_ID]).astype(str).to_numpy()
    parts = coverage.coverage_geometries(grids, near)
    return {
        "views": np.asarray(views[online], dtype=object),
        "down": np.asarray(views[~online], dtype=object),
        "names": (names[online], names[~online]),
        "status": near[schema.STATUS].to_numpy()[~online],
        "lost": np.asarray(parts.loc[parts["part"] == "lost"].geometry.array, dtype=object),
        "gap": np.asarray(parts.loc[parts["part"] == "gap"].geometry.array, dtype=object),
    }


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=UPLOAD_HASH)
def service_layers(
    name: str, ver: int, community: str | None, kind: str, walk: coverage.WalkSettings, roads: Upload | None
) -> tuple[np.ndarray, np.ndarray]:
    """Display geometry of the 15-minute reach of ``kind`` and of what it leaves unserved."""
    grids = layer(name, ver, schema.GRIDS.name)
    if community is not None:
        grids = grids[grids[schema.COMMUNITY] == community]
    services = layer(name, ver, schema.SERVICE_POINTS.name)
    road_frame = _frame(roads, LINE_TYPES)
    reach = coverage.reach_areas(services, walk, road_frame)
    unserved = coverage.unserved_areas(grids, services, None if kind == coverage.ANY_KIND else kind, walk, road_frame)
    return (
        np.asarray(reach.loc[reach["kind"] == kind].geometry.array, dtype=object),
        np.asarray(unserved.geometry.array, dtype=object),
    )


def coverage_overlays(
    name: str,
    ver: int,
    community: str | None,
    kind: str,
    walk: coverage.WalkSettings,
    roads: Upload | None,
    cameras_on: bool,
    lang: str,
) -> tuple[live_map.Overlay, ...]:
    """The map's layers: camera views (online / down), coverage lost while cameras are down, camera
    gaps, the 15-minute reach of ``kind`` and what it leaves unserved. The camera layers start switched
    on when ``cameras_on``, the service layers otherwise."""

    def tr(key: str, **values) -> str:
        return translate(lang, key, **values)

    held = workspace(name).layers(ver)
    layers = []
    if schema.CAMERAS.name in held:
        cam = camera_layers(name, ver, community)
        online_names, down_names = cam["names"]
        down_tips = tuple(f"{n} · {tr(f'camera_status.{s}')}" for n, s in zip(down_names, cam["status"], strict=True))
        for key, tips in (("views", tuple(online_names)), ("down", down_tips), ("lost", None), ("gap", None)):
            layers.append(
                live_map.Overlay(
                    cam[key],
                    tr(f"cov.layer.{key}"),
                    COVERAGE_COLORS[key],
                    fill_opacity=0.25 if key == "views" else 0.45,
                    on=cameras_on and key != "gap",
                    tips=tips,
                )
            )
    if schema.SERVICE_POINTS.name in held:
        reach, unserved = service_layers(name, ver, community, kind, walk, roads)
        label = tr(f"service_kind.{kind}") if kind != coverage.ANY_KIND else tr("cov.any_kind")
        layers.append(
            live_map.Overlay(
                reach, tr("cov.layer.reach", kind=label), COVERAGE_COLORS["reach"], 0.12, on=not cameras_on
            )
        )
        layers.append(
            live_map.Overlay(
                unserved, tr("cov.layer.unserved", kind=label), COVERAGE_COLORS["unserved"], 0.5, on=not cameras_on
            )
        )
    return tuple(layers)


def coverage_map(
    name: str,
    ver: int,
    table: pd.DataFrame,
    measure: str,
    title: str,
    overlays: tuple[live_map.Overlay, ...],
    sites: live_map.Overlay | None,
) -> tuple[folium.Map, folium.FeatureGroup]:
    """Grids coloured by ``measure`` (more coverage green, more coverage lost red; legend ``title``), with
    the coverage layers and the proposed sites."""
    boundary_ver = boundary_version(name, ver)
    grids, _ = display_boundaries(name, boundary_ver)
    values = table[measure].reindex(grids[schema.GRID_ID].to_numpy()).astype(float)
    share = measure.endswith("_share")
    better = False if measure == "lost_share" else True if share or measure == "members" else None
    fills, legend, text = maps.choropleth_classes(
        values, title=title, better=better, percent=share, zero_neutral=not share
    )
    layers = overlays + ((sites,) if sites is not None else ())
    return (
        live_map.choropleth_base_map(grid_base(name, boundary_ver)),
        live_map.colour_update(fills, ["–" if pd.isna(v) else text(v) for v in values], legend, overlays=layers),
    )


@st.cache_data(show_spinner=False, max_entries=4, hash_funcs=UPLOAD_HASH)
def siting_inputs(
    name: str,
    ver: int,
    target: str,
    kind: str,
    demand_kind: str,
    weights: tuple[tuple[str, float], ...],
    candidates_kind: str,
    spacing_m: float,
    roads: Upload | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(demand, candidate sites, existing sites) of a siting run.

    Demand: the tickets of the last ``TICKET_DAYS`` (weighted by category) or the population spread over
    a lattice. Candidates: a lattice of ``spacing_m`` or the intersections (roads, cameras at crossings).
    Existing: the online cameras, or the service points of ``kind``."""
    grids = layer(name, ver, schema.GRIDS.name)
    if demand_kind == "tickets":
        clock = as_of(name, ver)
        if clock is None:
            raise siting.SitingError("the workspace has no tickets: choose residents as the demand, or load tickets")
        tickets = hotspot_tickets(name, ver, command.TicketFilter())  # registered, inside the district
        recent = tickets[tickets[schema.CREATED_AT] > clock - pd.Timedelta(days=coverage.TICKET_DAYS)]
        demand = siting.ticket_demand(recent, dict(weights))
    else:
        demand = siting.population_demand(grids, DEMAND_SPACING_M)
    cameras = layer(name, ver, schema.CAMERAS.name) if schema.CAMERAS.name in workspace(name).layers(ver) else None
    if candidates_kind == "lattice":
        candidates = siting.lattice_candidates(grids, spacing_m)
    else:
        candidates = siting.intersection_candidates(_frame(roads, LINE_TYPES), cameras)
    if target == "cameras":
        existing = cameras[cameras[schema.STATUS] == "online"] if cameras is not None else None
    else:
        services = layer(name, ver, schema.SERVICE_POINTS.name)
        existing = services if kind == coverage.ANY_KIND else services[services[schema.KIND] == kind]
    return demand, candidates, existing


def run_siting(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    radius_m: float,
    k: int,
    progress,
) -> siting.SitingResult:
    """Solve the maximal covering model (not cached: the page keeps the result in the session)."""
    return siting.MaximalCovering.from_geodataframes(demand, candidates, radius_m, k, existing=existing).solve(
        time_limit_s=SITING_SECONDS, progress=progress
    )


# ---- Patrols ------------------------------------------------------------------------------------
TEAM_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#9edae5",
    "#dbdb8d",
    "#393b79",
)
UNASSIGNED = "#f0f0f0"
BASE_MARK_M = 90.0  # radius of the disc that marks a team's base on the district map


def assignments(name: str) -> pd.DataFrame:
    """The workspace's patrol duty roster (``team_id``, ``grid_id``; empty until one is saved)."""
    saved = workspace(name).get_setting(schema.PATROL_ASSIGNMENTS, {})
    return pd.DataFrame(saved.get("rows", []), columns=list(schema.PATROL_ASSIGNMENT_COLUMNS), dtype="str")


def save_assignments(name: str, roster: pd.DataFrame, *, author: str) -> None:
    """Replace the duty roster (a workspace setting: who set it and when are kept with it)."""
    workspace(name).set_setting(
        schema.PATROL_ASSIGNMENTS, workspaces.roster_record(roster, author=author, tz=workspace_timezone(name))
    )


def roster_problems(name: str, ver: int, roster: pd.DataFrame) -> list:
    """Errors and warnings of the saved roster against the active grids and teams (e.g. grids that a new
    boundary version removed)."""
    if roster.empty:
        return []
    return patrol.assignment_problems(
        roster, layer(name, ver, schema.GRIDS.name), layer(name, ver, schema.PATROL_TEAMS.name)
    )


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_compliance(
    name: str, ver: int, first: date, last: date, roster: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(night × team compliance of the period, per-team summary)."""
    teams = layer(name, ver, schema.PATROL_TEAMS.name)
    nights = patrol.nights_in(metrics.Period.from_dates(first, last, workspace_timezone(name)))
    table = patrol.compliance(joined(name, ver, schema.PATROL_CHECKINS.name), roster, teams, nights)
    return table, patrol.nights_missed(table)


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_gaps(
    name: str, ver: int, first: date, last: date, roster: pd.DataFrame, days: int
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(assigned grids not visited in the ``days`` days up to the data's latest sign-in or ticket, grids
    by tickets against patrol visits — None without tickets)."""
    grids = layer(name, ver, schema.GRIDS.name)
    checkins = joined(name, ver, schema.PATROL_CHECKINS.name)
    times = [
        c
        for c in (as_of(name, ver), checkins[schema.CHECKED_AT].max() if len(checkins) else None)
        if c is not None and not pd.isna(c)
    ]
    clock = max(times) if times else metrics.Period.from_dates(first, last, workspace_timezone(name)).end
    unvisited = patrol.unvisited_grids(
        checkins, roster, grids, clock, days, teams=layer(name, ver, schema.PATROL_TEAMS.name)
    )
    tickets = joined(name, ver, schema.TICKETS.name) if as_of(name, ver) is not None else None
    versus = (
        None
        if tickets is None
        else patrol.visits_vs_tickets(
            grids, tickets, checkins, metrics.Period.from_dates(first, last, workspace_timezone(name))
        )
    )
    return unvisited, versus


@st.cache_data(show_spinner=False, max_entries=8)
def patrol_workload(
    name: str,
    ver: int,
    first: date,
    last: date,
    weights: patrol.WorkloadWeights,
    severity: tuple[tuple[str, float], ...],
) -> pd.DataFrame:
    if as_of(name, ver) is not None:
        tickets = joined(name, ver, schema.TICKETS.name)
    else:  # no tickets layer: the workload is area and population
        tickets = pd.DataFrame(
            {
                schema.GRID_ID: pd.Series(dtype="str"),
                schema.CATEGORY: pd.Series(dtype="str"),
                schema.STAGE: pd.Series(dtype="str"),
                schema.CREATED_AT: pd.Series(dtype=f"datetime64[ns, {workspace_timezone(name)}]"),
            }
        )
    return patrol.workload(
        layer(name, ver, schema.GRIDS.name),
        tickets,
        metrics.Period.from_dates(first, last, workspace_timezone(name)),
        weights,
        dict(severity) or None,
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def patrol_contiguity(name: str, boundary_ver: int) -> patrol.Contiguity:
    return patrol.Contiguity.from_grids(layer(name, boundary_ver, schema.GRIDS.name))


def usable_roster(name: str, ver: int, roster: pd.DataFrame) -> pd.DataFrame | None:
    """The roster rows whose grid and team still exist, one team per grid (None if nothing is left): what
    a redesign starts from and is compared with, even while the saved roster needs fixing."""
    grids = layer(name, ver, schema.GRIDS.name)
    teams = layer(name, ver, schema.PATROL_TEAMS.name)
    known = roster[
        roster[schema.GRID_ID].isin(grids[schema.GRID_ID]) & roster[schema.TEAM_ID].isin(teams[schema.TEAM_ID])
    ].drop_duplicates(schema.GRID_ID)
    return None if known.empty else known.reset_index(drop=True)


def propose_districts(
    name: str, ver: int, workload: pd.DataFrame, roster: pd.DataFrame, locks: dict[str, str], progress
) -> patrol.PlanResult:
    """Solve the balanced, contiguous districts (not cached: the page keeps the result in the session)."""
    plan = patrol.DistrictPlan.from_geodataframes(
        layer(name, ver, schema.GRIDS.name),
        layer(name, ver, schema.PATROL_TEAMS.name),
        workload,
        current=usable_roster(name, ver, roster),
        locks=locks or None,
        contiguity=patrol_contiguity(name, boundary_version(name, ver)),
    )
    return plan.solve(progress=progress)


@st.cache_data(show_spinner=False, max_entries=8)
def district_report(
    name: str, ver: int, assignment: pd.DataFrame, workload: pd.DataFrame, current: pd.DataFrame | None
) -> tuple[pd.DataFrame, dict]:
    return patrol.plan_report(
        layer(name, ver, schema.GRIDS.name),
        assignment,
        layer(name, ver, schema.PATROL_TEAMS.name),
        workload,
        current=current,
        contiguity=patrol_contiguity(name, boundary_version(name, ver)),
    )


def district_map(name: str, ver: int, roster: pd.DataFrame, lang: str) -> tuple[folium.Map, folium.FeatureGroup]:
    """Grids coloured by their team (drawn once per boundary version) with the teams' bases marked."""
    boundary_ver = boundary_version(name, ver)
    grids, _ = display_boundaries(name, boundary_ver)
    teams = layer(name, ver, schema.PATROL_TEAMS.name)
    team_ids = list(teams[schema.TEAM_ID])
    colour = {tid: TEAM_COLORS[i % len(TEAM_COLORS)] for i, tid in enumerate(team_ids)}
    names = dict(zip(teams[schema.TEAM_ID], teams[schema.NAME], strict=True))
    owner = (
        grids[schema.GRID_ID].map(roster.drop_duplicates(schema.GRID_ID).set_index(schema.GRID_ID)[schema.TEAM_ID])
        if not roster.empty
        else pd.Series(index=grids.index, dtype=object)
    )
    fills = [colour.get(o, UNASSIGNED) for o in owner]
    none = translate(lang, "patrol.no_team")
    values = [names.get(o, none) if isinstance(o, str) else none for o in owner]
    legend = maps.Legend(
        translate(lang, "patrol.legend"), tuple(names[tid] for tid in team_ids), tuple(colour[tid] for tid in team_ids)
    )
    crs = geometry.metric_crs(teams)
    bases = teams.to_crs(crs).buffer(BASE_MARK_M).to_crs(schema.STORAGE_CRS)
    marks = live_map.Overlay(
        bases.array,
        translate(lang, "patrol.bases"),
        "#222222",
        fill_opacity=0.9,
        tips=tuple(translate(lang, "patrol.base_of", team=names[tid]) for tid in team_ids),
    )
    return (
        live_map.choropleth_base_map(grid_base(name, boundary_ver)),
        live_map.colour_update(fills, values, legend, overlays=(marks,), hover_title=translate(lang, "patrol.team")),
    )


# ---- Data page -----------------------------------------------------------------------------------
# Uploads are keyed by their name and digest (``Upload``), not by hashing up to 200 MB on every call.
@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=UPLOAD_HASH)
def file_layers(upload: Upload) -> tuple[str, ...]:
    return io.list_layers(upload.name, upload.payload)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=UPLOAD_HASH)
def file_columns(upload: Upload, file_layer: str | None, encoding: str | None) -> tuple[str, ...]:
    """The header of a table upload, for the geometry-column pickers when its coordinates were not found."""
    return io.table_columns(upload.name, upload.payload, layer=file_layer, encoding=encoding)


@st.cache_resource(show_spinner=False, max_entries=2)
def active_state(name: str, ver: int) -> uploads.Active:
    """The active layers, outline and grid index that upload checks compare against (from the caches
    above, so nothing is read or indexed twice)."""
    held = workspace(name).layers(ver)
    points = {p: layer(name, ver, p) for p in schema.POINT_LAYERS if p in held}
    if schema.GRIDS.name not in held:
        return uploads.Active.of(None, points)
    return uploads.Active.of(layer(name, ver, schema.GRIDS.name), points, grid_index(name, ver))


DEFAULT_UPLOAD_OPTIONS = uploads.UploadOptions()


@st.cache_resource(show_spinner=False, max_entries=3, hash_funcs=UPLOAD_HASH)
def check(
    name: str,
    ver: int,
    layer_name: str,
    upload: Upload,
    options: uploads.UploadOptions = DEFAULT_UPLOAD_OPTIONS,
    mapping: dict[str, str] | None = None,
    fixed: dict[str, str] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    mode: uploads.Mode = "replace",
) -> uploads.UploadCheck:
    """The report on an upload against version ``ver`` (read-only; nothing is stored). Three are kept
    (the check as read, with the reading options, and as re-mapped: a page run asks for all three):
    each holds a frame that fit in a read worker's memory (``GRIDWATCH_READ_MEMORY_MB``), so the cache
    holds at most three times that, however many files are dropped."""
    return uploads.check_upload(
        workspace(name),
        layer_name,
        upload.name,
        upload.payload,
        options,
        mapping,
        active=active_state(name, ver),
        fixed=fixed,
        values=values,
        mode=mode,
    )


def activate(
    name: str, upload_check: uploads.UploadCheck, *, note: str, author: str, confirm_shrink: bool = False
) -> int:
    return uploads.activate_upload(
        workspace(name), upload_check, note=note, author=author, confirm_shrink=confirm_shrink
    )


def reactivate(name: str, version_number: int, *, author: str) -> int:
    return workspace(name).activate(version_number, author=author)


def clear_layer(name: str, layer_name: str, *, author: str) -> int:
    return workspace(name).clear(layer_name, note=f"clear {layer_name}", author=author)


def layers_held(name: str, ver: int) -> tuple[str, ...]:
    return workspace(name).layers(ver)


@st.cache_data(show_spinner=False, max_entries=4)
def history(name: str, ver: int) -> list[store.VersionInfo]:
    return workspace(name).history()


PREVIEW_LABEL_COLUMNS = (schema.GRID_ID, schema.NAME)  # the boundary preview's tooltip and change colours


def boundary_preview(name: str, ver: int, upload_check: uploads.UploadCheck, lang: str) -> folium.Map:
    """New boundaries, coloured by what the change does to them, over the active ones (built per run:
    st_folium must get a fresh map)."""
    state = active_state(name, ver)
    keys = ("grid", "active_layer", "new_layer", "outline_layer", "status.added", "status.changed", "status.unchanged")
    labels = {key: translate(lang, f"map.{key}") for key in keys}
    frame = upload_check.frame
    unmapped = [c for c in PREVIEW_LABEL_COLUMNS if c not in frame.columns]
    if unmapped:  # ids not mapped yet: nothing can be matched, so show the shapes as they are
        shown = geometry.simplify_for_display(frame.assign(**dict.fromkeys(unmapped, "")))
        outline = (
            None
            if state.outline is None
            else geometry.simplify_for_display(
                gpd.GeoDataFrame(geometry=[state.outline], crs=schema.STORAGE_CRS)
            ).geometry
        )
        return maps.boundary_preview_map(
            None, shown, pd.Series("added", index=shown.index), labels=labels, outline=outline
        )
    return maps.boundary_change_map(state.grids, frame, upload_check.diff, state.outline, labels=labels)


def points_preview(name: str, ver: int, upload_check: uploads.UploadCheck, lang: str) -> folium.Map:
    """The uploaded points counted per active grid."""
    grids, communities = display_boundaries(name, boundary_version(name, ver))
    counts = upload_check.counts.reindex(grids[schema.GRID_ID]).fillna(0).set_axis(grids.index)
    labels = {key: translate(lang, f"map.{key}") for key in ("grid", "grids_layer", "communities_layer")}
    labels["tickets"] = labels["legend"] = translate(lang, "map.points")
    return maps.district_map(grids, communities, counts, labels=labels)
