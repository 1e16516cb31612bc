"""The intake API served for real (``gridwatch api`` in a subprocess) and called with httpx: what is
stored, what is stored once, and how every bad input is answered."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from intake_cases import intake_workspace

from core import apikeys
from core import events as ev
from core.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]
AT = "2026-03-01T08:30:00+08:00"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, home: Path, key: str, revoked: str) -> None:
        self.url, self.home, self.key, self.revoked = url, home, key, revoked

    def store(self) -> Store:
        return open_store("intake", self.home, create=False)

    def count(self, kind: str) -> int:
        return len(self.store().events(kinds=[kind]))


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    home = tmp_path_factory.mktemp("api_home")
    ws = intake_workspace(home)
    key = apikeys.create_key(ws, "app")
    revoked = apikeys.create_key(ws, "old")
    apikeys.revoke_key(ws, "old")
    port = _free_port()
    env = {**os.environ, "GRIDWATCH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    log = open(home / "api.log", "w")  # noqa: SIM115 (open as long as the server runs)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "api", "--port", str(port), "--workspace", "intake"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/open311/v2/services.json", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the API did not start: " + (home / "api.log").read_text())
        time.sleep(0.2)
    yield Server(url, home, key, revoked)
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def client(server: Server):
    with httpx.Client(base_url=server.url, headers={"X-API-Key": server.key}, timeout=30) as c:
        yield c


def ticket(**extra) -> dict:
    return {"service_code": "c01", "lat": "0.5", "long": "0.5", "description": "垃圾满溢", **extra}


def problem(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body["error"]) == {"code", "message", "problems"}
    return body["error"]["problems"][0]


def test_services_list_the_default_codes_from_the_tickets_categories(client):
    services = client.get("/open311/v2/services.json").json()
    assert [(s["service_code"], s["service_name"]) for s in services] == [("c01", "市容环境")]


def test_a_posted_ticket_is_stored_and_a_retry_with_its_key_is_stored_once(server, client):
    before = server.count(ev.TICKET)
    first = client.post("/open311/v2/requests.json", data=ticket(), headers={"Idempotency-Key": "r-1"})
    assert first.status_code == 201
    assert first.json()[0]["service_request_id"] == "app-r-1"
    again = client.post("/open311/v2/requests.json", data=ticket(), headers={"Idempotency-Key": "r-1"})
    assert again.json()[0]["service_request_id"] == "app-r-1"
    assert server.count(ev.TICKET) == before + 1
    shown = client.get("/open311/v2/requests/app-r-1.json").json()[0]
    assert (shown["status"], shown["service_code"], shown["lat"], shown["long"]) == ("open", "c01", 0.5, 0.5)
    assert [h["stage"] for h in shown["stage_history"]] == ["received"]


def test_json_body_and_api_key_parameter_are_accepted_and_listed(server):
    response = httpx.post(
        f"{server.url}/open311/v2/requests.json?api_key={server.key}",
        json=ticket(requested_datetime=AT, description="json"),
        headers={"Idempotency-Key": "j-1"},
    )
    assert response.status_code == 201
    listed = httpx.get(
        f"{server.url}/open311/v2/requests.json",
        params={"service_request_id": "app-j-1,t1", "api_key": server.key},
    ).json()
    assert {r["service_request_id"] for r in listed} == {"app-j-1", "t1"}


def test_bulk_records_sent_twice_are_stored_once(server, client):
    lines = "\n".join(
        json.dumps({"source_id": f"b{i}", "category": "市容环境", "lat": 0.5, "long": 5, "requested_datetime": AT})
        for i in range(50)
    )
    before = server.count(ev.TICKET)
    first = client.post("/api/v1/tickets/bulk", content=lines).json()
    second = client.post("/api/v1/tickets/bulk", content=lines).json()
    assert (first["stored"], first["duplicates"], second["stored"], second["duplicates"]) == (50, 0, 0, 50)
    assert first["ticket_ids"] == second["ticket_ids"] == [f"app-b{i}" for i in range(50)]
    assert server.count(ev.TICKET) == before + 50
    stored = server.store().events(kinds=[ev.TICKET], refs=["app-b0"])
    assert bool(stored["outside"].iloc[0])  # (5, 0.5) lies in no grid: stored, and flagged


def test_one_bad_record_stores_nothing_of_the_request(server, client):
    good = json.dumps({"source_id": "x1", "category": "c", "lat": 0.5, "long": 0.5, "requested_datetime": AT})
    bad = json.dumps({"source_id": "x2", "category": "c", "lat": "north", "long": 0.5, "requested_datetime": AT})
    before = server.count(ev.TICKET)
    response = client.post("/api/v1/tickets/bulk", content=f"{good}\n{bad}\n")
    assert response.status_code == 422
    assert (problem(response)["record"], problem(response)["field"]) == ("line 2 (x2)", "lat")
    assert server.count(ev.TICKET) == before


def test_stages_move_forward_and_are_refused_backwards_or_for_unknown_tickets(server, client):
    forward = client.post("/api/v1/tickets/t1/stages", json={"stage": "dispatched", "at": AT, "by": "王"})
    assert forward.status_code == 201
    backwards = client.post("/api/v1/tickets/t1/stages", json={"stage": "registered", "at": AT})
    assert backwards.status_code == 422
    assert (problem(backwards)["field"], problem(backwards)["code"]) == ("stage", "stage_backwards")
    unknown = client.post("/api/v1/tickets/nope/stages", json={"stage": "dispatched", "at": AT})
    assert unknown.status_code == 404
    assert problem(unknown)["code"] == "ticket_unknown"
    assert len(server.store().events(kinds=[ev.STAGE], refs=["t1"])) == 1


def test_sign_in_and_camera_heartbeat_are_stored(server, client):
    signed = client.post("/api/v1/checkins", json={"team_id": "p1", "lat": 0.5, "long": 0.5, "at": AT})
    assert signed.status_code == 201
    beat = client.post("/api/v1/cameras/cam1/status", json={"status": "offline", "at": AT})
    assert beat.status_code == 201
    cameras = server.store().events(kinds=[ev.CAMERA])
    assert list(cameras["status"]) == ["offline"]
    assert server.count(ev.CHECKIN) == 1
    mark = client.get("/api/v1/events/mark").json()["event_mark"]
    assert mark == server.store().event_mark()


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"lat": ""}, "lat", "missing"),
        ({"long": "east"}, "long", "not_a_coordinate"),
        ({"service_code": "zz"}, "service_code", "service_code_unknown"),
        ({"requested_datetime": "2026-03-01T08:30:00"}, "requested_datetime", "time_without_zone"),
    ],
)
def test_bad_ticket_fields_are_named(client, fields, field, code):
    response = client.post("/open311/v2/requests.json", data=ticket(**fields))
    assert response.status_code == 422
    assert (problem(response)["field"], problem(response)["code"]) == (field, code)


def test_malformed_json_lines_name_the_line(client):
    good = json.dumps({"source_id": "m1", "category": "c", "lat": 0.5, "long": 0.5, "requested_datetime": AT})
    response = client.post("/api/v1/tickets/bulk", content=f"{good}\n{{not json\n")
    assert response.status_code == 400
    assert (problem(response)["record"], problem(response)["code"]) == ("line 2", "json_invalid")


def test_malformed_json_body_is_refused(client):
    response = client.post("/api/v1/checkins", content="{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "json_invalid"


def test_unknown_camera_and_team_and_stage_time_without_zone(client):
    assert problem(client.post("/api/v1/cameras/none/status", json={"status": "online", "at": AT}))["code"] == (
        "camera_unknown"
    )
    team = client.post("/api/v1/checkins", json={"team_id": "zz", "lat": 0.5, "long": 0.5, "at": AT})
    assert (team.status_code, problem(team)["code"]) == (422, "team_unknown")
    naive = client.post("/api/v1/tickets/t1/stages", json={"stage": "handling", "at": "2026-03-01 09:00"})
    assert (problem(naive)["field"], problem(naive)["code"]) == ("at", "time_without_zone")


def test_messages_are_in_chinese_when_asked(client):
    response = client.post("/open311/v2/requests.json", data=ticket(lat="x"), headers={"Accept-Language": "zh-CN"})
    assert "不是" in problem(response)["message"]
    assert "未保存" in response.json()["error"]["message"]


def test_a_body_over_10_mb_is_refused(client):
    response = client.post("/api/v1/tickets/bulk", content=b" " * (10 * 2**20 + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"

    def chunks():  # no Content-Length: refused while streaming
        for _ in range(11):
            yield b" " * 2**20

    streamed = client.post("/api/v1/tickets/bulk", content=chunks())
    assert streamed.status_code == 413


def test_wrong_missing_or_revoked_keys_are_refused(server):
    url = f"{server.url}/open311/v2/requests.json"
    assert httpx.post(url, data=ticket()).json()["error"]["code"] == "key_missing"
    wrong = httpx.post(url, data=ticket(), headers={"X-API-Key": "nope"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "key_invalid")
    revoked = httpx.post(url, data=ticket(), headers={"X-API-Key": server.revoked})
    assert (revoked.status_code, revoked.json()["error"]["code"]) == (403, "key_revoked")


def test_unknown_routes_and_workspaces_answer_json(client):
    assert client.get("/nothing").json()["error"]["code"] == "route_unknown"
    response = client.get("/open311/v2/services.json", params={"workspace": "<script>"})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "workspace_unknown")
    assert response.headers["content-type"].startswith("application/json")
