"""core.workspaces: create (time zone, metric CRS, from the demo), list, delete; the zone reaches the data;
the composite weights and the patrol roster are kept as settings."""

from __future__ import annotations

import io as stdio
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from store_cases import tickets_frame

from core import command, metrics, patrol, schema, store, uploads, workspaces
from core.errors import LayerNotFoundError, StoreError, WorkspaceError
from core.workspaces import Profile

CHICAGO = "America/Chicago"


def grids_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.GRID_ID: ["g1"], schema.NAME: ["一网格"], schema.COMMUNITY: ["c"], schema.STREET: ["s"]},
        geometry=[box(0, 0, 1, 1)],
        crs=schema.STORAGE_CRS,
    )


def test_create_stores_the_profile_and_lists_it(tmp_path: Path):
    workspaces.create_workspace("berlin", Profile("Europe/Berlin", "epsg:25832"), home=tmp_path)
    workspaces.create_workspace("plain", home=tmp_path)
    listed = workspaces.list_workspaces(tmp_path)
    assert [(w.name, w.profile.timezone, w.profile.metric_crs, w.version) for w in listed] == [
        ("berlin", "Europe/Berlin", "EPSG:25832", 0),
        ("plain", "Asia/Shanghai", "auto", 0),
    ]
    assert store.open_store("berlin", tmp_path).layers(0) == ()  # version 0 holds nothing (the app asks)


def test_a_workspace_without_profile_reads_as_shanghai_and_auto(tmp_path: Path):
    store.open_store("old", tmp_path)  # made the way workspaces were made before profiles
    assert workspaces.list_workspaces(tmp_path)[0].profile == Profile("Asia/Shanghai", "auto")


def test_create_refuses_a_taken_name_and_bad_input(tmp_path: Path):
    workspaces.create_workspace("x", home=tmp_path)
    with pytest.raises(WorkspaceError, match="already exists") as taken:
        workspaces.create_workspace("x", Profile(CHICAGO), home=tmp_path)
    assert taken.value.code == "exists"
    with pytest.raises(WorkspaceError, match="letters, digits") as bad:
        workspaces.create_workspace("my city", home=tmp_path)
    assert bad.value.code == "name_invalid"
    with pytest.raises(WorkspaceError, match="not an IANA zone") as zone:
        workspaces.create_workspace("y", Profile("Mars/Olympus"), home=tmp_path)
    assert zone.value.params == {"zone": "Mars/Olympus"}
    with pytest.raises(WorkspaceError, match="does not measure in metres") as degrees:
        workspaces.create_workspace("y", Profile(metric_crs="EPSG:4326"), home=tmp_path)
    assert degrees.value.code == "crs_not_metric"
    with pytest.raises(WorkspaceError, match="not a known EPSG code"):
        workspaces.create_workspace("y", Profile(metric_crs="EPSG:99999"), home=tmp_path)
    assert store.list_workspaces(tmp_path) == ["x"]  # nothing half-made is left behind


def test_create_from_layers_makes_version_one_with_the_seed_settings(tmp_path: Path):
    ws = workspaces.create_workspace(
        "seeded", home=tmp_path, layers={"grids": grids_frame()}, seed_settings={"k": {"v": 1}}, note="seed"
    )
    assert ws.version() == 1 and ws.layers() == ("grids",) and ws.get_setting("k") == {"v": 1}


def test_delete_removes_the_file_and_its_companions(tmp_path: Path):
    ws = workspaces.create_workspace("gone", home=tmp_path, layers={"grids": grids_frame()})
    folder = store.workspaces_dir(tmp_path)
    assert (folder / "gone.lock").exists()
    workspaces.delete_workspace("gone", tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == []
    with pytest.raises(WorkspaceError, match="no workspace `gone`"):
        ws.version()  # a store kept open elsewhere now says so, instead of making an empty file
    assert not (folder / "gone.gpkg").exists()
    with pytest.raises(WorkspaceError, match="no workspace `gone`"):
        workspaces.delete_workspace("gone", tmp_path)


def test_open_without_create_writes_nothing(tmp_path: Path):
    with pytest.raises(WorkspaceError, match="gridwatch workspace create nowhere") as missing:
        store.open_store("nowhere", tmp_path, create=False)
    assert missing.value.code == "not_found"
    assert store.list_workspaces(tmp_path) == []


def test_the_store_reads_times_back_in_the_workspace_zone(tmp_path: Path):
    ws = workspaces.create_workspace(
        "chicago", Profile(CHICAGO), home=tmp_path, layers={"grids": grids_frame(), "tickets": tickets_frame(["t1"])}
    )
    created = ws.read(schema.TICKETS.name)[schema.CREATED_AT]
    assert str(created.dt.tz) == CHICAGO
    assert created.iloc[0] == pd.Timestamp("2026-03-01 08:30", tz=schema.DEFAULT_TIMEZONE)  # same instant
    assert created.iloc[0].strftime("%Y-%m-%d %H:%M") == "2026-02-28 18:30"


def test_today_and_the_patrol_night_follow_the_data_zone():
    late_evening = pd.Timestamp("2026-10-31 22:00", tz=CHICAGO)  # 11:00 on 1 November in Shanghai
    today = command.today(late_evening)
    assert (today.start, today.end) == (pd.Timestamp("2026-10-31", tz=CHICAGO), pd.Timestamp("2026-11-01", tz=CHICAGO))
    after_midnight = pd.Series([pd.Timestamp("2026-11-01 00:40", tz=CHICAGO)])
    assert patrol.night_dates(after_midnight).tolist() == [pd.Timestamp("2026-10-31")]
    night = command.night_of(after_midnight.iloc[0])
    assert night.start == pd.Timestamp("2026-10-31 12:00", tz=CHICAGO)
    nights = patrol.nights_in(command.today(late_evening))
    assert nights.tolist() == [pd.Timestamp("2026-10-31")]
    change = command.today(pd.Timestamp("2026-11-01 10:00", tz=CHICAGO))  # clocks go back at 02:00
    assert change.end - change.start == pd.Timedelta(hours=25)
    night = command.night_of(pd.Timestamp("2026-10-31 20:00", tz=CHICAGO))  # the night the clocks go back
    assert (night.start.hour, night.end.hour, night.end - night.start) == (12, 12, pd.Timedelta(hours=25))


def test_naive_csv_times_are_read_in_the_zone_of_the_target_workspace(tmp_path: Path):
    ws = workspaces.create_workspace("berlin", Profile("Europe/Berlin"), home=tmp_path, layers={"grids": grids_frame()})
    text = stdio.StringIO()
    pd.DataFrame(
        {
            "ticket_id": ["t1"],
            "created_at": ["2026-03-01 08:30"],
            "category": ["市容环境"],
            "source": ["resident"],
            "stage": ["closed"],
            "rework_count": [0],
            "lon": [0.5],
            "lat": [0.5],
        }
    ).to_csv(text, index=False)
    check = uploads.check_upload(ws, schema.TICKETS.name, "tickets.csv", text.getvalue().encode())
    assert not check.errors
    created = check.frame[schema.CREATED_AT]
    assert str(created.dt.tz) == "Europe/Berlin"
    assert created.iloc[0] == pd.Timestamp("2026-03-01 07:30", tz="UTC")


def test_clear_removes_a_layer_as_a_version_and_rollback_brings_it_back(tmp_path: Path):
    ws = workspaces.create_workspace(
        "c", home=tmp_path, layers={"grids": grids_frame(), "tickets": tickets_frame(["t1", "t2"])}
    )
    with pytest.raises(StoreError, match="clear `tickets` first"):
        ws.clear(schema.GRIDS.name, note="", author="me")
    assert ws.clear(schema.TICKETS.name, note="wrong file", author="me") == 2
    assert ws.layers() == ("grids",)
    assert (ws.history()[0].note, ws.history()[0].author, ws.history()[0].changed) == ("wrong file", "me", ("tickets",))
    with pytest.raises(LayerNotFoundError):
        ws.clear(schema.TICKETS.name, note="", author="me")
    ws.rollback(author="me")
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist() == ["t1", "t2"]
    ws.clear(schema.TICKETS.name, note="", author="me")
    assert ws.clear(schema.GRIDS.name, note="", author="me") == 5 and ws.layers() == ()


def test_a_creator_that_loses_the_race_for_a_name_fails_and_leaves_the_winner_whole(tmp_path, monkeypatch):
    """Another process made the workspace after this one looked at the list: the name is checked again
    under the writer lock, so the winner's profile is neither overwritten nor deleted."""
    workspaces.create_workspace("race", Profile("Europe/Berlin"), home=tmp_path)
    monkeypatch.setattr(store, "list_workspaces", lambda home=None: [])  # the list as seen before it
    with pytest.raises(WorkspaceError) as raised:
        workspaces.create_workspace("race", Profile("America/Chicago"), home=tmp_path)
    assert raised.value.code == "exists"
    monkeypatch.undo()
    assert [(w.name, w.profile.timezone) for w in workspaces.list_workspaces(tmp_path)] == [("race", "Europe/Berlin")]


def test_composite_weights_are_the_defaults_until_saved(tmp_path: Path):
    ws = workspaces.create_workspace("weights", home=tmp_path)
    assert workspaces.composite_weights(ws) == metrics.DEFAULT_WEIGHTS
    version = ws.version()
    workspaces.save_composite_weights(ws, {"on_time_rate": 0.7, "overdue": 0.3})
    again = store.open_store("weights", tmp_path, create=False)
    assert workspaces.composite_weights(again) == {"on_time_rate": 0.7, "overdue": 0.3}
    assert again.get_setting(workspaces.WEIGHTS_SETTING) == {"on_time_rate": 0.7, "overdue": 0.3}
    assert again.version() == version  # a setting, not data


def test_the_patrol_roster_is_saved_with_its_author_and_read_back_as_text(tmp_path: Path):
    ws = workspaces.create_workspace("roster", Profile(CHICAGO), home=tmp_path)
    empty = workspaces.patrol_assignments(ws)
    assert empty.empty and empty.columns.tolist() == list(schema.PATROL_ASSIGNMENT_COLUMNS)
    roster = pd.DataFrame({schema.TEAM_ID: ["t1", "t2"], schema.GRID_ID: ["g1", 7]})
    workspaces.save_patrol_assignments(ws, roster, author="wang")
    again = store.open_store("roster", tmp_path, create=False)
    read = workspaces.patrol_assignments(again)
    assert read[list(schema.PATROL_ASSIGNMENT_COLUMNS)].to_numpy().tolist() == [["t1", "g1"], ["t2", "7"]]
    saved = again.get_setting(schema.PATROL_ASSIGNMENTS)
    assert saved["author"] == "wang" and pd.Timestamp(saved["saved_at"]).utcoffset() in (
        pd.Timedelta(hours=-5),
        pd.Timedelta(hours=-6),
    )  # Chicago time
