"""The leakage sweep in a real browser: signed in as the leader of one community, nothing the browser
receives — the pages' text, every WebSocket frame, the Performance CSV — names another community or
holds one of its grid ids."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core import audit, schema
from geodata import load_demo

COMMUNITY = "柳岸社区"
PAGES = ("", "/command", "/performance", "/coverage", "/hotspots", "/patrols")


@pytest.fixture
def scoped_page(browser, app_url):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="en-US", accept_downloads=True)
    app_url.sign_in(context, "liuan.leader", roles=["leader"], scope=f"community:{COMMUNITY}")
    page = context.new_page()
    page.frames_seen = []

    def watch(ws) -> None:
        ws.on("framereceived", lambda frame: page.frames_seen.append(frame))

    page.on("websocket", watch)
    yield page
    context.close()


def test_a_community_leader_receives_nothing_of_another_community(scoped_page, app_url, artifacts):
    grids = load_demo()["grids"]
    mine = grids[grids[schema.COMMUNITY] == COMMUNITY]
    others = grids[grids[schema.COMMUNITY] != COMMUNITY]
    names = sorted(set(others[schema.COMMUNITY]))
    ids = [g for g in others[schema.GRID_ID] if not any(g in m for m in mine[schema.GRID_ID])]
    page = scoped_page
    for path in PAGES:
        page.goto(f"{app_url}{path}")
        page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=120_000)
        page.wait_for_function("!document.querySelector('[data-stale=true]')", timeout=120_000)
        page.wait_for_timeout(4_000)  # the page's runs finish and its maps load
        text = page.locator("body").inner_text()
        leaked = [n for n in names if n in text]
        assert not leaked, f"{path or '/'} shows {leaked}"
        received = b"".join(f if isinstance(f, bytes) else f.encode() for f in page.frames_seen)
        sent = [g for g in ids if re.search(re.escape(g.encode()) + rb"(?!\d)", received)]
        assert not sent, f"{path or '/'} sent grid ids {sent[:5]} of other communities"
    page.goto(f"{app_url}/performance")
    button = page.get_by_role("button", name="Download CSV")
    expect(button.first).to_be_visible(timeout=120_000)
    page.wait_for_timeout(3_000)
    page.screenshot(path=artifacts / "scope_performance.png", full_page=True)
    with page.expect_download() as download:
        button.first.click()
    csv = download.value.path().read_text(encoding="utf-8-sig")
    assert COMMUNITY in csv and not [n for n in names if n in csv]
    downloads = audit.entries(account="liuan.leader", action="download", book=app_url.book())
    assert downloads["target"].str.endswith(".csv").tolist() == [True]  # every download is audited
    assert downloads["workspace"].tolist() == [f"demo|community:{COMMUNITY}"]
    received = b"".join(f if isinstance(f, bytes) else f.encode() for f in page.frames_seen)
    assert COMMUNITY.encode() in received
    assert not [n for n in names if n.encode() in received]
    assert not [g for g in ids if re.search(re.escape(g.encode()) + rb"(?!\d)", received)]
