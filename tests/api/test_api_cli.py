"""``gridwatch apikey`` and ``gridwatch services``: keys shown once and listed without the key, the
service code map listed and replaced from a JSON file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from intake_cases import intake_workspace

from core import apikeys, intake
from dashboard import cli


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_HOME", str(tmp_path))
    intake_workspace(tmp_path)
    return tmp_path


def run(*argv: str) -> int:
    with pytest.raises(SystemExit) as done:
        cli.main(list(argv))
    return done.value.code


def test_apikey_create_list_revoke(home, capsys):
    assert run("apikey", "create", "--workspace", "intake", "--source", "app") == 0
    key = capsys.readouterr().out.strip()
    assert run("apikey", "list", "--workspace", "intake") == 0
    listed = capsys.readouterr().out
    assert "app" in listed and "active" in listed and key not in listed and key[-4:] in listed
    assert run("apikey", "revoke", "--workspace", "intake", "--source", "app") == 0
    assert run("apikey", "revoke", "--workspace", "intake", "--source", "nobody") == 1
    from core.store import open_store

    assert apikeys.source_of(open_store("intake", home, create=False), key) is None


def test_services_list_and_set(home, tmp_path, capsys):
    assert run("services", "list", "--workspace", "intake") == 0
    assert json.loads(capsys.readouterr().out)[0]["service_code"] == "c01"
    mapping = tmp_path / "codes.json"
    mapping.write_text(json.dumps([{"service_code": "lamp", "service_name": "路灯", "category": "市政设施"}]))
    assert run("services", "set", str(mapping), "--workspace", "intake") == 0
    from core.store import open_store

    assert [c["service_code"] for c in intake.service_code_map(open_store("intake", home, create=False))] == ["lamp"]
    mapping.write_text(json.dumps([{"service_code": "x"}]))
    assert run("services", "set", str(mapping), "--workspace", "intake") == 1


def test_the_api_defaults_to_the_only_workspace(home, monkeypatch):
    """Without --workspace or GRIDWATCH_WORKSPACE, a data directory holding one workspace that is not
    the demo is served (a city's own), not answered with `no workspace demo`."""
    import asyncio

    import httpx

    from dashboard.api import create_app

    monkeypatch.delenv("GRIDWATCH_WORKSPACE", raising=False)

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get("/open311/v2/services.json")

    answer = asyncio.run(ask())
    assert answer.status_code == 200 and answer.json()[0]["group"] == "市容环境"
