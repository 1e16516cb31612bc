"""Coverage page in a real browser: the district figures equal core's, the map carries the camera views,
the lost coverage and — for the 15-minute circle — the unserved areas (the gaps layer), a road file
without lines is refused with a clear message, and a siting run shows core's optimal answer and
downloads its sites."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core import joins, metrics, schema, siting, viewsheds
from core.reach import WalkSettings, service_reach, unserved_areas
from core.siting_inputs import lattice_candidates, ticket_demand
from geodata import load_demo


@pytest.fixture(scope="module")
def expected():
    layers = load_demo()
    grids = layers[schema.GRIDS.name]
    cameras = joins.join_to_grids(layers[schema.CAMERAS.name], grids)
    tickets = joins.join_to_grids(layers[schema.TICKETS.name], grids)
    services = layers[schema.SERVICE_POINTS.name]
    as_of = metrics.data_as_of(tickets)
    cams = viewsheds.camera_coverage(grids, cameras, tickets, as_of=as_of)
    reach = service_reach(grids, services, WalkSettings())
    unserved = unserved_areas(grids, services, None, WalkSettings())
    recent = tickets[
        metrics.registered_mask(tickets)
        & tickets[schema.ASSIGNED].astype(bool)
        & (tickets[schema.CREATED_AT] > as_of - pd.Timedelta(days=viewsheds.TICKET_DAYS))
    ]
    model = siting.MaximalCovering.from_geodataframes(
        ticket_demand(recent),
        lattice_candidates(grids, 50.0),
        60.0,
        5,
        existing=cameras[cameras[schema.STATUS] == "online"],
    )
    return grids, cameras, cams, reach, unserved, model.solve()


def coloured(map_ready, page, check: str):
    """The map frame once its grids are coloured and ``check`` (JavaScript) holds."""
    return map_ready(page, f"window.gwp && gwp.updated && ({check})")


def test_figures_layers_and_siting(page, app_url, expected, artifacts, tmp_path, metric_values, map_ready, choose):
    grids, cameras, cams, reach, unserved, solved = expected
    page.goto(f"{app_url}/coverage", wait_until="domcontentloaded")
    frame = coloured(map_ready, page, f"gwp.count === {len(grids)} && gwp.overlays && gwp.overlays.length >= 6")
    values = metric_values(page)
    area = cams["covered_area_km2"] / cams["covered_share"]
    assert values["Area seen by online cameras"] == f"{cams['covered_area_km2'].sum() / area.sum():.1%}"
    assert (
        values["Tickets in camera view (90 days)"]
        == f"{cams['tickets_in_view'].sum() / cams['tickets_recent'].sum():.1%}"
    )
    assert (
        values["Residents within the 15-minute circle"]
        == f"{reach['any_served'].sum() / grids[schema.POPULATION].sum():.1%}"
    )
    views_online, views_down = frame.evaluate("gwp.overlays")[:2]
    assert views_online == (cameras[schema.STATUS] == "online").sum()
    assert views_down == (cameras[schema.STATUS] != "online").sum()
    switch = frame.locator(".leaflet-control-layers").inner_text()
    assert "Camera views (online)" in switch and "Unserved: Any service point" in switch

    choose(page.get_by_role("combobox", name="Map shows"), "Residents within 15 min of the chosen kind (%)")
    frame = coloured(map_ready, page, "gwp.title.startsWith('Residents within 15 min')")
    unserved_on = frame.evaluate("""() => { const labels = [...document.querySelectorAll(
        '.leaflet-control-layers-overlays label')]; const l = labels.find(x => x.innerText.includes('Unserved'));
        return l.querySelector('input').checked; }""")
    assert unserved_on, "the gaps layer is switched on with the 15-minute measure"
    assert frame.evaluate("gwp.overlays")[5] == len(unserved)
    page.screenshot(path=artifacts / "coverage_gaps.png", full_page=True)

    points = tmp_path / "roads.geojson"
    points.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [120.2, 30.3]}}
                ],
            }
        ),
        encoding="utf-8",
    )
    page.get_by_text("Settings: walking", exact=False).click()
    page.locator('[data-testid="stFileUploader"]').first.locator("input[type=file]").set_input_files(points)
    page.get_by_text("This file has no lines (found: Point)").wait_for(timeout=30_000)

    page.get_by_role("button", name="Find sites").click()
    page.get_by_text("Proven optimal", exact=False).wait_for(timeout=120_000)
    values = metric_values(page)
    assert values["Gap to the best possible"] == "0.00%"
    assert values["Greedy baseline adds"] == f"{solved.greedy_objective:,.0f}"
    assert values["Covered with the new sites"] == f"{solved.covered_after / solved.total:.1%}"
    assert page.get_by_text(f"+{solved.objective:,.0f} tickets").is_visible()
    frame = coloured(map_ready, page, f"gwp.overlays.length === 7 && gwp.overlays[6] === {len(solved.chosen)}")
    with page.expect_download() as geojson:
        page.get_by_role("button", name="Sites (GeoJSON)").click()
    sites = json.loads(Path(geojson.value.path()).read_text(encoding="utf-8"))
    assert [f["properties"]["candidate_id"] for f in sites["features"]] == list(solved.chosen_ids)
    page.screenshot(path=artifacts / "coverage_siting.png", full_page=True)
    assert page.offsite == []
