"""core.vector: GeoPackages and zipped shapefiles through GDAL (offline, generated names only)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from test_io import (
    HANGZHOU,
    feature_collection,
    point_feature,
    shapefile_parts,
    shapefile_zip,
    without_ldid,
    zipped,
)

from core.errors import ReadError
from core.io import list_layers, read_upload


def test_geopackage_layers(tmp_path, provinces):
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(provinces, path, layer="省会")
    pyogrio.write_dataframe(provinces.to_crs(3857), path, layer="mercator", append=False)
    data = path.read_bytes()
    assert list_layers("two.gpkg", data) == ("省会", "mercator")
    first = read_upload("two.gpkg", data)
    assert first.layer == "省会" and first.frame["名称"].tolist()[0] == "北京市"
    second = read_upload("two.gpkg", data, layer="mercator")
    assert second.source_crs == "EPSG:3857"
    assert np.allclose(second.frame.geometry.x, provinces.geometry.x)
    with pytest.raises(ReadError, match="no layer `nope`; its layers are: 省会, mercator"):
        read_upload("two.gpkg", data, layer="nope")


def test_fake_geopackage_is_refused():
    with pytest.raises(ReadError, match="not a GeoPackage"):
        read_upload("x.gpkg", b"hello")


def test_gbk_dbf_without_cpg_is_detected(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path, encoding="GBK")
    del parts[".cpg"], parts[".prj"]
    result = read_upload("省.zip", shapefile_zip(parts))
    assert (result.encoding, result.encoding_origin) == ("gbk", "detected")
    assert result.frame["名称"].tolist() == ["北京市", "浙江省", "广东省"]
    assert (result.source_crs, result.crs_origin) == ("EPSG:4326", "inferred")


def test_ldid_code_page_is_used(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path, encoding="GBK")
    del parts[".cpg"]
    parts[".dbf"] = without_ldid(parts[".dbf"], 0x4D)
    result = read_upload("省.zip", shapefile_zip(parts))
    assert (result.encoding, result.encoding_origin) == ("gbk", "file")
    assert result.frame["名称"].tolist()[1] == "浙江省"


def test_western_code_page_in_the_header_must_be_confirmed(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path, encoding="GBK")
    del parts[".cpg"]
    parts[".dbf"] = without_ldid(parts[".dbf"], 0x57)  # "ANSI", as ArcGIS writes on any system
    result = read_upload("省.zip", shapefile_zip(parts))
    assert (result.encoding, result.encoding_origin) == ("cp1252", "file")
    assert any("often GBK" in c for c in result.confirm)
    assert read_upload("省.zip", shapefile_zip(parts), encoding="GBK").frame["名称"].iloc[0] == "北京市"


def test_encoding_override_beats_detection(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path, encoding="GBK")
    del parts[".cpg"]
    result = read_upload("省.zip", shapefile_zip(parts), encoding="gb18030")
    assert (result.encoding, result.encoding_origin) == ("gb18030", "user")
    assert result.frame["名称"].tolist()[0] == "北京市"


def test_utf8_dbf_without_cpg_is_not_mojibake(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path, encoding="UTF-8")
    del parts[".cpg"]
    result = read_upload("省.zip", shapefile_zip(parts))
    assert result.encoding == "utf-8" and result.frame["名称"].tolist()[2] == "广东省"


def test_character_cut_by_the_field_width_is_dropped(tmp_path, provinces):
    parts = shapefile_parts(provinces.assign(名称=["北京市", "浙江省", "广东省"]), tmp_path, encoding="UTF-8")
    del parts[".cpg"]
    dbf = bytearray(parts[".dbf"])
    end = dbf.find("广东省".encode()) + len("广东省".encode())
    dbf[end - 1] = 0x20  # the last character loses its last byte, as a too-narrow field does
    parts[".dbf"] = bytes(dbf)
    result = read_upload("省.zip", shapefile_zip(parts))
    assert result.encoding == "utf-8" and result.frame["名称"].tolist() == ["北京市", "浙江省", "广东"]
    assert any("1 text value(s) held bytes that are not valid UTF-8" in n for n in result.notes)


def test_wrong_encoding_choice_is_refused(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path, encoding="GBK")
    del parts[".cpg"]
    with pytest.raises(ReadError, match=r"3 of 3 text values .* not valid UTF-8. Pick the encoding"):
        read_upload("省.zip", shapefile_zip(parts), encoding="utf-8")


def test_cst_and_extra_files(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path, encoding="GBK")
    del parts[".cpg"]
    parts[".cst"] = b"GBK"
    data = shapefile_zip(
        parts,
        **{
            "layer.sbn": b"\0" * 10,
            "layer.shp.xml": b"<metadata/>",
            "说明.txt": "说明".encode(),
            "__MACOSX/._layer.shp": b"junk",
        },
    )
    result = read_upload("a.zip", data)
    assert (result.encoding, result.encoding_origin) == ("gbk", "file")
    assert result.layers == ("layer",) and result.frame["名称"].tolist()[0] == "北京市"


def test_several_shapefiles_are_layers_and_gbk_member_names(tmp_path, provinces):
    a = shapefile_parts(provinces, tmp_path, encoding="UTF-8", stem="a")
    b = shapefile_parts(provinces.iloc[:1], tmp_path, encoding="UTF-8", stem="b")
    files = {**{f"数据/街道{s}": blob for s, blob in a.items()}, **{f"数据/社区{s}": blob for s, blob in b.items()}}
    data = zipped(files, gbk_names=True)
    assert list_layers("layers.zip", data) == ("数据/街道", "数据/社区")
    assert len(read_upload("layers.zip", data, layer="数据/社区").frame) == 1
    assert len(read_upload("layers.zip", data).frame) == 3


def test_shapefile_projected_prj_is_converted(tmp_path, provinces):
    parts = shapefile_parts(provinces.to_crs(2263), tmp_path)
    result = read_upload("ny.zip", shapefile_zip(parts))
    assert result.source_crs == "EPSG:2263"
    assert np.allclose(result.frame.geometry.y, provinces.geometry.y, atol=1e-6)
    assert "converted from EPSG:2263 (NAD83 / New York Long Island (ftUS)) to WGS84 lon/lat (EPSG:4326)" in result.notes


def test_shapefile_without_shx_or_dbf_is_refused(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path)
    del parts[".shx"]
    with pytest.raises(ReadError, match=r"has no \.shx file in the zip"):
        read_upload("a.zip", shapefile_zip(parts))


def test_gdal_sees_only_generated_names_and_temp_dirs_are_removed(monkeypatch, in_process, tmp_path, provinces):
    seen = []
    real_read = pyogrio.read_dataframe

    def spy(source, **kwargs):
        seen.append(source)
        return real_read(source, **kwargs)

    monkeypatch.setattr(pyogrio, "read_dataframe", spy)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    gpkg = tmp_path / "x.gpkg"
    pyogrio.write_dataframe(provinces, gpkg)
    parts = shapefile_parts(provinces, tmp_path)
    read_upload("/vsicurl/http:/192.0.2.1/x.zip", shapefile_zip(parts, stem="vsizip:evil"))
    read_upload("../../x.gpkg", gpkg.read_bytes())
    read_upload("/etc/passwd.geojson", feature_collection([point_feature(*HANGZHOU)]))
    with pytest.raises(ReadError):
        read_upload("broken.gpkg", b"SQLite format 3\x00" + b"\0" * 200)
    assert len(seen) == 3
    assert [Path(s).name for s in seen if not isinstance(s, bytes)] == ["upload.shp", "upload.gpkg"]
    assert list((tmp_path / "tmp").iterdir()) == []
