"""A newcomer's first hour, in a real browser, with files the test makes: a workspace for a US city in
its own time zone, its boundaries, every page on that partial workspace, a 311 export whose sources need
mapping and whose coordinates sit only in a text column, and the Overview's counts equal core's."""

from __future__ import annotations

import re
from datetime import timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from playwright.sync_api import expect

from core import joins, metrics, schema, store, validate

WORKSPACE = "springfield"
CITY_ZONE = "America/Chicago"
CITY_UTM = "EPSG:32616"
ORIGIN_X, ORIGIN_Y = 447_000.0, 4_636_000.0  # UTM 16N, near 41.88 N, 87.63 W
CELL_M = 500.0
COMMUNITIES = ("Loop", "Near North", "West Town")
GRIDS_PER_COMMUNITY = 4
N_TICKETS = 240
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
COUNT_GRIDS = "(window.gwp && gwp.updated ? gwp.layers.length : 0)"
PAGES = ("Overview", "Command center", "Performance", "Coverage", "Hotspots", "Patrols")
HINTS = {  # what each page says on a workspace that holds only boundaries
    "Overview": "load Tickets next",
    "Command center": "load Tickets next",
    "Performance": "This page needs Tickets",
    "Coverage": "Not loaded yet",
    "Hotspots": "This page needs Tickets",
    "Patrols": "This page needs Patrol teams",
}


def city_grids() -> gpd.GeoDataFrame:
    """Twelve 500 m square grids in three communities of one street, as a city GIS would export them."""
    rows = []
    for c, community in enumerate(COMMUNITIES):
        for g in range(GRIDS_PER_COMMUNITY):
            x, y = ORIGIN_X + g * CELL_M, ORIGIN_Y + c * CELL_M
            rows.append(
                {
                    "grid_code": f"CHI-{c + 1}{g + 1:02d}",
                    "name": f"{community} {g + 1}",
                    "community": community,
                    "street": "Central District",
                    "geometry": shapely.box(x, y, x + CELL_M, y + CELL_M),
                }
            )
    return gpd.GeoDataFrame(rows, crs=CITY_UTM).to_crs(4326)


def city_tickets() -> pd.DataFrame:
    """A 311-style export: ORIGIN values no GridWatch code knows ('Phone Call', 'Internet', 'Mobile
    Device'), a status of 'Open'/'Completed', naive local times, and the coordinates only inside a
    "Location" text column as "(lat, lon)"."""
    rng = np.random.default_rng(3)
    x0, y0 = ORIGIN_X + 5, ORIGIN_Y + 5
    xy = np.column_stack(
        [rng.uniform(x0, x0 + 4 * CELL_M - 10, N_TICKETS), rng.uniform(y0, y0 + 3 * CELL_M - 10, N_TICKETS)]
    )
    points = gpd.GeoSeries(shapely.points(xy), crs=CITY_UTM).to_crs(4326)
    created = pd.Timestamp("2026-10-20 08:00") + pd.to_timedelta(rng.integers(0, 40 * 24 * 60, N_TICKETS), unit="min")
    return pd.DataFrame(
        {
            "service_request_id": [f"SR26-{i:06d}" for i in range(N_TICKETS)],
            "service_name": rng.choice(["Pothole in Street", "Graffiti Removal", "Street Light Out"], N_TICKETS),
            "origin": rng.choice(["Phone Call", "Internet", "Mobile Device"], N_TICKETS),
            "status": rng.choice(["Open", "Completed"], N_TICKETS, p=[0.3, 0.7]),
            "requested_datetime": created.strftime("%Y-%m-%d %H:%M:%S"),
            "Location": [f"({p.y:.6f}, {p.x:.6f})" for p in points],
        }
    )


def side(page):
    return page.locator('[data-testid="stSidebar"]')


def go_to(page, title: str) -> None:
    """Open a page from the sidebar's navigation, as a user does (the session keeps the workspace)."""
    side(page).get_by_role("link", name=title, exact=True).click()
    page.wait_for_timeout(300)
    page.wait_for_function(
        "!document.querySelector('[data-stale=true]') && !document.querySelector('[data-testid=stStatusWidget]')",
        timeout=120_000,
    )


def upload_file(page, layer_label: str, name: str, payload: bytes, mime: str) -> None:
    """Pick the layer, wait until the rerun it starts has drawn that layer's one uploader, drop the file."""
    page.get_by_text(layer_label, exact=True).click()
    expect(page.get_by_role("radio", name=layer_label, exact=True)).to_be_checked(timeout=30_000)
    for _ in range(2):  # the rerun may not have started yet when the radio shows checked
        page.wait_for_timeout(1_000)
        page.wait_for_function(
            "document.querySelectorAll('[data-testid=stFileUploaderDropzoneInput]').length"
            " === 1 && !document.querySelector('[data-stale=true]')",
            timeout=60_000,
        )
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": payload}]
    )


def activate(page, version: int) -> None:
    button = page.get_by_role("button", name="Activate as a new version")
    expect(button).to_be_enabled(timeout=60_000)
    button.click()
    page.get_by_text(f"Activated as version {version}.").wait_for(timeout=120_000)


def assert_no_failure(page, where: str) -> None:
    assert page.get_by_text("Something went wrong").count() == 0, where
    assert page.locator('[data-testid="stException"]').count() == 0, where


def test_a_new_city_from_an_empty_workspace_to_the_overview(page, app_url, artifacts, metric_values, choose):
    page.goto(app_url, wait_until="domcontentloaded")
    page.get_by_role("combobox", name="Workspace").wait_for(timeout=120_000)

    side(page).get_by_text("New workspace").click()
    side(page).get_by_role("textbox", name="Name").fill(WORKSPACE)
    choose(side(page).get_by_role("combobox", name="Time zone"), CITY_ZONE)
    side(page).get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("combobox", name="Workspace")).to_have_value(WORKSPACE, timeout=60_000)
    expect(side(page).get_by_text(re.compile(f"{CITY_ZONE} · version 0"))).to_be_visible()

    go_to(page, "Data")
    page.get_by_text("Data: boundaries and layers").wait_for(timeout=60_000)
    upload_file(
        page,
        "Grid boundaries",
        "city_grids.geojson",
        city_grids().to_json(drop_id=True).encode(),
        "application/geo+json",
    )
    page.get_by_text(re.compile(r"12 features, no problems found|No errors")).wait_for(timeout=120_000)
    activate(page, 1)

    for title in PAGES:  # boundaries only: every page shows what it can and says what to load next
        go_to(page, title)
        page.get_by_text(HINTS[title]).first.wait_for(timeout=60_000)
        page.get_by_role("link", name="Open the Data page to load layers").wait_for(timeout=10_000)
        assert_no_failure(page, f"{title} with grids only")
        if title == "Overview":  # the grids are drawn, neutral: no ticket yet is not "a few"
            frame = page.wait_for_selector(MAP_FRAME, timeout=60_000).content_frame()
            frame.wait_for_function(f"() => window.map && {COUNT_GRIDS} === 12", timeout=60_000)
            assert frame.locator(".gw-legend").inner_text().splitlines()[-1].strip() == "0"
        page.screenshot(path=str(artifacts / f"newcomer_grids_only_{title.replace(' ', '_')}.png"), full_page=True)

    go_to(page, "Data")
    page.get_by_text("Data: boundaries and layers").wait_for(timeout=60_000)
    upload_file(page, "Tickets", "chicago_311.csv", city_tickets().to_csv(index=False).encode(), "text/csv")
    page.get_by_text("Value mapping").wait_for(timeout=120_000)
    page.get_by_text("Yes, the file is in EPSG:4326").click()  # lon/lat without a stated CRS
    page.get_by_text(re.compile(r"No errors, \d+ warning\(s\)")).wait_for(timeout=120_000)
    table = page.locator('[data-testid="stTable"]').first.inner_text()
    assert "the file has no `rework_count` column" in table
    page.screenshot(path=str(artifacts / "newcomer_tickets_checked.png"), full_page=True)
    activate(page, 2)

    ws = store.open_store(WORKSPACE, app_url.home, create=False)
    grids, tickets = ws.read(schema.GRIDS.name), ws.read(schema.TICKETS.name)
    assert len(grids) == 12 and len(tickets) == N_TICKETS
    assert set(tickets[schema.SOURCE]) == {"hotline", "resident"}
    assert set(tickets[schema.STAGE]) == {"received", "closed"}
    first = city_tickets().iloc[0]
    stored = tickets.set_index(schema.TICKET_ID).loc[first["service_request_id"], schema.CREATED_AT]
    assert stored == pd.Timestamp(first["requested_datetime"], tz=CITY_ZONE), "naive times are the city's"

    joined = joins.join_to_grids(tickets, grids)
    as_of = metrics.data_as_of(joined)
    period = metrics.Period.from_dates(as_of.date() - timedelta(days=29), as_of.date(), CITY_ZONE)
    expected = metrics.headline_figures(
        grids,
        validate.empty_layer(schema.CAMERAS.name),
        joined,
        validate.empty_layer(schema.MEMBERS.name),
        period,
        as_of,
    )

    go_to(page, "Overview")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=120_000)
    assert_no_failure(page, "Overview with tickets")
    values = metric_values(page)
    assert values["Grids"] == f"{expected.grids:,}" == "12"
    assert values["Communities"] == f"{expected.communities:,}" == "3"
    assert values["Open tickets"] == f"{expected.open_tickets:,}"
    assert values["Overdue tickets"] == f"{expected.overdue_tickets:,}"
    assert values["Cameras online"] == "0 / 0" and values["Party members"] == "0"
    assert 0 < expected.tickets_in_period < N_TICKETS
    page.get_by_text(f"{expected.tickets_in_period:,} tickets in the period").wait_for(timeout=10_000)
    expect(side(page).get_by_text(re.compile(f"Data as of {as_of.date().isoformat()}.*{CITY_ZONE}"))).to_be_visible()
    page.screenshot(path=str(artifacts / "newcomer_overview.png"), full_page=True)
    assert page.offsite == [], f"requests left 127.0.0.1: {page.offsite[:5]}"
