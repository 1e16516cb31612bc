"""core.uploads: check without changing anything, activate all or nothing, remember the mapping."""

from __future__ import annotations

import pandas as pd
import pytest

from core import schema, uploads
from core.joins import assign_points
from core.errors import GridWatchError, ReadError
from core.store import open_store
from geodata import load_demo


@pytest.fixture(scope="module")
def demo():
    return load_demo()


@pytest.fixture
def ws(tmp_path, demo):
    store = open_store("w", tmp_path)
    store.initialize({k: demo[k] for k in ("grids", "cameras", "tickets")}, note="seed")
    return store


def geojson(frame) -> bytes:
    return frame.to_json(drop_id=True).encode("utf-8")


def test_a_clean_boundary_file_checks_and_activates(ws, demo):
    grids = demo["grids"].copy()
    grids.loc[0, schema.NAME] = "新名字"
    check = uploads.check_upload(ws, "grids", "grids.geojson", geojson(grids))
    assert check.errors == () and check.can_activate
    assert (len(check.diff.changed), len(check.diff.added), len(check.diff.removed)) == (1, 0, 0)
    assert check.impact.by_layer[schema.TICKETS.name].moved == 0
    assert ws.version() == 1, "checking changes nothing"
    assert uploads.activate_upload(ws, check, note="rename", author="王芳") == 2
    assert ws.read("grids")[schema.NAME].iloc[0] == "新名字"
    assert ws.history()[0].author == "王芳"


def test_errors_block_activation_and_nothing_changes(ws, demo):
    grids = demo["grids"].copy()
    grids.loc[1, schema.GRID_ID] = grids.loc[0, schema.GRID_ID]
    check = uploads.check_upload(ws, "grids", "grids.geojson", geojson(grids))
    assert not check.can_activate
    assert any("not unique" in p.what for p in check.errors)
    with pytest.raises(GridWatchError, match="fix the 1 error"):
        uploads.activate_upload(ws, check, note="x", author="y")
    assert ws.version() == 1


def test_chinese_columns_are_mapped_and_the_mapping_remembered(ws, demo):
    cams = demo["cameras"].iloc[:50]
    table = pd.DataFrame({"编号": cams[schema.CAMERA_ID], "名称": cams[schema.NAME],
                          "点位类型": cams[schema.SITE_KIND], "状态": cams[schema.STATUS].map(
                              {"online": "在线", "offline": "离线", "fault": "故障"}),
                          "方向角": cams[schema.AZIMUTH_DEG], "视场角": cams[schema.FOV_DEG],
                          "可视距离": cams[schema.RANGE_M],
                          "经度": cams.geometry.x.round(6), "纬度": cams.geometry.y.round(6)})
    payload = table.to_csv(index=False).encode("utf-8-sig")
    check = uploads.check_upload(ws, "cameras", "cameras.csv", payload,
                                 overrides={schema.CAMERA_ID: "编号", schema.SITE_KIND: "点位类型",
                                            schema.AZIMUTH_DEG: "方向角", schema.FOV_DEG: "视场角",
                                            schema.RANGE_M: "可视距离"})
    assert check.read.confirm, "lon/lat inferred without a CRS must be confirmed"
    assert not check.can_activate
    confirmed = uploads.check_upload(ws, "cameras", "cameras.csv", payload,
                                     uploads.UploadOptions(crs="EPSG:4326"), mapping=check.mapping)
    assert confirmed.errors == (), [str(p) for p in confirmed.errors]
    assert set(confirmed.frame[schema.STATUS]) <= set(schema.CAMERA_STATUSES)
    uploads.activate_upload(ws, confirmed, note="cams", author="a", confirm_shrink=True)  # 2,300 → 50
    assert len(ws.read("cameras")) == 50
    again = uploads.proposed_mapping(ws, "cameras", list(table.columns))
    assert again[schema.CAMERA_ID] == "编号" and again[schema.RANGE_M] == "可视距离"


def test_points_outside_every_grid_are_a_warning_with_counts(ws, demo):
    tickets = demo["tickets"].iloc[:200].copy()
    tickets[schema.TICKET_ID] = "N" + tickets[schema.TICKET_ID]
    tickets.loc[tickets.index[:3], "geometry"] = tickets.geometry.iloc[:3].translate(1.0, 0)  # 100 km east
    expected_outside = int((assign_points(tickets, demo["grids"]) == -1).sum())
    for column in schema.TICKETS.datetime_columns():
        tickets[column] = tickets[column].map(lambda v: v.isoformat() if pd.notna(v) else None)
    check = uploads.check_upload(ws, "tickets", "t.geojson", geojson(tickets))
    (outside,) = [p for p in check.warnings if "outside every active grid" in p.what]
    assert outside.what.startswith(f"{expected_outside} of 200") and expected_outside >= 3
    assert check.errors == () and check.counts.sum() == 200 - expected_outside
    before = len(ws.read("tickets"))
    uploads.activate_upload(ws, check, note="more", author="a", mode="append")
    assert len(ws.read("tickets")) == before + 200


def test_unreadable_files_raise_read_error(ws):
    with pytest.raises(ReadError):
        uploads.check_upload(ws, "grids", "notes.txt", b"\x00\x01 not geodata")


def test_report_lines_name_everything(ws, demo):
    grids = demo["grids"].copy()
    check = uploads.check_upload(ws, "grids", "grids.geojson", geojson(grids))
    text = "\n".join(uploads.report_lines(check))
    assert "grids: 130 features" in text and "0 error(s)" in text and "diff: 0 added" in text
