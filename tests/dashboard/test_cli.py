"""``gridwatch import``: the Data page's checks on the command line, exit status 1 on errors."""

from __future__ import annotations

import pytest

from core import schema
from core.store import open_store
from dashboard.cli import main
from geodata import load_demo


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_HOME", str(tmp_path))
    open_store("demo").initialize({"grids": load_demo()["grids"]}, note="seed")
    return tmp_path


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(["import", *args])
    return info.value.code


def test_clean_file_passes_and_activates_only_when_asked(home, tmp_path, capsys):
    path = tmp_path / "grids.geojson"
    grids = load_demo()["grids"].copy()
    grids.loc[0, schema.NAME] = "新名字"
    path.write_text(grids.to_json(drop_id=True), encoding="utf-8")
    assert run("grids", str(path)) == 0
    out = capsys.readouterr().out
    assert "grids: 130 features" in out and "0 error(s)" in out and "1 changed" in out
    assert open_store("demo").version() == 1
    assert run("grids", str(path), "--activate", "--note", "rename", "--author", "cli-test") == 0
    assert "activated as version 2" in capsys.readouterr().out
    assert open_store("demo").history()[0].author == "cli-test"


def test_errors_exit_1_and_change_nothing(home, realdata, capsys):
    folder = realdata / "hangzhou"
    code = run("grids", str(folder / "xiacheng_grids_wangge.geojson"), "--activate")
    out = capsys.readouterr().out
    assert code == 1
    assert "invalid geometry" in out and "error(s)" in out
    assert open_store("demo").version() == 1


def test_unreadable_file_exits_1_with_a_message(home, tmp_path, capsys):
    path = tmp_path / "boundaries.shp"
    path.write_bytes(b"\x00\x00\x27\x0a" + b"\x00" * 96)
    assert run("grids", str(path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and ".zip" in err


def test_missing_file_exits_2(home, capsys):
    assert run("grids", "/no/such/file.geojson") == 2
    assert "cannot read" in capsys.readouterr().err


def test_an_emptying_file_needs_confirm_shrink_and_a_bad_map_gets_a_message(home, tmp_path, capsys):
    path = tmp_path / "few.geojson"
    path.write_text(load_demo()["grids"].iloc[:10].to_json(drop_id=True), encoding="utf-8")
    assert run("grids", str(path), "--activate") == 1
    out = capsys.readouterr().out
    assert "would remove 120 (92%)" in out and "pass --confirm-shrink" in out
    assert open_store("demo").version() == 1
    assert run("grids", str(path), "--activate", "--confirm-shrink") == 0
    assert open_store("demo").version() == 2
    assert run("grids", str(path), "--map", "grid_id=编号") == 1
    assert "has no column `编号` (mapped to `grid_id`)" in capsys.readouterr().err
