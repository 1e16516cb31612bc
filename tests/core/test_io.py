"""core.io, the reading façade: its public API, the dispatch by format, the Arrow transport from the read
worker. Builders of upload files shared by the tests of the modules behind it (test_vector.py, …)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from core import archives, columns, coords, formats, vector
from core import io as gio
from core.errors import ReadError
from core.io import read_upload, table_columns

HANGZHOU = (120.1570240345, 30.2674745534)


def test_the_upload_api_is_all_in_core_io():
    assert gio.suggest_mapping is columns.suggest_mapping and gio.apply_mapping is columns.apply_mapping
    assert gio.detect_datum_offset is coords.detect_datum_offset and gio.OffsetGuess is coords.OffsetGuess
    assert {
        "read_upload",
        "list_layers",
        "table_columns",
        "ReadResult",
        "convert_datum",
        "gcj02_to_wgs84",
        "bd09_to_wgs84",
        "wgs84_to_gcj02",
    } <= set(gio.__all__)


def test_the_limits_live_where_they_are_enforced():
    assert formats.MAX_UPLOAD_BYTES == 200 * 2**20 and "MAX_UPLOAD_BYTES" in formats.__all__
    assert (archives.MAX_ZIP_MEMBERS, archives.MAX_UNZIPPED_BYTES, archives.MAX_COMPRESSION_RATIO) == (
        2_000,
        2**30,
        200,
    )
    assert "OFFLINE_GDAL" in vector.__all__ and vector.OFFLINE_GDAL["PROJ_NETWORK"] == "OFF"


# ---- builders -----------------------------------------------------------------------------------


def zipped(files: dict[str, bytes], *, gbk_names: bool = False) -> bytes:
    """A zip of ``files``; with ``gbk_names`` member names are stored in GBK without the UTF-8 flag, as
    Chinese Windows zip tools do."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, blob in files.items():
            info = _GbkZipInfo(member) if gbk_names else zipfile.ZipInfo(member)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, blob)
    return buf.getvalue()


class _GbkZipInfo(zipfile.ZipInfo):
    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits


def shapefile_parts(
    frame: gpd.GeoDataFrame, tmp_path: Path, *, encoding: str | None = None, stem: str = "layer"
) -> dict[str, bytes]:
    """The files of ``frame`` written as a shapefile, keyed by suffix."""
    folder = tmp_path / f"shp_{stem}"
    folder.mkdir()
    pyogrio.write_dataframe(frame, folder / "layer.shp", encoding=encoding)
    return {path.suffix: path.read_bytes() for path in folder.iterdir()}


def shapefile_zip(parts: dict[str, bytes], stem: str = "layer", **extra: bytes) -> bytes:
    return zipped({**{f"{stem}{suffix}": blob for suffix, blob in parts.items()}, **extra})


def without_ldid(dbf: bytes, ldid: int = 0) -> bytes:
    return dbf[:29] + bytes([ldid]) + dbf[30:]


def feature_collection(features: list[dict], **extra) -> bytes:
    return json.dumps({"type": "FeatureCollection", **extra, "features": features}, ensure_ascii=False).encode("utf-8")


def point_feature(lon: float, lat: float, **properties) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


# ---- dispatch by format -------------------------------------------------------------------------


def test_zip_holding_another_format():
    data = zipped({"events.geojson": feature_collection([point_feature(*HANGZHOU)]), "readme.txt": b"hi"})
    assert len(read_upload("events.zip", data).frame) == 1
    with pytest.raises(ReadError, match="several layers in different files"):
        read_upload("two.zip", zipped({"a.geojson": b"{}", "b.kml": b"<kml/>"}))


# ---- table headers, and the way back from the worker --------------------------------------------


def test_table_columns_list_the_header_even_without_coordinates():
    text = "名称,位置,备注\n甲,somewhere,x\n"
    assert table_columns("t.csv", text.encode("gbk")) == ("名称", "位置", "备注")
    assert table_columns("t.csv", b"a;b\n1;2\n") == ("a", "b")
    assert table_columns("g.geojson", b'{"type": "FeatureCollection", "features": []}') == ()


def test_a_read_comes_back_from_the_worker_as_arrow_or_as_it_is():
    """Frames travel back from the read worker as Arrow (faster than pickled geometries) and equal the
    frame read; one Arrow cannot hold (a column of mixed Python types) travels as it is."""
    from core.io import _ArrowFrame

    frame = gpd.GeoDataFrame(
        {"name": ["东门", None], "n": [1.5, np.nan]}, geometry=shapely.points([(120.1, 30.2), (120.2, 30.3)]), crs=4326
    )
    packed = _ArrowFrame.of(frame)
    assert isinstance(packed, _ArrowFrame)
    back = packed.restored()
    assert back.crs == frame.crs and back.geometry.geom_equals(frame.geometry).all()
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")), pd.DataFrame(frame.drop(columns="geometry"))
    )
    mixed = frame.assign(code=pd.Series([1, "a"], dtype=object))
    assert _ArrowFrame.of(mixed) is mixed
