"""Patrols page in a real browser: the compliance figures equal core's, the roster map and its CSV, a
bad roster import listed row by row, and the redesign — both maps drawn, the proposal contiguous and
better balanced, its roster downloaded (CSV and Excel) and adopted."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import Error as PlaywrightError

from core import joins, metrics, patrol, schema
from geodata import load_demo
from geodata.generate import load_demo_assignments

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture(scope="module")
def expected():
    layers = load_demo()
    grids, teams = layers[schema.GRIDS.name], layers[schema.PATROL_TEAMS.name]
    checkins = joins.join_to_grids(layers[schema.PATROL_CHECKINS.name], grids)
    as_of = metrics.data_as_of(layers[schema.TICKETS.name])
    period = metrics.Period.from_dates(as_of.date() - timedelta(days=29), as_of.date())
    roster = load_demo_assignments()
    per_team = patrol.nights_missed(patrol.compliance(checkins, roster, teams, patrol.nights_in(period)))
    return grids, teams, roster, per_team


def drawn_maps(page, count: int, units: int) -> list:
    """The first ``count`` map frames once each has its ``units`` grids coloured."""
    deadline = time.monotonic() + 120
    while True:
        try:
            frames = [h.content_frame() for h in page.query_selector_all(MAP_FRAME)]
            frames = [f for f in frames if f is not None]
            if len(frames) >= count:
                for frame in frames[:count]:
                    frame.wait_for_function(f"() => window.gwp && gwp.updated && gwp.count === {units}", timeout=5_000)
                return frames[:count]
        except PlaywrightError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} drawn maps expected")
        page.wait_for_timeout(500)


def test_compliance_roster_and_redesign(page, app_url, expected, artifacts, tmp_path, metric_values):
    grids, teams, roster, per_team = expected
    page.goto(f"{app_url}/patrols", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Patrols").wait_for(timeout=120_000)
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)
    values = metric_values(page)
    due = per_team["nights"].sum() - per_team["called_off"].sum()
    assert values["Nights signed in"] == f"{per_team['signed_in'].sum() / due:.1%}"
    assert values["Team-nights missed"] == str(per_team["missed"].sum())
    assert values["Sign-ins outside own grids"] == str(per_team["outside_sign_ins"].sum())

    page.get_by_role("tab", name="Roster").click()
    (frame,) = drawn_maps(page, 1, len(grids))
    colours = pd.Series(frame.evaluate("gwp.fills"))
    assert colours.nunique() == len(teams) and "#f0f0f0" not in set(colours)  # every grid has a team
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Download roster (CSV)").click()
    downloaded = pd.read_csv(csv_download.value.path(), dtype=str, encoding="utf-8-sig")
    assert sorted(zip(downloaded["team_id"], downloaded["grid_id"])) == sorted(
        zip(roster[schema.TEAM_ID], roster[schema.GRID_ID])
    )

    bad = tmp_path / "roster.csv"
    bad.write_bytes("队伍编号,网格编号\nXF01,33019900500101\nXF99,33019900500102\nXF02,12345\n".encode("gbk"))
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(bad)
    page.get_by_role("button", name="Check and save").click()
    problems = page.locator('[data-testid="stTable"]').first
    problems.wait_for(timeout=30_000)
    text = problems.inner_text()
    assert "unknown team(s) XF99" in text and "unknown grid(s) 12345" in text
    assert "3" in text and "4" in text  # the file's rows of the two bad lines

    page.get_by_role("tab", name="Redesign districts").click()
    page.get_by_role("button", name="Propose districts").click()
    page.get_by_text("Proposal ready in").wait_for(timeout=120_000)
    drawn_maps(page, 3, len(grids))  # the roster tab's map, then the current and the proposed districts
    summary = {}
    for row in page.locator('[data-testid="stTable"]').last.locator("tbody tr").all():
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        summary[cells[0]] = cells[1:]
    assert summary["All connected"] == ["no", "yes"]  # the demo's dealt communities leave one team in two pieces
    assert float(summary["Workload max/min"][1]) < float(summary["Workload max/min"][0])
    page.screenshot(path=artifacts / "patrols_redesign.png", full_page=True)

    with page.expect_download() as proposal_csv:
        page.get_by_role("button", name="Download roster (CSV)").last.click()
    proposal = pd.read_csv(proposal_csv.value.path(), dtype=str, encoding="utf-8-sig")
    assert sorted(proposal["grid_id"]) == sorted(grids[schema.GRID_ID])
    assert set(proposal["team_id"]) == set(teams[schema.TEAM_ID])
    with page.expect_download() as proposal_xlsx:
        page.get_by_role("button", name="Download roster (Excel)").last.click()
    rows = list(openpyxl.load_workbook(io.BytesIO(Path(proposal_xlsx.value.path()).read_bytes())).active.values)
    assert rows[0][:2] == ("Team code", "Team") and len(rows) == len(grids) + 1

    page.get_by_role("button", name="Adopt as the duty roster").click()
    page.get_by_text(f"Duty roster saved: {len(grids)} grids.").wait_for(timeout=60_000)
    assert page.offsite == []
