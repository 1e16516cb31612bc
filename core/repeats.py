"""Repeat cases (重复案件): a ticket is a repeat when an earlier ticket of the same category lies within
``distance_m`` and ``days``; the repeats per unit and their share of the tickets.

Tickets on stacked coordinates (``core.hotspots.stacked_coordinates``: a geocoder's default point) are
left out unless asked for: hundreds of tickets at one default point are not repeats of one another.

What is NOT here: hot spots, density and stacked points (``core.hotspots``), the Hotspots page's
repeat tables (``core.hotspot_units.repeat_tables``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from core import schema
from core.errors import HotspotError
from core.geometry import metric_crs
from core.hotspots import without_stacked

__all__ = ["REPEAT_DAYS", "REPEAT_DISTANCE_M", "repeat_cases", "repeat_rates", "repeat_share"]

REPEAT_DISTANCE_M = 50.0  # a ticket this close to an earlier one ...
REPEAT_DAYS = 7.0  # ... and this soon after it is a repeat case


def repeat_cases(
    tickets: gpd.GeoDataFrame,
    distance_m: float = REPEAT_DISTANCE_M,
    days: float = REPEAT_DAYS,
    include_stacked: bool = False,
) -> pd.DataFrame:
    """Tickets with an earlier ticket of the same category within ``distance_m`` and ``days`` (重复案件).
    Tickets on stacked coordinates (``stacked_coordinates``) are left out unless ``include_stacked``:
    hundreds of tickets at a call centre's default point are not repeats of one another.

    Returns one row per repeat ticket (index as in ``tickets``): ``repeat_of`` (the first ticket of its
    chain: follow each repeat back to a ticket that is not one) and ``gap_hours`` to the nearest earlier
    match. Pairs are found with a k-d tree in (x, y, time) scaled so the search box is ``distance_m`` ×
    ``days``, then filtered by true distance.
    """
    if distance_m <= 0 or days <= 0:
        raise HotspotError(
            f"repeat distance and days must be positive; got {distance_m} m, {days} days",
            code="repeat_window",
            params={"distance": distance_m, "days": days},
        )
    if not include_stacked:
        tickets, _ = without_stacked(tickets)
    empty = pd.DataFrame({"repeat_of": pd.Series(dtype="str"), "gap_hours": pd.Series(dtype="float64")})
    if len(tickets) < 2:
        return empty
    xy = shapely.get_coordinates(tickets.to_crs(metric_crs(tickets)).geometry.array)
    seconds = (tickets[schema.CREATED_AT] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
    category = pd.factorize(tickets[schema.CATEGORY])[0]
    window = days * 86_400
    first, second = [], []
    for c in np.unique(category):
        rows = np.flatnonzero(category == c)
        if rows.size < 2:
            continue
        scaled = np.column_stack([xy[rows] / distance_m, seconds[rows] / window])
        pairs = cKDTree(scaled).query_pairs(1.0, p=np.inf, output_type="ndarray")
        if not len(pairs):
            continue
        a, b = rows[pairs[:, 0]], rows[pairs[:, 1]]
        near = np.hypot(*(xy[a] - xy[b]).T) <= distance_m
        first.append(a[near])
        second.append(b[near])
    if not first:
        return empty
    a, b = np.concatenate(first), np.concatenate(second)
    earlier = np.where(seconds[a] <= seconds[b], a, b)
    later = np.where(seconds[a] <= seconds[b], b, a)
    tie = seconds[a] == seconds[b]
    earlier, later = np.where(tie, np.minimum(a, b), earlier), np.where(tie, np.maximum(a, b), later)
    gap = (seconds[later] - seconds[earlier]) / 3600
    order = np.lexsort((gap, later))
    later, earlier, gap = later[order], earlier[order], gap[order]
    keep = np.r_[True, later[1:] != later[:-1]]  # the nearest earlier match of each repeat
    later, earlier, gap = later[keep], earlier[keep], gap[keep]
    root = np.arange(len(tickets))
    root[later] = earlier
    for _ in range(64):  # follow chains back to their first ticket (pointer jumping)
        jumped = root[root]
        if np.array_equal(jumped, root):
            break
        root = jumped
    ids = tickets[schema.TICKET_ID].to_numpy()
    return pd.DataFrame({"repeat_of": ids[root[later]], "gap_hours": gap}, index=tickets.index[later])


def repeat_rates(
    tickets: pd.DataFrame, repeats: pd.DataFrame, units: pd.Index, key: str = schema.GRID_ID
) -> pd.DataFrame:
    """Per unit: ``tickets``, ``repeats`` (of them) and ``repeat_rate`` = repeats / tickets."""
    total = tickets[key].value_counts().reindex(units, fill_value=0)
    rep = tickets.loc[repeats.index, key].value_counts().reindex(units, fill_value=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(total > 0, rep / total.where(total > 0), np.nan)
    return pd.DataFrame(
        {"tickets": total.astype("int64"), "repeats": rep.astype("int64"), "repeat_rate": rate}, index=units
    )


def repeat_share(repeats: pd.DataFrame, rates: pd.DataFrame) -> tuple[int, float]:
    """(tickets of a ``repeat_rates`` table, the share of them the ``repeat_cases`` are; NaN without
    tickets)."""
    total = int(rates["tickets"].sum())
    return total, len(repeats) / total if total else np.nan
