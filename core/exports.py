"""Tables as files a user downloads (CSV, Excel), with no cell a spreadsheet would run.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return — also after leading
spaces — is read by Excel, WPS and LibreOffice as a formula (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``).
Names come from uploaded files and residents, so every such cell gets a leading ``'`` (the OWASP
CSV-injection rule); numbers stay numbers. Every download in GridWatch goes through :func:`csv_bytes` or
:func:`xlsx_bytes`.
"""

from __future__ import annotations

import io
import re

import pandas as pd

__all__ = ["csv_bytes", "safe_cell", "safe_table", "xlsx_bytes"]

_FORMULA_START = re.compile(r"^\s*[=+\-@\t\r]")


def safe_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def safe_table(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells and column names are all inert (see :func:`safe_cell`)."""
    safe = table.rename(columns=lambda c: safe_cell(str(c)))
    for column in safe.columns[[not pd.api.types.is_numeric_dtype(d) for d in safe.dtypes]]:
        safe[column] = safe[column].map(safe_cell)
    return safe


def csv_bytes(table: pd.DataFrame) -> bytes:
    """``table`` as CSV (RFC 4180: CRLF rows, so a cell holding a line break is quoted) in UTF-8 with a
    byte-order mark, which Excel needs to show Chinese."""
    return safe_table(table).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_bytes(table: pd.DataFrame, sheet: str) -> bytes:
    """``table`` as an Excel workbook with one sheet named ``sheet`` (cut to Excel's 31 characters)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe_table(table).to_excel(writer, sheet_name=str(safe_cell(sheet))[:31], index=False)
    return buffer.getvalue()
