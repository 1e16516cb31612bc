"""Performance page in a real browser: district totals equal core's, the ranking, a drill-down that
lists exactly the tickets counted, and the Excel/CSV downloads and the meeting report (PDF, HTML) read
back."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from core import joins, metrics, schema
from geodata import load_demo

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture(scope="module")
def expected():
    layers = load_demo()
    grids = layers[schema.GRIDS.name]
    tickets = joins.join_to_grids(layers[schema.TICKETS.name], grids)
    as_of = metrics.data_as_of(tickets)
    period = metrics.Period.from_dates(as_of.date() - timedelta(days=29), as_of.date())
    by_grid = metrics.indicators(tickets, grids, period, as_of, "grid")
    table = metrics.ranking(by_grid, metrics.indicators(tickets, grids, metrics.previous_period(period), as_of))
    return grids, tickets, period, as_of, table


def test_ranking_drill_down_and_downloads(page, app_url, expected, artifacts):
    grids, tickets, period, as_of, table = expected
    page.goto(f"{app_url}/performance", wait_until="domcontentloaded")
    page.frame_locator(MAP_FRAME).locator(".gw-legend").wait_for(timeout=120_000)
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = dict(
        zip(
            [x.strip() for x in labels],
            [v.strip() for v in page.locator('[data-testid="stMetricValue"]').all_inner_texts()],
        )
    )
    assert values["Registered (立案)"] == f"{table['registered'].sum():,}"
    assert values["Due (应结案)"] == f"{table['due'].sum():,}"
    assert values["Closed on time"] == f"{table['on_time'].sum():,}"
    assert values["On-time rate %"] == f"{table['on_time'].sum() / table['due'].sum():.2%}"

    grid_table = page.locator('[data-testid="stDataFrame"]').first
    grid_table.scroll_into_view_if_needed()
    assert int(grid_table.locator("[role=grid]").get_attribute("aria-rowcount")) == len(grids) + 1  # + header
    top = table.index[0]
    name = grids.set_index(schema.GRID_ID).loc[top, schema.NAME]
    first_row = grid_table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first_row[0] == name and first_row[1] == "1"

    with page.expect_download() as xlsx_download:
        page.get_by_role("button", name="Download Excel").click()
    sheet = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    rows = list(sheet.values)
    assert rows[0][0] == "Unit" and len(rows) == len(grids) + 1 and rows[1][0] == name
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Download CSV").click()
    csv = pd.read_csv(csv_download.value.path(), encoding="utf-8-sig")
    assert len(csv) == len(grids) and csv["Registered (立案)"].sum() == table["registered"].sum()

    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Report (PDF)").click()
    pdf = PdfReader(pdf_download.value.path())
    text = " ".join(page_.extract_text() for page_ in pdf.pages)
    assert "Grid management performance report" in text and f"{table['registered'].sum():,}" in text
    assert name in text  # the top-ranked grid, in Chinese, in the ranking
    with page.expect_download() as html_download:
        page.get_by_role("button", name="Report (HTML)").click()
    report = Path(html_download.value.path()).read_text(encoding="utf-8")
    assert report.count("<svg") == 2 and "<script" not in report
    assert "http" not in report.replace("http://www.w3.org", ""), "the report loads nothing from the network"

    grid_table.scroll_into_view_if_needed()
    box = grid_table.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's marker
    caption = page.get_by_text("of Due (应结案)", exact=False).first  # closure rate: closed of due
    caption.wait_for(timeout=30_000)
    flags = metrics.ticket_flags(tickets, period, as_of)
    mine = (tickets[schema.GRID_ID] == top) & tickets[schema.ASSIGNED]
    due, closed = int((mine & flags["due"]).sum()), int((mine & flags["closed"]).sum())
    assert f"Closed (结案) {closed} of Due (应结案) {due}" in caption.inner_text()
    drill = page.locator('[data-testid="stDataFrame"]').nth(1)
    assert int(drill.locator("[role=grid]").get_attribute("aria-rowcount")) == due + 1
    page.screenshot(path=artifacts / "performance_en.png")
    assert not page.offsite
