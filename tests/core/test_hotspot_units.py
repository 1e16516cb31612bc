"""core.hotspot_units: the analysis months, which tickets are analysed, the unit table (counts, rates, Gi*,
emerging columns), a unit's tickets and the time patterns, on a hand-built 4 × 4 lattice of grids."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from core import hotspot_units, hotspots, metrics, schema

TZ = schema.DEFAULT_TIMEZONE
SIZE = 0.002  # degrees: a grid ~190 × 220 m
MAY = metrics.Period.from_dates(date(2026, 5, 1), date(2026, 5, 31), TZ)


def lattice() -> gpd.GeoDataFrame:
    """4 × 4 grids "r{row}c{col}" near Hangzhou; r0c0 has no population."""
    boxes = [
        shapely.box(120.1 + c * SIZE, 30.2 + r * SIZE, 120.1 + (c + 1) * SIZE, 30.2 + (r + 1) * SIZE)
        for r in range(4)
        for c in range(4)
    ]
    ids = [f"r{r}c{c}" for r in range(4) for c in range(4)]
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ids,
            schema.NAME: [f"Grid {i}" for i in ids],
            schema.COMMUNITY: ["north" if i.startswith("r3") else "south" for i in ids],
            schema.POPULATION: [0] + [500] * 15,
        },
        geometry=boxes,
        crs=schema.STORAGE_CRS,
    )


def centre(grid_id: str) -> tuple[float, float]:
    r, c = int(grid_id[1]), int(grid_id[3])
    return 120.1 + (c + 0.5) * SIZE, 30.2 + (r + 0.5) * SIZE


def tickets(rows: list[tuple[str, str, str]]) -> gpd.GeoDataFrame:
    """(ticket_id, grid_id, created_at) each at its grid's centre."""
    xy = [centre(r[1]) for r in rows]
    return gpd.GeoDataFrame(
        {
            schema.TICKET_ID: [r[0] for r in rows],
            schema.GRID_ID: [r[1] for r in rows],
            schema.CREATED_AT: [pd.Timestamp(r[2], tz=TZ) for r in rows],
            schema.CATEGORY: ["noise"] * len(rows),
            schema.DESCRIPTION: [""] * len(rows),
            schema.SOURCE: ["resident"] * len(rows),
            schema.STAGE: ["handling"] * len(rows),
        },
        geometry=gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy]),
        crs=schema.STORAGE_CRS,
    )


def may_field() -> gpd.GeoDataFrame:
    """Four May tickets in r1c1, one in r0c0, one in April in r1c1."""
    return tickets(
        [
            ("A", "r1c1", "2026-05-02 09:00"),
            ("B", "r1c1", "2026-05-03 10:00"),
            ("C", "r1c1", "2026-05-20 18:00"),
            ("D", "r1c1", "2026-05-31 23:30"),
            ("E", "r0c0", "2026-05-10 08:00"),
            ("F", "r1c1", "2026-04-30 23:59"),
        ]
    )


def test_analysis_months_are_the_periods_or_the_twelve_ending_with_it():
    assert hotspot_units.analysis_months(date(2026, 1, 5), date(2026, 6, 30)).strftime("%Y-%m").tolist() == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    short = hotspot_units.analysis_months(date(2026, 5, 1), date(2026, 5, 31))
    assert len(short) == 12 and str(short[0]) == "2025-06" and str(short[-1]) == "2026-05"


def test_created_in_keeps_the_periods_tickets():
    assert hotspot_units.created_in(may_field(), MAY)[schema.TICKET_ID].tolist() == ["A", "B", "C", "D", "E"]


def test_analysed_tickets_leave_the_stacked_coordinates_out():
    field = may_field()
    lon, lat = centre("r0c0")
    stacked = pd.DataFrame({"lon": [round(lon, 6)], "lat": [round(lat, 6)], "count": [1]})
    kept = hotspot_units.analysed_tickets(field, stacked, MAY)
    assert kept[schema.TICKET_ID].tolist() == ["A", "B", "C", "D"]
    assert len(hotspot_units.analysed_tickets(field, stacked.iloc[:0], MAY)) == 5


def test_unit_keys_are_grids_or_h3_cells():
    field = may_field()
    assert hotspot_units.unit_keys(field, "grid", 9).tolist() == ["r1c1"] * 4 + ["r0c0", "r1c1"]
    cells = hotspot_units.unit_keys(field, "hex", 9)
    assert cells.index.equals(field.index)
    lon, lat = centre("r1c1")
    assert cells.iloc[0] == h3.latlng_to_cell(lat, lon, 9)


def test_unit_table_on_grids_counts_rates_and_gi_star():
    field = may_field()
    graph = hotspots.grid_graph(lattice())
    months = hotspot_units.analysis_months(date(2026, 5, 1), date(2026, 5, 31))
    table = hotspot_units.unit_table(
        field, field[schema.GRID_ID], graph, MAY, months, grids=lattice()
    )  # F (April) is out of the period
    assert len(table) == 16 and table["tickets"].sum() == 5
    assert table.loc["r1c1", "tickets"] == 4 and table.loc["r0c0", "tickets"] == 1 and table.loc["r2c2", "tickets"] == 0
    assert table.columns[:2].tolist() == ["name", "community"] and table.loc["r3c0", "community"] == "north"
    assert table.loc["r1c1", "per_1000"] == pytest.approx(4 * 1000 / 500)
    assert np.isnan(table.loc["r0c0", "per_1000"])  # nobody lives there
    km2 = (lattice().to_crs(lattice().estimate_utm_crs()).area / 1e6).iloc[5]
    assert table.loc["r1c1", "per_km2"] == pytest.approx(4 / km2, rel=1e-3)
    gi = hotspots.gi_star(pd.Series({"r1c1": 4, "r0c0": 1}), graph)
    assert table["z"].to_numpy() == pytest.approx(gi["z"].reindex(table.index).to_numpy())
    assert set(hotspot_units.EMERGING_COLUMNS) <= set(table.columns)


def test_unit_table_leaves_stacked_tickets_out_and_hexagons_have_no_rates():
    field = may_field()
    lon, lat = centre("r1c1")
    stacked = pd.DataFrame({"lon": [round(lon, 6)], "lat": [round(lat, 6)], "count": [5]})
    graph = hotspots.grid_graph(lattice())
    months = hotspot_units.analysis_months(date(2026, 5, 1), date(2026, 5, 31))
    table = hotspot_units.unit_table(field, field[schema.GRID_ID], graph, MAY, months, stacked=stacked)
    assert table["tickets"].sum() == 1 and table.loc["r1c1", "tickets"] == 0
    assert "per_1000" not in table.columns and "name" not in table.columns


def test_unit_tickets_are_the_units_newest_first():
    field = may_field()
    mine = hotspot_units.unit_tickets(field, field[schema.GRID_ID], "r1c1", MAY)
    assert mine[schema.TICKET_ID].tolist() == ["D", "C", "B", "A"]
    assert mine.columns.tolist() == list(hotspot_units.UNIT_TICKET_COLUMNS)


def test_time_patterns_of_the_period_and_the_months():
    months = hotspot_units.analysis_months(date(2026, 5, 1), date(2026, 5, 31))
    matrix, season = hotspot_units.time_patterns(may_field(), MAY, months)
    assert matrix.to_numpy().sum() == 5  # May only
    assert matrix.loc[5, 9] == 1 and matrix.loc[6, 23] == 1  # Saturday 2 May 09:00, Sunday 31 May 23:30
    assert season.loc["2026-05", "noise"] == 5 and season.loc["2026-04", "noise"] == 1
    assert season["noise"].sum() == 6


def test_registered_inside_drops_cancelled_and_outside_tickets():
    field = may_field().assign(
        **{
            schema.STAGE: ["handling", "cancelled", "closed", "handling", "handling", "handling"],
            schema.ASSIGNED: [True, True, True, False, True, True],
        }
    )
    assert hotspot_units.registered_inside(field)[schema.TICKET_ID].tolist() == ["A", "C", "E", "F"]


def test_repeat_tables_list_the_cases_newest_first_and_rate_the_grids():
    flow = hotspot_units.created_in(may_field(), MAY)
    cases, rates = hotspot_units.repeat_tables(flow, lattice(), distance_m=50, days=7)
    assert cases[schema.TICKET_ID].tolist() == ["B"] and cases["repeat_of"].tolist() == ["A"]  # C, D: > 7 days on
    assert cases.columns[: len(hotspot_units.REPEAT_COLUMNS)].tolist() == list(hotspot_units.REPEAT_COLUMNS)
    assert cases["gap_hours"].iloc[0] == pytest.approx(25)
    assert rates.index[0] == "r1c1" and rates.loc["r1c1", "name"] == "Grid r1c1"
    assert rates.loc["r1c1", ["tickets", "repeats"]].tolist() == [4, 1]
    assert rates.loc["r1c1", "repeat_rate"] == pytest.approx(0.25)
    assert rates.loc["r0c0", "repeats"] == 0 and np.isnan(rates.loc["r3c3", "repeat_rate"])
    assert len(rates) == 16
