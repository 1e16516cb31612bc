"""The command center is live: a ticket, a camera status and a sign-in posted to the intake API (served
by the same ``gridwatch serve``, on port + 1) show on the open page within seconds, without a reload and
without losing the map's view."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from test_command_e2e import open_command

from core import metrics, schema, store
from geodata import load_demo

LIVE_STATE = """() => ({updates: gw.updated, tips: gw.points.tickets.d.tips, fresh: gw.points.tickets.d.fresh,
    cameraStatus: gw.points.cameras.d.status, checkins: gw.points.checkins.latlngs.length})"""


@pytest.fixture(scope="module")
def demo():
    layers = load_demo()
    return layers, metrics.data_as_of(layers[schema.TICKETS.name])


def test_events_show_on_the_open_command_center(page, app_url, demo, artifacts, metric_values, intake):
    layers, as_of = demo
    frame = open_command(page, f"{app_url}/command")
    page.evaluate("window.__sameDocument = true")
    frame.evaluate("() => { const c = gw.groups.grids.getBounds().getCenter(); map.setView(c, 15, {animate: false}); }")
    view = frame.evaluate("() => [map.getZoom(), map.getCenter().lat, map.getCenter().lng]")
    before = frame.evaluate(LIVE_STATE)
    shown = metric_values(page)
    cameras = layers[schema.CAMERAS.name]
    camera = cameras[cameras[schema.STATUS] == "online"].iloc[0]
    team = layers[schema.PATROL_TEAMS.name][schema.TEAM_ID].iloc[0]
    centre = layers[schema.GRIDS.name].geometry.iloc[0].representative_point()
    at = (as_of + pd.Timedelta(minutes=1)).isoformat()
    with intake(int(app_url.rsplit(":", 1)[1]), store.open_store("demo", app_url.home)) as api:
        hotline = next(
            c["service_code"] for c in api.get("/open311/v2/services.json").json() if c["group"] == "市容环境"
        )
        posted = time.monotonic()
        ticket = api.post(
            "/open311/v2/requests.json",
            data={"service_code": hotline, "lat": centre.y, "long": centre.x, "requested_datetime": at,
                  "description": "<b>井盖</b> 13812345678"},
            headers={"Idempotency-Key": "L1"},
        )  # fmt: skip
        assert ticket.status_code == 201, ticket.text
        ticket_id = ticket.json()[0]["service_request_id"]
        beat = api.post(f"/api/v1/cameras/{camera[schema.CAMERA_ID]}/status", json={"status": "offline", "at": at})
        signed = api.post("/api/v1/checkins", json={"team_id": team, "lat": centre.y, "long": centre.x, "at": at})
    assert (beat.status_code, signed.status_code) == (201, 201), beat.text + signed.text

    frame.wait_for_function(f"() => window.gw.updated > {before['updates']}", timeout=30_000)
    page.wait_for_function(
        f"() => document.body.innerText.includes('{int(shown['Open tickets'].replace(',', '')) + 1:,}')",
        timeout=30_000,
    )
    visible_after = time.monotonic() - posted
    after = frame.evaluate(LIVE_STATE)
    assert page.evaluate("window.__sameDocument") is True, "the page was not reloaded"
    assert frame.evaluate("() => [map.getZoom(), map.getCenter().lat, map.getCenter().lng]") == pytest.approx(view)

    tip = next(i for i, t in enumerate(after["tips"]) if ticket_id in t)
    assert after["fresh"][tip] == 1 and sum(after["fresh"]) == 1, "the new ticket, and only it, is marked new"
    assert "&lt;b&gt;井盖&lt;/b&gt;" in after["tips"][tip] and "13812345678" not in after["tips"][tip]
    position = list(cameras[schema.CAMERA_ID]).index(camera[schema.CAMERA_ID])
    offline = schema.CAMERA_STATUSES.index("offline")
    assert (before["cameraStatus"][position], after["cameraStatus"][position]) == (0, offline)

    now = metric_values(page)
    down, total = (int(v.replace(",", "")) for v in shown["Cameras offline or faulty"].split(" / "))
    assert now["Cameras offline or faulty"] == f"{down + 1:,} / {total:,}"
    assert after["checkins"] == before["checkins"] + 1, "tonight's sign-ins on the map"
    assert visible_after <= 5 + 2, f"visible {visible_after:.1f} s after the POST"
    page.screenshot(path=artifacts / "command_live.png")
