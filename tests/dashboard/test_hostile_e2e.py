"""Hostile files dropped on the Data page in a real browser: a clear message, nothing fetched, nothing
changed; and the Overview's own address opens the Overview."""

from __future__ import annotations

import json
import re

from test_data_e2e import active_version, open_data_page, upload


def test_hostile_files_on_the_data_page_get_a_clear_message(page, app_url, listener):
    open_data_page(page, app_url)
    before = active_version(page)
    deep = (
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + "<Folder><name>f</name>" * 5_000
        + "</Folder>" * 5_000
        + "</Document></kml>"
    ).encode()
    upload(page, "deep.kml", deep)
    page.get_by_text("nests Folders more than 100 deep").wait_for(timeout=60_000)
    assert page.get_by_text("Something went wrong").count() == 0
    open_data_page(page, app_url)  # a fresh session: the uploader is empty again
    link = json.dumps({"type": "link", "properties": {"href": f"{listener.url}/crs", "type": "esriwkt"}})
    point = json.dumps(
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [120.1, 30.2]}}
    )
    duplicate = (
        f'{{"type": "FeatureCollection", "crs": {{"type": "name", "properties": {{"name": "EPSG:4326"}}}}, '
        f'"crs": {link}, "\\u0063rs": {link}, "features": [{point}]}}'
    )
    upload(page, "duplicate.geojson", duplicate.encode())
    page.get_by_text(re.compile(r"\d+ error\(s\)")).wait_for(timeout=60_000)
    assert listener.requests == []
    open_data_page(page, app_url)
    assert active_version(page) == before
    assert page.offsite == []


def test_the_overview_opens_at_its_own_address(page, app_url):
    page.goto(f"{app_url}/overview", wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=120_000)
    assert page.get_by_text(re.compile("Page not found", re.I)).count() == 0


def test_a_file_that_would_empty_most_of_a_layer_asks_for_confirmation(page, app_url):
    from geodata import load_demo

    open_data_page(page, app_url)
    upload(page, "few.geojson", load_demo()["grids"].iloc[:10].to_json(drop_id=True).encode())
    page.get_by_text("would remove 120 (92%)").wait_for(timeout=60_000)
    confirm = page.get_by_text("Yes, replace the layer with this smaller file")
    confirm.wait_for(timeout=30_000)
    activate = page.get_by_role("button", name="Activate as a new version")
    assert activate.is_disabled()
    confirm.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some(b => "
        "b.innerText.includes('Activate as a new version') && !b.disabled)",
        timeout=30_000,
    )
