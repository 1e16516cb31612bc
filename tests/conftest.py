"""Shared fixtures: the real-data folder, a running dashboard, a headless Chromium that may not leave
127.0.0.1.

Tests that need a browser or the real-data folder skip outside CI with the reason printed, and fail in
CI (``CI=true``), where both must be present.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
CHROMIUM = Path(os.environ.get("GRIDWATCH_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require(condition: bool, reason: str) -> None:
    """Skip (outside CI) or fail (in CI) when a test's external need is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def realdata() -> Path:
    require(REALDATA.is_dir(), f"real-data folder {REALDATA} is absent")
    return REALDATA


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TESTER, TESTER_PASSWORD = "tester", "tester password 1"


class AppUrl(str):
    """The served dashboard's base URL; ``home`` is its data directory."""

    home: Path

    def book(self):
        """The served install's account book."""
        from core import accounts

        return accounts.book(f"sqlite:///{self.home / 'accounts.sqlite'}")

    def account(self, username: str = TESTER, roles=None, scope: str = "district"):
        """The account ``username`` of the served install (made, with every role unless ``roles``
        says otherwise, on first use)."""
        from core import accounts
        from core.errors import AccountError

        book = self.book()
        try:
            return book.get(username)
        except AccountError:
            return book.add(
                username, TESTER_PASSWORD, roles or accounts.ROLES, scope=accounts.Scope.parse(scope), must_change=False
            )

    def sign_in(self, context, username: str = TESTER, **kw) -> None:
        """Give the browser ``context`` a session of ``username`` (as the sign-in form would)."""
        token = self.book().open_session(self.account(username, **kw))
        context.add_cookies([{"name": "gw_session", "value": token, "url": str(self), "sameSite": "Strict"}])


REFRESH_SECONDS = 2


def intake_client(port: int, store) -> httpx.Client:
    """A client of the intake API that ``gridwatch serve`` on ``port`` starts on port + 1, once it
    answers, with a new key of source ``hotline`` in ``store``; TimeoutError if it does not within 2 min."""
    from core import apikeys

    base = f"http://127.0.0.1:{port + 1}"
    for _ in range(240):
        try:
            if httpx.get(f"{base}/open311/v2/services.json", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    else:
        raise TimeoutError(f"the intake API at {base} did not answer within 2 min")
    return httpx.Client(base_url=base, headers={"X-API-Key": apikeys.create_key(store, "hotline")}, timeout=300)


@pytest.fixture
def intake():
    """``intake_client(port, store)``, for tests (the benchmarks import it)."""
    return intake_client


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> AppUrl:
    """The dashboard served by ``gridwatch serve`` on a fresh data directory (demo seeded), one per
    test module so that a module that changes the workspace does not affect another. The command
    center checks for new data every ``REFRESH_SECONDS``."""
    yield from served(tmp_path_factory)


def served(tmp_path_factory, **settings: str):
    """``gridwatch serve`` on a fresh data directory with these extra ``GRIDWATCH_*`` settings (a
    fixture's body: yields its ``AppUrl``, stops it afterwards). ``{port}`` in a value is the port."""
    home = tmp_path_factory.mktemp("gridwatch_home")
    port = _free_port()
    log = open(home / "server.log", "w")  # noqa: SIM115 (open as long as the server runs)
    env = {**os.environ, "GRIDWATCH_HOME": str(home), "GRIDWATCH_REFRESH_SECONDS": str(REFRESH_SECONDS)}
    env.pop("GRIDWATCH_TILES", None)
    env.update({name: value.replace("{port}", str(port)) for name, value in settings.items()})
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = AppUrl(f"http://127.0.0.1:{port}")
    url.home = home
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            break
    else:
        proc.kill()
        pytest.fail(f"dashboard did not start in 90 s; log: {(home / 'server.log').read_text()[-2000:]}")
    if proc.poll() is not None:
        pytest.fail(f"dashboard exited; log: {(home / 'server.log').read_text()[-2000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    require(CHROMIUM.exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class OffsiteRequests(list):
    """URLs the page tried to fetch from anywhere but 127.0.0.1 (each was blocked)."""


@pytest.fixture
def page(browser, request):
    """A fresh page that blocks and records every request leaving 127.0.0.1; signed in to the test's
    ``app_url`` as ``TESTER`` (every role) when it uses one."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="en-US")
    if "app_url" in request.fixturenames:
        request.getfixturevalue("app_url").sign_in(context)
    yield guarded_page(context)
    context.close()


def guarded_page(context, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")):
    """A new page of ``context`` that blocks every request to a host not in ``hosts`` and records it
    (``page.offsite``)."""
    offsite = OffsiteRequests()

    def guard(route):
        parsed = urlparse(route.request.url)
        if parsed.scheme in ("data", "blob", "about") or parsed.hostname in hosts:
            route.continue_()
        else:
            offsite.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.offsite = offsite
    return pg


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = ROOT / "tests" / "artifacts"
    path.mkdir(exist_ok=True)
    return path


MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _metric_values(page) -> dict[str, str]:
    labels = [x.strip() for x in page.locator('[data-testid="stMetricLabel"]').all_inner_texts()]
    values = [v.strip() for v in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]
    return dict(zip(labels, values))


@pytest.fixture
def metric_values():
    """``metric_values(page)``: the page's metrics as {label: value}, as the reader sees them."""
    return _metric_values


def _map_ready(page, check: str, timeout_s: float = 120):
    """The first map frame once the JavaScript expression ``check`` holds in it. A map that is replaced
    while waiting (a new set of units gets a new frame) is looked up again."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            frame = page.wait_for_selector(MAP_FRAME, timeout=timeout_s * 1000).content_frame()
            frame.wait_for_function(f"() => {check}", timeout=5_000)
            return frame
        except PlaywrightError:
            if time.monotonic() > deadline:
                raise


@pytest.fixture
def map_ready():
    """``map_ready(page, check)``: the map frame once ``check`` (JavaScript) holds in it."""
    return _map_ready


def _choose(combobox, option: str, *, typed: bool = False, attempts: int = 3) -> None:
    """Open a selectbox (or multiselect) and pick ``option``, typing it first to filter a long list when
    ``typed``. A click that lands while the page is still being drawn or rerun (a loaded machine) opens
    nothing or a list that is then replaced, so the dropdown is opened again until the option shows."""
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(attempts):
        combobox.scroll_into_view_if_needed()
        combobox.click()
        if typed:
            combobox.fill("")
            combobox.press_sequentially(option)
        try:
            combobox.page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except PlaywrightError:
            if attempt == attempts - 1:
                raise
            combobox.page.keyboard.press("Escape")


@pytest.fixture
def choose():
    """``choose(combobox, option, typed=False)``: pick ``option`` from a selectbox, as a user does."""
    return _choose


@pytest.fixture
def listener():
    """A tiny HTTP server on 127.0.0.1 recording every request; answers with a WKT of WGS84."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(
                b'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
                b'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'
            )

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.requests = requests
    yield server
    server.shutdown()
    server.server_close()
