"""core.io: every accepted format and trap, built by hand in memory; column mapping; GCJ-02/BD-09."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from core import columns, coords, sandbox
from core import io as gio
from core.errors import ReadError
from core.io import apply_mapping, list_layers, read_upload, suggest_mapping, table_columns
from core.schema import DEFAULT_TIMEZONE

HANGZHOU = (120.1570240345, 30.2674745534)


def test_the_upload_api_is_all_in_core_io():
    assert gio.suggest_mapping is columns.suggest_mapping and gio.apply_mapping is columns.apply_mapping
    assert gio.detect_datum_offset is coords.detect_datum_offset and gio.OffsetGuess is coords.OffsetGuess
    assert {
        "read_upload",
        "list_layers",
        "ReadResult",
        "MAX_UPLOAD_BYTES",
        "convert_datum",
        "gcj02_to_wgs84",
        "bd09_to_wgs84",
        "wgs84_to_gcj02",
    } <= set(gio.__all__)


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


@pytest.fixture
def provinces() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": ["北京市", "浙江省", "广东省"], "代码": [110000, 330000, 440000]},
        geometry=[shapely.Point(116.4, 39.9), shapely.Point(120.15, 30.27), shapely.Point(113.26, 23.13)],
        crs="EPSG:4326",
    )


def feature_collection(features: list[dict], **extra) -> bytes:
    return json.dumps({"type": "FeatureCollection", **extra, "features": features}, ensure_ascii=False).encode("utf-8")


def point_feature(lon: float, lat: float, **properties) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


# ---- GeoJSON ------------------------------------------------------------------------------------


def test_geojson_is_wgs84_with_its_properties():
    result = read_upload("网格.geojson", feature_collection([point_feature(*HANGZHOU, 名称="灯芯巷网格1")]))
    assert (result.source_crs, result.crs_origin) == ("EPSG:4326", "file")
    assert result.frame.crs == "EPSG:4326"
    assert result.frame["名称"].tolist() == ["灯芯巷网格1"]
    assert (result.layers, result.layer, result.confirm) == (("网格",), "网格", ())


def test_geojson_named_crs_is_converted():
    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(*HANGZHOU)
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}}
    result = read_upload("gk.geojson", feature_collection([point_feature(x, y)], crs=crs))
    assert result.source_crs == "EPSG:4549"
    assert result.frame.geometry.x.iloc[0] == pytest.approx(HANGZHOU[0], abs=1e-7)
    assert any("converted from EPSG:4549" in note for note in result.notes)


def test_geojson_link_crs_is_never_followed():
    crs = {"type": "link", "properties": {"href": "http://192.0.2.1/crs.prj", "type": "proj4"}}
    result = read_upload("a.geojson", feature_collection([point_feature(*HANGZHOU)], crs=crs))
    assert result.source_crs == "EPSG:4326"
    assert any("crs" in c for c in result.confirm)


def test_geojson_in_gbk_is_decoded():
    data = feature_collection([point_feature(*HANGZHOU, 街道="石桥街道")]).decode().encode("gbk")
    result = read_upload("streets.geojson", data)
    assert (result.encoding, result.encoding_origin) == ("gbk", "detected")
    assert result.frame["街道"].tolist() == ["石桥街道"]


def test_multilinestring_boundaries_are_read_as_they_are():
    line = {
        "type": "MultiLineString",
        "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3]], [[120.2, 30.3], [120.1, 30.2]]],
    }
    result = read_upload("边界.geojson", feature_collection([{"type": "Feature", "geometry": line, "properties": {}}]))
    assert result.frame.geom_type.tolist() == ["MultiLineString"]


# ---- CSV ----------------------------------------------------------------------------------------


def test_csv_with_bom_and_chinese_lonlat_headers():
    text = "编号,经度,纬度,事件类型\n1,120.157,30.267,市容环境\n2,120.158,30.268,公平交易秩序\n"
    result = read_upload("事件.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert (result.encoding, result.encoding_origin) == ("utf-8-sig", "file")
    assert list(result.frame.columns) == ["编号", "经度", "纬度", "事件类型", "geometry"]
    assert result.frame.geometry.x.tolist() == [120.157, 120.158]
    assert result.frame["编号"].tolist() == ["1", "2"]  # codes stay text (leading zeros survive)
    assert (result.source_crs, result.crs_origin) == ("EPSG:4326", "inferred")
    assert any("GCJ-02" in c for c in result.confirm)


def test_csv_in_gbk_is_detected():
    text = "名称,lng,lat\n北京市,116.4,39.9\n浙江省,120.15,30.27\n"
    result = read_upload("cities.csv", text.encode("gbk"))
    assert (result.encoding, result.encoding_origin) == ("gbk", "detected")
    assert result.frame["名称"].tolist() == ["北京市", "浙江省"]
    assert "read as GBK" in result.notes


def test_csv_encoding_override():
    data = "名称,lon,lat\n北京市,116.4,39.9\n".encode("gb18030")
    result = read_upload("c.csv", data, encoding="GB18030")
    assert (result.encoding, result.encoding_origin) == ("gb18030", "user")
    assert result.frame["名称"].tolist() == ["北京市"]
    with pytest.raises(ReadError, match="not valid UTF-8"):
        read_upload("c.csv", data, encoding="utf-8")
    with pytest.raises(ReadError, match="not a text encoding"):
        read_upload("c.csv", data, encoding="klingon")


def test_csv_multiline_quoted_fields():
    text = 'id,lon,lat,描述\n1,120.1,30.2,"第一行\n第二行, 带逗号"\n2,120.2,30.3,简单\n'
    result = read_upload("t.csv", text.encode())
    assert len(result.frame) == 2
    assert result.frame["描述"].iloc[0] == "第一行\n第二行, 带逗号"


def test_csv_semicolon_and_tab_delimiters():
    for sep in (";", "\t"):
        text = sep.join(["id", "x", "y"]) + "\n" + sep.join(["a", "120.1", "30.2"]) + "\n"
        assert read_upload("t.csv", text.encode()).frame.geometry.y.tolist() == [30.2]


def test_lat_lon_text_like_chicago_open_data():
    text = 'ID,Location\n1,"(41.8781, -87.6298)"\n2,"(41.85, -87.65)"\n'
    result = read_upload("chicago.csv", text.encode())
    assert result.frame.geometry.x.tolist() == [-87.6298, -87.65]
    assert result.frame.geometry.y.tolist() == [41.8781, 41.85]
    assert any("read as (latitude, longitude)" in n for n in result.notes)


def test_coordinate_pair_order_is_told_by_ranges_in_china():
    text = '名称,坐标\n甲,"120.15,30.27"\n乙,"120.16,30.28"\n'
    result = read_upload("pts.csv", text.encode())
    assert result.frame.geometry.x.tolist() == [120.15, 120.16]
    assert not any("could be latitudes" in n for n in result.notes)


def test_wkt_column_is_detected_and_dropped():
    text = (
        'name,shape\nA,"POLYGON ((120.1 30.2, 120.2 30.2, 120.2 30.3, 120.1 30.2))"\n'
        'B,"POINT (120.15 30.25)"\nC,not wkt\n'
    )
    result = read_upload("grids.csv", text.encode())
    assert result.frame.geom_type.tolist()[:2] == ["Polygon", "Point"]
    assert result.frame.geometry.iloc[2] is None
    assert "shape" not in result.frame.columns
    assert any("not valid WKT" in n for n in result.notes)


def test_ewkt_srid_is_the_file_crs():
    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(*HANGZHOU)
    text = f'id,wkt\n1,"SRID=4549;POINT ({x} {y})"\n'
    result = read_upload("gk.csv", text.encode())
    assert (result.source_crs, result.crs_origin) == ("EPSG:4549", "file")
    assert result.frame.geometry.x.iloc[0] == pytest.approx(HANGZHOU[0], abs=1e-7)


def test_explicit_columns_swapped_values_and_missing_coordinates():
    text = "a,b,c\n30.2,120.1,x\n,120.2,y\n30.3,120.3,z\n"
    result = read_upload("t.csv", text.encode(), x_column="a", y_column="b")
    assert result.frame.geometry.x.iloc[0] == 120.1  # swapped: b holds longitudes
    assert result.frame.geometry.iloc[1] is None
    assert "`b` holds the longitudes (values above 90 cannot be latitudes)" in result.notes
    assert any("1 row(s) have no usable coordinates" in n for n in result.notes)
    with pytest.raises(ReadError, match="no column `q`"):
        read_upload("t.csv", text.encode(), x_column="q", y_column="b")


def test_table_without_coordinates_is_refused():
    with pytest.raises(ReadError, match=r"no columns GridWatch recognises as coordinates.*名称"):
        read_upload("t.csv", "名称,人口\n甲,1\n".encode())


def test_csv_without_rows_is_refused():
    with pytest.raises(ReadError, match="has a header but no rows"):
        read_upload("t.csv", b"lon,lat\n")


def test_unparseable_csv_is_refused():
    with pytest.raises(ReadError, match="not a readable table"):
        read_upload("t.csv", b"a,b\n1,2\n3,4,5,6\n")


# ---- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_sheets_are_layers(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"说明": ["无坐标"]}).to_excel(writer, sheet_name="说明", index=False)
        pd.DataFrame(
            {"名称": ["甲", "乙"], "经度": [120.15, 120.16], "纬度": [30.27, 30.28], "编号": ["001", "002"]}
        ).to_excel(writer, sheet_name="摄像头", index=False)
    data = path.read_bytes()
    assert list_layers("book.xlsx", data) == ("说明", "摄像头")
    result = read_upload("book.xlsx", data, layer="摄像头")
    assert result.frame.geometry.y.tolist() == [30.27, 30.28]
    assert result.frame["编号"].tolist() == ["001", "002"]
    assert (result.layers, result.layer, result.encoding_origin) == (("说明", "摄像头"), "摄像头", "n/a")


def test_old_excel_is_refused():
    with pytest.raises(ReadError, match=r"\.xls.*save it as \.xlsx"):
        read_upload("old.xls", b"\xd0\xcf\x11\xe0 not really")


# ---- KML / KMZ ----------------------------------------------------------------------------------

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>下城区</name>
 <Schema name="s" id="s"><SimpleField name="网格编号" type="string"/></Schema>
 <Folder><name>摄像头</name>
  <Placemark><name>路口1</name>
   <ExtendedData><Data name="状态"><value>在线</value></Data></ExtendedData>
   <Point><coordinates>120.157,30.267,12.5</coordinates></Point></Placemark>
  <Placemark><name>路口2</name>
   <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="网格编号">DX-4-1</SimpleData></SchemaData>
   </ExtendedData>
   <Point><coordinates>120.158,30.268</coordinates></Point></Placemark>
 </Folder>
 <Folder><name>网格</name>
  <Placemark><name>网格1</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
   120.1,30.2,0 120.2,30.2,0 120.2,30.3,0 120.1,30.2,0</coordinates></LinearRing></outerBoundaryIs>
   <innerBoundaryIs><LinearRing><coordinates>120.15,30.22 120.16,30.22 120.16,30.23 120.15,30.22
   </coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>
  <Placemark><name>两段</name><MultiGeometry>
   <LineString><coordinates>120.1,30.2 120.2,30.2</coordinates></LineString>
   <LineString><coordinates>120.2,30.3 120.3,30.3</coordinates></LineString></MultiGeometry></Placemark>
 </Folder>
</Document></kml>""".encode()


def test_kml_folders_extended_data_and_z():
    assert list_layers("a.kml", KML) == ("摄像头", "网格")
    result = read_upload("a.kml", KML)
    frame = result.frame
    assert result.layer == "摄像头" and any("2 layers" in n for n in result.notes)
    assert frame["name"].tolist() == ["路口1", "路口2"]
    assert frame["状态"].tolist()[0] == "在线" and frame["网格编号"].tolist()[1] == "DX-4-1"
    assert not shapely.has_z(frame.geometry.array).any()
    assert "dropped Z coordinates (altitude) from 1 features" in result.notes
    grids = read_upload("a.kml", KML, layer="网格").frame
    assert grids.geom_type.tolist() == ["Polygon", "MultiLineString"]
    assert len(grids.geometry.iloc[0].interiors) == 1


def test_kmz_reads_its_document():
    result = read_upload("a.kmz", zipped({"doc.kml": KML, "files/icon.png": b"\x89PNG"}))
    assert len(result.frame) == 2 and result.source_crs == "EPSG:4326"


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE kml SYSTEM "http://192.0.2.1/kml.dtd">',
        '<!ENTITY lol "lol">',
    ],
)
def test_xml_declarations_are_refused(declaration):
    data = KML.replace(b"<kml ", declaration.encode() + b"<kml ", 1)
    with pytest.raises(ReadError, match="DOCTYPE or ENTITY"):
        read_upload("evil.kml", data)
    with pytest.raises(ReadError, match="DOCTYPE or ENTITY"):
        read_upload("evil.kmz", zipped({"doc.kml": data}))


# ---- GeoPackage ---------------------------------------------------------------------------------


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


# ---- zipped shapefiles --------------------------------------------------------------------------


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


def test_bare_shp_is_refused():
    for part in ("roads.shp", "roads.dbf"):
        with pytest.raises(ReadError, match=r"one part of a shapefile.*\.zip"):
            read_upload(part, b"\0" * 100)


def test_zip_holding_another_format():
    data = zipped({"events.geojson": feature_collection([point_feature(*HANGZHOU)]), "readme.txt": b"hi"})
    assert len(read_upload("events.zip", data).frame) == 1
    with pytest.raises(ReadError, match="several layers in different files"):
        read_upload("two.zip", zipped({"a.geojson": b"{}", "b.kml": b"<kml/>"}))


# ---- safety -------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["../evil.shp", "a/../../evil.shp", "/etc/evil.shp", "C:/evil.shp", "..\\evil.shp"])
def test_zip_slip_is_refused(member, tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path)
    data = zipped({**{f"layer{s}": b for s, b in parts.items()}, member: b"x"})
    with pytest.raises(ReadError, match="unsafe path"):
        read_upload("slip.zip", data)


def test_zip_bomb_is_refused():
    data = zipped({"bomb.shp": b"\0" * (20 * 2**20), "bomb.shx": b"", "bomb.dbf": b""})
    assert len(data) < 100_000
    with pytest.raises(ReadError, match=r"compressed .*:1 \(the limit is 200:1\)"):
        read_upload("bomb.zip", data)


@pytest.fixture
def in_process(monkeypatch):
    """Reads run in this process, so that monkeypatched limits and spies apply (the worker is forked
    from a fork server that imported ``core.io`` unpatched)."""
    monkeypatch.setattr(sandbox, "run", lambda label, function, *args: function(*args))


def test_zip_member_count_and_unpacked_size_limits(monkeypatch, in_process):
    data = zipped({f"f{i}.txt": b"x" * 100 for i in range(5)})
    monkeypatch.setattr(gio, "MAX_ZIP_MEMBERS", 4)
    with pytest.raises(ReadError, match="holds 5 files; archives are limited to 4"):
        read_upload("many.zip", data)
    monkeypatch.setattr(gio, "MAX_ZIP_MEMBERS", 2000)
    monkeypatch.setattr(gio, "MAX_UNZIPPED_BYTES", 400)
    with pytest.raises(ReadError, match="unpacks to"):
        read_upload("big.zip", data)


def test_oversized_and_empty_uploads_are_refused(monkeypatch):
    monkeypatch.setattr(gio, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ReadError, match="uploads are limited to"):
        read_upload("big.geojson", b"x" * 11)
    with pytest.raises(ReadError, match="is empty"):
        read_upload("empty.csv", b"")


def test_nested_zip_is_not_opened():
    inner = zipped({"a.csv": b"lon,lat\n1,2\n"})
    with pytest.raises(ReadError, match="archives inside archives are not opened"):
        read_upload("outer.zip", zipped({"inner.zip": inner}))


def test_not_a_zip_and_unknown_extension_are_refused():
    with pytest.raises(ReadError, match="not a zip archive"):
        read_upload("a.zip", b"plain text")
    with pytest.raises(ReadError, match="does not read"):
        read_upload("a.dwg", b"AC1015")


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


# ---- coordinate systems -------------------------------------------------------------------------


def gauss_kruger_csv(epsg: int) -> bytes:
    x, y = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(*HANGZHOU)
    return f"id,x,y\n1,{x:.3f},{y:.3f}\n".encode()


def test_gauss_kruger_with_zone_prefix_is_inferred():
    result = read_upload("gk.csv", gauss_kruger_csv(4528))  # 3° zone 40 (120°E), x = 40xxxxxx
    assert (result.source_crs, result.crs_origin) == ("EPSG:4528", "inferred")
    assert result.frame.geometry.x.iloc[0] == pytest.approx(HANGZHOU[0], abs=1e-6)
    assert any("zone number 40" in c for c in result.confirm)


def test_gauss_kruger_without_zone_needs_the_user():
    data = gauss_kruger_csv(4549)
    with pytest.raises(ReadError, match=r"without a zone number.*EPSG:4549"):
        read_upload("gk.csv", data)
    result = read_upload("gk.csv", data, crs="EPSG:4549")
    assert (result.source_crs, result.crs_origin) == ("EPSG:4549", "user")
    assert result.frame.geometry.y.iloc[0] == pytest.approx(HANGZHOU[1], abs=1e-6)


def test_user_crs_overrides_the_file(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path)  # .prj says EPSG:4326
    result = read_upload("a.zip", shapefile_zip(parts), crs="EPSG:4490")
    assert (result.source_crs, result.crs_origin) == ("EPSG:4490", "user")
    with pytest.raises(ReadError, match="not a coordinate system GridWatch knows"):
        read_upload("a.zip", shapefile_zip(parts), crs="EPSG:99999999")


def test_unknown_coordinates_are_refused():
    with pytest.raises(ReadError, match="neither longitude/latitude degrees nor Chinese Gauss-Krüger"):
        read_upload("t.csv", b"x,y\n50000000,1\n")


def test_prj_that_contradicts_the_numbers_is_refused(tmp_path, provinces):
    projected = provinces.to_crs(4549).set_crs(4326, allow_override=True)
    with pytest.raises(ReadError, match=r"the file says .* EPSG:4326.*not on Earth"):
        read_upload("a.zip", shapefile_zip(shapefile_parts(projected, tmp_path)))


# ---- Open311 ------------------------------------------------------------------------------------

OPEN311 = [
    {
        "service_request_id": "638344",
        "status": "closed",
        "service_name": "Sidewalk and Curb Issues",
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "lat": 37.762221815,
        "long": -122.4651145,
        "media_url": None,
    },
    {
        "service_request_id": "638349",
        "status": "open",
        "service_name": "Graffiti",
        "requested_datetime": "2010-04-19T06:37:38-08:00",
        "lat": 37.76,
        "long": -122.46,
        "attributes": [{"code": "x"}],
    },
    {
        "service_request_id": "638350",
        "status": "open",
        "service_name": "Pothole",
        "requested_datetime": "2010-04-19T07:00:00-08:00",
    },
]


def test_open311_requests_become_tickets():
    result = read_upload("requests.json", json.dumps(OPEN311).encode())
    frame = result.frame
    assert len(frame) == 3 and frame.geometry.iloc[2] is None
    assert frame.geometry.x.iloc[0] == pytest.approx(-122.4651145)
    assert result.source_crs == "EPSG:4326" and result.crs_origin == "file"
    mapping = suggest_mapping(list(frame.columns), "tickets")
    assert mapping == {
        "ticket_id": "service_request_id",
        "created_at": "requested_datetime",
        "category": "service_name",
        "stage": "status",
    }
    tickets = apply_mapping(frame, mapping, "tickets")
    assert tickets["stage"].tolist() == ["closed", "received", "received"]
    assert tickets["created_at"].iloc[0] == pd.Timestamp("2010-04-14 22:37:38", tz=DEFAULT_TIMEZONE)


def test_json_that_is_neither_geojson_nor_open311():
    with pytest.raises(ReadError, match="without Open311 fields"):
        read_upload("x.json", b'[{"a": 1}]')
    with pytest.raises(ReadError, match="not valid JSON"):
        read_upload("x.geojson", b'{"type": ')


def test_geojson_crs_member_is_read_without_parsing_the_whole_file_twice():
    from core.io import _leading_crs

    named = {
        "type": "FeatureCollection",
        "name": "x",
        "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"note": "{crs}"},
                "geometry": {"type": "Point", "coordinates": [13358338.9, 3503549.8]},
            }
        ],
    }
    declared, rest = _leading_crs(json.dumps(named))
    assert declared == {"type": "name", "properties": {"name": "EPSG:3857"}}
    assert json.loads(rest)["features"][0]["properties"]["note"] == "{crs}" and "crs" not in json.loads(rest)
    result = read_upload("x.geojson", json.dumps(named).encode())
    assert (result.source_crs, result.crs_origin) == ("EPSG:3857", "file")
    assert abs(result.frame.geometry.iloc[0].x - 120.0) < 1e-6
    # a "crs" that is only a property name cannot be told apart without parsing: the slow path reads it
    only_property = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"crs": "x"}, "geometry": {"type": "Point", "coordinates": [120, 30]}}
        ],
    }
    assert _leading_crs(json.dumps(only_property)) is None
    assert read_upload("y.geojson", json.dumps(only_property).encode()).frame["crs"].tolist() == ["x"]


def test_coordinates_at_the_end_of_an_address_text_are_found():
    text = (
        'ID,LOCATION\n1,"121 N LASALLE ST\nCHICAGO, IL 60602\n(41.8837, -87.6324)"\n'
        '2,"CHICAGO (IL) (41.85, -87.65)"\n3,\n'
    )
    result = read_upload("chicago.csv", text.encode())
    assert result.frame.geometry.x.tolist()[:2] == [-87.6324, -87.65]
    assert result.frame.geometry.y.tolist()[:2] == [41.8837, 41.85]
    assert result.frame.geometry.iloc[2] is None
    assert "1 row(s) have no usable coordinates and no geometry" in result.notes


def test_state_plane_x_y_columns_give_way_to_a_location_text_column():
    text = (
        "SR_NUMBER,X_COORDINATE,Y_COORDINATE,LOCATION\n"
        'A,1175000.5,1901000.2,"(41.88, -87.63)"\nB,1176000.5,1902000.2,"(41.89, -87.62)"\n'
    )
    result = read_upload("chicago.csv", text.encode())
    assert result.frame.geometry.x.tolist() == [-87.63, -87.62]
    assert "X_COORDINATE" in result.frame.columns


def test_pairs_that_are_not_degrees_are_not_taken_for_coordinates():
    text = 'id,range\n1,"(300, 400)"\n2,"(500, 600)"\n'
    with pytest.raises(ReadError, match="no columns GridWatch recognises as coordinates"):
        read_upload("t.csv", text.encode())


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
