"""core.io against every real file in ../shared/realdata: each loads correctly or is clearly refused.

Every file (and every shapefile folder, zipped in memory as a user would upload it) needs an entry in
``EXPECTED``; a new file without one fails, so nothing arrives untested. Counts and traps are those of
the folder's README.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import ReadError
from core.io import detect_datum_offset, read_upload

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"

CHINA = (73.0, 3.0, 136.0, 54.0)
ZHEJIANG = (118.0, 27.0, 123.0, 31.3)
HANGZHOU = (118.3, 29.1, 120.8, 30.6)
XIACHENG = (120.14, 30.25, 120.21, 30.36)
NORTH_CAROLINA = (-84.4, 33.8, -75.4, 36.6)
BOSTON = (-71.6, 42.0, -70.6, 42.7)
NEW_YORK = (-74.3, 40.45, -73.65, 40.95)

# What a wrong code page makes of Chinese text: read as Latin-1/CP1252 it becomes runs of Latin-1
# letters (浙江 in UTF-8 → "æµ\x99æ±\x9f", in GBK → "Õã½­"); GBK read as UTF-8 gives U+FFFD;
# "锟斤拷" is U+FFFD's UTF-8 read back as GBK. A lone accented letter is legitimate (pinyin "Nêdong").
MOJIBAKE = re.compile("\ufffd|[\u0080-\u00ff]{2}|锟斤拷")


@dataclass(frozen=True)
class Loads:
    count: int
    source_crs: str
    crs_origin: str
    bounds: tuple[float, float, float, float]  # the data must lie inside this lon/lat box
    geometry: frozenset[str]
    encoding: tuple[str, str] | None = None  # (encoding, origin)
    words: tuple[str, ...] = ()  # Chinese text that must appear, readable (names of places in the file)
    note: str | None = None  # part of a note that must be there


@dataclass(frozen=True)
class Refused:
    message: str  # regex the ReadError must match


POLYGONS = frozenset({"Polygon"})
ANY_POLYGON = frozenset({"Polygon", "MultiPolygon"})
DETECTED_GBK = ("gbk", "detected")
DETECTED_UTF8 = ("utf-8", "detected")

EXPECTED: dict[str, Loads | Refused] = {
    "README.md": Refused(r"`README.md` has the extension `\.md`.*Upload GeoJSON"),
    # hangzhou/ — Xiacheng District grid-management set (WGS84) and GCJ-02 Hangzhou districts
    "hangzhou/xiacheng_streets_jiedao.geojson": Loads(
        8, "EPSG:4326", "file", XIACHENG, POLYGONS, words=("石桥街道", "潮鸣街道")
    ),
    "hangzhou/xiacheng_communities_shequ.geojson": Loads(
        90, "EPSG:4326", "file", XIACHENG, POLYGONS, words=("华丰社区", "外网格区域")
    ),
    "hangzhou/xiacheng_grids_wangge.geojson": Loads(
        332, "EPSG:4326", "file", XIACHENG, POLYGONS, words=("石桥街道华丰社区华丰社区第二网格",)
    ),
    "hangzhou/xiacheng_grid_events_2018-09_points.csv": Loads(
        228, "EPSG:4326", "inferred", XIACHENG, frozenset({"Point"}), DETECTED_UTF8, words=("灯芯巷网格1", "网格员关闭")
    ),
    "hangzhou/xiacheng_grid_events_2018-09_linesZ.geojson": Loads(
        228,
        "EPSG:4326",
        "file",
        XIACHENG,
        frozenset({"LineString"}),
        words=("网格长关闭",),
        note="dropped Z coordinates from 228 features",
    ),
    "hangzhou/xiacheng_public_facilities.geojson": Loads(
        753, "EPSG:4326", "file", XIACHENG, frozenset({"Point"}), words=("公共厕所", "公交站点")
    ),
    "hangzhou/gcj02_hangzhou_districts_amap_2020/": Loads(
        13, "EPSG:4326", "inferred", HANGZHOU, POLYGONS, DETECTED_UTF8, words=("杭州市", "西湖区")
    ),
    "hangzhou/gcj02_hangzhou_districts_amap_2020_noprj_nocpg.zip": Loads(
        13, "EPSG:4326", "inferred", HANGZHOU, POLYGONS, DETECTED_UTF8, words=("杭州市", "西湖区")
    ),
    # china_awkward/ — encodings, Chinese datums, invalid geometry
    "china_awkward/gbk_bou2_4p_provinces/": Loads(
        925, "EPSG:4326", "inferred", CHINA, POLYGONS, DETECTED_GBK, words=("北京市", "浙江省")
    ),
    "china_awkward/gbk_bou2_4p_provinces_noprj_nocpg.zip": Loads(
        925, "EPSG:4326", "inferred", CHINA, POLYGONS, DETECTED_GBK, words=("北京市", "浙江省")
    ),
    "china_awkward/gbk_res2_4m_city_points/": Loads(
        331, "EPSG:4326", "inferred", CHINA, frozenset({"Point"}), DETECTED_GBK, words=("景德镇", "北京")
    ),
    "china_awkward/gbk_res2_4m_city_points_noprj_nocpg.zip": Loads(
        331, "EPSG:4326", "inferred", CHINA, frozenset({"Point"}), DETECTED_GBK, words=("景德镇", "北京")
    ),
    "china_awkward/gbk_zhejiang_outline_cgcs2000/": Loads(
        1,
        "CGCS_2000",
        "file",
        ZHEJIANG,
        frozenset({"MultiLineString"}),
        ("gbk", "file"),
        words=("浙江省",),
        note="code page in the DBF header",
    ),
    "china_awkward/gbk_zhejiang_outline_cgcs2000_ldid936.zip": Loads(
        1,
        "CGCS_2000",
        "file",
        ZHEJIANG,
        frozenset({"MultiLineString"}),
        ("gbk", "file"),
        words=("浙江省",),
        note="code page in the DBF header",
    ),
    "china_awkward/gcj02_zhejiang_districts_utf8_nocpg/": Loads(
        90, "EPSG:4326", "inferred", ZHEJIANG, ANY_POLYGON, DETECTED_UTF8, words=("嵊泗县", "杭州市")
    ),
    "china_awkward/gcj02_zhejiang_districts_utf8_nocpg_noprj.zip": Loads(
        90, "EPSG:4326", "inferred", ZHEJIANG, ANY_POLYGON, DETECTED_UTF8, words=("嵊泗县", "杭州市")
    ),
    "china_awkward/gcj02_china_country_2024_with_cpg_prj.zip": Loads(
        1, "EPSG:4326", "file", CHINA, frozenset({"MultiPolygon"}), ("utf-8", "file"), words=("中华人民共和国",)
    ),
    "china_awkward/invalid_selfintersect_china_country_2020-06-03.zip": Loads(
        1, "EPSG:4326", "file", CHINA, frozenset({"MultiPolygon"}), DETECTED_UTF8, words=("中华人民共和国",)
    ),
    # awkward_misc/ — NAD27, US State Plane feet
    "awkward_misc/sids.gpkg": Loads(
        100, "EPSG:4267", "file", NORTH_CAROLINA, frozenset({"MultiPolygon"}), note="EPSG:4267 (NAD27)"
    ),
    "awkward_misc/boston_tracts.gpkg": Loads(506, "EPSG:4267", "file", BOSTON, POLYGONS, note="EPSG:4267 (NAD27)"),
    "awkward_misc/nybb_16a_stateplane.zip": Loads(
        5,
        "EPSG:2263",
        "file",
        NEW_YORK,
        frozenset({"MultiPolygon"}),
        note="EPSG:2263 (NAD83 / New York Long Island (ftUS))",
    ),
}


def discovered() -> list[str]:
    """Every upload the folder holds: top-level files, files one level down, and shapefile folders."""
    if not REALDATA.is_dir():
        return ["<realdata folder absent>"]
    found = []
    for entry in sorted(REALDATA.iterdir()):
        children = sorted(entry.iterdir()) if entry.is_dir() else [entry]
        for child in children:
            key = child.relative_to(REALDATA).as_posix()
            found.append(f"{key}/" if child.is_dir() else key)
    return found


def upload(realdata: Path, key: str) -> tuple[str, bytes]:
    """(name, bytes) as a user would upload ``key``: a folder is zipped with its files at the top."""
    path = realdata / key.rstrip("/")
    if not key.endswith("/"):
        return path.name, path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(path.iterdir()):
            archive.write(part, part.name)
    return f"{path.name}.zip", buf.getvalue()


def text_of(frame) -> str:
    columns = [c for c in frame.columns if c != frame.geometry.name and not pd.api.types.is_numeric_dtype(frame[c])]
    return " ".join(str(v) for c in columns for v in frame[c].dropna().unique())


@pytest.mark.parametrize("key", discovered())
def test_every_real_file_loads_or_is_refused_clearly(realdata, key):
    assert key in EXPECTED, f"{key} has no expectation in EXPECTED: add what it should do"
    expected = EXPECTED[key]
    name, data = upload(realdata, key)
    if isinstance(expected, Refused):
        with pytest.raises(ReadError, match=expected.message):
            read_upload(name, data)
        return
    result = read_upload(name, data)
    frame = result.frame
    assert len(frame) == expected.count
    assert (result.source_crs, result.crs_origin) == (expected.source_crs, expected.crs_origin)
    assert frame.crs == "EPSG:4326"
    west, south, east, north = expected.bounds
    x0, y0, x1, y1 = frame.total_bounds
    assert west <= x0 and x1 <= east and south <= y0 and y1 <= north, frame.total_bounds
    assert set(frame.geom_type) == expected.geometry
    assert not frame.geometry.has_z.any()
    if expected.encoding:
        assert (result.encoding, result.encoding_origin) == expected.encoding
    text = text_of(frame)
    assert not MOJIBAKE.search(text), MOJIBAKE.search(text)
    for word in expected.words:
        assert word in text
    if expected.note:
        assert any(expected.note in note for note in result.notes), result.notes
    if result.crs_origin == "inferred":
        assert result.confirm, "an inferred coordinate system must be confirmed by the user"


def test_every_expectation_has_its_file(realdata):
    assert sorted(set(EXPECTED) - set(discovered())) == []


def read(realdata: Path, key: str):
    return read_upload(*upload(realdata, key)).frame


def test_gcj02_hangzhou_districts_against_the_real_streets(realdata):
    districts = read(realdata, "hangzhou/gcj02_hangzhou_districts_amap_2020_noprj_nocpg.zip")
    streets = read(realdata, "hangzhou/xiacheng_streets_jiedao.geojson")
    guess = detect_datum_offset(districts, streets)
    assert guess.datum == "gcj02", guess.explanation
    assert 300 < guess.shift_m < 700
    assert guess.score_shifted > guess.score_wgs84 + 0.05


def test_gcj02_zhejiang_districts_against_the_real_grids(realdata):
    districts = read(realdata, "china_awkward/gcj02_zhejiang_districts_utf8_nocpg_noprj.zip")
    grids = read(realdata, "hangzhou/xiacheng_grids_wangge.geojson")
    guess = detect_datum_offset(districts, grids)
    assert guess.datum == "gcj02" and 300 < guess.shift_m < 700, guess.explanation


def test_wgs84_communities_and_events_fit_the_real_streets(realdata):
    streets = read(realdata, "hangzhou/xiacheng_streets_jiedao.geojson")
    for key in ("hangzhou/xiacheng_communities_shequ.geojson", "hangzhou/xiacheng_grid_events_2018-09_points.csv"):
        guess = detect_datum_offset(read(realdata, key), streets)
        assert guess.datum is None, (key, guess.explanation)
        assert guess.score_wgs84 > 0.99 and "no conversion needed" in guess.explanation


def test_us_data_is_never_suggested_a_chinese_datum(realdata):
    tracts = read(realdata, "awkward_misc/boston_tracts.gpkg")
    guess = detect_datum_offset(tracts, tracts)
    assert guess.datum is None and "outside China" in guess.explanation
    assert np.isfinite(guess.shift_m)
