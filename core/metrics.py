"""Ticket and district indicators, each a plain function over canonical frames.

Definitions used here (DESIGN.md lists the full indicator set):

* **open** — stage is one of ``schema.OPEN_STAGES`` (not closed, not cancelled);
* **overdue** — open and its ``deadline_at`` is before the reference time ``as_of``;
* **in period** — ``period.start <= created_at < period.end``.

``as_of`` is the data's own clock (``data_as_of``: the newest time recorded in the tickets), so a
snapshot loaded weeks later does not turn every open ticket overdue.

The standard indicators of Chinese digital urban management (立案数, 应结案数, 结案数 and 结案率,
按期结案数 and 按期结案率, 返工率, 满意率, 监督举报率, handling time, per 1,000 residents and per km²)
are ``indicators`` per grid, community or street; ``ticket_flags`` says which tickets each number
counts, ``previous_period``/``same_period_last_year`` give 环比/同比, ``smoothed_rate`` ranks fairly
and ``composite_score`` is the 综合指标值; ``district_counts``/``district_rates`` are the district's.

Not here: coverage, hot spots and patrols (``core.coverage``, ``core.hotspots``, ``core.patrol``), and
how a page shows a figure (``dashboard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

import geopandas as gpd
import numpy as np
import pandas as pd

from core import schema
from core.geometry import area_km2

__all__ = [
    "COUNTS",
    "DEFAULT_WEIGHTS",
    "FLAG_POINTS",
    "HIGHER_IS_BETTER",
    "LEVELS",
    "MIN_RANKED",
    "PUBLIC_SOURCES",
    "RATES",
    "SATISFIED",
    "HeadlineFigures",
    "IndicatorOptions",
    "Period",
    "changes",
    "composite_dropped",
    "composite_score",
    "data_as_of",
    "district_counts",
    "district_rates",
    "due_mask",
    "headline_figures",
    "indicators",
    "local_midnight",
    "on_time_mask",
    "open_mask",
    "outside_grids_in_period",
    "overdue_mask",
    "previous_period",
    "ranking",
    "registered_mask",
    "same_period_last_year",
    "smoothed_rate",
    "ticket_count_by_grid",
    "ticket_flags",
    "worsened",
]


def local_midnight(day: date | pd.Timestamp, tz: str | tzinfo) -> pd.Timestamp:
    """The first moment of calendar ``day`` in ``tz``. Where the clock jumps over midnight (e.g.
    America/Santiago in September) the day starts at the first minute that exists; where midnight
    comes twice, at the first."""
    naive = pd.Timestamp(day).tz_localize(None).normalize()
    return naive.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)


@dataclass(frozen=True)
class Period:
    """A half-open time window ``[start, end)`` in the workspace timezone."""

    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def from_dates(cls, first: date, last: date, tz: str = schema.DEFAULT_TIMEZONE) -> Period:
        """The whole days ``first`` … ``last`` inclusive, in the time zone ``tz`` (the workspace's)."""
        return cls(local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz))

    @classmethod
    def month_of(cls, month_start: date, tz: str | tzinfo = schema.DEFAULT_TIMEZONE) -> Period:
        """The calendar month that begins on ``month_start``, in ``tz`` (a zone name or a timestamp's ``tz``)."""
        first = pd.Timestamp(month_start)
        return cls(local_midnight(first, tz), local_midnight(first + pd.DateOffset(months=1), tz))

    def contains(self, times: pd.Series) -> pd.Series:
        return (times >= self.start) & (times < self.end)


@dataclass(frozen=True)
class HeadlineFigures:
    """The district at a glance (the Overview page's figures)."""

    grids: int
    communities: int
    streets: int
    cameras_online: int
    cameras_total: int
    tickets_in_period: int
    open_tickets: int
    overdue_tickets: int
    members: int
    unassigned_tickets: int


def data_as_of(tickets: pd.DataFrame) -> pd.Timestamp | None:
    """The latest ticket creation time; None without tickets. Only ``created_at`` counts: one ticket
    closed (or mistyped) far ahead must not move the default period onto months with no tickets."""
    if tickets.empty or schema.CREATED_AT not in tickets:
        return None
    latest = tickets[schema.CREATED_AT].max()
    return None if pd.isna(latest) else latest


def open_mask(tickets: pd.DataFrame) -> pd.Series:
    """Tickets still being handled."""
    return tickets[schema.STAGE].isin(schema.OPEN_STAGES)


def overdue_mask(tickets: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Open tickets whose committed deadline passed before ``as_of``."""
    return open_mask(tickets) & (tickets[schema.DEADLINE_AT] < as_of).fillna(False).astype(bool)


def registered_mask(tickets: pd.DataFrame) -> pd.Series:
    """立案: every ticket that was not cancelled."""
    return tickets[schema.STAGE] != "cancelled"


def due_mask(tickets: pd.DataFrame, period: Period) -> pd.Series:
    """应结案: registered tickets whose deadline falls in ``period``."""
    return registered_mask(tickets) & period.contains(tickets[schema.DEADLINE_AT]).fillna(False).astype(bool)


def on_time_mask(tickets: pd.DataFrame) -> pd.Series:
    """按期结案: closed no later than the deadline (combine with ``due_mask`` for the rate)."""
    closed_by = tickets[schema.CLOSED_AT] <= tickets[schema.DEADLINE_AT]
    return (tickets[schema.STAGE] == "closed") & closed_by.fillna(False).astype(bool)


def ticket_count_by_grid(tickets: pd.DataFrame, grids: gpd.GeoDataFrame, period: Period) -> pd.Series:
    """Tickets created in ``period`` per grid (indexed by grid_id, zeros included; cancelled excluded).

    ``tickets`` must already carry ``grid_id`` from ``core.joins.join_to_grids``.
    """
    counted = tickets[period.contains(tickets[schema.CREATED_AT]) & (tickets[schema.STAGE] != "cancelled")]
    counts = counted[schema.GRID_ID].value_counts()
    return counts.reindex(grids[schema.GRID_ID], fill_value=0).astype("int64").rename("tickets")


def outside_grids_in_period(tickets: pd.DataFrame, period: Period) -> int:
    """Registered tickets created in ``period`` that lie outside every grid: Overview counts them in
    the period, the per-unit indicators cannot (they belong to no unit)."""
    return int(
        (
            period.contains(tickets[schema.CREATED_AT])
            & registered_mask(tickets)
            & ~tickets[schema.ASSIGNED].astype(bool)
        ).sum()
    )


def headline_figures(
    grids: gpd.GeoDataFrame,
    cameras: gpd.GeoDataFrame,
    tickets: pd.DataFrame,
    members: pd.DataFrame,
    period: Period,
    as_of: pd.Timestamp,
) -> HeadlineFigures:
    """The Overview figures. ``tickets`` must carry ``grid_id``/``assigned`` from ``core.joins``.

    Open and overdue count every ticket open at ``as_of`` (a state, not a flow); tickets in period
    counts those created in ``period``, cancelled ones excluded.
    """
    in_period = period.contains(tickets[schema.CREATED_AT]) & (tickets[schema.STAGE] != "cancelled")
    return HeadlineFigures(
        grids=len(grids),
        communities=grids[[schema.STREET, schema.COMMUNITY]].drop_duplicates().shape[0],
        streets=grids[schema.STREET].nunique(),
        cameras_online=int((cameras[schema.STATUS] == "online").sum()),
        cameras_total=len(cameras),
        tickets_in_period=int(in_period.sum()),
        open_tickets=int(open_mask(tickets).sum()),
        overdue_tickets=int(overdue_mask(tickets, as_of).sum()),
        members=len(members),
        unassigned_tickets=int((~tickets[schema.ASSIGNED]).sum()),
    )


# ---- the standard indicators (立案, 应结案, 结案, 按期结案 …) per grid, community or street ----------
LEVELS = {"grid": schema.GRID_ID, "community": schema.COMMUNITY, "street": schema.STREET}
PUBLIC_SOURCES = ("resident", "hotline")
SATISFIED = ("satisfied", "basically_satisfied")

COUNTS = (
    "registered",
    "due",
    "closed",
    "on_time",
    "reworked",
    "rated",
    "satisfied",
    "public_reports",
    "open",
    "overdue",
)
RATES = {  # rate: (numerator, denominator)
    "closure_rate": ("closed", "due"),
    "on_time_rate": ("on_time", "due"),
    "rework_rate": ("reworked", "closed"),
    "satisfaction_rate": ("satisfied", "rated"),
    "public_report_rate": ("public_reports", "registered"),
}
HIGHER_IS_BETTER = {
    "closure_rate": True,
    "on_time_rate": True,
    "rework_rate": False,
    "satisfaction_rate": True,
    "public_report_rate": False,
    "per_1000": False,
    "per_km2": False,
    "overdue": False,
    "handling_hours_median": False,
}


@dataclass(frozen=True)
class IndicatorOptions:
    """Choices that vary between cities: the rework rate's denominator (结案数 or 立案数) and which
    ratings count as satisfied (满意 + 基本满意 by default)."""

    rework_denominator: str = "closed"
    satisfied: tuple[str, ...] = SATISFIED

    def __post_init__(self) -> None:
        if self.rework_denominator not in ("closed", "registered"):
            raise ValueError(f"rework_denominator must be 'closed' or 'registered', got {self.rework_denominator!r}")


def ticket_flags(
    tickets: pd.DataFrame, period: Period, as_of: pd.Timestamp, options: IndicatorOptions = IndicatorOptions()
) -> pd.DataFrame:
    """One boolean column per counted indicator (``COUNTS``) for every ticket, plus
    ``handling_hours`` (dispatched → closed, for tickets closed in ``period``).

    * 立案 registered: created in the period, not cancelled;
    * 应结案 due: not cancelled, deadline in the period (wherever it was created);
    * 结案 closed: due and closed before the period ended; 按期结案 on_time: closed by the deadline;
    * reworked: closed (or registered, see ``IndicatorOptions``) and sent back at least once;
    * rated / satisfied: registered with a rating / with a satisfied one; public_reports: registered
      and reported by a resident or the hotline;
    * open / overdue: states at ``as_of``.
    These flags are what a drill-down lists: the tickets behind any number are the rows where its flag
    is set.
    """
    not_cancelled = registered_mask(tickets)
    registered = not_cancelled & period.contains(tickets[schema.CREATED_AT])
    due = due_mask(tickets, period)
    closed_by_end = (tickets[schema.STAGE] == "closed") & (tickets[schema.CLOSED_AT] < period.end).fillna(False)
    closed = due & closed_by_end.astype(bool)
    reworked_base = closed if options.rework_denominator == "closed" else registered
    rated = registered & tickets[schema.SATISFACTION].notna()
    closed_in_period = (tickets[schema.STAGE] == "closed") & period.contains(tickets[schema.CLOSED_AT]).fillna(False)
    hours = (tickets[schema.CLOSED_AT] - tickets[schema.DISPATCHED_AT]).dt.total_seconds() / 3600
    return pd.DataFrame(
        {
            "registered": registered,
            "due": due,
            "closed": closed,
            "on_time": closed & on_time_mask(tickets),
            "reworked": reworked_base & (tickets[schema.REWORK_COUNT] > 0),
            "rated": rated,
            "satisfied": rated & tickets[schema.SATISFACTION].isin(options.satisfied),
            "public_reports": registered & tickets[schema.SOURCE].isin(PUBLIC_SOURCES),
            "open": open_mask(tickets),
            "overdue": overdue_mask(tickets, as_of),
            "handling_hours": hours.where(closed_in_period.astype(bool) & hours.notna()),
        },
        index=tickets.index,
    )


def indicators(
    tickets: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    period: Period,
    as_of: pd.Timestamp,
    level: str = "grid",
    options: IndicatorOptions = IndicatorOptions(),
    flags: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every standard indicator per unit of ``level`` ("grid", "community" or "street"), indexed by
    the unit's key (grid_id, community, street), every unit of ``grids`` included.

    Counts (``COUNTS``), rates with their numerators and denominators (``RATES``; empty when the
    denominator is 0), ``handling_hours_median``/``_p90``, ``population``, ``area_km2``,
    ``per_1000`` (registered per 1,000 residents) and ``per_km2``. ``tickets`` must carry
    ``grid_id``/``community``/``street``/``assigned`` from ``core.joins``; tickets outside every grid
    belong to no unit. A unit's counts are the sums of its grids' counts. Pass ``flags``
    (``ticket_flags`` of the same period and options) to reuse them across levels.
    """
    key = LEVELS[level]
    flags = ticket_flags(tickets, period, as_of, options) if flags is None else flags
    inside = tickets[schema.ASSIGNED].to_numpy(dtype=bool) & tickets[key].notna().to_numpy()
    units = grids[key].drop_duplicates()
    codes, found = pd.factorize(tickets[key])  # once, on the column itself (Arrow-backed text stays fast)
    codes = codes[inside]
    counts = pd.DataFrame(
        {c: np.bincount(codes, weights=flags[c].to_numpy()[inside], minlength=len(found)) for c in COUNTS}, index=found
    )
    out = counts.reindex(units.to_numpy(), fill_value=0).astype("int64")
    if options.rework_denominator == "registered":
        rates = {**RATES, "rework_rate": ("reworked", "registered")}
    else:
        rates = RATES
    for rate, (numerator, denominator) in rates.items():
        out[rate] = out[numerator] / out[denominator].where(out[denominator] > 0)
    hours = pd.Series(flags["handling_hours"].to_numpy()[inside]).groupby(codes)
    for column, q in (("handling_hours_median", 0.5), ("handling_hours_p90", 0.9)):
        per_code = hours.quantile(q)
        out[column] = pd.Series(per_code.to_numpy(), index=found[per_code.index]).reindex(out.index)
    grid_figures = pd.DataFrame(
        {
            key: grids[key].to_numpy(),
            "population": pd.to_numeric(grids[schema.POPULATION], errors="coerce").to_numpy(),
            "area_km2": area_km2(grids).to_numpy(),
        }
    )
    sums = grid_figures.groupby(key).sum(min_count=1).reindex(out.index)
    out["population"] = sums["population"]
    out["area_km2"] = sums["area_km2"]
    out["per_1000"] = out["registered"] * 1000 / out["population"].where(out["population"] > 0)
    out["per_km2"] = out["registered"] / out["area_km2"].where(out["area_km2"] > 0)
    out.index.name = key
    return out


def district_counts(table: pd.DataFrame) -> pd.Series:
    """Every count of ``COUNTS`` summed over the units of an ``indicators`` table: the district's (a
    district's counts are the sums of its units')."""
    return table[list(COUNTS)].sum()


def district_rates(counts: pd.Series) -> pd.Series:
    """Each rate of ``RATES`` from summed counts (``district_counts``): numerator over denominator, NaN
    where the denominator is 0."""
    return pd.Series(
        {rate: counts[n] / counts[d] if counts[d] else np.nan for rate, (n, d) in RATES.items()}, dtype=float
    )


def previous_period(period: Period) -> Period:
    """The period of the same length just before (环比)."""
    length = period.end - period.start
    return Period(period.start - length, period.start)


def same_period_last_year(period: Period) -> Period:
    """The same dates a year earlier (同比)."""

    def year_before(moment: pd.Timestamp) -> pd.Timestamp:  # the same wall-clock time, even across DST
        earlier = moment.tz_localize(None) - pd.DateOffset(years=1)
        return earlier.tz_localize(moment.tz, nonexistent="shift_forward", ambiguous=True)

    return Period(year_before(period.start), year_before(period.end))


def changes(current: pd.DataFrame, earlier: pd.DataFrame) -> pd.DataFrame:
    """Current minus earlier for every numeric indicator (units missing earlier give empty values);
    rates change in percentage points ×0.01 (0.05 = five points)."""
    columns = [c for c in current.columns if pd.api.types.is_numeric_dtype(current[c])]
    return current[columns] - earlier.reindex(current.index)[columns]


def smoothed_rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Empirical-Bayes rates: each unit's rate shrunk towards the overall rate, the more the fewer its
    cases (beta-binomial, prior fitted by the method of moments). A unit with 3 of 3 on time does not
    outrank one with 290 of 300. Units with no cases get the overall rate."""
    n = denominator.to_numpy(dtype=float)
    x = numerator.to_numpy(dtype=float)
    has = n > 0
    if not has.any():
        return pd.Series(np.nan, index=numerator.index)
    mean = x[has].sum() / n[has].sum()
    rates = x[has] / n[has]
    weights = n[has] / n[has].sum()
    variance = float(np.sum(weights * (rates - mean) ** 2))
    noise = mean * (1 - mean) * np.mean(1 / n[has])
    between = variance - noise
    if between <= 0 or mean in (0.0, 1.0):
        return pd.Series(np.full(len(n), mean), index=numerator.index)
    strength = max(mean * (1 - mean) / between - 1, 0.0)  # the prior's weight, in cases
    return pd.Series((x + mean * strength) / (n + strength), index=numerator.index)


def composite_dropped(table: pd.DataFrame, weights: dict[str, float]) -> tuple[str, ...]:
    """The weighted indicators the composite leaves out: missing for every unit (no rated tickets, say)
    or the same for every unit, so they cannot tell units apart."""
    dropped = []
    for column in weights:
        values = table[column].astype(float)
        if not values.max() > values.min():  # also when every value is missing
            dropped.append(column)
    return tuple(dropped)


def composite_score(table: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """综合指标值: the weighted mean of each weighted indicator scaled to 0–100 across the units (100 =
    best unit, direction from ``HIGHER_IS_BETTER``); weights need not sum to 1. Indicators in
    ``composite_dropped`` are left out and the others' weights renormalised; units missing an indicator
    are scored on the others. Empty where no indicator is left."""
    unknown = set(weights) - set(HIGHER_IS_BETTER)
    if unknown:
        raise ValueError(f"no direction known for {sorted(unknown)}; use some of {sorted(HIGHER_IS_BETTER)}")
    dropped = composite_dropped(table, weights)
    used = {c: w for c, w in weights.items() if c not in dropped}
    scores, total = pd.DataFrame(index=table.index), pd.Series(0.0, index=table.index)
    for column, weight in used.items():
        values = table[column].astype(float)
        scaled = (values - values.min()) / (values.max() - values.min()) * 100
        scores[column] = scaled if HIGHER_IS_BETTER[column] else 100 - scaled
        total += scores[column].notna() * weight
    weighted = sum((scores[c].fillna(0) * w for c, w in used.items()), pd.Series(0.0, index=table.index))
    return (weighted / total.where(total > 0)).rename("composite_score")


DEFAULT_WEIGHTS = {
    "closure_rate": 0.3,
    "on_time_rate": 0.3,
    "satisfaction_rate": 0.2,
    "rework_rate": 0.1,
    "overdue": 0.1,
}
MIN_RANKED = 10  # units with fewer registered tickets get no rank: their rates are mostly noise


def ranking(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    weights: dict[str, float] | None = None,
    min_registered: int = MIN_RANKED,
) -> pd.DataFrame:
    """The ranking table: ``current`` indicators, each rate also smoothed (``<rate>_smoothed``, what
    the composite and the rank use), the change of every rate and of ``registered`` against
    ``previous`` (``<column>_change``), the ``composite_score`` and its ``rank`` (1 = best; empty
    for units with fewer than ``min_registered`` registered tickets, listed last)."""
    out = current.copy()
    smoothed = out.copy()
    for rate, (numerator, denominator) in RATES.items():
        out[f"{rate}_smoothed"] = smoothed_rate(out[numerator], out[denominator])
        smoothed[rate] = out[f"{rate}_smoothed"]
    delta = changes(current, previous)
    for column in (*RATES, "registered"):
        out[f"{column}_change"] = delta[column]
    out["composite_score"] = composite_score(smoothed, weights or DEFAULT_WEIGHTS)
    ranked = out["composite_score"].where(out["registered"] >= min_registered)
    out["rank"] = ranked.rank(ascending=False, method="min").astype("Int64")
    out = out.sort_values(["rank"], na_position="last")
    out.attrs["composite_dropped"] = composite_dropped(smoothed, weights or DEFAULT_WEIGHTS)
    return out


FLAG_POINTS = (("red", 0.10), ("yellow", 0.05))  # worse by at least this many points (0.10 = 10 points)


def worsened(table: pd.DataFrame, min_registered: int = MIN_RANKED) -> pd.DataFrame:
    """Red/yellow flags of a ``ranking`` table: every rate that got worse against the previous period
    by at least 10 (red) or 5 (yellow) percentage points, in units with at least ``min_registered``
    registered tickets. Columns: unit, indicator, change (signed, as in the table), severity; worst
    first."""
    rows = []
    counted = table[table["registered"] >= min_registered]
    for rate in RATES:
        change = counted[f"{rate}_change"]
        worse = -change if HIGHER_IS_BETTER[rate] else change
        for severity, points in FLAG_POINTS:
            hit = worse >= points
            rows += [(unit, rate, float(change[unit]), severity, float(worse[unit])) for unit in change.index[hit]]
            worse = worse.where(~hit)
    out = pd.DataFrame(rows, columns=["unit", "indicator", "change", "severity", "worse_by"])
    return out.sort_values("worse_by", ascending=False).drop(columns="worse_by").reset_index(drop=True)
