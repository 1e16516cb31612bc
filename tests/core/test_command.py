"""core.command: filters, phone masking, per-grid measures, the overdue list, counters, the grid card."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from core import command, metrics, schema

TZ = schema.DEFAULT_TIMEZONE


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


AS_OF = ts("2026-10-31 22:00")
OCTOBER = metrics.Period(ts("2026-10-01"), ts("2026-11-01"))


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2"],
            schema.NAME: ["一网格", "二网格"],
            schema.COMMUNITY: ["c1", "c2"],
            schema.STREET: ["s", "s"],
            schema.LEADER: ["王芳", None],
            schema.WORKER: ["李伟", "张敏"],
            schema.WORKER_PHONE: ["13812341234", None],
            schema.HOUSEHOLDS: [400, None],
            schema.POPULATION: [2000, 0],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=4326,
    )


def tickets() -> pd.DataFrame:
    """Seven tickets with known answers (comments: what each one counts as)."""
    rows = [
        # id, created, stage, deadline, closed, grid, category, source
        # t1 overdue, new today; t2 open, new today; t3 closed on time; t4 closed late
        ("t1", "2026-10-31 09:00", "handling", "2026-10-31 12:00", None, "g1", "市容环境", "resident"),
        ("t2", "2026-10-31 20:00", "dispatched", "2026-11-02 20:00", None, "g1", "噪音扰民", "hotline"),
        ("t3", "2026-10-30 08:00", "closed", "2026-10-30 18:00", "2026-10-30 17:00", "g1", "市容环境", "grid_worker"),
        ("t4", "2026-10-30 09:00", "closed", "2026-10-30 12:00", "2026-10-30 13:00", "g2", "市容环境", "resident"),
        ("t5", "2026-10-30 10:00", "cancelled", "2026-10-30 12:00", None, "g2", "市容环境", "resident"),  # not counted
        ("t6", "2026-09-20 10:00", "feedback", "2026-09-25 10:00", None, "g2", "噪音扰民", "resident"),  # overdue, old
        ("t7", "2026-10-31 10:00", "handling", "2026-10-31 11:00", None, None, "市容环境", "resident"),  # outside
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            schema.TICKET_ID,
            schema.CREATED_AT,
            schema.STAGE,
            schema.DEADLINE_AT,
            schema.CLOSED_AT,
            schema.GRID_ID,
            schema.CATEGORY,
            schema.SOURCE,
        ],
    )
    for column in (schema.CREATED_AT, schema.DEADLINE_AT, schema.CLOSED_AT):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize(TZ)
    frame[schema.COMMUNITY] = frame[schema.GRID_ID].map({"g1": "c1", "g2": "c2"})
    frame[schema.ASSIGNED] = frame[schema.GRID_ID].notna()
    frame[schema.DESCRIPTION] = "<img src=x onerror=alert(1)> ${alert(1)}"
    frame[schema.SUBCATEGORY] = None
    return frame


def members() -> pd.DataFrame:
    return pd.DataFrame(
        {schema.MEMBER_ID: ["m1", "m2", "m3"], schema.GRID_ID: ["g1", "g1", None], schema.LINKED_HOUSEHOLDS: [5, 7, 3]}
    )


def test_grid_measures_match_a_hand_count():
    out = command.grid_measures(grids(), tickets(), members(), OCTOBER, AS_OF)
    assert out.index.tolist() == ["g1", "g2"]
    assert out["tickets"].tolist() == [3, 1]  # t1 t2 t3 | t4 (t5 cancelled, t6 September)
    assert out["open"].tolist() == [2, 1]
    assert out["overdue"].tolist() == [1, 1]
    assert out["due"].tolist() == [2, 1]  # t1 t3 | t4 (t2 is due in November)
    assert out["on_time"].tolist() == [1, 0]
    assert out["on_time_rate"].tolist() == [0.5, 0.0]
    assert out["per_1000"].iloc[0] == pytest.approx(1.5) and pd.isna(out["per_1000"].iloc[1])  # no residents
    assert out["members"].tolist() == [2, 0]


def test_filter_restricts_every_measure():
    flt = command.TicketFilter(categories=("噪音扰民",))
    out = command.grid_measures(grids(), flt.apply(tickets()), members(), OCTOBER, AS_OF)
    assert out["open"].tolist() == [1, 1] and out["overdue"].tolist() == [0, 1]
    assert command.TicketFilter(communities=("c2",), stages=("feedback",)).apply(tickets())[
        schema.TICKET_ID
    ].tolist() == ["t6"]
    assert command.TicketFilter().apply(tickets()) is not None and len(command.TicketFilter().apply(tickets())) == 7


def test_overdue_list_is_sorted_by_how_late():
    late = command.overdue_list(tickets(), AS_OF)
    assert late[schema.TICKET_ID].tolist() == ["t6", "t7", "t1"]
    assert late["hours_late"].tolist() == pytest.approx([36 * 24 + 12, 11, 10])


def test_counters_use_the_day_and_the_night_of_as_of():
    cameras = pd.DataFrame({schema.STATUS: ["online", "offline", "fault", "online"]})
    teams = pd.DataFrame({schema.TEAM_ID: ["A", "B", "C"], schema.NAME: ["甲", "乙", "丙"]})
    checkins = pd.DataFrame(
        {
            schema.TEAM_ID: ["A", "A", "B", "C", "Z"],
            schema.CHECKED_AT: [
                ts("2026-10-31 19:00"),
                ts("2026-10-31 21:00"),
                ts("2026-10-31 11:59"),
                ts("2026-10-30 23:00"),
                ts("2026-10-31 20:00"),
            ],
        }
    )
    c = command.counters(tickets(), cameras, teams, checkins, AS_OF)
    assert (c.new_today, c.new_yesterday) == (3, 2)  # t1 t2 t7 | t3 t4 (t5 cancelled)
    assert c.new_change == 1
    assert (c.open, c.overdue) == (4, 3)
    assert (c.cameras_down, c.cameras_total) == (2, 4)
    assert (c.teams_signed_in, c.teams_total) == (1, 3)  # B signed before noon; Z is no team


def test_patrol_night_runs_noon_to_noon():
    assert command.night_of(ts("2026-11-01 00:40")).start == ts("2026-10-31 12:00")
    assert command.night_of(ts("2026-10-31 12:00")).start == ts("2026-10-31 12:00")
    assert command.today(ts("2026-11-01 00:40")).start == ts("2026-11-01")


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        ("0571-87654321", "057*****4321"),
        ("12345", "***45"),
        ("n/a", "****"),
        (None, ""),
        (float("nan"), ""),
        ("", ""),
    ],
)
def test_phone_masking(raw, shown):
    assert command.mask_phone(raw) == shown


def test_grid_card_has_the_right_figures():
    frame_tickets = tickets()
    cameras = pd.DataFrame({schema.GRID_ID: ["g1", "g1", "g2"], schema.STATUS: ["online", "fault", "online"]})
    teams = pd.DataFrame({schema.TEAM_ID: ["A"], schema.NAME: ["一队"]})
    checkins = pd.DataFrame(
        {
            schema.TEAM_ID: ["A", "A", "A"],
            schema.GRID_ID: ["g1", "g1", "g2"],
            schema.CHECKED_AT: [ts("2026-10-29 20:00"), ts("2026-10-30 21:00"), ts("2026-10-31 20:00")],
        }
    )
    card = command.grid_card("g1", grids(), frame_tickets, cameras, checkins, teams, members(), AS_OF)
    assert (card.name, card.community, card.leader, card.worker) == ("一网格", "c1", "王芳", "李伟")
    assert card.worker_phone == "138****1234"
    assert (card.households, card.population) == (400, 2000)
    assert card.open_tickets[schema.TICKET_ID].tolist() == ["t2", "t1"]  # newest first
    assert card.open_tickets["overdue"].tolist() == [False, True] and card.overdue == 1
    assert (card.cameras_online, card.cameras_total) == (1, 2)
    assert card.last_checkin_at == ts("2026-10-30 21:00") and card.last_checkin_team == "一队"
    assert (card.members, card.linked_households) == (2, 12)
    other = command.grid_card("g2", grids(), frame_tickets, cameras, checkins, teams, members(), AS_OF)
    assert (other.leader, other.worker_phone, other.households) == ("", "", None)
    with pytest.raises(KeyError):
        command.grid_card("nope", grids(), frame_tickets, cameras, checkins, teams, members(), AS_OF)


def test_grid_card_of_a_demo_grid_with_no_open_ticket_lists_none():
    from core import joins
    from geodata import load_demo

    layers = load_demo()
    grids_ = layers["grids"]
    tickets_ = joins.join_to_grids(layers["tickets"], grids_)
    as_of = metrics.data_as_of(tickets_)
    open_ = metrics.open_mask(tickets_)
    has_tickets = set(tickets_.loc[tickets_[schema.GRID_ID].notna(), schema.GRID_ID])
    with_open = set(tickets_.loc[open_ & tickets_[schema.GRID_ID].notna(), schema.GRID_ID])
    grid_id = sorted(has_tickets - with_open)[0]
    empty = pd.DataFrame({schema.GRID_ID: pd.Series(dtype=str)})
    card = command.grid_card(
        grid_id,
        grids_,
        tickets_,
        empty.assign(**{schema.STATUS: pd.Series(dtype=str)}),
        empty.assign(
            **{schema.TEAM_ID: pd.Series(dtype=str), schema.CHECKED_AT: pd.Series(dtype="datetime64[ns, UTC]")}
        ),
        pd.DataFrame({schema.TEAM_ID: [], schema.NAME: []}),
        empty.assign(**{schema.LINKED_HOUSEHOLDS: pd.Series(dtype=int)}),
        as_of,
    )
    assert len(card.open_tickets) == 0 and card.overdue == 0
