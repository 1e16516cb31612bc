"""The CSV and Excel pair every table offers. Both files are made when their button is clicked (not on
every rerun) and go through ``core.exports``, so a cell a spreadsheet would run is neutralised."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import exports
from dashboard import data, state
from dashboard.i18n import t

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_downloads(frame: pd.DataFrame, name: str, key: str, sheet: str) -> None:
    """Download buttons for ``frame`` as ``<name>.csv`` and ``<name>.xlsx`` (sheet ``sheet``)."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        t("perf.csv"),
        lambda: exports.csv_bytes(frame),
        f"{name}.csv",
        "text/csv",
        key=state.key_of(key, "csv"),
        on_click="ignore",
    )
    right.download_button(
        t("perf.xlsx"),
        lambda: data.xlsx_bytes(frame, sheet),
        f"{name}.xlsx",
        XLSX,
        key=state.key_of(key, "xlsx"),
        on_click="ignore",
    )
