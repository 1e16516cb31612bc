"""core.repeats: repeat cases chained back to the first report, repeat rates per unit and their share."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from core import repeats, schema
from core.errors import HotspotError


def tickets_at(rows: list[tuple[str, float, float, str, str]]) -> gpd.GeoDataFrame:
    """(ticket_id, east_m, north_m, created_at, category) near 30.27 N 120.18 E."""
    lat0, lon0 = 30.27, 120.18
    m_per_deg_lat, m_per_deg_lon = 110_900.0, 96_200.0
    return gpd.GeoDataFrame(
        {
            schema.TICKET_ID: [r[0] for r in rows],
            schema.CREATED_AT: pd.to_datetime([r[3] for r in rows]).tz_localize(schema.DEFAULT_TIMEZONE),
            schema.CATEGORY: [r[4] for r in rows],
            schema.GRID_ID: ["g1"] * (len(rows) - 1) + ["g2"],
        },
        geometry=gpd.points_from_xy(
            [lon0 + r[1] / m_per_deg_lon for r in rows], [lat0 + r[2] / m_per_deg_lat for r in rows]
        ),
        crs=4326,
    )


def test_repeat_cases_chain_back_to_the_first_report():
    tickets = tickets_at(
        [
            ("A", 0, 0, "2026-05-01 08:00", "noise"),
            ("B", 20, 10, "2026-05-03 22:00", "noise"),  # 22 m, 2.6 days after A: repeat of A
            ("C", 30, 30, "2026-05-08 21:00", "noise"),  # 14 m from B and 5 days after it: repeat, chain → A
            ("D", 0, 0, "2026-05-02 09:00", "litter"),  # same spot, other category
            ("E", 120, 0, "2026-05-02 09:00", "noise"),  # 120 m away
            ("F", 0, 5, "2026-06-30 09:00", "noise"),  # same spot, seven weeks later
            ("G", 1, 1, "2026-07-03 09:00", "noise"),  # repeat of F, in grid g2
        ]
    )
    cases = repeats.repeat_cases(tickets, distance_m=50, days=7)
    by_id = cases.set_index(tickets.loc[cases.index, schema.TICKET_ID])
    assert sorted(by_id.index) == ["B", "C", "G"]
    assert by_id.loc["B", "repeat_of"] == "A" and by_id.loc["C", "repeat_of"] == "A"
    assert by_id.loc["G", "repeat_of"] == "F"
    assert by_id.loc["B", "gap_hours"] == pytest.approx(62)
    assert by_id.loc["C", "gap_hours"] == pytest.approx(5 * 24 - 1)  # to B, the nearest earlier match
    rates = repeats.repeat_rates(tickets, cases, pd.Index(["g1", "g2", "g3"]))
    assert rates.loc["g1"].tolist() == [6, 2, pytest.approx(2 / 6)]
    assert rates.loc["g2"].tolist() == [1, 1, 1.0]
    assert rates.loc["g3", "tickets"] == 0 and np.isnan(rates.loc["g3", "repeat_rate"])
    assert repeats.repeat_cases(tickets, distance_m=50, days=1).empty
    with pytest.raises(HotspotError):
        repeats.repeat_cases(tickets, distance_m=0)


def test_repeat_share_of_the_tickets_and_none_without_tickets():
    rates = pd.DataFrame({"tickets": [6, 2], "repeats": [1, 1]})
    assert repeats.repeat_share(pd.DataFrame(index=range(2)), rates) == (8, 0.25)
    total, share = repeats.repeat_share(pd.DataFrame(), rates.iloc[:0])
    assert total == 0 and np.isnan(share)
