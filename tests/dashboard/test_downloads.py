"""The CSV and Excel pair every table offers: what a click downloads is the table, neutralised."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import audit
from dashboard.components import downloads


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_HOME", str(tmp_path))  # where the downloads are audited


def test_both_files_hold_the_table_with_formulas_neutralised(monkeypatch):
    made = {}

    def capture(self, label, data, file_name, mime=None, **kwargs):
        made[file_name] = data() if callable(data) else data

    monkeypatch.setattr(DeltaGenerator, "download_button", capture)
    table = pd.DataFrame({"name": ['=HYPERLINK("http://x")', "东门"], "tickets": [3, 4]})
    downloads.table_downloads(table, "gridwatch_test", "gw_test", "Sheet")
    assert set(made) == {"gridwatch_test.csv", "gridwatch_test.xlsx"}
    text = made["gridwatch_test.csv"].decode("utf-8-sig")
    assert text.splitlines()[1].startswith("\"'=HYPERLINK") and "东门" in text
    book = openpyxl.load_workbook(io.BytesIO(made["gridwatch_test.xlsx"]))
    cells = [c for row in book.active.iter_rows() for c in row]
    assert [c for c in cells if c.data_type == "f"] == [] and cells[2].value.startswith("'=")


def test_a_row_of_files_is_named_and_keyed_by_extension_and_made_on_click(monkeypatch):
    made, calls = {}, []

    def capture(self, label, data, file_name, mime=None, **kwargs):
        assert kwargs["on_click"] == "ignore"  # a click does not rerun the page
        made[kwargs["key"]] = (label, file_name, mime, data)

    def report() -> bytes:
        calls.append("pdf")
        return b"%PDF"

    monkeypatch.setattr(DeltaGenerator, "download_button", capture)
    monkeypatch.setattr(st, "download_button", lambda *args, **kwargs: capture(None, *args, **kwargs))  # bound
    files = (
        downloads.Download("Report (PDF)", report, "pdf", "application/pdf"),
        downloads.Download("Sites", b"{}", "geojson", "application/geo+json"),
    )
    for stacked in (False, True):
        made.clear(), calls.clear()
        downloads.file_downloads("gridwatch_report", "gw_report", files, stacked=stacked)
        assert {k: v[:3] for k, v in made.items()} == {
            "gw_report_pdf": ("Report (PDF)", "gridwatch_report.pdf", "application/pdf"),
            "gw_report_geojson": ("Sites", "gridwatch_report.geojson", "application/geo+json"),
        }
        assert calls == []  # the PDF waits for its click
        assert made["gw_report_geojson"][3]() == b"{}" and made["gw_report_pdf"][3]() == b"%PDF"
    made_files = audit.entries(action="download")["target"].tolist()
    assert sorted(made_files) == ["gridwatch_report.geojson"] * 2 + ["gridwatch_report.pdf"] * 2  # each click audited
