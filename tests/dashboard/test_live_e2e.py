"""The command center is live: a ticket, a camera status and a sign-in that arrive as events show on the
open page within seconds, without a reload and without losing the map's view."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from test_command_e2e import open_command

from core import events, metrics, schema, store
from geodata import load_demo

LIVE_STATE = """() => ({updates: gw.updated, tips: gw.points.tickets.d.tips, fresh: gw.points.tickets.d.fresh,
    cameraStatus: gw.points.cameras.d.status, checkins: gw.points.checkins.latlngs.length})"""


@pytest.fixture(scope="module")
def demo():
    layers = load_demo()
    return layers, metrics.data_as_of(layers[schema.TICKETS.name])


def test_events_show_on_the_open_command_center(page, app_url, demo, artifacts, metric_values):
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
    at = as_of + pd.Timedelta(minutes=1)
    rows = [
        {"kind": events.TICKET, "source": "hotline", "source_id": "L1", "ref": "hotline-L1", "at": at,
         "category": "市容环境", "channel": "hotline", "description": "<b>井盖</b> 13812345678",
         "lon": centre.x, "lat": centre.y},
        {"kind": events.CAMERA, "source": "vms", "ref": camera[schema.CAMERA_ID], "status": "offline", "at": at},
        {"kind": events.CHECKIN, "source": "app", "source_id": "K1", "ref": "app-K1", "team_id": team, "at": at,
         "lon": centre.x, "lat": centre.y},
    ]  # fmt: skip
    store.open_store("demo", app_url.home).append_events(pd.DataFrame(rows))
    posted = time.monotonic()

    frame.wait_for_function(f"() => window.gw.updated > {before['updates']}", timeout=30_000)
    page.wait_for_function(
        f"() => document.body.innerText.includes('{int(shown['Open tickets'].replace(',', '')) + 1:,}')",
        timeout=30_000,
    )
    visible_after = time.monotonic() - posted
    after = frame.evaluate(LIVE_STATE)
    assert page.evaluate("window.__sameDocument") is True, "the page was not reloaded"
    assert frame.evaluate("() => [map.getZoom(), map.getCenter().lat, map.getCenter().lng]") == pytest.approx(view)

    tip = next(i for i, t in enumerate(after["tips"]) if "hotline-L1" in t)
    assert after["fresh"][tip] == 1 and sum(after["fresh"]) == 1, "the new ticket, and only it, is marked new"
    assert "&lt;b&gt;井盖&lt;/b&gt;" in after["tips"][tip] and "13812345678" not in after["tips"][tip]
    position = list(cameras[schema.CAMERA_ID]).index(camera[schema.CAMERA_ID])
    offline = schema.CAMERA_STATUSES.index("offline")
    assert (before["cameraStatus"][position], after["cameraStatus"][position]) == (0, offline)

    now = metric_values(page)
    down, total = (int(v.replace(",", "")) for v in shown["Cameras offline or faulty"].split(" / "))
    assert now["Cameras offline or faulty"] == f"{down + 1:,} / {total:,}"
    assert after["checkins"] == before["checkins"] + 1, "tonight's sign-ins on the map"
    assert visible_after <= 5 + 2, f"visible {visible_after:.1f} s after the write"
    page.screenshot(path=artifacts / "command_live.png")
