"""Download buttons: the CSV and Excel pair every table offers, and any other row of files (a report as
PDF and HTML, proposed sites as CSV and GeoJSON). A file given as a callable is made when its button is
clicked, not on every rerun; tables go through ``core.exports``, so a cell a spreadsheet would run is
neutralised. Every file made is recorded in the audit log (``download``: the signed-in account, the
workspace view, the file's name)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core import audit, exports
from dashboard import data, state
from dashboard.i18n import t

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Download:
    """One file of a row of downloads: ``<name>.<extension>``, keyed ``<key>_<extension>``."""

    label: str
    content: bytes | Callable[[], bytes]  # a callable runs when the button is clicked
    extension: str
    mime: str


def file_downloads(name: str, key: str, files: Sequence[Download], *, stacked: bool = False) -> None:
    """A button per file, side by side at the left of the page (``stacked``: one under another, where
    the caller placed them). Clicking one does not rerun the page."""
    boxes = [st] * len(files) if stacked else st.columns([1] * len(files) + [4])
    account = st.session_state.get(state.ACCOUNT)
    selection = st.session_state.get(state.SELECTION)
    for box, file in zip(boxes, files):
        box.download_button(
            file.label,
            _audited(file, f"{name}.{file.extension}", account, selection),
            f"{name}.{file.extension}",
            file.mime,
            key=state.key_of(key, file.extension),
            on_click="ignore",
        )


def _audited(file: Download, filename: str, account, selection) -> Callable[[], bytes]:
    """``file``'s content, made on click and recorded as a download of ``account`` (captured when the
    button is drawn: the click is served outside the page's run)."""

    def made() -> bytes:
        content = file.content() if callable(file.content) else file.content
        who = account.username if account is not None else "?"
        audit.record("download", who, workspace=getattr(selection, "workspace", None), target=filename)
        return content

    return made


def table_files(
    csv: Callable[[], bytes], xlsx: Callable[[], bytes], csv_label: str, xlsx_label: str
) -> tuple[Download, Download]:
    """The CSV and Excel pair, each made on click by its callable."""
    return Download(csv_label, csv, "csv", "text/csv"), Download(xlsx_label, xlsx, "xlsx", XLSX)


def table_downloads(frame: pd.DataFrame, name: str, key: str, sheet: str) -> None:
    """Download buttons for ``frame`` as ``<name>.csv`` and ``<name>.xlsx`` (sheet ``sheet``)."""
    files = table_files(
        lambda: exports.csv_bytes(frame), lambda: data.xlsx_bytes(frame, sheet), t("perf.csv"), t("perf.xlsx")
    )
    file_downloads(name, key, files)
