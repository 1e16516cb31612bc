"""core.intake: API input read into events, or one IntakeError naming record, field and fix; and
core.apikeys: hashed keys per source."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from intake_cases import intake_workspace

from core import apikeys, intake
from core import events as ev
from core.errors import GridWatchError, IntakeError
from core.store import Store

AT = "2026-03-01T08:30:00+08:00"


@pytest.fixture
def ws(tmp_path: Path) -> Store:
    return intake_workspace(tmp_path)


def problems(excinfo) -> list[tuple[str, str, str]]:
    return [(p.record, p.field, p.code) for p in excinfo.value.problems]


def line(**fields) -> str:
    record = {"source_id": "s1", "category": "市容环境", "lat": 0.5, "long": 0.5, "requested_datetime": AT}
    return json.dumps({**record, **fields})


def test_an_open311_post_is_a_ticket_event_in_the_mapped_category(ws):
    fields = {"service_code": "c01", "lat": "0.5", "long": "0.25", "description": "d", "attribute[floor]": "3"}
    batch = intake.open311_events(ws, fields, source="app", source_id="k1")
    row = batch.frame.iloc[0]
    assert batch.refs == ("app-k1",)
    assert (row["kind"], row["category"], row["lon"], row["lat"], bool(row["outside"])) == (
        ev.TICKET,
        "市容环境",
        0.25,
        0.5,
        False,
    )
    assert row["note"] == "floor=3"
    assert list(batch.frame.columns) == list(ev.COLUMNS)


def test_a_ticket_without_an_id_gets_a_generated_one(ws):
    batch = intake.open311_events(ws, {"service_code": "c01", "lat": 0.5, "long": 0.5}, source="app", source_id=None)
    assert batch.refs[0].startswith("app-") and len(batch.refs[0]) == len("app-") + 12


def test_every_problem_of_a_post_is_listed(ws):
    fields = {"service_code": "zz", "lat": "north", "requested_datetime": "2026-03-01T08:30:00"}
    with pytest.raises(IntakeError) as excinfo:
        intake.open311_events(ws, fields, source="app", source_id=None)
    assert problems(excinfo) == [
        ("#1", "service_code", "service_code_unknown"),
        ("#1", "long", "missing"),
        ("#1", "lat", "not_a_coordinate"),
        ("#1", "requested_datetime", "time_without_zone"),
    ]


def test_a_point_in_no_grid_is_kept_and_flagged(ws):
    batch = intake.bulk_events(ws, line(long=9), source="app")
    assert bool(batch.frame["outside"].iloc[0])


def test_bulk_lines_name_the_line_and_source_id(ws):
    body = "\n".join([line(), "{oops", line(source_id="s3", requested_datetime="yesterday"), line(source_id=None)])
    with pytest.raises(IntakeError) as excinfo:
        intake.bulk_events(ws, body, source="app")
    assert problems(excinfo) == [
        ("line 2", "", "json_invalid"),
        ("line 3 (s3)", "requested_datetime", "time_invalid"),
        ("line 4", "source_id", "missing"),
    ]


def test_bulk_times_are_utc_and_deadline_optional(ws):
    batch = intake.bulk_events(ws, line(deadline="2026-03-02T08:30:00Z"), source="app")
    assert batch.frame["at"].iloc[0] == pd.Timestamp("2026-03-01 00:30", tz="UTC")
    assert batch.frame["deadline_at"].iloc[0] == pd.Timestamp("2026-03-02 08:30", tz="UTC")
    assert batch.refs == ("app-s1",)


def test_too_many_bulk_records_are_refused(ws):
    with pytest.raises(IntakeError) as excinfo:
        intake.bulk_events(ws, "\n".join([line()] * (intake.MAX_BULK_RECORDS + 1)), source="app")
    assert problems(excinfo) == [("", "", "too_many_records")]


def test_stages_follow_the_current_stage_folded_from_layer_and_events(ws):
    ws.append_events(intake.stage_events(ws, "t1", {"stage": "dispatched", "at": AT}, source="app").frame)
    with pytest.raises(IntakeError) as excinfo:
        intake.stage_events(ws, "t1", {"stage": "registered", "at": AT}, source="app")
    assert problems(excinfo) == [("#1", "stage", "stage_backwards")]
    ok = intake.stage_events(ws, "t1", [{"stage": "handling", "at": AT}, {"stage": "feedback", "at": AT}], source="a")
    assert list(ok.frame["stage"]) == ["handling", "feedback"]


def test_a_closed_ticket_takes_no_stage_and_an_unknown_one_is_named(ws):
    with pytest.raises(IntakeError) as closed:
        intake.stage_events(ws, "t2", {"stage": "handling", "at": AT}, source="app")
    assert problems(closed) == [("#1", "stage", "stage_after_final")]
    with pytest.raises(IntakeError) as unknown:
        intake.stage_events(ws, "nope", {"stage": "handling", "at": AT}, source="app")
    assert problems(unknown) == [("#1", "ticket_id", "ticket_unknown")]


def test_a_ticket_posted_through_the_api_takes_stages(ws):
    batch = intake.open311_events(ws, {"service_code": "c01", "lat": 0.5, "long": 0.5}, source="app", source_id="n1")
    ws.append_events(batch.frame)
    staged = intake.stage_events(ws, "app-n1", {"stage": "registered", "at": AT, "rework": False}, source="app")
    assert staged.refs == ("app-n1",)


def test_sign_ins_need_a_known_team_and_cameras_a_known_id_and_status(ws):
    signed = intake.checkin_events(ws, {"team_id": "p1", "lat": 0.5, "long": 0.5, "at": AT}, source="app")
    assert signed.frame["team_id"].iloc[0] == "p1" and signed.refs[0].startswith("app-")
    with pytest.raises(IntakeError) as team:
        intake.checkin_events(ws, {"team_id": "p9", "lat": 0.5, "at": AT}, source="app")
    assert problems(team) == [("#1", "team_id", "team_unknown"), ("#1", "long", "missing")]
    beat = intake.camera_events(ws, "cam1", {"status": "fault", "at": AT}, source="app")
    assert beat.frame["status"].iloc[0] == "fault"
    with pytest.raises(IntakeError) as status:
        intake.camera_events(ws, "cam1", {"status": "broken", "at": AT}, source="app")
    assert problems(status) == [("#1", "status", "not_a_code")]
    with pytest.raises(IntakeError) as camera:
        intake.camera_events(ws, "cam9", {"status": "online", "at": AT}, source="app")
    assert problems(camera) == [("#1", "camera_id", "camera_unknown")]


def test_service_codes_default_to_the_categories_and_can_be_set(ws):
    assert [c["service_code"] for c in intake.service_code_map(ws)] == ["c01"]
    intake.set_service_codes(ws, [{"service_code": "lamp", "service_name": "路灯", "category": "市政设施"}])
    batch = intake.open311_events(ws, {"service_code": "lamp", "lat": 0.5, "long": 0.5}, source="a", source_id=None)
    assert batch.frame["category"].iloc[0] == "市政设施"
    with pytest.raises(GridWatchError):
        intake.check_service_codes([{"service_code": "x"}])


def test_times_must_carry_a_zone():
    assert intake.parse_time("2026-03-01T08:30:00Z") == pd.Timestamp("2026-03-01 08:30", tz="UTC")
    with pytest.raises(ValueError, match="no_zone"):
        intake.parse_time("2026-03-01T08:30:00")


def test_keys_are_stored_hashed_shown_once_and_revocable(ws):
    key = apikeys.create_key(ws, "app")
    assert key not in json.dumps(ws.get_setting(apikeys.SETTING))
    assert apikeys.source_of(ws, key) == "app"
    assert apikeys.source_of(ws, key + "x") is None
    (info,) = apikeys.list_keys(ws)
    assert (info.source, info.revoked, info.last4) == ("app", False, key[-4:])
    apikeys.revoke_key(ws, "app")
    assert apikeys.source_of(ws, key) is None
    assert apikeys.key_state(ws, key) == ("app", True)
    with pytest.raises(GridWatchError):
        apikeys.create_key(ws, "bad name")
