"""Tables read as text: CSV (and TSV, semicolon or pipe separated) and XLSX sheets, into a DataFrame of
strings with stripped headers.

The code base's one header normaliser (:func:`normalised_header`, used to match column headers in uploads,
the column mapping and the roster import) and one delimiter sniffer (:func:`sniff_delimiter`) live here.
XLSX workbooks are zip archives and are checked like any zip before openpyxl opens them.

Not here: geometry from the table's columns (``core.table_geometry``), mapping its columns onto a layer
(``core.columns``), text decoding itself (``core.encodings``).
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO, StringIO

import pandas as pd

from core import encodings
from core.archives import open_zip
from core.errors import ReadError
from core.formats import basename

__all__ = [
    "normalised_header",
    "opening_xlsx",
    "read_csv_table",
    "read_xlsx_table",
    "sniff_delimiter",
    "table_header",
    "xlsx_sheets",
]

_DELIMITERS = (",", "\t", ";", "|")  # in this order: a tie goes to the comma


def normalised_header(header: str) -> str:
    """A column header for matching: lower case, no bracketed units ("上报时间（北京时间）" is 上报时间),
    no spaces or punctuation (``Grid ID``, ``grid_id`` and ``grid-id`` are all ``gridid``)."""
    header = re.sub(r"[(（\[【].*?[)）\]】]", "", str(header)).lower()
    return re.sub(r"[\s_\-.:：/\\]", "", header)


def sniff_delimiter(text: str) -> str:
    """The delimiter of a delimited text table: whichever of comma, tab, semicolon and pipe its first line
    holds most often (a comma when none, or on a tie)."""
    first_line = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=first_line.count)


def read_csv_table(name: str, data: bytes, encoding: str | None) -> tuple[pd.DataFrame, str, str]:
    """(table of strings, encoding, origin) of a CSV upload (``encoding``: the user's codec, else
    detected), or ReadError."""
    text, encoding, origin = encodings.decode_upload(name, data, encoding)
    try:
        table = pd.read_csv(StringIO(text), sep=sniff_delimiter(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReadError(
            f"`{basename(name)}` is not a readable table ({str(exc).strip()[:160]}). Check "
            "that every row has the same columns as the header, then upload again.",
            code="table_unreadable",
            params={"name": basename(name), "reason": str(exc).strip()[:160]},
        ) from None
    table.columns = [str(c).strip() for c in table.columns]
    return table, encoding, origin


@contextmanager
def opening_xlsx(name: str, data: bytes) -> Iterator[None]:
    """Guard an openpyxl read: the archive is checked like any zip first; broken workbooks become
    ReadError. openpyxl's UserWarnings are about styles and extensions it skips (no default style, data
    validation, …); they do not change cell values, so they are not passed on."""
    open_zip(name, data)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        try:
            yield
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ReadError(
                f"`{basename(name)}` is not a readable Excel workbook ({str(exc)[:120]}). Save it again as .xlsx.",
                code="excel_unreadable",
                params={"name": basename(name), "reason": str(exc)[:120]},
            ) from None


def xlsx_sheets(name: str, data: bytes) -> tuple[str, ...]:
    """The sheet names of a workbook, in order."""
    with opening_xlsx(name, data):
        return tuple(str(s) for s in pd.ExcelFile(BytesIO(data), engine="openpyxl").sheet_names)


def read_xlsx_table(name: str, data: bytes, sheet: str) -> pd.DataFrame:
    """The sheet ``sheet`` of a workbook as a table of strings."""
    with opening_xlsx(name, data):
        table = pd.read_excel(BytesIO(data), sheet_name=sheet, dtype=str, engine="openpyxl")
    table.columns = [str(c).strip() for c in table.columns]
    return table


def table_header(name: str, data: bytes, kind: str, layer: str | None, encoding: str | None) -> tuple[str, ...]:
    """The stripped header of a ``kind`` "csv" or "xlsx" table (``layer``: the sheet, else the first;
    ``encoding``: a codec, else detected); () for any other kind."""
    if kind == "csv":
        text, _, _ = encodings.decode_upload(name, data, encoding)
        first_line = text.split("\n", 1)[0]
        header = pd.read_csv(StringIO(first_line), sep=sniff_delimiter(first_line), nrows=0, dtype=str)
    elif kind == "xlsx":
        sheets = xlsx_sheets(name, data)
        with opening_xlsx(name, data):
            header = pd.read_excel(
                BytesIO(data), sheet_name=layer if layer in sheets else sheets[0], nrows=0, engine="openpyxl"
            )
    else:
        return ()
    return tuple(str(c).strip() for c in header.columns)
