"""core.patrol_inputs: the usable part of a saved roster, the clock and tables of the patrol gaps, and the
workload with and without tickets, on three hand-built grids."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from core import metrics, patrol_inputs, schema, workload

TZ = schema.DEFAULT_TIMEZONE
WEEK = metrics.Period.from_dates(date(2026, 6, 1), date(2026, 6, 7), TZ)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2", "g3"],
            schema.NAME: ["One", "Two", "Three"],
            schema.COMMUNITY: ["c", "c", "c"],
            schema.POPULATION: [100, 300, 0],
        },
        geometry=[box(120.0, 30.0, 120.01, 30.01), box(120.01, 30.0, 120.02, 30.01), box(120.02, 30.0, 120.03, 30.01)],
        crs=schema.STORAGE_CRS,
    )


def teams() -> pd.DataFrame:
    return pd.DataFrame({schema.TEAM_ID: ["t1", "t2"], schema.NAME: ["Alpha", "Bravo"]})


def roster() -> pd.DataFrame:
    return pd.DataFrame(
        {schema.TEAM_ID: ["t1", "t2", "t1", "t9", "t2"], schema.GRID_ID: ["g1", "g1", "g2", "g3", "gone"]}
    )


def checkins(times: list[tuple[str, str]]) -> gpd.GeoDataFrame:
    """(grid_id, checked_at) sign-ins of team t1."""
    return gpd.GeoDataFrame(
        {
            schema.TEAM_ID: ["t1"] * len(times),
            schema.GRID_ID: [t[0] for t in times],
            schema.CHECKED_AT: pd.Series([ts(t[1]) for t in times], dtype=f"datetime64[ns, {TZ}]"),
        },
        geometry=[Point(120.005, 30.005)] * len(times),
        crs=schema.STORAGE_CRS,
    )


def tickets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.GRID_ID: ["g1", "g1", "g2", "g1"],
            schema.CATEGORY: ["noise", "litter", "noise", "noise"],
            schema.STAGE: ["handling", "closed", "cancelled", "handling"],
            schema.CREATED_AT: [ts("2026-06-02"), ts("2026-06-03"), ts("2026-06-04"), ts("2026-05-20")],
        }
    )


def test_usable_roster_keeps_known_grids_and_teams_one_team_a_grid():
    usable = patrol_inputs.usable_roster(roster(), grids(), teams())
    assert usable.to_dict("list") == {schema.TEAM_ID: ["t1", "t1"], schema.GRID_ID: ["g1", "g2"]}
    assert usable.index.tolist() == [0, 1]
    assert patrol_inputs.usable_roster(roster().iloc[3:], grids(), teams()) is None


def test_gaps_clock_is_the_later_of_the_data_and_the_sign_ins():
    signed = checkins([("g1", "2026-06-05 22:00"), ("g2", "2026-06-06 23:00")])
    fallback = WEEK.end
    assert patrol_inputs.gaps_clock(ts("2026-06-04"), signed, fallback) == ts("2026-06-06 23:00")
    assert patrol_inputs.gaps_clock(ts("2026-06-07 08:00"), signed, fallback) == ts("2026-06-07 08:00")
    assert patrol_inputs.gaps_clock(None, signed.iloc[:0], fallback) == ts("2026-06-08")
    assert patrol_inputs.gaps_clock(None, signed, fallback) == ts("2026-06-06 23:00")


def test_patrol_gaps_count_back_from_the_clock():
    signed = checkins([("g1", "2026-06-06 23:00"), ("g2", "2026-05-20 22:00")])
    roster_ok = patrol_inputs.usable_roster(roster(), grids(), teams())
    unvisited, versus = patrol_inputs.patrol_gaps(grids(), signed, roster_ok, teams(), tickets(), WEEK, None, 7)
    assert unvisited[schema.GRID_ID].tolist() == ["g2"]  # 17 days before the latest sign-in
    assert unvisited["days_since_visit"].iloc[0] == pytest.approx(17 + 1 / 24)
    assert versus.loc["g1", "tickets"] == 2 and versus.loc["g2", "tickets"] == 0  # cancelled; May is before
    assert versus.loc["g1", "visits"] == 1
    _, none = patrol_inputs.patrol_gaps(grids(), signed, roster_ok, teams(), None, WEEK, None, 7)
    assert none is None


def test_workload_without_tickets_is_area_and_population():
    weights = workload.WorkloadWeights(tickets=0.5, area=0.0, population=0.5)
    without = patrol_inputs.period_workload(grids(), None, WEEK, weights, None, TZ)
    assert without["tickets"].tolist() == [0, 0, 0]
    assert without["workload"].tolist() == pytest.approx([0.25, 0.75, 0.0])  # tickets drop out: population alone
    severe = patrol_inputs.period_workload(grids(), tickets(), WEEK, weights, {"litter": 3.0}, TZ)
    assert severe["weighted_tickets"].tolist() == [4.0, 0.0, 0.0]  # noise 1 + litter 3
    assert severe["workload"].tolist() == pytest.approx([0.5 * 1 + 0.5 * 0.25, 0.5 * 0.75, 0.0])
    plain = patrol_inputs.period_workload(grids(), tickets(), WEEK, weights, {}, TZ)
    assert plain["weighted_tickets"].tolist() == [2.0, 0.0, 0.0]


def test_no_tickets_has_the_columns_workload_reads():
    empty = patrol_inputs.no_tickets("Europe/Berlin")
    assert empty.empty and str(empty[schema.CREATED_AT].dtype) == "datetime64[ns, Europe/Berlin]"
    assert set(empty.columns) == {schema.GRID_ID, schema.CATEGORY, schema.STAGE, schema.CREATED_AT}
