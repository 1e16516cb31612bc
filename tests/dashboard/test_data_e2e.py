"""Data page in a real browser: bad files are refused with clear messages and change nothing; a good
boundary file is previewed, activated, and rolled back."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
import shapely
from playwright.sync_api import expect

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
        files=[{"name": name, "mimeType": mime, "buffer": payload}]
    )


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


def demo_grids_geojson(rename: dict[str, str] | None = None, duplicate: bool = False, invalid: bool = False) -> bytes:
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
        kml = (
            b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name></Placemark></kml>'
        )
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
    expect(page.get_by_role("button", name="Activate as a new version")).to_be_enabled(
        timeout=30_000
    )  # no name to type
    page.screenshot(path=str(artifacts / "data_repaired.png"))


def pick_layer(page, label: str) -> None:
    """Pick the layer to upload and wait until the page shows only that layer's file uploader."""
    page.get_by_text(label, exact=True).click()
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=stFileUploaderDropzoneInput]').length"
        " === 1 && !document.querySelector('[data-stale=true]')",
        timeout=30_000,
    )
    page.wait_for_timeout(500)


def chicago_tickets_csv(n: int = 120) -> bytes:
    """Demo tickets written like a Chicago 311 export: open-data sources, coordinates only inside a
    "LOCATION" text column, no rework_count, and 4 rows without coordinates."""
    tickets = load_demo()["tickets"].iloc[:n]
    location = [f"121 N LASALLE ST, CHICAGO ({y:.6f}, {x:.6f})" for x, y in zip(tickets.geometry.x, tickets.geometry.y)]
    for row in (3, 4, 5, 6):
        location[row] = ""
    return (
        pd.DataFrame(
            {
                "ticket_id": "C" + tickets["ticket_id"].to_numpy(),
                "category": tickets["category"].to_numpy(),
                "source": (["Phone Call", "Internet"] * n)[:n],
                "stage": "closed",
                "created_at": tickets["created_at"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
                "LOCATION": location,
            }
        )
        .to_csv(index=False)
        .encode("utf-8")
    )


def test_a_311_export_loads_after_mapping_values_and_leaving_out_rows(page, app_url, artifacts):
    open_data_page(page, app_url)
    pick_layer(page, "Tickets")
    upload(page, "chicago_311.csv", chicago_tickets_csv(), "text/csv")
    page.get_by_text("Add the rows").click()  # the demo's tickets stay: other tests use their ids
    page.get_by_text(re.compile(r"\d+ error\(s\)")).wait_for(timeout=90_000)
    table = page.locator('[data-testid="stTable"]')
    table.get_by_text("4 row(s) have no usable coordinates").wait_for(timeout=30_000)
    assert "--skip-missing-coordinates" in table.inner_text()
    assert "the file has no `rework_count` column; all 120 rows get 0" in table.inner_text()
    values = page.get_by_text("Value mapping")
    values.wait_for(timeout=30_000)
    assert "unknown value(s)" not in table.inner_text(), "the suggestions were taken into the check"
    page.screenshot(path=str(artifacts / "data_value_mapping.png"), full_page=True)
    page.get_by_text("Leave out the 4 rows without coordinates").click()
    page.get_by_text("No errors").wait_for(timeout=90_000)
    table = page.locator('[data-testid="stTable"]')
    assert "4 row(s) without coordinates are left out" in table.inner_text()
    page.get_by_role("button", name="Download the 4 rows left out (CSV)").wait_for(timeout=30_000)
    page.get_by_text("Yes, the file is in EPSG:4326").click()  # lon/lat without a stated CRS
    page.get_by_text("No errors").wait_for(timeout=90_000)
    before = active_version(page)
    page.get_by_role("button", name="Activate as a new version").click()
    page.get_by_text(f"Activated as version {before + 1}.").wait_for(timeout=90_000)
    page.screenshot(path=str(artifacts / "data_311_activated.png"))


def test_appending_stored_ids_is_an_error_before_activation(page, app_url):
    open_data_page(page, app_url)
    pick_layer(page, "Tickets")
    tickets = load_demo()["tickets"].iloc[:20].copy()
    for column in ("created_at", "dispatched_at", "deadline_at", "closed_at"):
        tickets[column] = tickets[column].map(lambda v: v.isoformat() if pd.notna(v) else None)
    upload(page, "tickets.geojson", tickets.to_json(drop_id=True).encode())
    page.get_by_text("Add the rows").click()
    table = page.locator('[data-testid="stTable"]')
    table.get_by_text("20 id(s) are already stored").wait_for(timeout=90_000)
    assert "Replace the layer" in table.inner_text()
    assert page.get_by_role("button", name="Activate as a new version").is_disabled()


def test_boundary_preview_before_the_ids_are_mapped(page, app_url, artifacts):
    open_data_page(page, app_url)
    grids = load_demo()["grids"].rename(columns={"grid_id": "CODE", "name": "Label"})[["CODE", "Label", "geometry"]]
    upload(page, "grids.geojson", grids.to_json(drop_id=True).encode())
    page.get_by_text("Map the file's columns to grid_id, name").wait_for(timeout=90_000)
    page.locator(MAP_FRAME).wait_for(timeout=60_000)
    assert page.get_by_text("Something went wrong").count() == 0
    page.screenshot(path=str(artifacts / "data_preview_unmapped.png"))


def test_coordinate_columns_can_be_picked_when_none_were_found(page, app_url, choose):
    open_data_page(page, app_url)
    pick_layer(page, "Service points")
    text = "编号,名称,东,北\nS1,甲,120.15,30.27\nS2,乙,120.16,30.28\n"
    upload(page, "points.csv", text.encode("utf-8"), "text/csv")
    page.get_by_text(re.compile("has no columns GridWatch recognises as coordinates")).wait_for(timeout=60_000)
    page.get_by_text("Reading options").click()
    for label, column in (("Longitude / X column", "东"), ("Latitude / Y column", "北")):
        # typing opens the list filtered to the file's column
        choose(page.get_by_role("combobox", name=label), column, typed=True)
    page.get_by_text("made points from columns `东` (x) and `北` (y)").wait_for(timeout=60_000)
