"""Every store backend keeps the same promises: the GeoPackage store and PostGIS run the same cases
(round trips with canonical dtypes, appends in place, history and rollback, clear, prune, the event log,
lookup, concurrent writers, a writer killed mid-write) and ``core.migrate`` copies one into the other."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
from backends import backend_fixture, database_url, fresh_name, open_backend
from store_cases import grids_frame, tickets_frame

from core import events as ev
from core import schema
from core.errors import StoreError, ValidationError, WorkspaceError
from core.store import Store

ws = backend_fixture()
AT = pd.Timestamp("2026-03-02 09:00", tz="UTC")
TICKETS, GRIDS = schema.TICKETS.name, schema.GRIDS.name


def ids(store: Store, version: int | None = None) -> list[str]:
    return store.read(TICKETS, version)[schema.TICKET_ID].tolist()


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


def test_layers_round_trip_with_canonical_dtypes(ws, tmp_path):
    ws.write_layers({GRIDS: grids_frame(), TICKETS: tickets_frame(["t1", "t2"])}, note="seed")
    grids = ws.read(GRIDS)
    assert grids[schema.NAME].tolist() == ["一网格", "二网格"]
    assert grids.geom_type.tolist() == ["Polygon", "MultiPolygon"]
    assert grids[schema.HOUSEHOLDS].dtype == "Int64" and grids[schema.HOUSEHOLDS].isna().tolist() == [False, True]
    tickets = ws.read(TICKETS)
    assert str(tickets[schema.CREATED_AT].dt.tz) == schema.DEFAULT_TIMEZONE
    assert tickets[schema.CREATED_AT].iloc[0] == pd.Timestamp("2026-03-01 08:30", tz=schema.DEFAULT_TIMEZONE)
    assert tickets[schema.CLOSED_AT].isna().all() and str(tickets.crs) == schema.STORAGE_CRS
    reference = open_backend("gpkg", tmp_path, fresh_name("ref"))  # every backend reads what the embedded one reads
    reference.write_layers({GRIDS: grids_frame(), TICKETS: tickets_frame(["t1", "t2"])}, note="seed")
    for layer in (GRIDS, TICKETS):
        pd.testing.assert_frame_equal(ws.read(layer), reference.read(layer))


def test_appends_keep_ids_unique_and_earlier_versions_whole(ws):
    ws.write(TICKETS, tickets_frame(["t1"]), note="a")
    assert ws.append(TICKETS, tickets_frame(["t2", "t3"]), note="b") == 2
    assert ws.append(TICKETS, tickets_frame(["t4"]), note="c") == 3
    with pytest.raises(ValidationError, match="not unique"):
        ws.append(TICKETS, tickets_frame(["t5", "t2"]), note="clash")
    assert ws.version() == 3
    assert ids(ws) == ["t1", "t2", "t3", "t4"]
    assert ids(ws, 1) == ["t1"] and ids(ws, 2) == ["t1", "t2", "t3"]
    assert ws.history()[0].tables[TICKETS] == ws.history()[2].tables[TICKETS]  # appended in place


def test_history_activate_and_rollback(ws):
    for i in range(3):
        ws.write(TICKETS, tickets_frame([f"t{i}"]), note=str(i))
    ws.write(GRIDS, grids_frame(), note="grids")
    assert [h.note for h in ws.history()] == ["grids", "2", "1", "0"]
    assert ws.activate(2, author="王芳", note="back") == 5
    assert ids(ws) == ["t1"] and ws.layers() == (TICKETS,)
    newest = ws.history()[0]
    assert (newest.author, newest.note, newest.changed) == ("王芳", "back", (GRIDS, TICKETS))
    assert ws.rollback() == 6
    assert ws.layers() == (GRIDS, TICKETS) and ids(ws) == ["t2"]
    with pytest.raises(StoreError, match="has no version 99"):
        ws.read(TICKETS, 99)


def test_an_append_after_reactivating_an_older_version_copies_the_table(ws):
    ws.write(TICKETS, tickets_frame(["t1"]), note="a")
    ws.append(TICKETS, tickets_frame(["t2"]), note="b")
    ws.activate(1)
    assert ws.append(TICKETS, tickets_frame(["t3"]), note="c") == 4
    assert ids(ws) == ["t1", "t3"] and ids(ws, 2) == ["t1", "t2"]


def test_clear_and_prune(ws):
    ws.write_layers({GRIDS: grids_frame(), TICKETS: tickets_frame(["t1"])}, note="seed")
    with pytest.raises(StoreError, match="clear `tickets` first"):
        ws.clear(GRIDS, note="")
    assert ws.clear(TICKETS, note="gone") == 2 and ws.layers() == (GRIDS,)
    ws.rollback()
    assert ids(ws) == ["t1"]
    for i in range(3):
        ws.write(TICKETS, tickets_frame([f"n{i}"]), note=str(i))
    assert ws.prune(keep=2) == 4
    assert [h.version for h in ws.history()] == [6, 5]
    assert ids(ws) == ["n2"] and ids(ws, 5) == ["n1"]
    with pytest.raises(StoreError, match="has no version 4"):
        ws.read(TICKETS, 4)


def test_events_are_appended_once_with_marks_and_refs(ws):
    assert ws.event_mark() == 0
    first = ws.append_events(pd.DataFrame([new_ticket("1"), new_ticket("2"), new_ticket("1")]))
    assert (first.seqs, first.duplicate, first.mark) == ([1, 2, 1], [False, False, True], 2)
    stage = {"kind": ev.STAGE, "source": "hotline", "source_id": "s1", "at": AT, "ref": "hotline-1"}
    again = ws.append_events(pd.DataFrame([new_ticket("2"), {**stage, "stage": "dispatched", "by": "李"}]))
    assert (again.seqs, again.refs, again.duplicate, again.mark) == (
        [2, 3],
        ["hotline-2", "hotline-1"],
        [True, False],
        3,
    )
    assert ws.event_mark() == 3
    stored = ws.events()
    assert stored["seq"].tolist() == [1, 2, 3] and stored["by"].tolist()[2] == "李"
    assert str(stored["received_at"].dt.tz) == "UTC" and stored["at"].iloc[0] == AT
    assert ws.events(after=1, upto=2)["seq"].tolist() == [2]
    assert ws.events(refs=["hotline-1"])["kind"].tolist() == [ev.TICKET, ev.STAGE]
    assert ws.events(kinds=[ev.STAGE])["seq"].tolist() == [3] and ws.events(refs=[]).empty


def test_lookup_finds_rows_by_id_as_of_a_version(ws):
    ws.write(TICKETS, tickets_frame(["t1", "t2"]), note="a")
    ws.append(TICKETS, tickets_frame(["t3"]), note="b")
    assert ws.lookup(TICKETS, ["t3", "t1", "nope"])[schema.TICKET_ID].tolist() == ["t1", "t3"]
    assert ws.lookup(TICKETS, ["t3"], version=1).empty
    assert ws.lookup(GRIDS, ["g1"]).empty


def test_distinct_reads_a_column_s_values_as_of_a_version(ws):
    ws.write(TICKETS, tickets_frame(["t1", "t2"]).assign(**{schema.CATEGORY: ["噪音扰民", "市容环境"]}), note="a")
    ws.append(TICKETS, tickets_frame(["t3"]).assign(**{schema.CATEGORY: ["违章停车"]}), note="b")
    assert ws.distinct(TICKETS, schema.CATEGORY) == ["噪音扰民", "市容环境", "违章停车"]
    assert ws.distinct(TICKETS, schema.CATEGORY, version=1) == ["噪音扰民", "市容环境"]
    assert ws.distinct(GRIDS, schema.CATEGORY) == [] and ws.distinct(TICKETS, "no_such_column") == []


def test_settings_and_timezone(ws):
    assert ws.get_setting("mapping.grids", {}) == {} and ws.timezone() == schema.DEFAULT_TIMEZONE
    ws.set_setting("profile", {"timezone": "Europe/Berlin", "metric_crs": "EPSG:25832"})
    ws.write(TICKETS, tickets_frame(["t1"]), note="a")
    assert ws.version() == 1 and ws.timezone() == "Europe/Berlin"
    assert str(ws.read(TICKETS)[schema.CREATED_AT].dt.tz) == "Europe/Berlin"


def _open(kind: str, home: str, name: str) -> Store:
    if kind == "gpkg":
        from core.geopackage import GeoPackageStore

        return GeoPackageStore(Path(home) / f"{name}.gpkg")
    from core.postgis import PostgisStore

    return PostgisStore(database_url(), name, create=False)


def _append_many(args: tuple[str, str, str, int]) -> None:
    kind, home, name, writer = args
    store = _open(kind, home, name)
    for batch in range(10):
        store.append(TICKETS, tickets_frame([f"w{writer}-{batch}-{i}" for i in range(5)]), note=f"{writer}/{batch}")


def test_concurrent_writers_lose_no_rows(ws, tmp_path):
    kind = "gpkg" if hasattr(ws, "path") else "postgis"
    ws.write(TICKETS, tickets_frame(["seed"]), note="seed")
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        pool.map(_append_many, [(kind, str(tmp_path), ws.name, w) for w in range(8)])
    stored = ws.read(TICKETS)[schema.TICKET_ID]
    assert len(stored) == 1 + 8 * 50 and stored.is_unique
    assert ws.version() == 1 + 8 * 10


def _killed_writer(kind: str, home: str, name: str, marker: str) -> None:
    store = _open(kind, home, name)
    big = tickets_frame([f"big{i}" for i in range(100_000)])
    if kind == "gpkg":
        import core.geopackage as target

        original = target._write_table

        def signalling(*args, **kwargs):
            Path(marker).touch()
            return original(*args, **kwargs)

        target._write_table = signalling  # type: ignore[assignment]
    else:
        from core.postgis import PostgisStore

        original_copy = PostgisStore._copy_rows

        def copying(self, *args, **kwargs):
            Path(marker).touch()
            return original_copy(self, *args, **kwargs)

        PostgisStore._copy_rows = copying  # type: ignore[method-assign]
    store.append(TICKETS, big, note="never recorded")


def test_a_writer_killed_mid_write_leaves_the_store_whole(ws, tmp_path):
    kind = "gpkg" if hasattr(ws, "path") else "postgis"
    ws.write(TICKETS, tickets_frame(["t1", "t2"]), note="a")
    marker = tmp_path / "writing"
    child = multiprocessing.get_context("spawn").Process(
        target=_killed_writer, args=(kind, str(tmp_path), ws.name, str(marker))
    )
    child.start()
    deadline = time.monotonic() + 120
    while not marker.exists() and child.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists(), "the writer never started writing"
    time.sleep(0.2)
    assert child.is_alive(), "the writer finished before it could be killed; give it more rows"
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert ws.version() == 1 and ids(ws) == ["t1", "t2"]
    assert ws.append(TICKETS, tickets_frame(["t3"]), note="after the crash") == 2
    assert ids(ws) == ["t1", "t2", "t3"] and ids(ws, 1) == ["t1", "t2"]


def test_migrate_copies_history_settings_and_events(tmp_path, monkeypatch):
    from core import migrate
    from core.geopackage import GeoPackageStore
    from core.store import open_store

    url = database_url()
    monkeypatch.delenv("GRIDWATCH_DB", raising=False)
    name = fresh_name("mig")
    source = open_store(name, tmp_path)
    assert isinstance(source, GeoPackageStore)
    source.set_setting("profile", {"timezone": "Europe/Berlin", "metric_crs": "EPSG:25832"})
    source.write_layers({GRIDS: grids_frame(), TICKETS: tickets_frame(["t1"])}, note="seed", author="王芳")
    source.append(TICKETS, tickets_frame(["t2", "t3"]), note="more", author="李")
    source.activate(1, note="back")
    source.append_events(pd.DataFrame([new_ticket("1"), new_ticket("2")]))
    try:
        [result] = migrate.migrate_workspaces(url, [name], tmp_path)
        assert (result.versions, result.events) == (3, 2)
        monkeypatch.setenv("GRIDWATCH_DB", url)
        target = open_store(name, tmp_path, create=False)
        assert [(h.version, h.author, h.note, h.changed) for h in target.history()] == [
            (h.version, h.author, h.note, h.changed) for h in source.history()
        ]
        assert [h.created_at for h in target.history()] == [h.created_at for h in source.history()]
        assert target.timezone() == "Europe/Berlin"
        for version in (1, 2, 3):
            for layer in (GRIDS, TICKETS):
                pd.testing.assert_frame_equal(target.read(layer, version), source.read(layer, version))
        pd.testing.assert_frame_equal(target.events(), source.events())
        assert target.rollback() == 4 and ids(target) == ["t1", "t2", "t3"]
        assert target.append(TICKETS, tickets_frame(["t4"]), note="new") == 5
        assert ids(target) == ["t1", "t2", "t3", "t4"] and ids(target, 1) == ["t1"]
        assert target.append_events(pd.DataFrame([new_ticket("3"), new_ticket("1")])).seqs == [3, 1]
        with pytest.raises(WorkspaceError, match="already holds data"):
            migrate.migrate_workspaces(url, [name], tmp_path)
    finally:
        from core.postgis import PostgisStore

        PostgisStore(url, name).drop()


def test_gridwatch_migrate_copies_a_workspace_and_refuses_a_second_time(tmp_path, monkeypatch, capsys):
    from core.postgis import PostgisStore
    from core.store import open_store
    from dashboard.cli import main

    url = database_url()
    monkeypatch.delenv("GRIDWATCH_DB", raising=False)
    monkeypatch.setenv("GRIDWATCH_HOME", str(tmp_path))
    name = fresh_name("cli")
    open_store(name).write(TICKETS, tickets_frame(["t1"]), note="a")
    try:
        for expected in (0, 1):
            with pytest.raises(SystemExit) as info:
                main(["migrate", "--to", url, "--workspace", name])
            assert info.value.code == expected
        out, err = capsys.readouterr()
        assert f"{name}" in out and "1 versions" in out and "already holds data" in err
        assert "gridwatch:gridwatch" not in out + err  # the password is never printed
        assert ids(PostgisStore(url, name, create=False)) == ["t1"]
    finally:
        PostgisStore(url, name).drop()


def test_postgis_announces_each_events_batch_with_its_mark():
    import psycopg

    from core.postgis import CHANNEL, PostgisStore

    url = database_url()
    store = PostgisStore(url, fresh_name("notify"), new=True)
    try:
        with psycopg.connect(url, autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANNEL}")
            store.append_events(pd.DataFrame([new_ticket("1"), new_ticket("2")]))
            store.append_events(pd.DataFrame([new_ticket("1")]))  # nothing new: nothing announced
            heard = [n.payload for n in listener.notifies(timeout=2, stop_after=2)]
        assert heard == [f"{store.name}:2"]
    finally:
        store.drop()
