"""The live command center in headless Chromium: a posted ticket on the open map, and the first load
after 1,000 new tickets.

    python tests/perf/bench_live_map.py                          # demo, then the city (built, ~3 min)
    python tests/perf/bench_live_map.py --city-home /tmp/city    # reuse a built city (tests/perf/city.py)
    python tests/perf/bench_live_map.py --skip-city

Each workspace is served by ``gridwatch serve`` (dashboard, and the intake API on port + 1) with the
dashboard checking for new events at the default interval (``GRIDWATCH_REFRESH_SECONDS``, 2 s), and
driven in Debian's Chromium with every request leaving 127.0.0.1 blocked. Measured:

* **POST → visible** — one Open311 ``POST /open311/v2/requests.json`` until its marker is in the open
  command center's map, repeated: median and max (target ≤ 5 s, demo and city);
* **load after 1,000 new tickets** — 1,000 tickets through the bulk endpoint with no page open, then a
  new page of the command center until the map is drawn (target ≤ 6 s on the city).

Baseline in the same run: the same 1,000 tickets the way they were written before events, as a new
version of the tickets layer (``Store.append``), then the same page load — every join and derived
table recomputed (issue 16: 38 s on the city). A warm load before any event is printed for reference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: conftest's helpers

from bench_command_center import CHROMIUM, CHROMIUM_ARGS, MAP_FRAME, load, new_page, serve, wait_drawn
from bench_live import new_tickets
from conftest import intake_client

from core import metrics, schema
from core.store import list_workspaces, open_store

POSTS = 5
BULK = 1_000
RUN = uuid.uuid4().hex[:8]  # record ids of this run: a reused city home has the last run's
HAS_TICKET = "id => window.gw && gw.points.tickets.d.tips.some(t => t.includes(`<b>${id}</b>`))"


def post_to_visible(browser, url: str, api: httpx.Client, places: list, at: pd.Timestamp) -> list[float]:
    """Seconds from each Open311 POST to its marker on the page opened before the first."""
    page = new_page(browser)
    page.goto(url)
    wait_drawn(page)
    frame = page.wait_for_selector(MAP_FRAME).content_frame()
    code = api.get("/open311/v2/services.json").json()[0]["service_code"]
    seconds = []
    for i, (lon, lat) in enumerate(places):
        start = time.perf_counter()
        r = api.post(
            "/open311/v2/requests.json",
            data={"service_code": code, "lat": lat, "long": lon, "requested_datetime": at.isoformat()},
            headers={"Idempotency-Key": f"bench-visible-{RUN}-{i}"},
        )
        assert r.status_code == 201, r.text
        frame.wait_for_function(HAS_TICKET, arg=r.json()[0]["service_request_id"], timeout=60_000)
        seconds.append(time.perf_counter() - start)
    page.context.close()
    return seconds


def bulk_post(api: httpx.Client, places: list, at: pd.Timestamp, category: str) -> None:
    body = "\n".join(
        json.dumps(
            {"source_id": f"bench-bulk-{RUN}-{i}", "category": category, "lat": lat, "long": lon,
             "requested_datetime": at.isoformat()}
        )
        for i, (lon, lat) in enumerate(places)
    )  # fmt: skip
    r = api.post("/api/v1/tickets/bulk", content=body)
    assert r.status_code in (200, 201), r.text


def bench(browser, label: str, home: Path, port: int) -> None:
    proc = serve(home, port, refresh=None)
    url = f"http://127.0.0.1:{port}/command"
    try:
        load(browser, url, wait_drawn)  # seeds the demo; the server's caches for this data state
        store = open_store(list_workspaces(home)[0], home, create=False)
        tickets = store.read(schema.TICKETS.name)
        at = metrics.data_as_of(tickets) + pd.Timedelta(minutes=1)
        points = store.read(schema.GRIDS.name).geometry.representative_point()
        places = [(p.x, p.y) for p in points.sample(BULK, replace=True, random_state=1)]
        warm = load(browser, url, wait_drawn)[0]
        with intake_client(port, store) as api:
            visible = post_to_visible(browser, url, api, places[:POSTS], at)
            bulk_post(api, places, at, str(tickets[schema.CATEGORY].iloc[0]))
        after_events = load(browser, url, wait_drawn)[0]
        rows = new_tickets(tickets.head(10_000), 0, BULK)
        rows[schema.CREATED_AT] = at
        store.append(schema.TICKETS.name, rows, note="1,000 tickets as a layer version")
        after_version = load(browser, url, wait_drawn)[0]
    finally:
        proc.terminate()
        proc.wait(20)
    print(f"\n== {label}")
    print(f"page load before any event (warm)         {warm:6.2f} s   (reference)")
    print(
        f"POST → visible on the open map, median     {statistics.median(visible):6.2f} s   "
        f"(max {max(visible):.2f} s of {len(visible)}; target 5 s)"
    )
    print(f"load after {BULK:,} new tickets (events)     {after_events:6.2f} s   (target 6 s on the city)")
    print(
        f"  baseline: after a new tickets version   {after_version:6.2f} s   ratio {after_events / after_version:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--city-home", type=Path, help="a data directory holding a built city workspace")
    parser.add_argument("--skip-city", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        bench(browser, "demo district", Path(tmp) / "demo", 8741)
        if not args.skip_city:
            from city import city_home

            bench(browser, "city (20,000 grids, 1,000,000 tickets)", city_home(args.city_home, Path(tmp)), 8743)
        browser.close()


if __name__ == "__main__":
    main()
