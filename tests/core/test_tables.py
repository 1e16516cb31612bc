"""core.tables: CSV and XLSX read as tables of text; the header normaliser and the delimiter sniffer."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import ReadError
from core.io import list_layers, read_upload
from core.tables import normalised_header, sniff_delimiter


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


def test_unparseable_csv_is_refused():
    with pytest.raises(ReadError, match="not a readable table"):
        read_upload("t.csv", b"a,b\n1,2\n3,4,5,6\n")


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


def test_one_header_normaliser_for_uploads_the_mapping_and_the_roster():
    assert normalised_header("上报时间（北京时间）") == "上报时间"
    assert {normalised_header(h) for h in ("Grid ID", "grid_id", "grid-id", " GRID.ID ", "grid/id")} == {"gridid"}
    assert normalised_header("面积[km2]") == "面积"
    assert normalised_header(42) == "42"


def test_one_delimiter_sniffer_whose_ties_go_to_the_comma():
    assert sniff_delimiter("a,b,c\n1;2;3;4;5\n") == ","
    assert sniff_delimiter("a\tb\tc\n") == "\t"
    assert sniff_delimiter("team_id;grid_id\nT1;G1\n") == ";"
    assert sniff_delimiter("a|b\n") == "|"
    assert sniff_delimiter("a\tb,c\n") == ","
    assert sniff_delimiter("only\n") == ","
