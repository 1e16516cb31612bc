"""core.store: opening workspaces by name, and what every backend shares (rollback, layer history,
validation before any change)."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_cases import grids_frame, tickets_frame

from core import schema
from core.errors import ConfigError, StoreError, ValidationError, WorkspaceError
from core.store import Store, list_workspaces, open_store


@pytest.fixture
def ws(tmp_path: Path) -> Store:
    return open_store("test", tmp_path)


def test_new_workspace_is_empty_at_version_zero(ws, tmp_path):
    assert ws.version() == 0
    assert ws.layers() == () and ws.layers(0) == ()  # the version the pages ask about before any upload
    assert list_workspaces(tmp_path) == ["test"]


def test_rollback_restores_previous_layers_as_a_new_version(ws):
    ws.write(schema.TICKETS.name, tickets_frame(["t1"]), note="a")
    ws.append(schema.TICKETS.name, tickets_frame(["t2"]), note="b")
    assert ws.rollback() == 3
    assert ws.read(schema.TICKETS.name)[schema.TICKET_ID].tolist() == ["t1"]
    assert ws.history()[0].changed == (schema.TICKETS.name,)


def test_rollback_without_history_is_refused(ws):
    ws.write(schema.GRIDS.name, grids_frame(), note="a")
    with pytest.raises(StoreError, match="no earlier version"):
        ws.rollback()


def test_layer_history_lists_each_change_of_a_layer(ws):
    ws.write(schema.GRIDS.name, grids_frame(), note="first grids")
    ws.write(schema.TICKETS.name, tickets_frame(["t1"]), note="tickets")
    ws.write(schema.GRIDS.name, grids_frame(), note="second grids")
    ws.rollback()
    assert [v.version for v in ws.layer_history(schema.GRIDS.name)] == [1, 3, 4]


def test_invalid_layer_changes_nothing(ws):
    ws.write(schema.TICKETS.name, tickets_frame(["t1"]), note="a")
    bad = tickets_frame(["t1", "t1"])
    bad.loc[1, schema.SOURCE] = "pigeon"
    with pytest.raises(ValidationError) as info:
        ws.write_layers({schema.GRIDS.name: grids_frame(), schema.TICKETS.name: bad}, note="bad")
    text = str(info.value)
    assert "not unique" in text and "pigeon" in text and "t1 (#2)" in text
    assert ws.version() == 1
    assert ws.layers() == (schema.TICKETS.name,)


def test_duplicate_ids_across_an_append_are_rejected(ws):
    ws.write(schema.TICKETS.name, tickets_frame(["t1"]), note="a")
    with pytest.raises(ValidationError, match="not unique"):
        ws.append(schema.TICKETS.name, tickets_frame(["t1"]), note="again")
    assert ws.version() == 1


def test_bad_workspace_names_and_backends_are_refused(tmp_path, monkeypatch):
    with pytest.raises(WorkspaceError, match="letters, digits"):
        open_store("../etc", tmp_path)
    monkeypatch.setenv("GRIDWATCH_DB", "mysql://localhost/gridwatch")
    with pytest.raises(ConfigError, match="must be a postgresql:// URL"):
        open_store("x", tmp_path)


def test_an_unreachable_database_is_a_config_error_without_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_DB", "postgresql://gw:s3cret-pw@127.0.0.1:1/gridwatch")
    with pytest.raises(ConfigError, match=r"cannot reach the database at 127\.0\.0\.1:1:") as info:
        open_store("x", tmp_path)
    assert info.value.code == "database_unreachable" and info.value.params["port"] == "1"
    assert "s3cret-pw" not in str(info.value) and "check GRIDWATCH_DB" in str(info.value)
