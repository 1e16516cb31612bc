"""core.indicators: the period's ranking and 同比, the twelve-month series, the tickets behind a number and
the meeting report's figures, on a hand-built district of two grids with counts worked out by hand."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from core import indicators, metrics, schema

TZ = schema.DEFAULT_TIMEZONE
AS_OF = pd.Timestamp("2026-10-20", tz=TZ)
OCTOBER = metrics.Period.from_dates(date(2026, 10, 1), date(2026, 10, 31), TZ)  # previous: 31 Aug – 30 Sep


def ts(text: str | None) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ) if text else pd.NaT


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2"],
            schema.NAME: ["North", None],
            schema.COMMUNITY: ["c1", "c2"],
            schema.STREET: ["s", "s"],
            schema.POPULATION: [1000, 2000],
        },
        geometry=[box(120.0, 30.0, 120.01, 30.01), box(120.01, 30.0, 120.02, 30.01)],
        crs=schema.STORAGE_CRS,
    )


# id, grid, created, deadline, closed, stage, satisfaction, rework, source
ROWS = [
    ("T1", "g1", "2026-10-02", "2026-10-05", "2026-10-04", "closed", "satisfied", 0, "resident"),  # on time
    ("T2", "g1", "2026-10-03", "2026-10-06", "2026-10-08", "closed", "dissatisfied", 1, "patrol"),  # late, reworked
    ("T3", "g2", "2026-10-05", "2026-10-10", None, "handling", None, 0, "hotline"),  # open, overdue at AS_OF
    ("T4", "g2", "2026-09-10", "2026-09-15", "2026-09-14", "closed", "satisfied", 0, "patrol"),  # September
    ("T5", "g1", "2026-09-20", "2026-09-25", "2026-09-30", "closed", None, 0, "patrol"),  # September, late
    ("T6", None, "2026-10-04", "2026-10-07", None, "handling", None, 0, "resident"),  # outside every grid
    ("T7", "g1", "2025-10-10", "2025-10-12", "2025-10-11", "closed", None, 0, "patrol"),  # a year earlier
]


def tickets(copies: int = 1) -> gpd.GeoDataFrame:
    rows = [(f"{r[0]}-{k}", *r[1:]) for k in range(copies) for r in ROWS]
    grid = [r[1] for r in rows]
    return gpd.GeoDataFrame(
        {
            schema.TICKET_ID: [r[0] for r in rows],
            schema.GRID_ID: grid,
            schema.COMMUNITY: [{"g1": "c1", "g2": "c2"}.get(g) for g in grid],
            schema.STREET: ["s" if g else None for g in grid],
            schema.ASSIGNED: [g is not None for g in grid],
            schema.CREATED_AT: [ts(r[2]) for r in rows],
            schema.DISPATCHED_AT: [ts(r[2]) for r in rows],
            schema.DEADLINE_AT: [ts(r[3]) for r in rows],
            schema.CLOSED_AT: [ts(r[4]) for r in rows],
            schema.STAGE: [r[5] for r in rows],
            schema.SATISFACTION: [r[6] for r in rows],
            schema.REWORK_COUNT: [r[7] for r in rows],
            schema.SOURCE: [r[8] for r in rows],
        },
        geometry=[Point(120.005, 30.005)] * len(rows),
        crs=schema.STORAGE_CRS,
    )


def test_district_totals_and_rates_of_october():
    now = indicators.district_totals(tickets(), grids(), OCTOBER, AS_OF)
    assert now[["registered", "due", "closed", "on_time", "reworked", "rated", "satisfied"]].tolist() == [
        3,
        3,
        2,
        1,
        1,
        2,
        1,
    ]
    assert now["public_reports"] == 2 and now["open"] == 1 and now["overdue"] == 1  # T6 is in no unit
    rates = metrics.district_rates(now)
    assert rates.to_dict() == pytest.approx(
        {
            "closure_rate": 2 / 3,
            "on_time_rate": 1 / 3,
            "rework_rate": 1 / 2,
            "satisfaction_rate": 1 / 2,
            "public_report_rate": 2 / 3,
        }
    )
    nobody_rated = metrics.district_rates(now.where(~now.index.isin(["rated", "satisfied"]), 0))
    assert np.isnan(nobody_rated["satisfaction_rate"]) and nobody_rated["closure_rate"] == pytest.approx(2 / 3)


def test_district_changes_against_september():
    now = indicators.district_totals(tickets(), grids(), OCTOBER, AS_OF)
    before = indicators.district_totals(tickets(), grids(), metrics.previous_period(OCTOBER), AS_OF)
    assert before[["registered", "due", "closed", "on_time", "rated", "satisfied"]].tolist() == [2, 2, 2, 1, 1, 1]
    district = indicators.district_changes(now, before, "District")
    assert district.index.tolist() == ["District"] and district.loc["District", "registered"] == 3
    assert district.loc["District"].drop("registered").to_dict() == pytest.approx(
        {
            "closure_rate_change": 2 / 3 - 1,
            "on_time_rate_change": 1 / 3 - 1 / 2,
            "rework_rate_change": 1 / 2,
            "satisfaction_rate_change": 1 / 2 - 1,
            "public_report_rate_change": 2 / 3,
        }
    )


def test_period_ranking_changes_against_the_previous_period():
    table = indicators.period_ranking(tickets(), grids(), OCTOBER, AS_OF, "grid", metrics.DEFAULT_WEIGHTS)
    assert table["registered"].to_dict() == {"g1": 2, "g2": 1}
    assert table["registered_change"].to_dict() == {"g1": 1, "g2": 0}
    assert table["rank"].isna().all()  # fewer than metrics.MIN_RANKED tickets each


def test_year_over_year_against_the_same_month_last_year():
    yoy = indicators.year_over_year(tickets(), grids(), OCTOBER, AS_OF, "street")
    assert yoy.loc["s", "registered"] == 3 - 1
    assert yoy.loc["s", "closure_rate"] == pytest.approx(2 / 3 - 1)


def test_monthly_indicators_cover_the_twelve_months_up_to_the_clock():
    monthly = indicators.monthly_indicators(tickets(), grids(), AS_OF, "community")
    assert len(monthly) == 12 * 2 and monthly["month"].iloc[0] == "2025-11" and monthly["month"].iloc[-1] == "2026-10"
    registered = monthly.set_index(["month", "unit"])["registered"]
    assert registered[("2026-10", "c1")] == 2 and registered[("2026-10", "c2")] == 1
    assert registered[("2026-09", "c1")] == 1 and registered[("2026-09", "c2")] == 1
    assert registered.sum() == 5  # T7 (October 2025) is before the first month
    assert len(indicators.monthly_indicators(tickets(), grids(), AS_OF, "grid", months=3)) == 3 * 2


def test_monthly_rates_are_percent_to_one_decimal():
    monthly = indicators.monthly_indicators(tickets(), grids(), AS_OF, "street")
    trend = indicators.monthly_rates(monthly)
    assert trend.columns.tolist() == list(indicators.TREND_RATES) and len(trend) == 12
    assert trend.loc["2026-10"].tolist() == [66.7, 33.3, 50.0]
    assert trend.loc["2026-09"].tolist() == [100.0, 50.0, 100.0]
    assert trend.loc["2026-08"].isna().all()  # nothing due, nothing rated


def test_tickets_behind_a_rate_are_its_denominator_with_the_numerator_flagged():
    behind = indicators.tickets_behind(tickets(), OCTOBER, AS_OF, "grid", "g1", "on_time", "due")
    assert behind[schema.TICKET_ID].tolist() == ["T1-0", "T2-0"] and behind["counted"].tolist() == [True, False]
    assert "geometry" not in behind.columns
    assert indicators.tickets_behind(tickets(), OCTOBER, AS_OF, "grid", "g2", "closed", "due")["counted"].tolist() == [
        False
    ]


def test_period_tickets_are_registered_and_inside():
    flow = indicators.period_tickets(tickets(), OCTOBER, AS_OF)
    assert flow[schema.TICKET_ID].tolist() == ["T1-0", "T2-0", "T3-0"] and "geometry" not in flow.columns


def test_unit_names_fall_back_to_the_id():
    assert indicators.unit_names(grids(), "grid") == {"g1": "North", "g2": "g2"}
    assert indicators.unit_names(grids(), "community") == {"c1": "c1", "c2": "c2"}


def test_report_ranking_rounds_and_names_the_units():
    table = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "composite_score": [87.654, 12.345, np.nan],
            "registered": [5, 3, 1],
            "closure_rate": [0.8, 2 / 3, 0.0],
            "on_time_rate": [0.5, 1 / 3, 0.0],
            "rework_rate": [0.0, 0.5, 0.0],
            "satisfaction_rate": [np.nan, 1.0, 0.0],
            "overdue": [0, 2, 1],
            "population": [10.0, 20.0, 30.0],
        },
        index=["g2", "g1", "g3"],
    )
    out = indicators.report_ranking(table, {"g1": "North"}, rows=2)
    assert out.columns.tolist() == ["unit", *indicators.REPORT_COLUMNS]
    assert out["unit"].tolist() == ["g2", "North"]
    assert out["composite_score"].tolist() == [87.7, 12.3]
    assert out["closure_rate"].tolist() == [80.0, 66.7] and out["on_time_rate"].tolist() == [50.0, 33.3]
    assert out["registered"].tolist() == [5, 3] and out["overdue"].tolist() == [0, 2]


def test_meeting_figures_flag_the_districts_worsened_rates():
    many = tickets(copies=4)  # 12 registered in October: enough to be flagged (metrics.MIN_RANKED)
    table = indicators.period_ranking(many, grids(), OCTOBER, AS_OF, "grid", metrics.DEFAULT_WEIGHTS)
    monthly = indicators.monthly_indicators(many, grids(), AS_OF, "street")
    names = indicators.unit_names(grids(), "grid")
    figures = indicators.meeting_figures(many, grids(), OCTOBER, AS_OF, table, monthly, names, "District")
    assert figures.totals["registered"] == 12 and figures.rates["closure_rate"] == pytest.approx(2 / 3)
    assert set(figures.flags["unit"]) == {"District"}  # g1 (8) and g2 (4) are too small to flag
    assert set(figures.flags["indicator"]) == set(metrics.RATES) and set(figures.flags["severity"]) == {"red"}
    assert figures.flags["indicator"].iloc[0] == "public_report_rate"  # worse by 67 points
    assert figures.flags["indicator"].iloc[-1] == "on_time_rate"  # worse by 17 points
    assert figures.trend.loc["2026-10"].tolist() == [66.7, 33.3, 50.0]
    assert set(figures.ranking["unit"]) == {"North", "g2"}
