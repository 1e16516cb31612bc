"""core.uploads: check without changing anything, activate all or nothing, remember the mapping."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from core import schema, upload_rules, uploads
from core.errors import GridWatchError, ReadError
from core.joins import assign_points
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
    table = pd.DataFrame(
        {
            "编号": cams[schema.CAMERA_ID],
            "名称": cams[schema.NAME],
            "点位类型": cams[schema.SITE_KIND],
            "状态": cams[schema.STATUS].map({"online": "在线", "offline": "离线", "fault": "故障"}),
            "方向角": cams[schema.AZIMUTH_DEG],
            "视场角": cams[schema.FOV_DEG],
            "可视距离": cams[schema.RANGE_M],
            "经度": cams.geometry.x.round(6),
            "纬度": cams.geometry.y.round(6),
        }
    )
    payload = table.to_csv(index=False).encode("utf-8-sig")
    check = uploads.check_upload(
        ws,
        "cameras",
        "cameras.csv",
        payload,
        overrides={
            schema.CAMERA_ID: "编号",
            schema.SITE_KIND: "点位类型",
            schema.AZIMUTH_DEG: "方向角",
            schema.FOV_DEG: "视场角",
            schema.RANGE_M: "可视距离",
        },
    )
    assert check.read.confirm, "lon/lat inferred without a CRS must be confirmed"
    assert not check.can_activate
    confirmed = uploads.check_upload(
        ws, "cameras", "cameras.csv", payload, uploads.UploadOptions(crs="EPSG:4326"), mapping=check.mapping
    )
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
    check = uploads.check_upload(ws, "tickets", "t.geojson", geojson(tickets), mode="append")
    (outside,) = [p for p in check.warnings if "outside every active grid" in p.what]
    assert outside.what.startswith(f"{expected_outside} of 200") and expected_outside >= 3
    assert check.errors == () and check.counts.sum() == 200 - expected_outside
    before = len(ws.read("tickets"))
    uploads.activate_upload(ws, check, note="more", author="a")
    assert len(ws.read("tickets")) == before + 200


def test_unreadable_files_raise_read_error(ws):
    with pytest.raises(ReadError):
        uploads.check_upload(ws, "grids", "notes.txt", b"\x00\x01 not geodata")


def test_report_lines_name_everything(ws, demo):
    grids = demo["grids"].copy()
    check = uploads.check_upload(ws, "grids", "grids.geojson", geojson(grids))
    text = "\n".join(uploads.report_lines(check))
    assert "grids: 130 features" in text and "0 error(s)" in text and "diff: 0 added" in text


def chicago_311_csv(demo, n: int = 600) -> bytes:
    """A Chicago-311-like export built from demo tickets: open-data sources ('Phone Call', 'Internet',
    'Mobile Device'), the coordinates only in a "Location" text column after the address, no
    rework_count, 4 rows without coordinates and 300 tickets stacked on one point (rows 100–399)."""
    tickets = demo["tickets"].iloc[:n]
    lat, lon = tickets.geometry.y.round(6).to_numpy().copy(), tickets.geometry.x.round(6).to_numpy().copy()
    lat[100:400], lon[100:400] = lat[100], lon[100]
    location = [f"121 N LASALLE ST\nCHICAGO, IL 60602\n({a}, {b})" for a, b in zip(lat, lon)]
    for row in (5, 6, 7, 8):
        location[row] = ""
    origin = pd.Series(["Phone Call", "Internet", "Mobile Device"] * (n // 3))
    return (
        pd.DataFrame(
            {
                "SR_NUMBER": "SR" + tickets[schema.TICKET_ID].to_numpy(),
                "SR_TYPE": tickets[schema.CATEGORY].to_numpy(),
                "ORIGIN": origin,
                "STATUS": "Completed",
                "CREATED_DATE": tickets[schema.CREATED_AT].dt.strftime("%m/%d/%Y %I:%M:%S %p").to_numpy(),
                "LOCATION": location,
            }
        )
        .to_csv(index=False)
        .encode("utf-8")
    )


CHICAGO_MAPPING = {
    schema.TICKET_ID: "SR_NUMBER",
    schema.CATEGORY: "SR_TYPE",
    schema.SOURCE: "ORIGIN",
    schema.STAGE: "STATUS",
    schema.CREATED_AT: "CREATED_DATE",
}
WGS84 = uploads.UploadOptions(crs="EPSG:4326")


def test_a_chicago_311_export_lists_what_to_decide_instead_of_failing(ws, demo):
    check = uploads.check_upload(ws, "tickets", "chicago.csv", chicago_311_csv(demo), WGS84, mapping=CHICAGO_MAPPING)
    assert "made points from the (lat, lon) pairs in `LOCATION`" in check.read.notes
    by_code = {p.code: p for p in check.problems}
    missing = by_code["missing_coordinates"]
    assert missing.severity == "error" and len(missing.rows) == 4
    assert "--skip-missing-coordinates" in missing.fix and "leave out" in missing.fix
    unmapped = by_code["unmapped_values"]
    assert unmapped.what == "unknown value(s) 'Phone Call' (200), 'Internet' (200), 'Mobile Device' (200)"
    assert len(unmapped.rows) == 600 and '--value source:"Phone Call"=hotline' in unmapped.fix
    assert "unknown_values" not in by_code, "the raw pandera wording is replaced, not repeated"
    defaulted = by_code["defaulted_column"]
    assert (defaulted.severity, defaulted.column, defaulted.params["value"], defaulted.params["count"]) == (
        "warning",
        schema.REWORK_COUNT,
        "0",
        "600",
    )
    assert (check.frame[schema.REWORK_COUNT] == 0).all()
    stacked = by_code["stacked_points"]
    assert stacked.severity == "warning" and stacked.params["count"] == "300" and stacked.params["places"] == 1
    assert [(c.value, c.count, c.code, c.suggestion) for c in check.values] == [
        ("Phone Call", 200, None, "hotline"),
        ("Internet", 200, None, "resident"),
        ("Mobile Device", 200, None, "resident"),
    ]


def test_value_mapping_and_leaving_out_rows_make_it_activate_and_are_remembered(ws, demo):
    payload = chicago_311_csv(demo)
    options = replace(WGS84, skip_missing_coordinates=True)
    values = {schema.SOURCE: {"Phone Call": "hotline", "Internet": "resident", "Mobile Device": "resident"}}
    check = uploads.check_upload(ws, "tickets", "chicago.csv", payload, options, mapping=CHICAGO_MAPPING, values=values)
    assert check.errors == (), [str(p) for p in check.errors]
    assert len(check.frame) == 596 and len(check.left_out) == 4
    assert check.left_out["SR_NUMBER"].tolist() == ["SR" + i for i in demo["tickets"][schema.TICKET_ID].iloc[5:9]]
    (left,) = [p for p in check.warnings if p.code == "rows_left_out"]
    assert left.params["count"] == "4" and left.rows == ("#6", "#7", "#8", "#9")
    assert check.frame[schema.SOURCE].value_counts().to_dict() == {"resident": 397, "hotline": 199}
    uploads.activate_upload(ws, check, note="311", author="a", confirm_shrink=True)  # 22,000 → 596
    again = uploads.check_upload(ws, "tickets", "chicago.csv", payload, options, mapping=CHICAGO_MAPPING)
    assert [c.code for c in again.values] == ["hotline", "resident", "resident"], "remembered per layer"
    assert again.errors == ()


def test_a_fixed_value_fills_a_field_and_wins_over_a_mapped_column(ws, demo):
    cams = demo["cameras"].iloc[:20]
    table = pd.DataFrame(
        {
            "camera_id": cams[schema.CAMERA_ID],
            "status": "unknown",
            "lon": cams.geometry.x.round(6),
            "lat": cams.geometry.y.round(6),
        }
    )
    payload = table.to_csv(index=False).encode()
    check = uploads.check_upload(ws, "cameras", "c.csv", payload, WGS84, fixed={schema.STATUS: "在线"})
    assert check.frame[schema.STATUS].tolist() == ["online"] * 20 and check.fixed == {schema.STATUS: "在线"}
    assert check.errors == (), [str(p) for p in check.errors]
    defaults = {p.column: p.params["value"] for p in check.warnings if p.code == "defaulted_column"}
    assert defaults == {schema.SITE_KIND: "other", schema.FOV_DEG: "90", schema.RANGE_M: "50"}
    assert check.frame[schema.RANGE_M].tolist() == [50.0] * 20
    with pytest.raises(GridWatchError, match="no field 'colour'"):
        uploads.check_upload(ws, "cameras", "c.csv", payload, WGS84, fixed={"colour": "red"})


def test_a_camera_status_is_not_made_up(ws, demo):
    cams = demo["cameras"].iloc[:5]
    table = pd.DataFrame({"camera_id": cams[schema.CAMERA_ID], "lon": cams.geometry.x, "lat": cams.geometry.y})
    check = uploads.check_upload(ws, "cameras", "c.csv", table.to_csv(index=False).encode(), WGS84)
    assert [p.params["column"] for p in check.errors if p.code == "missing_column"] == [schema.STATUS]


def test_appending_ids_that_are_stored_is_an_error_at_check_time(ws, demo):
    tickets = demo["tickets"].iloc[:30].copy()
    for column in schema.TICKETS.datetime_columns():
        tickets[column] = tickets[column].map(lambda v: v.isoformat() if pd.notna(v) else None)
    payload = geojson(tickets)
    check = uploads.check_upload(ws, "tickets", "t.geojson", payload, mode="append")
    (clash,) = check.errors
    assert clash.code == "id_clash" and clash.params["count"] == "30" and len(clash.rows) == 30
    assert clash.rows[0] == demo["tickets"][schema.TICKET_ID].iloc[0] and "Replace the layer" in clash.fix
    replacing = uploads.check_upload(ws, "tickets", "t.geojson", payload, mode="replace")
    assert replacing.errors == ()
    with pytest.raises(GridWatchError, match="checked to replace the layer, not to append"):
        uploads.activate_upload(ws, replacing, note="x", author="y", mode="append")


def test_report_lines_show_values_fixed_fields_and_left_out_rows(ws, demo):
    check = uploads.check_upload(
        ws,
        "tickets",
        "chicago.csv",
        chicago_311_csv(demo),
        replace(WGS84, skip_missing_coordinates=True),
        mapping=CHICAGO_MAPPING,
        fixed={schema.HANDLED_BY: "311"},
    )
    lines = uploads.report_lines(check)
    assert "  value: source 'Phone Call' (199 rows) → unknown (suggested: hotline)" in lines
    assert "  fixed values: handled_by=311" in lines
    assert "  left out: 4 row(s) without coordinates" in lines


def test_a_shrink_says_how_much_it_removes():
    shrink = upload_rules.Shrink("cameras", active=2_300, new=50)
    assert (shrink.removed, shrink.removed_share) == (2_250, 2_250 / 2_300)
    assert "would remove 2,250 (98%)" in str(shrink)
