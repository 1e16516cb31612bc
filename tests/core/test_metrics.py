"""core.metrics: period windows, open/overdue at the data's own clock, counts per grid, headline figures,
the standard indicators (a fixture reproduces published city figures), 环比/同比, smoothing, composite."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from core import metrics, schema

TZ = schema.DEFAULT_TIMEZONE


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.GRID_ID: ["g1", "g2", "g3"], schema.COMMUNITY: ["c1", "c1", "c2"], schema.STREET: ["s"] * 3},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs=4326,
    )


def tickets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.CREATED_AT: [
                ts("2026-10-01 08:00"),
                ts("2026-10-15 23:59"),
                ts("2026-10-16 00:00"),
                ts("2026-09-30 23:59"),
                ts("2026-10-10 10:00"),
            ],
            schema.DISPATCHED_AT: [pd.NaT] * 5,
            schema.CLOSED_AT: [ts("2026-10-02 08:00"), pd.NaT, pd.NaT, pd.NaT, ts("2026-10-20 09:00")],
            schema.DEADLINE_AT: [ts("2026-10-03"), ts("2026-10-17"), ts("2026-10-25"), ts("2026-10-05"), pd.NaT],
            schema.STAGE: ["closed", "handling", "dispatched", "feedback", "cancelled"],
            schema.GRID_ID: ["g1", "g1", "g2", pd.NA, "g3"],
            schema.ASSIGNED: [True, True, True, False, True],
        }
    )


def test_period_is_whole_days_half_open():
    period = metrics.Period.from_dates(date(2026, 10, 1), date(2026, 10, 15))
    assert period.start == ts("2026-10-01") and period.end == ts("2026-10-16")
    assert period.contains(tickets()[schema.CREATED_AT]).tolist() == [True, True, False, False, True]


def test_data_as_of_is_the_latest_ticket_creation_not_a_late_closing():
    late = tickets()
    late.loc[0, schema.CLOSED_AT] = ts("2027-03-01 10:00")  # one mistyped closing far ahead
    assert metrics.data_as_of(tickets()) == ts("2026-10-16 00:00")
    assert metrics.data_as_of(late) == ts("2026-10-16 00:00")
    assert metrics.data_as_of(tickets().iloc[:0]) is None


def test_period_in_the_workspace_zone():
    period = metrics.Period.from_dates(date(2026, 10, 1), date(2026, 10, 1), "America/Chicago")
    assert period.start == pd.Timestamp("2026-10-01 05:00", tz="UTC")
    assert period.end == pd.Timestamp("2026-10-02 05:00", tz="UTC")


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
        grids=3,
        communities=2,
        streets=1,
        cameras_online=2,
        cameras_total=4,
        tickets_in_period=3,
        open_tickets=3,
        overdue_tickets=2,
        members=2,
        unassigned_tickets=1,
    )


# ---- standard indicators -------------------------------------------------------------------------
def published_month() -> tuple[pd.DataFrame, gpd.GeoDataFrame, metrics.Period]:
    """A month built to a city's published figures: 立案 996, 应结案 972, 结案 911, 按期结案 737.

    996 tickets are created in the month; 972 of them are due in it (24 are due next month); of the
    due, 911 are closed within the month, 737 of those by their deadline; 61 due ones are still open.
    Two grids in two communities share them (the first 500 rows go to g1).
    """
    n, due_n, closed_n, on_time_n = 996, 972, 911, 737
    i = np.arange(n)
    created = ts("2026-09-01 08:00") + pd.to_timedelta(i % 20, unit="D")
    deadline = created + pd.Timedelta(days=5)
    deadline = deadline.where(i < due_n, ts("2026-10-05"))
    closed = pd.Series(pd.NaT, index=i, dtype=f"datetime64[ns, {TZ}]")
    closed[i < on_time_n] = deadline[i < on_time_n] - pd.Timedelta(hours=1)
    late = (i >= on_time_n) & (i < closed_n)
    closed[late] = deadline[late] + pd.Timedelta(hours=3)
    stage = np.where(i < closed_n, "closed", "handling")
    frame = pd.DataFrame(
        {
            schema.TICKET_ID: [f"T{k}" for k in i],
            schema.CREATED_AT: created,
            schema.DISPATCHED_AT: created,
            schema.DEADLINE_AT: deadline,
            schema.CLOSED_AT: closed,
            schema.STAGE: stage,
            schema.SOURCE: np.where(i % 4 == 0, "hotline", "grid_worker"),
            schema.REWORK_COUNT: (i % 10 == 0).astype(int),
            schema.SATISFACTION: np.where(i % 3 == 0, "dissatisfied", np.where(i % 3 == 1, "satisfied", None)),
            schema.GRID_ID: np.where(i < 500, "g1", "g2"),
            schema.COMMUNITY: np.where(i < 500, "c1", "c2"),
            schema.STREET: "s",
            schema.ASSIGNED: True,
        }
    )
    grids = gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2"],
            schema.COMMUNITY: ["c1", "c2"],
            schema.STREET: ["s", "s"],
            schema.POPULATION: [1000, 3000],
        },
        geometry=[box(120.0, 30.0, 120.01, 30.01), box(120.01, 30.0, 120.02, 30.01)],
        crs=4326,
    )
    return frame, grids, metrics.Period.from_dates(date(2026, 9, 1), date(2026, 9, 30))


def test_published_city_figures_are_reproduced():
    tickets, grids, september = published_month()
    street = metrics.indicators(tickets, grids, september, ts("2026-10-31"), level="street").loc["s"]
    assert (street["registered"], street["due"], street["closed"], street["on_time"]) == (996, 972, 911, 737)
    assert round(street["closure_rate"] * 100, 2) == 93.72
    assert round(street["on_time_rate"] * 100, 2) == 75.82


def test_grid_totals_equal_the_street_and_rates_come_from_the_sums():
    tickets, grids, september = published_month()
    as_of = ts("2026-10-31")
    by_grid = metrics.indicators(tickets, grids, september, as_of, level="grid")
    by_community = metrics.indicators(tickets, grids, september, as_of, level="community")
    street = metrics.indicators(tickets, grids, september, as_of, level="street")
    for column in metrics.COUNTS + ("population",):
        assert by_grid[column].sum() == by_community[column].sum() == street[column].sum()
    assert street["rework_rate"].iloc[0] == pytest.approx(street["reworked"].iloc[0] / street["closed"].iloc[0])
    assert by_grid.loc["g1", "per_1000"] == pytest.approx(by_grid.loc["g1", "registered"])  # 1,000 residents
    assert by_grid.loc["g2", "area_km2"] == pytest.approx(0.96 * 1.11, rel=0.02)


def test_district_counts_and_rates_are_the_sums_of_the_units():
    counts = dict.fromkeys(metrics.COUNTS, 0)
    table = pd.DataFrame(
        [
            {**counts, "registered": 10, "due": 8, "closed": 6, "on_time": 4, "rated": 0, "public_reports": 1},
            {**counts, "registered": 30, "due": 12, "closed": 9, "on_time": 9, "reworked": 3, "public_reports": 3},
        ],
        index=["a", "b"],
    ).assign(closure_rate=0.5)  # a unit's rate is not summed
    total = metrics.district_counts(table)
    assert list(total.index) == list(metrics.COUNTS)
    assert (total["registered"], total["due"], total["closed"], total["on_time"]) == (40, 20, 15, 13)
    rates = metrics.district_rates(total)
    assert list(rates.index) == list(metrics.RATES)
    assert rates["closure_rate"] == 0.75 and rates["on_time_rate"] == 0.65
    assert rates["rework_rate"] == pytest.approx(3 / 15) and rates["public_report_rate"] == 0.1
    assert np.isnan(rates["satisfaction_rate"])  # nothing rated: no rate, not 0


def test_rework_denominator_is_configurable():
    tickets, grids, september = published_month()
    options = metrics.IndicatorOptions(rework_denominator="registered")
    street = metrics.indicators(tickets, grids, september, ts("2026-10-31"), "street", options).iloc[0]
    assert street["rework_rate"] == pytest.approx(street["reworked"] / street["registered"])
    with pytest.raises(ValueError):
        metrics.IndicatorOptions(rework_denominator="due")


def test_previous_period_and_same_period_last_year():
    march = metrics.Period.from_dates(date(2026, 3, 1), date(2026, 3, 31))
    assert metrics.previous_period(march) == metrics.Period(ts("2026-01-29"), ts("2026-03-01"))
    assert metrics.same_period_last_year(march) == metrics.Period(ts("2025-03-01"), ts("2025-04-01"))


def test_month_over_month_and_year_over_year_on_a_fixture():
    tickets, grids, september = published_month()
    last_year = tickets.copy()
    for column in (schema.CREATED_AT, schema.DISPATCHED_AT, schema.DEADLINE_AT, schema.CLOSED_AT):
        last_year[column] = last_year[column] - pd.DateOffset(years=1)
    last_year[schema.TICKET_ID] = "Y" + last_year[schema.TICKET_ID]
    both = pd.concat([tickets, last_year.iloc[:500]], ignore_index=True)  # half as many a year ago
    as_of = ts("2026-10-31")
    now = metrics.indicators(both, grids, september, as_of, "street")
    year_ago = metrics.indicators(both, grids, metrics.same_period_last_year(september), as_of, "street")
    month_ago = metrics.indicators(both, grids, metrics.previous_period(september), as_of, "street")
    assert year_ago["registered"].iloc[0] == 500 and month_ago["registered"].iloc[0] == 0
    assert metrics.changes(now, year_ago)["registered"].iloc[0] == 496
    assert metrics.changes(now, month_ago)["registered"].iloc[0] == 996


def test_smoothing_keeps_small_units_off_the_top():
    numerator = pd.Series([3, 290, 50, 70], index=list("abcd"))
    denominator = pd.Series([3, 300, 100, 100], index=list("abcd"))
    smoothed = metrics.smoothed_rate(numerator, denominator)
    assert smoothed.idxmax() == "b"  # 290/300 outranks 3/3 once shrunk
    assert smoothed["a"] < 1.0 and abs(smoothed["b"] - 290 / 300) < abs(smoothed["a"] - 1.0)
    assert metrics.smoothed_rate(pd.Series([0]), pd.Series([0])).isna().all()


def test_composite_score_scales_and_orients_each_indicator():
    table = pd.DataFrame({"on_time_rate": [0.9, 0.7, 0.8], "rework_rate": [0.1, 0.3, 0.2]}, index=list("xyz"))
    score = metrics.composite_score(table, {"on_time_rate": 2, "rework_rate": 1})
    assert score.tolist() == pytest.approx([100, 0, 50])
    with pytest.raises(ValueError):
        metrics.composite_score(table, {"colour": 1})


def test_composite_drops_missing_components_and_renormalises():
    table = pd.DataFrame(
        {"on_time_rate": [0.9, 0.7, 0.8], "satisfaction_rate": [float("nan")] * 3, "overdue": [0, 0, 0]},
        index=list("xyz"),
    )
    weights = {"on_time_rate": 0.3, "satisfaction_rate": 0.2, "overdue": 0.1}
    assert metrics.composite_dropped(table, weights) == ("satisfaction_rate", "overdue")
    assert metrics.composite_score(table, weights).tolist() == pytest.approx([100, 0, 50])
    nothing_left = metrics.composite_score(table, {"satisfaction_rate": 0.5, "overdue": 0.5})
    assert nothing_left.isna().all()  # not 0 for every unit, all ranked first


def test_ranking_gives_no_rank_when_no_component_tells_units_apart():
    current = pd.DataFrame({"overdue": [0, 0]}, index=["a", "b"])
    for rate, (numerator, denominator) in metrics.RATES.items():
        current[numerator] = 0
        current[denominator] = 0
        current[rate] = float("nan")
    current["registered"] = 20
    table = metrics.ranking(current, current, {"satisfaction_rate": 1, "overdue": 1})
    assert table["rank"].isna().all()
    assert table.attrs["composite_dropped"] == ("satisfaction_rate", "overdue")


def test_flags_list_exactly_the_tickets_behind_a_number():
    tickets, grids, september = published_month()
    flags = metrics.ticket_flags(tickets, september, ts("2026-10-31"))
    g1 = metrics.indicators(tickets, grids, september, ts("2026-10-31")).loc["g1"]
    behind = tickets[flags["on_time"] & (tickets[schema.GRID_ID] == "g1")]
    assert len(behind) == g1["on_time"] == 500  # rows 0–499 are all on time


def test_ranking_adds_smoothed_rates_changes_and_a_rank():
    tickets, grids, september = published_month()
    as_of = ts("2026-10-31")
    current = metrics.indicators(tickets, grids, september, as_of)
    previous = metrics.indicators(tickets, grids, metrics.previous_period(september), as_of)
    table = metrics.ranking(current, previous)
    assert table["rank"].tolist() == [1, 2] and table["rank"].notna().all()
    assert (table["registered_change"] == current.loc[table.index, "registered"]).all()  # nothing in August
    assert table["on_time_rate_smoothed"].between(0, 1).all()
    few = metrics.ranking(current, previous, min_registered=497)  # g1 has 500, g2 496
    assert few["rank"].isna().tolist() == [False, True]


def test_worsened_flags_red_and_yellow():
    table = pd.DataFrame(
        {"registered": [50, 50, 50, 3], **{f"{rate}_change": [0.0] * 4 for rate in metrics.RATES}}, index=list("abcd")
    )
    table.loc["a", "on_time_rate_change"] = -0.12  # 12 points worse: red
    table.loc["b", "rework_rate_change"] = 0.06  # rework up 6 points: yellow (lower is better)
    table.loc["c", "closure_rate_change"] = 0.20  # better: no flag
    table.loc["d", "on_time_rate_change"] = -0.50  # too few tickets to flag
    flags = metrics.worsened(table)
    assert flags[["unit", "indicator", "severity"]].values.tolist() == [
        ["a", "on_time_rate", "red"],
        ["b", "rework_rate", "yellow"],
    ]


def test_per_grid_tickets_and_those_outside_every_grid_add_up_to_overview():
    from datetime import timedelta

    from core import joins
    from geodata import load_demo

    layers = load_demo()
    grids = layers[schema.GRIDS.name]
    tickets = joins.join_to_grids(layers[schema.TICKETS.name], grids)
    as_of = metrics.data_as_of(tickets)
    period = metrics.Period.from_dates(as_of.date() - timedelta(days=29), as_of.date())
    overview = metrics.headline_figures(
        grids, layers[schema.CAMERAS.name], tickets, layers[schema.MEMBERS.name], period, as_of
    )
    outside = metrics.outside_grids_in_period(tickets, period)
    assert outside >= 1  # the demo has a ticket outside every grid
    assert metrics.indicators(tickets, grids, period, as_of)["registered"].sum() + outside == overview.tickets_in_period


def test_periods_in_a_zone_whose_clock_skips_midnight():
    """America/Santiago went from 00:00 straight to 01:00 on 2023-09-03: a day, a month and the same
    period a year earlier still start at the day's first minute instead of failing."""
    from core import command

    period = metrics.Period.from_dates(date(2023, 8, 1), date(2023, 9, 2), "America/Santiago")
    assert period.end == pd.Timestamp("2023-09-03 01:00", tz="America/Santiago")
    september = metrics.Period.month_of(date(2023, 9, 1), "America/Santiago")
    assert september.end - september.start == pd.Timedelta(days=30) - pd.Timedelta(hours=1)
    day = command.today(pd.Timestamp("2023-09-03 12:00", tz="America/Santiago"))
    assert day.start == pd.Timestamp("2023-09-03 01:00", tz="America/Santiago")
    assert day.end - day.start == pd.Timedelta(hours=23)
    later = metrics.Period.from_dates(date(2024, 8, 1), date(2024, 9, 2), "America/Santiago")
    assert metrics.same_period_last_year(later).start == pd.Timestamp("2023-08-01", tz="America/Santiago")
