"""core.events and the store's event log: appended rows, stored once per source id, folded into the
current state of tickets, cameras and sign-ins."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from store_cases import grids_frame, tickets_frame

from core import events as ev
from core import schema
from core.store import Store, open_store

AT = pd.Timestamp("2026-03-02 09:00", tz="UTC")


@pytest.fixture
def ws(tmp_path: Path) -> Store:
    store = open_store("events", tmp_path)
    store.write_layers({"grids": grids_frame(), "tickets": tickets_frame(["t1", "t2"])}, note="seed")
    return store


def new_ticket(source_id: str, **extra) -> dict:
    return {
        "kind": ev.TICKET,
        "source": "hotline",
        "source_id": source_id,
        "at": AT,
        "ref": f"hotline-{source_id}",
        "category": "市容环境",
        "channel": "hotline",
        "lon": 0.5,
        "lat": 0.5,
        **extra,
    }


def stage(ref: str, name: str, minutes: int, **extra) -> dict:
    return {
        "kind": ev.STAGE,
        "source": "hotline",
        "at": AT + pd.Timedelta(minutes=minutes),
        "ref": ref,
        "stage": name,
        **extra,
    }


def test_events_are_appended_without_a_new_version_and_numbered_in_order(ws):
    version = ws.version()
    receipt = ws.append_events(pd.DataFrame([new_ticket("1"), new_ticket("2")]))
    assert (receipt.seqs, receipt.stored, receipt.mark) == ([1, 2], 2, 2)
    assert ws.version() == version and ws.event_mark() == 2
    later = ws.append_events(pd.DataFrame([stage("hotline-1", "dispatched", 5)]))
    assert later.seqs == [3]
    assert list(ws.events(after=2)["seq"]) == [3]
    assert list(ws.events(kinds=[ev.TICKET])["ref"]) == ["hotline-1", "hotline-2"]
    assert list(ws.events(refs=["hotline-1"])["seq"]) == [1, 3]


def test_a_record_sent_twice_is_stored_once_and_answers_with_the_stored_row(ws):
    ws.append_events(pd.DataFrame([new_ticket("1")]))
    again = ws.append_events(pd.DataFrame([new_ticket("1"), new_ticket("3"), new_ticket("3")]))
    assert again.duplicate == [True, False, True]
    assert again.seqs == [1, 2, 2] and again.refs == ["hotline-1", "hotline-3", "hotline-3"]
    assert len(ws.events()) == 2


def test_records_and_frames_give_the_same_plain_rows():
    """What the API hands the store (records, converted without pandas) and what a file import hands
    it (a frame) are the same rows: every column, UTC times, None for missing, False for no flag."""
    records = [
        new_ticket("a", at="2026-03-02T17:00:00+08:00", description="井盖"),
        stage("hotline-a", "closed", 5, rework=True),
        {"kind": ev.CAMERA, "source": "vms", "ref": "c1", "status": "offline", "at": AT},
    ]
    rows = ev.event_rows(records)
    assert rows == ev.event_rows(pd.DataFrame(records))
    assert [list(r) for r in rows] == [list(ev.COLUMNS)] * 3
    assert rows[0]["at"] == AT and str(rows[0]["at"].tz) == "UTC"
    assert (rows[0]["stage"], rows[0]["rework"], rows[1]["rework"], rows[2]["lon"]) == (None, False, True, None)


def test_times_come_back_in_utc_and_kinds_in_their_dtypes(ws):
    ws.append_events(pd.DataFrame([new_ticket("1", deadline_at=AT + pd.Timedelta(days=3))]))
    row = ws.events().iloc[0]
    assert row["at"] == AT and row["deadline_at"] == AT + pd.Timedelta(days=3)
    assert row["lon"] == 0.5 and not row["outside"]
    assert row["received_at"] >= AT


def test_folding_gives_a_tickets_current_state_from_its_stages(ws):
    ws.append_events(
        pd.DataFrame(
            [
                new_ticket("1"),
                stage("hotline-1", "dispatched", 10, by="王"),
                stage("hotline-1", "handling", 20),
                stage("hotline-1", "feedback", 30),
                stage("hotline-1", "handling", 40, rework=True),
                stage("hotline-1", "closed", 90, satisfaction="satisfied", handled_by="城管"),
                stage("t1", "cancelled", 5),
            ]
        )
    )
    tz = ws.timezone()
    folded = ev.fold_tickets(ws.read("tickets"), ws.events(), tz)
    assert len(folded) == 3
    one = folded.set_index(schema.TICKET_ID).loc["hotline-1"]
    assert one[schema.STAGE] == "closed"
    assert one[schema.DISPATCHED_AT] == AT + pd.Timedelta(minutes=10)
    assert one[schema.CLOSED_AT] == AT + pd.Timedelta(minutes=90)
    assert one[schema.REWORK_COUNT] == 1
    assert (one[schema.SATISFACTION], one[schema.HANDLED_BY]) == ("satisfied", "城管")
    assert str(one[schema.CREATED_AT].tz) == tz
    assert folded.set_index(schema.TICKET_ID).loc["t1", schema.STAGE] == "cancelled"
    history = ev.ticket_history(ws.events(), "hotline-1")
    assert list(history["stage"]) == ["received", "dispatched", "handling", "feedback", "handling", "closed"]
    assert list(history["rework"]) == [False, False, False, False, True, False]


def test_folding_in_steps_gives_what_folding_everything_gives(ws):
    rows = [new_ticket(str(i)) for i in range(5)] + [stage(f"hotline-{i}", "dispatched", i) for i in range(5)]
    rows += [stage("hotline-2", "handling", 30), new_ticket("9"), stage("hotline-9", "closed", 50)]
    ws.append_events(pd.DataFrame(rows))
    tz, base, log = ws.timezone(), ws.read("tickets"), ws.events()
    whole = ev.fold_tickets(base, log, tz)
    stepped = base
    for start in range(0, len(log), 4):
        stepped = ev.fold_tickets(stepped, log.iloc[start : start + 4], tz)
    pd.testing.assert_frame_equal(stepped.reset_index(drop=True), whole.reset_index(drop=True))
    assert len(base) == 2  # folding never changes what it was given


def test_a_file_ticket_with_the_same_id_wins_over_an_event(ws):
    ws.append_events(pd.DataFrame([new_ticket("1", ref="t1", category="other")]))
    folded = ev.fold_tickets(ws.read("tickets"), ws.events(), ws.timezone())
    assert len(folded) == 2 and set(folded[schema.CATEGORY]) == {"市容环境"}


@pytest.mark.parametrize(
    ("current", "new", "rework", "problem"),
    [
        ("received", "dispatched", False, None),
        ("handling", "handling", False, None),
        ("handling", "cancelled", False, None),
        ("handling", "dispatched", False, "stage_backwards"),
        ("feedback", "handling", True, None),
        ("received", "handling", True, "rework_not_allowed"),
        ("closed", "handling", True, "stage_after_final"),
        ("closed", "closed", False, "stage_after_final"),
        ("received", "done", False, "stage_unknown"),
    ],
)
def test_stages_only_move_forward_unless_sent_back_for_rework(current, new, rework, problem):
    assert ev.stage_problem(current, new, rework=rework) == problem


def test_camera_status_is_the_latest_report_and_sign_ins_are_appended():
    cameras = pd.DataFrame({schema.CAMERA_ID: ["c1", "c2"], schema.STATUS: ["online", "online"]})
    beats = ev.event_frame(
        [
            {"seq": 2, "kind": ev.CAMERA, "ref": "c1", "status": "offline", "at": AT},
            {"seq": 3, "kind": ev.CAMERA, "ref": "c1", "status": "online", "at": AT - pd.Timedelta(minutes=1)},
        ]
    )
    assert list(ev.fold_cameras(cameras, beats)[schema.STATUS]) == ["offline", "online"]
    import geopandas as gpd

    checkins = gpd.GeoDataFrame(
        {schema.CHECKIN_ID: ["k1"], schema.TEAM_ID: ["T1"], schema.CHECKED_AT: [AT]},
        geometry=gpd.points_from_xy([0.5], [0.5]),
        crs=schema.STORAGE_CRS,
    )
    signs = ev.event_frame(
        [{"seq": 4, "kind": ev.CHECKIN, "ref": "k2", "team_id": "T1", "at": AT, "lon": 0.6, "lat": 0.4}]
    )
    folded = ev.fold_checkins(checkins, signs, "UTC")
    assert list(folded[schema.CHECKIN_ID]) == ["k1", "k2"] and folded.geometry.iloc[1].x == 0.6


def test_lookup_finds_stored_rows_by_id(ws):
    found = ws.lookup("tickets", ["t2", "missing"])
    assert list(found[schema.TICKET_ID]) == ["t2"]


def test_a_workspace_from_before_the_event_log_gets_one(ws):
    import sqlite3

    with sqlite3.connect(ws.path) as db:
        db.execute("DROP TABLE gw_events")
    reopened = open_store("events", Path(ws.path).parent.parent)
    assert reopened.event_mark() == 0
    assert reopened.append_events(pd.DataFrame([new_ticket("1")])).stored == 1
