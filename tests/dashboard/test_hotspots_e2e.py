"""Hotspots page in a real browser: the counters and map classes equal core's Gi* on grids and on
hexagons, a click on the hottest unit lists exactly its tickets, the time charts and the repeat count are
shown, the density surface is drawn, and the page reads in Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core import command, geometry, hexes, hotspots, joins, metrics, repeats, schema
from geodata import load_demo

HOT_99 = "#b2182b"


@pytest.fixture(scope="module")
def expected():
    """What the page should show for the default view: the last 30 days, every filter open, FDR on."""
    layers = load_demo()
    grids = layers[schema.GRIDS.name]
    tickets = joins.join_to_grids(layers[schema.TICKETS.name], grids)
    as_of = metrics.data_as_of(tickets)
    period = metrics.Period.from_dates(as_of.date() - timedelta(days=29), as_of.date())
    flow = tickets[metrics.registered_mask(tickets) & tickets[schema.ASSIGNED].astype(bool)]
    flow = flow[period.contains(flow[schema.CREATED_AT])]
    on_grids = hotspots.gi_star(flow[schema.GRID_ID].value_counts(), hotspots.grid_graph(grids), fdr=True)
    cells = hexes.hex_cover(geometry.streets_from_grids(grids), 9)
    on_hexes = hotspots.gi_star(
        hexes.hex_counts(flow, 9).reindex(cells, fill_value=0), hotspots.hex_graph(cells), fdr=True
    )
    cases = repeats.repeat_cases(flow, 50, 7)
    return grids, flow, on_grids, on_hexes, cases


def drawn(map_ready, page, units: int):
    """The map frame once its ``units`` outlines are coloured."""
    return map_ready(page, f"window.gwp && gwp.updated && gwp.count === {units}")


def click_at(frame, lon: float, lat: float) -> None:
    """A click on the map at (lon, lat), through Leaflet (as st_folium hears it): mouse coordinates would
    miss while the page below the map is still settling."""
    frame.evaluate(
        "([lat, lng]) => { const ll = L.latLng(lat, lng); const p = gwp.map.latLngToContainerPoint(ll);"
        " gwp.map.fire('click', {latlng: ll, containerPoint: p,"
        " layerPoint: gwp.map.containerPointToLayerPoint(p)}); }",
        [lat, lon],
    )


def test_hot_spots_on_grids_and_hexagons(page, app_url, expected, artifacts, metric_values, map_ready):
    grids, flow, on_grids, on_hexes, cases = expected
    page.goto(f"{app_url}/hotspots", wait_until="domcontentloaded")
    frame = drawn(map_ready, page, len(grids))
    values = metric_values(page)
    assert values["Hot spot, 99% confidence"] == str((on_grids["confidence"] == 3).sum())
    assert values["Hot spot, 95% confidence"] == str((on_grids["confidence"] == 2).sum())
    assert values["Cold spots"] == str((on_grids["confidence"] < 0).sum())
    fills = frame.evaluate("gwp.fills")
    assert fills.count(HOT_99) == (on_grids["confidence"] == 3).sum() > 0
    assert "Hot spot, 99% confidence" in frame.locator(".gw-legend").inner_text()

    hottest = on_grids["z"].idxmax()
    point = grids.loc[grids[schema.GRID_ID] == hottest].representative_point().iloc[0]
    click_at(frame, point.x, point.y)
    name = grids.set_index(schema.GRID_ID).loc[hottest, schema.NAME]
    n = int((flow[schema.GRID_ID] == hottest).sum())
    page.get_by_text(f"{name}: Hot spot, 99% confidence").wait_for(timeout=60_000)
    assert page.get_by_text(f"{n} tickets in the period").is_visible()
    table = page.locator('[data-testid="stDataFrame"]').first  # the unit's tickets, drawn after its caption
    expect(table.locator("[role=grid]")).to_have_attribute("aria-rowcount", str(n + 1), timeout=30_000)  # + header
    page.screenshot(path=artifacts / "hotspots_grids.png", full_page=True)

    assert page.get_by_role("heading", name="When").is_visible()
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 2
    assert metric_values(page)["Repeat cases"] == f"{len(cases):,}"

    page.get_by_text("Hexagons", exact=True).click()
    frame = drawn(map_ready, page, len(on_hexes))
    assert metric_values(page)["Hot spot, 99% confidence"] == str((on_hexes["confidence"] == 3).sum())
    assert frame.evaluate("gwp.fills").count(HOT_99) == (on_hexes["confidence"] == 3).sum()

    page.get_by_text("Kernel density", exact=True).click()
    frame.wait_for_function("() => gwp.title === 'Tickets'", timeout=60_000)
    assert frame.locator("img.leaflet-image-layer").count() == 1
    assert "Tickets per km²" in frame.locator(".gw-legend").inner_text()
    page.screenshot(path=artifacts / "hotspots_density.png")
    assert page.offsite == []


def test_filters_and_chinese(browser, app_url, expected, artifacts, map_ready, choose):
    grids, flow, *_ = expected
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
    app_url.sign_in(context)
    page = context.new_page()
    try:
        page.goto(f"{app_url}/hotspots", wait_until="domcontentloaded")
        frame = drawn(map_ready, page, len(grids))
        assert page.get_by_role("heading", name="热点分析").is_visible()
        assert "热点（99% 置信度）" in frame.locator(".gw-legend").inner_text()
        category = flow[schema.CATEGORY].value_counts().index[0]
        only = command.TicketFilter(categories=(category,)).apply(flow)
        cases = len(repeats.repeat_cases(only, 50, 7))
        assert cases != len(repeats.repeat_cases(flow, 50, 7))
        choose(page.get_by_role("combobox", name="事件类型"), category)
        page.keyboard.press("Escape")
        page.wait_for_function(
            "(n) => [...document.querySelectorAll('[data-testid=stMetric]')].some(m => "
            "m.innerText.includes('重复案件') && m.innerText.includes(n))",
            arg=f"{cases:,}",
            timeout=60_000,
        )
        drawn(map_ready, page, len(grids))
        page.screenshot(path=artifacts / "hotspots_zh.png", full_page=True)
    finally:
        context.close()
