"""A city that starts in seconds: the first load of the command center, Hotspots and Coverage after a
server restart, with the derived data kept beside the workspace (``core.derived``) and without it.

    python tests/perf/bench_restart.py                          # builds the city once (tests/perf/city.py)
    python tests/perf/bench_restart.py --city-home /tmp/city-home

Each round starts ``gridwatch serve`` on the city's data directory and opens, in a new Chromium tab
signed in as a district-wide account with every role, the command center (until its live layers are
drawn), then Hotspots and Coverage (until their maps are coloured), each the first page of its kind
after the start. Rounds, in one run:

* **baseline** — the derived entries removed before the start: every page computes them, as every
  start did before (the issue measured 38 s, 31 s and 25 s);
* **restart** — the server stopped and started again: the entries written by the baseline's run are
  loaded. Run twice; the better of the two is reported (the machine is noisy).

Targets (issue 18): command center ≤ 8 s, Hotspots and Coverage ≤ 10 s after a restart.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_command_center import CHROMIUM, CHROMIUM_ARGS, MAP_FRAME, new_page, serve, wait_drawn

from core import accounts, derived

PORT = 8741
WORKSPACE = "city"
TARGETS = {"command center": 8.0, "hotspots": 10.0, "coverage": 10.0}
ACCOUNT, PASSWORD = "bench", "bench password 1"


def signed_page(browser, home: Path):
    """A new tab whose browser holds a session of the bench account (every role, whole district)."""
    book = accounts.book(f"sqlite:///{home / 'accounts.sqlite'}")
    try:
        account = book.get(ACCOUNT)
    except Exception:
        account = book.add(ACCOUNT, PASSWORD, accounts.ROLES, must_change=False)
    page = new_page(browser)
    page.context.add_cookies(
        [{"name": "gw_session", "value": book.open_session(account), "url": f"http://127.0.0.1:{PORT}"}]
    )
    return page


def coloured(page) -> None:
    frame = page.wait_for_selector(MAP_FRAME, timeout=300_000).content_frame()
    frame.wait_for_function("() => window.gwp && gwp.updated > 0", timeout=300_000)


PAGES = {
    "command center": ("/command", wait_drawn),
    "hotspots": ("/hotspots", coloured),
    "coverage": ("/coverage", coloured),
}


def round_(browser, home: Path) -> dict[str, float]:
    """Start the server, time the first load of each page, stop it."""
    proc = serve(home, PORT)
    try:
        out = {}
        for label, (path, drawn) in PAGES.items():
            page = signed_page(browser, home)
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{PORT}{path}")
            drawn(page)
            out[label] = time.perf_counter() - start
            page.context.close()
        folder = derived.directory(WORKSPACE, home)
        for _ in range(120):  # let the background writes finish before the server stops
            if not any(p.name.startswith(".") for p in folder.glob(".*")):
                break
            time.sleep(0.5)
        return out
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--city-home", type=Path, help="a data directory holding a built city workspace")
    args = parser.parse_args()
    from city import city_home
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        home = city_home(args.city_home, Path(tmp))
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        shutil.rmtree(derived.directory(WORKSPACE, home), ignore_errors=True)
        baseline = round_(browser, home)
        kept = sorted(p.name.split(".")[0] for p in derived.directory(WORKSPACE, home).glob("*.parquet"))
        restarts = [round_(browser, home) for _ in range(2)]
        browser.close()
    print(f"derived entries kept: {', '.join(kept)}")
    print(f"{'first load after a start':28} {'baseline':>10} {'restart':>10} {'ratio':>7} {'target':>8}")
    for label, target in TARGETS.items():
        best = min(r[label] for r in restarts)
        verdict = "ok" if best <= target else "MISSED"
        print(f"{label:28} {baseline[label]:9.1f}s {best:9.1f}s {best / baseline[label]:7.2f} {target:7.0f}s {verdict}")


if __name__ == "__main__":
    main()
