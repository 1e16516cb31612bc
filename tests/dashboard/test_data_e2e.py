"""Data page in a real browser: bad files are refused with clear messages and change nothing; a good
boundary file is previewed, activated, and rolled back."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest
import shapely

from geodata import load_demo

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def open_data_page(page, app_url: str) -> None:
    page.goto(f"{app_url}/data", wait_until="domcontentloaded")
    page.get_by_text("Data: boundaries and layers").wait_for(timeout=120_000)


def active_version(page) -> int:
    text = page.get_by_text(re.compile(r"Data as of .* · version \d+")).inner_text()
    return int(text.rsplit(" ", 1)[-1])


def upload(page, name: str, payload: bytes, mime: str = "application/octet-stream") -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": payload}])


def remove_upload(page) -> None:
    page.locator('[data-testid="stFileUploaderDeleteBtn"] button').click()


def self_touching(polygon: shapely.Polygon) -> shapely.Polygon:
    """``polygon`` with a ~1 m loop drawn into it from the middle of its first edge, the ring touching
    itself there: the kind of digitising slip behind 'Ring Self-intersection' in real files."""
    ring = np.array(polygon.exterior.coords)
    edge = ring[1] - ring[0]
    along = edge / np.hypot(*edge)
    inward = np.array([-along[1], along[0]])
    middle = ring[0] + 0.5 * edge
    if not polygon.contains(shapely.Point(middle + 1e-5 * inward)):
        inward = -inward
    loop = [middle, middle + 1e-5 * (inward + along), middle + 1e-5 * (inward - along), middle]
    return shapely.Polygon(np.vstack([ring[:1], loop, ring[1:]]))


def demo_grids_geojson(rename: dict[str, str] | None = None, duplicate: bool = False,
                       invalid: bool = False) -> bytes:
    grids = load_demo()["grids"].copy()
    if rename:
        grids["name"] = grids["grid_id"].map(rename).fillna(grids["name"])
    if invalid:
        grids.loc[2, "geometry"] = self_touching(grids.geometry.iloc[2])
    collection = json.loads(grids.to_json(drop_id=True))
    if duplicate:
        collection["features"][1]["properties"]["grid_id"] = collection["features"][0]["properties"]["grid_id"]
    return json.dumps(collection, ensure_ascii=False).encode("utf-8")


def zipped_folder(folder) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, path.name)
    return buffer.getvalue()


@pytest.mark.parametrize("case", ["doctype_kml", "duplicates_and_self_intersection", "lines_not_polygons"])
def test_bad_files_are_refused_and_change_nothing(page, app_url, realdata, artifacts, case):
    open_data_page(page, app_url)
    before = active_version(page)
    if case == "doctype_kml":
        kml = (b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name></Placemark></kml>')
        upload(page, "![x](http://203.0.113.9/track.png).kml", kml)  # a hostile name is shown inert
        page.get_by_text(re.compile("DOCTYPE|entit", re.I)).first.wait_for(timeout=60_000)
    elif case == "duplicates_and_self_intersection":
        upload(page, "grids.geojson", demo_grids_geojson(duplicate=True, invalid=True))
        page.get_by_text(re.compile(r"\d+ error\(s\)")).wait_for(timeout=60_000)
        table = page.locator('[data-testid="stTable"]')
        table.get_by_text(re.compile("ids are not unique")).wait_for(timeout=30_000)
        assert "Self-intersection" in table.inner_text()
        assert "make_valid" in table.inner_text()
        assert page.get_by_role("button", name="Activate as a new version").is_disabled()
    else:
        folder = realdata / "china_awkward" / "gbk_zhejiang_outline_cgcs2000"
        upload(page, "zhejiang.zip", zipped_folder(folder), "application/zip")
        page.get_by_text(re.compile(r"\d+ error\(s\)")).wait_for(timeout=60_000)
        table = page.locator('[data-testid="stTable"]')
        table.get_by_text(re.compile("MultiLineString")).wait_for(timeout=30_000)
        assert "polygons" in table.inner_text()
        assert page.get_by_role("button", name="Activate as a new version").is_disabled()
    if case != "doctype_kml":
        page.locator('[data-testid="stTable"]').scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"data_bad_{case}.png"))
    open_data_page(page, app_url)
    assert active_version(page) == before
    assert page.offsite == []


def test_activate_then_roll_back(page, app_url, artifacts):
    open_data_page(page, app_url)
    before = active_version(page)
    first_id = load_demo()["grids"]["grid_id"].iloc[0]
    upload(page, "grids_renamed.geojson", demo_grids_geojson(rename={first_id: "新名字网格"}))
    page.get_by_text(re.compile(r"130 features, no problems found|No errors")).wait_for(timeout=90_000)
    page.locator(MAP_FRAME).wait_for(timeout=60_000)
    assert page.get_by_text("Changed").count() >= 1
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "data_preview.png"))
    page.get_by_role("textbox", name="Your name").fill("测试员")
    page.get_by_role("textbox", name="Your name").press("Enter")
    page.get_by_role("textbox", name="Note").fill("rename one grid")
    page.get_by_role("textbox", name="Note").press("Enter")
    page.get_by_role("button", name="Activate as a new version").click()
    page.get_by_text(f"Activated as version {before + 1}.").wait_for(timeout=60_000)
    assert active_version(page) == before + 1
    page.screenshot(path=str(artifacts / "data_activated.png"))

    page.get_by_role("tab", name="Versions").click()
    page.get_by_text("rename one grid").wait_for(state="attached")  # a canvas table: cells are hidden
    page.get_by_role("button", name=f"Re-activate version {before}").click()
    page.get_by_text(f"Version {before} is active again (as version {before + 2}).").wait_for(timeout=60_000)
    assert active_version(page) == before + 2
    page.screenshot(path=str(artifacts / "data_rolled_back.png"))
    assert page.offsite == []


def test_an_invalid_polygon_is_repaired_on_request(page, app_url, artifacts):
    open_data_page(page, app_url)
    upload(page, "grids_slip.geojson", demo_grids_geojson(invalid=True))
    page.get_by_text(re.compile(r"1 error\(s\)")).wait_for(timeout=60_000)
    page.get_by_text("Repair invalid polygons with make_valid").click()
    page.get_by_text(re.compile(r"repaired 1 invalid geometry .*m²")).wait_for(timeout=60_000)
    page.get_by_text("No errors, 1 warning(s): you may activate.").wait_for(timeout=60_000)
    assert "in no grid" in page.locator('[data-testid="stTable"]').inner_text()  # the loop left a hole
    assert page.get_by_role("button", name="Activate as a new version").is_disabled()  # no name yet
    page.screenshot(path=str(artifacts / "data_repaired.png"))
