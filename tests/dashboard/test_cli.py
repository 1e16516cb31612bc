"""``gridwatch import`` (the Data page's checks on the command line, exit status 1 on errors) and
``gridwatch workspace`` (create, list, delete, clear)."""

from __future__ import annotations

import io

import pytest

from core import schema, store
from core.store import open_store
from dashboard.cli import main
from geodata import load_demo


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_HOME", str(tmp_path))
    open_store("demo").initialize({"grids": load_demo()["grids"]}, note="seed")
    return tmp_path


def run(*args: str, command: str = "import") -> int:
    with pytest.raises(SystemExit) as info:
        main([command, *args])
    return info.value.code


def workspace(*args: str) -> int:
    return run(*args, command="workspace")


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


def test_checking_a_file_for_a_missing_workspace_says_how_to_create_it_and_creates_nothing(home, tmp_path, capsys):
    path = tmp_path / "grids.geojson"
    path.write_text(load_demo()["grids"].to_json(drop_id=True), encoding="utf-8")
    assert run("grids", str(path), "--workspace", "berlin") == 1
    err = capsys.readouterr().err
    assert "there is no workspace `berlin`" in err and "gridwatch workspace create berlin" in err
    assert store.list_workspaces(home) == ["demo"]


def test_activate_that_stores_nothing_says_so(home, tmp_path, capsys):
    path = tmp_path / "grids.csv"
    grids = load_demo()["grids"].iloc[:3]
    path.write_text(
        grids.assign(wkt=grids.geometry.to_wkt()).drop(columns="geometry").to_csv(index=False), encoding="utf-8"
    )
    assert run("grids", str(path), "--wkt-column", "wkt", "--activate") == 1
    captured = capsys.readouterr()
    assert "confirm:" in captured.out
    assert "nothing was stored: workspace `demo` stays at version 1" in captured.err
    assert open_store("demo").version() == 1


def test_workspace_create_list_and_delete(home, capsys, monkeypatch):
    assert workspace("create", "berlin", "--timezone", "Europe/Berlin", "--metric-crs", "EPSG:25832") == 0
    assert (
        "created workspace `berlin` (time zone Europe/Berlin, metric CRS EPSG:25832, version 0)"
        in capsys.readouterr().out
    )
    assert workspace("create", "copy", "--from-demo") == 0
    assert "version 1" in capsys.readouterr().out
    assert open_store("copy").layers() == tuple(schema.LAYERS)
    assert open_store("copy").get_setting(schema.PATROL_ASSIGNMENTS)["rows"]
    assert workspace("list") == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        ["berlin", "Europe/Berlin", "EPSG:25832", "version", "0"],
        ["copy", "Asia/Shanghai", "auto", "version", "1"],
        ["demo", "Asia/Shanghai", "auto", "version", "1"],
    ]
    assert workspace("create", "berlin") == 1
    assert "already exists" in capsys.readouterr().err
    assert workspace("create", "x", "--timezone", "Berlin") == 1
    assert "not an IANA zone" in capsys.readouterr().err
    assert workspace("create", "x", "--metric-crs", "EPSG:4326") == 1
    assert "does not measure in metres" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("berlim\n"))
    assert workspace("delete", "berlin") == 1
    assert "nothing was changed" in capsys.readouterr().err
    assert "berlin" in store.list_workspaces(home)
    monkeypatch.setattr("sys.stdin", io.StringIO("berlin\n"))
    assert workspace("delete", "berlin") == 0
    assert workspace("delete", "copy", "--confirm", "copy") == 0
    assert store.list_workspaces(home) == ["demo"]
    assert sorted(p.name for p in (home / "workspaces").iterdir()) == ["demo.gpkg", "demo.lock"]
    assert workspace("delete", "copy", "--confirm", "copy") == 1
    assert "there is no workspace `copy`" in capsys.readouterr().err


def test_workspace_clear_removes_a_layer_as_a_version(home, capsys):
    assert workspace("create", "c", "--from-demo") == 0
    assert workspace("clear", "c", "tickets", "--confirm", "ticket") == 1
    assert workspace("clear", "c", "tickets", "--confirm", "tickets", "--author", "me") == 0
    assert "cleared `tickets` as version 2" in capsys.readouterr().out
    assert schema.TICKETS.name not in open_store("c").layers()
    assert workspace("clear", "c", "grids", "--confirm", "grids") == 1
    assert "clear `cameras`" in capsys.readouterr().err


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


def test_a_311_export_imports_with_values_fixed_fields_and_rows_left_out(home, tmp_path, capsys):
    tickets = load_demo()["tickets"].iloc[:30]
    location = [f"CHICAGO ({y:.6f}, {x:.6f})" for x, y in zip(tickets.geometry.x, tickets.geometry.y)]
    location[0] = ""
    rows = ["ticket_id,category,source,created_at,LOCATION"] + [
        f'C{i},{c},{"Phone Call" if n % 2 else "Internet"},{t:%Y-%m-%d %H:%M},"{loc}"'
        for n, (i, c, t, loc) in enumerate(
            zip(tickets[schema.TICKET_ID], tickets[schema.CATEGORY], tickets[schema.CREATED_AT], location)
        )
    ]
    path = tmp_path / "311.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert run("tickets", str(path), "--crs", "EPSG:4326") == 1
    out = capsys.readouterr().out
    assert "--skip-missing-coordinates" in out and '--value source:"Internet"=resident' in out
    args = (
        "tickets",
        str(path),
        "--crs",
        "EPSG:4326",
        "--skip-missing-coordinates",
        "--set",
        "stage=closed",
        "--value",
        'source:"Phone Call"=hotline',
        "--value",
        "source:Internet=resident",
    )
    assert run(*args, "--activate") == 0
    out = capsys.readouterr().out
    assert "  fixed values: stage=closed" in out and "  left out: 1 row(s) without coordinates" in out
    stored = open_store("demo").read("tickets")
    assert len(stored) == 29 and set(stored[schema.SOURCE]) == {"hotline", "resident"}
    assert set(stored[schema.STAGE]) == {"closed"} and (stored[schema.REWORK_COUNT] == 0).all()


def test_a_malformed_value_option_is_explained(home, tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("ticket_id,lon,lat\nA,120.1,30.2\n", encoding="utf-8")
    assert run("tickets", str(path), "--value", "source=hotline") == 1
    assert "is not FIELD:VALUE=CODE" in capsys.readouterr().err


def test_user_accounts_are_managed_from_the_command_line(home, monkeypatch, capsys):
    from core import accounts, audit
    from core.errors import SignInError
    from dashboard.cli import first_admin

    first_admin()
    printed = capsys.readouterr().out.split("one-time password ")[1].split()[0]
    assert accounts.book().authenticate("admin", printed).must_change
    first_admin()
    assert capsys.readouterr().out == ""  # only on an install without accounts
    monkeypatch.setattr("sys.stdin", io.StringIO("leader password 1\n"))
    assert run("add", "wang.fang", "--role", "leader", "--scope", "community:城东社区", command="user") == 0
    assert accounts.book().get("wang.fang").scope == accounts.Scope("community", "城东社区")
    assert run("disable", "wang.fang", command="user") == 0
    with pytest.raises(SignInError, match="disabled"):
        accounts.book().authenticate("wang.fang", "leader password 1")
    assert run("enable", "wang.fang", command="user") == 0
    assert run("reset-password", "wang.fang", command="user") == 0
    new = capsys.readouterr().out.split("one-time password of `wang.fang`: ")[1].split()[0]
    assert accounts.book().authenticate("wang.fang", new).must_change
    run("list", command="user")
    listed = capsys.readouterr().out
    assert "wang.fang" in listed and "community:城东社区" in listed and "admin" in listed
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert run("add", "li.lei", "--role", "duty", command="user") == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert audit.entries(action="account_changed")["target"].tolist() == ["wang.fang"] * 4


def test_single_sign_on_identities_are_linked_from_the_command_line(home, capsys):
    from core import accounts, audit

    assert run("add", "lin", "--role", "leader", "--sso", "Lin@Example.org", command="user") == 0
    assert "signs in through single sign-on as lin@example.org" in capsys.readouterr().out
    assert not accounts.book().get("lin").must_change  # no one-time password to change
    assert run("link", "lin", "lin.work@example.org", command="user") == 0
    run("list", command="user")
    assert "active    lin.work@example.org lin@example.org" in capsys.readouterr().out
    assert run("unlink", "lin@example.org", command="user") == 0
    assert accounts.book().identities() == {"lin": ["lin.work@example.org"]}
    assert run("link", "nobody", "x@example.org", command="user") == 1
    assert "no account `nobody`" in capsys.readouterr().err
    details = audit.entries(action="account_changed")["detail"].tolist()
    assert details == [
        "sso unlinked: lin@example.org",
        "sso linked: lin.work@example.org",
        "added: leader; district; sso Lin@Example.org",
    ]


def test_single_sign_on_settings_become_streamlits_secrets_file_private_to_the_owner(home, monkeypatch, capsys):
    import stat
    import tomllib

    from dashboard.cli import cookie_secret, sso_secrets

    assert sso_secrets() == []
    monkeypatch.setenv("GRIDWATCH_SSO_METADATA_URL", "http://127.0.0.1:9400/.well-known/openid-configuration")
    monkeypatch.setenv("GRIDWATCH_SSO_CLIENT_ID", "gridwatch")
    with pytest.raises(Exception, match="GRIDWATCH_SSO_CLIENT_SECRET"):
        sso_secrets()
    monkeypatch.setenv("GRIDWATCH_SSO_CLIENT_SECRET", 'se"cret\\')
    args = sso_secrets()
    path = home / "sso_secrets.toml"
    assert args == ["--secrets.files", str(path)]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    auth = tomllib.loads(path.read_text())["auth"]
    assert auth["client_secret"] == 'se"cret\\' and auth["cookie_secret"] == cookie_secret()
    assert auth["redirect_uri"] == "http://127.0.0.1:{port}/oauth2callback"
    monkeypatch.setenv("GRIDWATCH_SSO_METADATA_URL", "")
    assert sso_secrets() == [] and not path.exists()  # switched off: the client secret is gone


def test_the_cookie_secret_is_made_once_per_install_and_private(home):
    import stat

    from dashboard.cli import cookie_secret

    first = cookie_secret()
    assert len(first) >= 40 and cookie_secret() == first
    assert stat.S_IMODE((home / "cookie_secret").stat().st_mode) == 0o600
