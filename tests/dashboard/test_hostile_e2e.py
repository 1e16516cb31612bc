"""Hostile files dropped on the Data page in a real browser: a clear message, nothing fetched, nothing
changed; and the Overview's own address opens the Overview."""

from __future__ import annotations

import json
import re

from test_data_e2e import active_version, open_data_page, upload


def test_hostile_files_on_the_data_page_get_a_clear_message(page, app_url, listener):
    open_data_page(page, app_url)
    before = active_version(page)
    deep = ('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + "<Folder><name>f</name>" * 5_000
            + "</Folder>" * 5_000 + "</Document></kml>").encode()
    upload(page, "deep.kml", deep)
    page.get_by_text("nests Folders more than 100 deep").wait_for(timeout=60_000)
    assert page.get_by_text("Something went wrong").count() == 0
    open_data_page(page, app_url)  # a fresh session: the uploader is empty again
    link = json.dumps({"type": "link", "properties": {"href": f"{listener.url}/crs", "type": "esriwkt"}})
    point = json.dumps({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [120.1, 30.2]}})
    duplicate = (f'{{"type": "FeatureCollection", "crs": {{"type": "name", "properties": {{"name": "EPSG:4326"}}}}, '
                 f'"crs": {link}, "\\u0063rs": {link}, "features": [{point}]}}')
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
