"""core.metrics: period windows, open/overdue at the data's own clock, counts per grid, headline figures."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from core import metrics, schema

TZ = schema.TIMEZONE


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({schema.GRID_ID: ["g1", "g2", "g3"], schema.COMMUNITY: ["c1", "c1", "c2"],
                             schema.STREET: ["s"] * 3},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=4326)


def tickets() -> pd.DataFrame:
    return pd.DataFrame({
        schema.CREATED_AT: [ts("2026-10-01 08:00"), ts("2026-10-15 23:59"), ts("2026-10-16 00:00"),
                            ts("2026-09-30 23:59"), ts("2026-10-10 10:00")],
        schema.DISPATCHED_AT: [pd.NaT] * 5,
        schema.CLOSED_AT: [ts("2026-10-02 08:00"), pd.NaT, pd.NaT, pd.NaT, ts("2026-10-20 09:00")],
        schema.DEADLINE_AT: [ts("2026-10-03"), ts("2026-10-17"), ts("2026-10-25"), ts("2026-10-05"), pd.NaT],
        schema.STAGE: ["closed", "handling", "dispatched", "feedback", "cancelled"],
        schema.GRID_ID: ["g1", "g1", "g2", pd.NA, "g3"],
        schema.ASSIGNED: [True, True, True, False, True],
    })


def test_period_is_whole_days_half_open():
    period = metrics.Period.from_dates(date(2026, 10, 1), date(2026, 10, 15))
    assert period.start == ts("2026-10-01") and period.end == ts("2026-10-16")
    assert period.contains(tickets()[schema.CREATED_AT]).tolist() == [True, True, False, False, True]


def test_data_as_of_is_the_newest_recorded_time():
    assert metrics.data_as_of(tickets()) == ts("2026-10-20 09:00")
    assert metrics.data_as_of(tickets().iloc[:0]) is None


def test_open_and_overdue_at_the_reference_time():
    frame = tickets()
    assert metrics.open_mask(frame).tolist() == [False, True, True, True, False]
    assert metrics.overdue_mask(frame, ts("2026-10-18")).tolist() == [False, True, False, True, False]


def test_counts_per_grid_include_zeros_and_skip_cancelled_and_out_of_period():
    period = metrics.Period.from_dates(date(2026, 10, 1), date(2026, 10, 31))
    counts = metrics.ticket_count_by_grid(tickets(), grids(), period)
    assert counts.to_dict() == {"g1": 2, "g2": 1, "g3": 0}


def test_headline_figures():
    cams = pd.DataFrame({schema.STATUS: ["online", "offline", "online", "fault"]})
    members = pd.DataFrame({schema.MEMBER_ID: ["m1", "m2"]})
    period = metrics.Period.from_dates(date(2026, 10, 1), date(2026, 10, 31))
    figures = metrics.headline_figures(grids(), cams, tickets(), members, period, ts("2026-10-18"))
    assert figures == metrics.HeadlineFigures(
        grids=3, communities=2, streets=1, cameras_online=2, cameras_total=4, tickets_in_period=3,
        open_tickets=3, overdue_tickets=2, members=2, unassigned_tickets=1)
