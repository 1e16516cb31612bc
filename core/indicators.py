"""Indicators over time and the tickets behind them: the ranking of a period against the one before,
同比 (the same period a year earlier), the last twelve calendar months, the tickets one number counts, and
the meeting report's figures (district totals and rates, flags, the monthly trend, the ranking table).

What is NOT here: the indicator definitions and the per-unit table itself (``core.metrics``:
``ticket_flags``, ``indicators``, ``ranking``, ``worsened``), and anything drawn or worded — the report's
PDF/HTML and its map are ``dashboard/components/report.py``, its labels the i18n catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from core import metrics, schema

__all__ = [
    "MONTHS",
    "REPORT_COLUMNS",
    "REPORT_ROWS",
    "TREND_RATES",
    "MeetingFigures",
    "district_changes",
    "district_totals",
    "meeting_figures",
    "monthly_indicators",
    "monthly_rates",
    "period_ranking",
    "period_tickets",
    "report_ranking",
    "tickets_behind",
    "unit_names",
    "year_over_year",
]

MONTHS = 12  # calendar months of the monthly series, the last one the month of the data's clock

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

REPORT_ROWS = 30  # units in the report's ranking table

TREND_RATES = ("closure_rate", "on_time_rate", "satisfaction_rate")  # the report's monthly trend lines


def period_ranking(
    tickets: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    period: metrics.Period,
    as_of: pd.Timestamp,
    level: str,
    weights: Mapping[str, float],
) -> pd.DataFrame:
    """The ranking table of ``level`` for ``period`` (``metrics.ranking``), with the changes against the
    period just before it (环比)."""
    current = metrics.indicators(tickets, grids, period, as_of, level)
    previous = metrics.indicators(tickets, grids, metrics.previous_period(period), as_of, level)
    return metrics.ranking(current, previous, dict(weights))


def year_over_year(
    tickets: pd.DataFrame, grids: gpd.GeoDataFrame, period: metrics.Period, as_of: pd.Timestamp, level: str
) -> pd.DataFrame:
    """同比: the change of every indicator of ``level`` against the same period a year earlier."""
    return metrics.changes(
        metrics.indicators(tickets, grids, period, as_of, level),
        metrics.indicators(tickets, grids, metrics.same_period_last_year(period), as_of, level),
    )


def monthly_indicators(
    tickets: pd.DataFrame, grids: gpd.GeoDataFrame, as_of: pd.Timestamp, level: str, months: int = MONTHS
) -> pd.DataFrame:
    """Every indicator per unit of ``level`` and calendar month (in ``as_of``'s zone), over the ``months``
    months that end with the month of ``as_of``: long format, one row per unit and month, the unit's key
    in ``unit`` and the month as ``YYYY-MM`` in ``month``, oldest month first."""
    zone = as_of.tz
    if zone is None:
        raise ValueError(f"as_of must carry the workspace's time zone; got the naive time {as_of}")
    end = as_of.tz_localize(None).normalize().replace(day=1) + pd.DateOffset(months=1)
    frames = []
    for k in range(months, 0, -1):
        start = end - pd.DateOffset(months=k)
        table = metrics.indicators(tickets, grids, metrics.Period.month_of(start, zone), as_of, level)
        frames.append(
            table.reset_index().rename(columns={metrics.LEVELS[level]: "unit"}).assign(month=start.strftime("%Y-%m"))
        )
    return pd.concat(frames, ignore_index=True)


def monthly_rates(monthly: pd.DataFrame, rates: tuple[str, ...] = TREND_RATES) -> pd.DataFrame:
    """The district's ``rates`` per month of a ``monthly_indicators`` table (its units' counts summed), in
    percent to one decimal; empty where a month has no denominator. Indexed by month, one column a rate."""
    totals = monthly.groupby("month")[list(metrics.COUNTS)].sum()
    out = pd.DataFrame(index=totals.index)
    for rate in rates:
        numerator, denominator = metrics.RATES[rate]
        out[rate] = (totals[numerator] * 100 / totals[denominator].where(totals[denominator] > 0)).round(1)
    return out


def tickets_behind(
    tickets: pd.DataFrame,
    period: metrics.Period,
    as_of: pd.Timestamp,
    level: str,
    unit: str,
    numerator: str,
    denominator: str,
) -> pd.DataFrame:
    """The tickets behind a rate of one unit of ``level``: those its ``denominator`` counts (inside the
    grids), without geometry, with ``counted`` set on the ones its ``numerator`` counts."""
    flags = metrics.ticket_flags(tickets, period, as_of)
    mine = (tickets[metrics.LEVELS[level]] == unit).to_numpy() & tickets[schema.ASSIGNED].to_numpy(dtype=bool)
    rows = mine & flags[denominator].to_numpy()
    plain = pd.DataFrame(tickets.drop(columns="geometry", errors="ignore"))
    return plain[rows].assign(counted=flags[numerator].to_numpy()[rows])


def period_tickets(tickets: pd.DataFrame, period: metrics.Period, as_of: pd.Timestamp) -> pd.DataFrame:
    """The tickets registered in ``period`` (created in it, not cancelled) inside the grids, without
    geometry."""
    flags = metrics.ticket_flags(tickets, period, as_of)
    keep = flags["registered"].to_numpy() & tickets[schema.ASSIGNED].to_numpy(dtype=bool)
    return pd.DataFrame(tickets.drop(columns="geometry", errors="ignore")[keep])


def unit_names(grids: pd.DataFrame, level: str) -> dict[str, str]:
    """Display names of the units of ``level``: a grid's name (its id when it has none); communities and
    streets are their own names."""
    key = metrics.LEVELS[level]
    if level != "grid":
        return {k: k for k in grids[key].dropna().unique()}
    return dict(zip(grids[schema.GRID_ID], grids[schema.NAME].fillna(grids[schema.GRID_ID]), strict=True))


# ---- the meeting report's figures -----------------------------------------------------------------
def district_totals(
    tickets: pd.DataFrame, grids: gpd.GeoDataFrame, period: metrics.Period, as_of: pd.Timestamp
) -> pd.Series:
    """The district's counts (``metrics.COUNTS``) of ``period``: its streets' counts summed."""
    return metrics.district_counts(metrics.indicators(tickets, grids, period, as_of, "street"))


def district_changes(now: pd.Series, before: pd.Series, label: str) -> pd.DataFrame:
    """The district as one row ``label``: its registered tickets and each rate's change against
    ``before`` (``<rate>_change``), the shape ``metrics.worsened`` reads."""
    district = pd.DataFrame({"registered": [int(now["registered"])]}, index=[label])
    for rate, change in (metrics.district_rates(now) - metrics.district_rates(before)).items():
        district[f"{rate}_change"] = change
    return district


def report_ranking(
    table: pd.DataFrame, names: Mapping[str, str], columns: tuple[str, ...] = REPORT_COLUMNS, rows: int = REPORT_ROWS
) -> pd.DataFrame:
    """The first ``rows`` units of a ranking table with ``columns``, rates in percent and other decimals
    to one place, and the units' display names first (``unit``)."""
    out = table[list(columns)].head(rows).copy()
    for column in out.columns:
        if column.endswith("rate"):
            out[column] = (out[column] * 100).round(1)
        elif out[column].dtype.kind == "f":
            out[column] = out[column].round(1)
    out.insert(0, "unit", table.index[:rows].map(lambda k: names.get(k, k)))
    return out


@dataclass(frozen=True)
class MeetingFigures:
    """The numbers of the meeting report; wording and drawing them is the dashboard's."""

    totals: pd.Series  # the district's counts of the period
    rates: pd.Series  # the district's rates of the period (NaN without a denominator)
    flags: pd.DataFrame  # ``metrics.worsened`` rows: the district's first (its unit the label given), then the units'
    trend: pd.DataFrame  # ``monthly_rates`` of ``TREND_RATES``
    ranking: pd.DataFrame  # ``report_ranking`` of the ranking table


def meeting_figures(
    tickets: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    period: metrics.Period,
    as_of: pd.Timestamp,
    table: pd.DataFrame,
    monthly: pd.DataFrame,
    names: Mapping[str, str],
    district_label: str,
) -> MeetingFigures:
    """The meeting report's figures for ``period``: ``table`` is the period's ranking (``period_ranking``),
    ``monthly`` the ``monthly_indicators`` of any level, ``names`` the units' display names."""
    now = district_totals(tickets, grids, period, as_of)
    before = district_totals(tickets, grids, metrics.previous_period(period), as_of)
    flags = pd.concat(
        [metrics.worsened(district_changes(now, before, district_label)), metrics.worsened(table)], ignore_index=True
    )
    return MeetingFigures(
        totals=now,
        rates=metrics.district_rates(now),
        flags=flags,
        trend=monthly_rates(monthly),
        ranking=report_ranking(table, names),
    )
