"""core.geopackage: versions in one GeoPackage, atomic and serialized writes, canonical types read back."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from store_cases import grids_frame, tickets_frame

from core import schema
from core.errors import LayerNotFoundError, StoreError, ValidationError
from core.geopackage import GeoPackageStore
from core.store import open_store


@pytest.fixture
def ws(tmp_path: Path) -> GeoPackageStore:
    store = open_store("test", tmp_path)
    assert isinstance(store, GeoPackageStore)
    return store


def test_write_round_trips_canonical_types(ws):
    assert ws.write(schema.GRIDS.name, grids_frame(), note="first") == 1
    back = ws.read(schema.GRIDS.name)
    assert back[schema.GRID_ID].tolist() == ["g1", "g2"]
    assert back[schema.NAME].tolist() == ["一网格", "二网格"]
    assert back.geom_type.tolist() == ["Polygon", "MultiPolygon"]
    assert back[schema.HOUSEHOLDS].dtype == "Int64"
    assert back[schema.HOUSEHOLDS].isna().tolist() == [False, True]
    assert str(back.crs) == schema.STORAGE_CRS


def test_datetimes_come_back_in_workspace_timezone(ws):
    ws.write(schema.TICKETS.name, tickets_frame(["t1"]), note="t")
    back = ws.read(schema.TICKETS.name)
    assert str(back[schema.CREATED_AT].dt.tz) == schema.DEFAULT_TIMEZONE
    assert back[schema.CREATED_AT].iloc[0] == pd.Timestamp("2026-03-01 08:30", tz=schema.DEFAULT_TIMEZONE)
    assert back[schema.CLOSED_AT].isna().all()


def test_every_write_bumps_the_version_and_keeps_the_previous(ws):
    ws.write(schema.TICKETS.name, tickets_frame(["t1"]), note="a")
    ws.append(schema.TICKETS.name, tickets_frame(["t2", "t3"]), note="b")
    assert ws.version() == 2
    assert len(ws.read(schema.TICKETS.name)) == 3
    assert len(ws.read(schema.TICKETS.name, version=1)) == 1
    assert [h.note for h in ws.history()] == ["b", "a"]


def test_any_earlier_version_can_be_activated_again(ws):
    for i in range(4):
        ws.write(schema.TICKETS.name, tickets_frame([f"t{i}"]), note=str(i))
    ws.write(schema.GRIDS.name, grids_frame(), note="grids")
    assert ws.activate(2, author="王芳", note="back to the second list") == 6
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist() == ["t1"]
    assert ws.layers() == (schema.TICKETS.name,)  # version 2 had no grids yet
    newest = ws.history()[0]
    assert (newest.author, newest.note) == ("王芳", "back to the second list")
    assert newest.changed == (schema.GRIDS.name, schema.TICKETS.name)
    assert len(ws.history()) == 6


def test_prune_drops_old_versions_and_their_tables(ws):
    for i in range(4):
        ws.write(schema.TICKETS.name, tickets_frame([f"t{i}"]), note=str(i))
    assert ws.prune(keep=2) == 2
    with sqlite3.connect(ws.path) as db:
        tables = sorted(r[0] for r in db.execute("SELECT table_name FROM gpkg_contents") if r[0].startswith("tickets"))
    assert tables == ["tickets__v3", "tickets__v4"]
    with pytest.raises(StoreError, match="has no version 1"):
        ws.read(schema.TICKETS.name, version=1)


def test_settings_are_remembered_without_a_new_version(ws):
    assert ws.get_setting("mapping.grids", {}) == {}
    ws.set_setting("mapping.grids", {"grid_id": "网格编号"})
    ws.set_setting("mapping.grids", {"grid_id": "网格编号", "name": "所属组织"})
    assert open_store("test", ws.path.parent.parent).get_setting("mapping.grids") == {
        "grid_id": "网格编号",
        "name": "所属组织",
    }
    assert ws.version() == 0


def test_missing_layer_names_the_layer_and_names_no_ui_place(ws):
    with pytest.raises(LayerNotFoundError, match="no `cameras` layer; upload it first") as caught:
        ws.read(schema.CAMERAS.name)
    assert (caught.value.code, caught.value.params["layer"]) == ("layer_not_found", "cameras")
    assert "page" not in str(caught.value)


def test_initialize_writes_only_once(ws):
    assert ws.initialize({schema.GRIDS.name: grids_frame()}, note="seed") is True
    assert ws.initialize({schema.GRIDS.name: grids_frame()}, note="seed") is False
    assert ws.version() == 1


def test_crash_before_recording_leaves_previous_version_readable(ws, monkeypatch):
    ws.write(schema.TICKETS.name, tickets_frame(["t1"]), note="a")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(GeoPackageStore, "_record", crash)
    with pytest.raises(KeyboardInterrupt):
        ws.append(schema.TICKETS.name, tickets_frame(["t2"]), note="lost")
    monkeypatch.undo()
    assert ws.version() == 1
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist() == ["t1"]
    # the next writer reuses the table name the crashed one left behind
    assert ws.append(schema.TICKETS.name, tickets_frame(["t3"]), note="b") == 2
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist() == ["t1", "t3"]


def _append_many(args: tuple[str, int, int]) -> None:
    home, writer, batches = args
    ws = open_store("shared", Path(home))
    for b in range(batches):
        ws.append(
            schema.TICKETS.name,
            tickets_frame([f"w{writer}-b{b}-{i}" for i in range(3)]),
            note=f"writer {writer} batch {b}",
        )


def test_concurrent_writers_lose_no_rows(tmp_path):
    writers, batches = 4, 5
    open_store("shared", tmp_path)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(writers) as pool:
        pool.map(_append_many, [(str(tmp_path), w, batches) for w in range(writers)])
    ws = open_store("shared", tmp_path)
    ids = ws.read(schema.TICKETS.name)[schema.TICKET_ID]
    assert len(ids) == writers * batches * 3
    assert ids.is_unique
    assert ws.version() == writers * batches


def _tables(ws: GeoPackageStore) -> list[str]:
    db = sqlite3.connect(ws.path)
    try:
        return sorted(r[0] for r in db.execute("SELECT table_name FROM gpkg_contents WHERE table_name LIKE '%__v%'"))
    finally:
        db.close()


def test_an_append_adds_its_rows_in_place_and_earlier_versions_keep_theirs(ws):
    ws.write(schema.TICKETS.name, tickets_frame([f"t{i}" for i in range(200)]), note="import")
    before = ws.path.stat().st_size
    assert ws.append(schema.TICKETS.name, tickets_frame(["n1"]), note="one new") == 2
    assert ws.append(schema.TICKETS.name, tickets_frame(["n2", "n3"]), note="two new") == 3
    assert _tables(ws) == ["tickets__v1"]  # no copy of the layer
    assert ws.path.stat().st_size - before < 64 * 1024
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist()[-3:] == ["n1", "n2", "n3"]
    assert len(ws.read(schema.TICKETS.name, version=1)) == 200
    assert ws.read(schema.TICKETS.name, version=2)[schema.TICKET_ID].tolist()[-1] == "n1"
    assert [v.changed for v in ws.history()][:2] == [(schema.TICKETS.name,), (schema.TICKETS.name,)]


def test_an_appended_id_already_stored_is_refused_naming_it(ws):
    ws.write(schema.TICKETS.name, tickets_frame(["t1", "t2"]), note="a")
    ws.append(schema.TICKETS.name, tickets_frame(["t3"]), note="b")
    with pytest.raises(ValidationError, match=r"not unique \('t3'\)"):
        ws.append(schema.TICKETS.name, tickets_frame(["t4", "t3"]), note="again")
    assert ws.version() == 2
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist() == ["t1", "t2", "t3"]


def test_an_append_after_reactivating_an_older_version_leaves_the_newer_one_whole(ws):
    ws.write(schema.TICKETS.name, tickets_frame(["t1"]), note="a")
    ws.append(schema.TICKETS.name, tickets_frame(["t2"]), note="b")  # version 2 sees t1, t2
    ws.activate(1)  # version 3 sees t1 again
    assert ws.append(schema.TICKETS.name, tickets_frame(["t9"]), note="c") == 4
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist() == ["t1", "t9"]
    assert ws.read(schema.TICKETS.name, version=2)[schema.TICKET_ID].tolist() == ["t1", "t2"]
    assert ws.read(schema.TICKETS.name, version=3)[schema.TICKET_ID].tolist() == ["t1"]


def test_a_workspace_from_before_in_place_appends_keeps_every_version(tmp_path):
    old = open_store("old", tmp_path)
    old.write(schema.TICKETS.name, tickets_frame(["t1", "t2"]), note="a")
    old.write(schema.GRIDS.name, grids_frame(), note="b")  # version 2 shares version 1's tickets table
    db = sqlite3.connect(old.path, isolation_level=None)  # as a workspace written by an earlier GridWatch
    db.execute("ALTER TABLE gw_versions DROP COLUMN rows")
    db.close()
    ws = open_store("old", tmp_path)
    ws.append(schema.TICKETS.name, tickets_frame(["t3"]), note="c")
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist() == ["t1", "t2", "t3"]
    assert ws.read(schema.TICKETS.name, version=2)[schema.TICKET_ID].tolist() == ["t1", "t2"]
    assert ws.read(schema.TICKETS.name, version=1)[schema.TICKET_ID].tolist() == ["t1", "t2"]
