"""core.formats: the kind of a file by its extension and first bytes; the upload size limit."""

from __future__ import annotations

import pytest

from core import formats
from core.errors import ReadError
from core.io import read_upload


def test_old_excel_is_refused():
    with pytest.raises(ReadError, match=r"\.xls.*save it as \.xlsx"):
        read_upload("old.xls", b"\xd0\xcf\x11\xe0 not really")


def test_bare_shp_is_refused():
    for part in ("roads.shp", "roads.dbf"):
        with pytest.raises(ReadError, match=r"one part of a shapefile.*\.zip"):
            read_upload(part, b"\0" * 100)


def test_oversized_and_empty_uploads_are_refused(monkeypatch):
    monkeypatch.setattr(formats, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ReadError, match="uploads are limited to"):
        read_upload("big.geojson", b"x" * 11)
    with pytest.raises(ReadError, match="is empty"):
        read_upload("empty.csv", b"")


def test_not_a_zip_and_unknown_extension_are_refused():
    with pytest.raises(ReadError, match="not a zip archive"):
        read_upload("a.zip", b"plain text")
    with pytest.raises(ReadError, match="does not read"):
        read_upload("a.dwg", b"AC1015")
