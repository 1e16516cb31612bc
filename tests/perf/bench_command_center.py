"""Command center in headless Chromium: time from navigation to map drawn, bytes sent, filter reruns.

    python tests/perf/bench_command_center.py                     # demo + city (builds the city once)
    python tests/perf/bench_command_center.py --skip-city
    python tests/perf/bench_command_center.py --city-home /tmp/city-home   # reuse a built city

For each workspace the dashboard is served by ``gridwatch serve`` on its own data directory and driven
in Debian's Chromium with every request leaving 127.0.0.1 blocked. Measured:

* **drawn** — navigation to the live layers drawn (``data-gw-updates`` set by ``gw.update``): the first
  load (cold server caches), then warm loads in a new tab, and in-app navigation (sidebar link from
  the Data page, the Streamlit frontend already loaded);
* **bytes** — what st_folium sends for the map (base script + header + live feature group), exactly as
  it builds it, and all WebSocket bytes of a warm page load;
* **filter** — choosing a category until the map has redrawn.

Baselines measured in the same run: the **Overview** page (an indicator map of the same system: grids
and community outlines, one colour per grid) for load time, and the same grids and community outlines
as folium GeoJSON (the way maps were drawn before) for bytes.
Targets (issue 4): demo drawn ≤ 2 s and ≤ 1.5 MB; city ≤ 5 s and ≤ 5 MB; a filter change ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import conftest as _conftest  # noqa: E402

CHROMIUM = str(_conftest.CHROMIUM)  # the browser and flags the browser tests use
CHROMIUM_ARGS = _conftest.CHROMIUM_ARGS
MAP_FRAME = _conftest.MAP_FRAME
REPEATS = 3
FILTER_CATEGORIES = ("噪音扰民", "违章停车", "市容环境")  # present in the demo and the generated city


def serve(home: Path, port: int, *, refresh: int | None = 3600) -> subprocess.Popen:
    """``gridwatch serve`` on ``home`` at ``port`` (its API on port + 1), checking for a new version or
    events every ``refresh`` seconds (None: the default); returns once the dashboard answers."""
    env = {**os.environ, "GRIDWATCH_HOME": str(home), "GRIDWATCH_REFRESH_SECONDS": str(refresh)}
    if refresh is None:
        env.pop("GRIDWATCH_REFRESH_SECONDS")
    env.pop("GRIDWATCH_TILES", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(180):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the dashboard on {home} did not start")


def new_page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="en-US")

    def guard(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")):
            route.continue_()
        else:
            raise SystemExit(f"the page asked for {url}")

    context.route("**/*", guard)
    page = context.new_page()
    page.ws_bytes = 0

    def on_ws(ws):
        ws.on("framereceived", lambda payload: setattr(page, "ws_bytes", page.ws_bytes + len(payload)))

    page.on("websocket", on_ws)
    return page


def wait_drawn(page, previous: int = 0) -> None:
    page.frame_locator(MAP_FRAME).locator("[data-gw-updates]").wait_for(timeout=300_000)
    frame = page.wait_for_selector(MAP_FRAME).content_frame()
    frame.wait_for_function(f"() => window.gw && window.gw.updated > {previous}", timeout=300_000)


def load(browser, url: str, drawn) -> tuple[float, int, list | None]:
    """(seconds to drawn, WebSocket bytes received, [JS ms building the base map, updating it])."""
    page = new_page(browser)
    start = time.perf_counter()
    page.goto(url)
    drawn(page)
    seconds = time.perf_counter() - start
    received = page.ws_bytes
    js = page.wait_for_selector(MAP_FRAME).content_frame().evaluate("window.gw ? [gw.baseMs, gw.updateMs] : null")
    page.context.close()
    return seconds, received, js


def overview_drawn(page) -> None:
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".gw-legend").wait_for(timeout=300_000)


def in_app_navigation(browser, base: str) -> list[float]:
    page = new_page(browser)
    page.goto(f"{base}/data")
    page.get_by_role("link", name="Command center").wait_for(timeout=120_000)
    times = []
    for _ in range(REPEATS):
        page.get_by_role("link", name="Data").click()
        page.get_by_text("Data: boundaries").wait_for(timeout=120_000)
        page.wait_for_timeout(300)
        start = time.perf_counter()
        page.get_by_role("link", name="Command center").click()
        wait_drawn(page)
        times.append(time.perf_counter() - start)
    page.context.close()
    return times


def filter_change(browser, base: str) -> list[float]:
    page = new_page(browser)
    page.goto(f"{base}/command")
    wait_drawn(page)
    frame = page.wait_for_selector(MAP_FRAME).content_frame()
    times = []
    for category in FILTER_CATEGORIES:  # each adds a category: a new filter every time
        before = frame.evaluate("gw.updated")
        page.locator('[data-testid="stMultiSelect"]').first.locator("input").click()  # the category filter
        page.keyboard.type(category)
        page.wait_for_timeout(1000)  # let the list settle on the match
        start = time.perf_counter()
        page.keyboard.press("Enter")
        frame.wait_for_function(f"() => gw.updated > {before}", timeout=120_000)
        times.append(time.perf_counter() - start)
        page.keyboard.press("Escape")
    page.context.close()
    return times


def map_bytes(home: Path) -> tuple[int, int, int]:
    """(command-center map bytes as st_folium sends them, of which the live part, folium GeoJSON of the
    same grids) for the workspace's first name under ``home``."""
    os.environ["GRIDWATCH_HOME"] = str(home)
    import folium
    import streamlit_folium as sf

    from core import command, store
    from dashboard import data
    from dashboard.components import maps
    from dashboard.components.offline import make_offline

    name = store.list_workspaces(home)[0]
    ver = data.version(name)
    as_of = data.as_of(name, ver).date()
    first = as_of.replace(day=1)

    def size(m) -> int:  # script, header and the inlined Leaflet, as UTF-8
        m.get_root().render()
        assets = sum(
            len(url)
            for element in [m, *m._children.values()]
            for _, url in getattr(element, "default_js", []) + getattr(element, "default_css", [])
        )
        return len((sf._get_map_string(m) + sf._get_header(m)).encode()) + assets

    m = data.command_map(name, ver, "en")
    base = len((m.script + m.header).encode()) + sum(len(url) for url in (*m.css_links, *m.js_links))
    payload = data.command_payload(name, ver, 0, 0, first, as_of, command.TicketFilter(), "open", "en", None, None)
    live = len(maps.live_script(payload).encode())
    grids, communities = data.display_boundaries(name, data.boundary_version(name, ver))
    geojson = maps.base_map(tuple(grids.total_bounds))  # the baseline: the same outlines as folium GeoJSON
    folium.GeoJson(grids.to_json(drop_id=True), name="grids").add_to(geojson)
    folium.GeoJson(communities.to_json(drop_id=True), name="communities").add_to(geojson)
    make_offline(geojson)
    return base + live, live, size(geojson)


def bench(browser, label: str, home: Path, port: int, *, targets: tuple[float, float]) -> None:
    proc = serve(home, port)
    base = f"http://127.0.0.1:{port}"
    try:
        cold = load(browser, f"{base}/command", wait_drawn)[0]
        warm = [load(browser, f"{base}/command", wait_drawn) for _ in range(REPEATS)]
        overview = [load(browser, f"{base}/overview", overview_drawn)[0] for _ in range(REPEATS)]
        navigation = in_app_navigation(browser, base)
        filters = filter_change(browser, base)
    finally:
        proc.terminate()
        proc.wait(20)
    total, live, geojson = map_bytes(home)
    warm_s = statistics.median(s for s, _, _ in warm)
    base_ms, update_ms = (statistics.median(js[i] for _, _, js in warm) for i in (0, 1))
    print(f"\n== {label}")
    print(f"map drawn, first load (cold caches)   {cold:6.2f} s")
    print(f"map drawn, page load (warm), median   {warm_s:6.2f} s   (target {targets[0]:g} s)")
    print(
        f"  baseline: Overview page load        {statistics.median(overview):6.2f} s   "
        f"ratio {warm_s / statistics.median(overview):.2f}"
    )
    print(
        f"  of which in the map's JavaScript     {(base_ms + update_ms) / 1000:6.2f} s   "
        f"(base layers {base_ms:.0f} ms, live layers {update_ms:.0f} ms)"
    )
    print(
        f"map drawn, in-app navigation, median  {statistics.median(navigation):6.2f} s   "
        f"(runs {', '.join(f'{s:.2f}' for s in navigation)})"
    )
    print(f"filter change to map redrawn, median  {statistics.median(filters):6.2f} s   (target 0.5 s)")
    print(
        f"map payload (st_folium args)          {total / 1e6:6.2f} MB  (target {targets[1]:g} MB; "
        f"live part {live / 1e6:.2f} MB)"
    )
    print(f"  baseline: same grids as folium GeoJSON {geojson / 1e6:6.2f} MB  ratio {total / geojson:.2f}")
    print(f"WebSocket bytes of a warm page load   {statistics.median(b for _, b, _ in warm) / 1e6:6.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--city-home", type=Path, help="a data directory holding a built city workspace")
    parser.add_argument("--skip-city", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        bench(
            browser,
            "demo district (130 grids, 22,000 tickets, 2,300 cameras)",
            Path(tmp) / "demo",
            8731,
            targets=(2.0, 1.5),
        )
        if not args.skip_city:
            from city import city_home

            home = city_home(args.city_home, Path(tmp))
            bench(browser, "city (20,000 grids, 1,000,000 tickets, 50,000 cameras)", home, 8732, targets=(5.0, 5.0))
        browser.close()


if __name__ == "__main__":
    main()
