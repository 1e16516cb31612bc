"""Hot spots per analysis unit, as the Hotspots page reads them: the unit table (tickets of the period, rates
per resident and km² for grids, Gi* z / p / confidence and the emerging pattern), the calendar months the
emerging analysis covers, which tickets are analysed, one unit's tickets, the repeat cases with their
rates per grid, and the period's time patterns.

An analysis unit is a grid (``grid_id``) or an H3 cell; ``key`` is each ticket's unit (``unit_keys``).
Tickets on stacked coordinates (``core.hotspots.stacked_coordinates``: a default point) are left out of
the unit table, the density and the repeats, but a unit still lists them.

What is NOT here: the statistics themselves (Gi*, emerging classes, density, the hour × weekday and
month tables: ``core.hotspots``; H3 cells: ``core.hexes``; repeats: ``core.repeats``), and the map's
colours and shapes (``dashboard``).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from core import geometry, hexes, hotspots, metrics, repeats, schema

if TYPE_CHECKING:
    from libpysal.graph import Graph

__all__ = [
    "EMERGING_COLUMNS",
    "MIN_EMERGING_MONTHS",
    "REPEAT_COLUMNS",
    "UNIT_TICKET_COLUMNS",
    "analysed_tickets",
    "analysis_months",
    "created_in",
    "registered_inside",
    "repeat_tables",
    "ticket_cells",
    "time_patterns",
    "unit_keys",
    "unit_table",
    "unit_tickets",
]

MIN_EMERGING_MONTHS = 6  # fewer months in the period: the twelve months that end with it are analysed

EMERGING_COLUMNS = ("pattern", "hot_months", "trend_tau", "trend_p")  # of the emerging analysis, in the table

UNIT_TICKET_COLUMNS = (
    schema.TICKET_ID,
    schema.CREATED_AT,
    schema.CATEGORY,
    schema.DESCRIPTION,
    schema.SOURCE,
    schema.STAGE,
)

REPEAT_COLUMNS = (schema.TICKET_ID, schema.CREATED_AT, schema.CATEGORY, schema.DESCRIPTION, schema.GRID_ID)


def registered_inside(tickets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The registered (not cancelled) tickets inside the district (in a grid): what every analysis here
    starts from."""
    return tickets[metrics.registered_mask(tickets) & tickets[schema.ASSIGNED].astype(bool)]


def analysis_months(first: date, last: date) -> pd.PeriodIndex:
    """The calendar months of the emerging analysis: those of the days ``first`` … ``last``, or the
    twelve ending with ``last``'s month when they are fewer than ``MIN_EMERGING_MONTHS``."""
    months = pd.period_range(first, last, freq="M")
    if len(months) >= MIN_EMERGING_MONTHS:
        return months
    return pd.period_range(end=pd.Period(last, freq="M"), periods=12, freq="M")


def created_in(tickets: pd.DataFrame, period: metrics.Period) -> pd.DataFrame:
    """Those of ``tickets`` created in ``period``."""
    return tickets[period.contains(tickets[schema.CREATED_AT])]


def analysed_tickets(
    tickets: gpd.GeoDataFrame, stacked: pd.DataFrame | None, period: metrics.Period
) -> gpd.GeoDataFrame:
    """The tickets of ``period`` off the ``stacked`` coordinates (found over all of ``tickets``, not only
    the period's): what Gi*, the density surface and the repeat cases are computed from."""
    return created_in(tickets[~hotspots.stacked_mask(tickets, stacked)], period)


def ticket_cells(tickets: pd.DataFrame, resolution: int) -> pd.Series:
    """The H3 cell of each ticket at ``resolution``, on the tickets' index."""
    return pd.Series(hexes.hex_cells_of(tickets, resolution), index=tickets.index)


def unit_keys(tickets: pd.DataFrame, unit: str, resolution: int) -> pd.Series:
    """Each ticket's analysis unit: its H3 cell (``unit == "hex"``) or its grid."""
    if unit == "hex":
        return ticket_cells(tickets, resolution)
    return tickets[schema.GRID_ID]


def unit_table(
    tickets: gpd.GeoDataFrame,
    key: pd.Series,
    graph: Graph,
    period: metrics.Period,
    months: pd.PeriodIndex,
    *,
    stacked: pd.DataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
    fdr: bool = False,
) -> pd.DataFrame:
    """Per unit of ``graph`` (every one, empty ones too): ``tickets`` of ``period``, Gi* ``z`` / ``p`` /
    ``confidence`` (``hotspots.gi_star``) and the emerging pattern over ``months`` (``EMERGING_COLUMNS``).
    Tickets on ``stacked`` coordinates are left out. With ``grids`` (the units are grids) also each
    grid's ``name`` and ``community`` first, and ``per_1000`` residents and ``per_km2``."""
    keep = ~hotspots.stacked_mask(tickets, stacked)
    tickets, key = tickets[keep], key[keep]
    inside = period.contains(tickets[schema.CREATED_AT])
    units = pd.Index(graph.unique_ids)
    table = hotspots.gi_star(key[inside].value_counts().reindex(units, fill_value=0), graph, fdr)
    table = table.rename(columns={"value": "tickets"})
    table["tickets"] = table["tickets"].astype("int64")
    if grids is not None:
        by_id = grids.set_index(schema.GRID_ID)
        table.insert(0, "name", by_id[schema.NAME].reindex(units))
        table.insert(1, "community", by_id[schema.COMMUNITY].reindex(units))
        km2 = geometry.area_km2(by_id).reindex(units)
        population = pd.to_numeric(by_id[schema.POPULATION], errors="coerce").reindex(units)
        table["per_1000"] = table["tickets"] * 1000 / population.where(population > 0)
        table["per_km2"] = table["tickets"] / km2.where(km2 > 0)
    counts = hotspots.monthly_counts(tickets, key, units, months)
    emerging = hotspots.emerging_hotspots(counts, graph, fdr)
    return table.join(emerging[list(EMERGING_COLUMNS)])


def repeat_tables(
    flow: gpd.GeoDataFrame, grids: pd.DataFrame, distance_m: float, days: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the repeat cases among ``flow`` — ``REPEAT_COLUMNS`` and what ``repeats.repeat_cases`` finds —
    newest first, repeat rates per grid with its ``name``, most repeats first). ``flow`` is left as given:
    leave stacked coordinates out first (``analysed_tickets``)."""
    found = repeats.repeat_cases(flow, distance_m, days, include_stacked=True)
    cases = pd.DataFrame(flow.loc[found.index, list(REPEAT_COLUMNS)]).join(found)
    by_id = grids.set_index(schema.GRID_ID)
    rates = repeats.repeat_rates(flow, found, pd.Index(by_id.index))
    rates.insert(0, "name", by_id[schema.NAME])
    return cases.sort_values(schema.CREATED_AT, ascending=False), rates.sort_values(
        ["repeats", "repeat_rate"], ascending=False
    )


def time_patterns(
    tickets: pd.DataFrame, period: metrics.Period, months: pd.PeriodIndex
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weekday × hour table of the tickets of ``period``, month × category table of ``months``)."""
    plain = pd.DataFrame(tickets.drop(columns="geometry", errors="ignore"))
    return hotspots.hour_weekday(created_in(plain, period)), hotspots.monthly_seasonality(plain, months)


def unit_tickets(tickets: pd.DataFrame, key: pd.Series, unit_id: str, period: metrics.Period) -> pd.DataFrame:
    """The tickets of ``period`` in the unit ``unit_id`` (``key`` is each ticket's unit), newest first,
    with ``UNIT_TICKET_COLUMNS``."""
    mine = created_in(tickets[key == unit_id], period)
    return pd.DataFrame(mine[list(UNIT_TICKET_COLUMNS)]).sort_values(schema.CREATED_AT, ascending=False)
