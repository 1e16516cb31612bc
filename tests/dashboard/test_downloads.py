"""The CSV and Excel pair every table offers: what a click downloads is the table, neutralised."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
from streamlit.delta_generator import DeltaGenerator

from dashboard.components import downloads


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
