"""Overview page in a real browser: the map draws offline with every grid, the figures match core."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import joins, metrics, schema
from geodata import load_demo

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'

COUNT_GRID_FEATURES = """() => {
    let drawn = 0;
    gwp.layers.forEach(l => { if (l._parts && l._parts.length) drawn += 1; });
    return {grids: gwp.layers.length, drawn, communities: gwp.outlines[0]};
}"""

# A grid whose centre really lies inside it (and away from the legend), in map container pixels.
GRID_TO_HOVER = """() => {
    const size = window.map.getSize();
    let found = null;
    gwp.layers.forEach((l, i) => {
        if (found) return;
        const p = window.map.latLngToLayerPoint(l.getCenter());
        const c = window.map.latLngToContainerPoint(l.getCenter());
        if (l._containsPoint(p) && c.x < size.x * 0.7 && c.y > 80 && c.y < size.y - 80) {
            found = {x: c.x, y: c.y, name: gwp.names[i], count: gwp.values[i]};
        }
    });
    return found;
}"""


@pytest.fixture(scope="module")
def expected() -> metrics.HeadlineFigures:
    layers = load_demo()
    tickets = joins.join_to_grids(layers[schema.TICKETS.name], layers[schema.GRIDS.name])
    as_of = metrics.data_as_of(tickets)
    period = metrics.Period.from_dates(as_of.date() - timedelta(days=29), as_of.date())
    return metrics.headline_figures(
        layers[schema.GRIDS.name], layers[schema.CAMERAS.name], tickets, layers[schema.MEMBERS.name], period, as_of
    )


def open_overview(page, app_url: str):
    page.goto(app_url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=120_000)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    handle = page.wait_for_selector(MAP_FRAME).content_frame()
    handle.wait_for_function("() => window.map && window.L && window.gwp && gwp.updated", timeout=30_000)
    handle.wait_for_function("() => !window.map._animatingZoom && !window.map._panAnim?._inProgress")
    page.wait_for_timeout(500)  # let the canvas repaint after fitting the district
    return handle


def test_overview_map_and_figures_in_english(page, app_url, expected, artifacts, metric_values):
    frame = open_overview(page, app_url)
    layers = frame.evaluate(COUNT_GRID_FEATURES)
    assert layers["grids"] == expected.grids == 130
    assert layers["drawn"] == 130, "every grid polygon is drawn in the initial view"
    assert layers["communities"] == expected.communities

    values = metric_values(page)
    assert values["Grids"] == f"{expected.grids:,}"
    assert values["Communities"] == f"{expected.communities:,}"
    assert values["Cameras online"] == f"{expected.cameras_online:,} / {expected.cameras_total:,}"
    assert values["Open tickets"] == f"{expected.open_tickets:,}"
    assert values["Overdue tickets"] == f"{expected.overdue_tickets:,}"
    assert values["Party members"] == f"{expected.members:,}"
    assert expected.overdue_tickets > 0

    centre = frame.evaluate(GRID_TO_HOVER)
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    box = page.locator(MAP_FRAME).bounding_box()
    tooltip = frame.locator(".leaflet-tooltip")
    for wiggle in range(10):  # Leaflet's canvas throttles hover detection; keep moving as a hand does
        page.mouse.move(box["x"] + centre["x"] + wiggle % 3, box["y"] + centre["y"], steps=3)
        page.wait_for_timeout(150)
        if tooltip.count():
            break
    tooltip.wait_for(timeout=5_000)
    text = tooltip.inner_text()
    assert centre["name"] in text and str(centre["count"]) in text and "Tickets" in text

    assert frame.locator(".gw-legend").inner_text().startswith("Tickets in period")
    page.screenshot(path=str(artifacts / "overview_en.png"), full_page=True)
    assert page.offsite == [], f"requests left 127.0.0.1: {page.offsite[:5]}"


def test_overview_in_chinese(browser, app_url, expected, artifacts, metric_values):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
    app_url.sign_in(context)
    try:
        page = context.new_page()
        frame = open_overview(page, app_url)
        values = metric_values(page)
        assert values["网格数"] == f"{expected.grids:,}"
        assert values["在办事件"] == f"{expected.open_tickets:,}"
        assert page.get_by_text("辖区总览").count() >= 1
        assert frame.locator(".gw-legend").inner_text().startswith("本时段事件数")
        page.screenshot(path=str(artifacts / "overview_zh.png"), full_page=True)
    finally:
        context.close()
