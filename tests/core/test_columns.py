"""core.columns: header suggestions, type coercion, date-time formats and enumerated-value synonyms."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from core.columns import apply_mapping, suggest_mapping
from core.schema import DEFAULT_TIMEZONE
from core.validate import problems_in


def test_suggest_mapping_for_xiacheng_events():
    columns = ["event_no", "lon", "lat", "来源平台", "事件等级", "事件类型", "上报部门", "上报时间", "事件状态"]
    assert suggest_mapping(columns, "tickets") == {
        "ticket_id": "event_no",
        "created_at": "上报时间",
        "category": "事件类型",
        "source": "来源平台",
        "stage": "事件状态",
    }


def test_suggest_mapping_for_grids_and_points():
    assert suggest_mapping(["所属组织", "网格编号", "所属月份"], "grids") == {"grid_id": "网格编号", "name": "所属组织"}
    assert suggest_mapping(["街道", "社区", "网格名称", "网格编码", "网格员", "网格员电话", "户数"], "grids") == {
        "grid_id": "网格编码",
        "name": "网格名称",
        "community": "社区",
        "street": "街道",
        "worker": "网格员",
        "worker_phone": "网格员电话",
        "households": "户数",
    }
    cameras = suggest_mapping(["设备编号", "设备名称", "经度", "纬度", "在线状态", "方位角 (°)"], "cameras")
    assert cameras == {"camera_id": "设备编号", "name": "设备名称", "status": "在线状态", "azimuth_deg": "方位角 (°)"}
    assert suggest_mapping(["事件编号", "上报时间（北京时间）", "网格编号"], "tickets") == {
        "ticket_id": "事件编号",
        "created_at": "上报时间（北京时间）",
        "source_grid_code": "网格编号",
    }


def _ticket_frame(**columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(columns, geometry=[shapely.Point(120.15, 30.27)] * n, crs="EPSG:4326")


def test_apply_mapping_coerces_types_and_codes():
    frame = _ticket_frame(
        编号=[1001.0, 1002.0, 1003.0, 1004.0, 1005.0, 1006.0],
        时间=[
            "9/24/2018 14:03:00",
            "2018-09-24 14:03",
            "2018年9月24日 14:03",
            "43367.5",
            "2018-09-24T06:03:00Z",
            "1537769000000",
        ],
        状态=["已结案", "处置中", " 办结 ", "网格长关闭", "作废", "挂起"],
        来源=["网格员上报", "12345", "群众", "巡查发现", "视频", "hotline"],
        返工=["0", "1", "2", "0", "1,000", None],
        满意=["满意", "基本满意", "不满意", None, "", "满意"],
        备注=["a", "b", "c", "d", "e", "f"],
    )
    mapping = {
        "ticket_id": "编号",
        "created_at": "时间",
        "stage": "状态",
        "source": "来源",
        "rework_count": "返工",
        "satisfaction": "满意",
    }
    out = apply_mapping(frame, mapping, "tickets")
    assert out["ticket_id"].tolist() == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert str(out["created_at"].dtype) == f"datetime64[ns, {DEFAULT_TIMEZONE}]"
    expected = pd.Timestamp("2018-09-24 14:03", tz=DEFAULT_TIMEZONE)
    assert out["created_at"].iloc[:3].tolist() == [expected] * 3
    assert out["created_at"].iloc[3] == pd.Timestamp("2018-09-24 12:00", tz=DEFAULT_TIMEZONE)  # Excel serial
    assert out["created_at"].iloc[4] == expected  # UTC 06:03 is 14:03 in Shanghai
    assert out["created_at"].iloc[5] == pd.Timestamp("2018-09-24 14:03:20", tz=DEFAULT_TIMEZONE)  # epoch ms
    assert out["stage"].tolist() == ["closed", "handling", "closed", "closed", "cancelled", "挂起"]
    assert out["source"].tolist() == ["grid_worker", "hotline", "resident", "grid_worker", "video", "hotline"]
    assert out["rework_count"].tolist()[:5] == [0, 1, 2, 0, 1000] and pd.isna(out["rework_count"].iloc[5])
    assert out["satisfaction"].tolist()[:3] == ["satisfied", "basically_satisfied", "dissatisfied"]
    assert pd.isna(out["satisfaction"].iloc[4])
    assert out["备注"].tolist() == ["a", "b", "c", "d", "e", "f"]
    assert list(out.columns)[:6] == list(mapping) and out.crs == "EPSG:4326"
    problems = problems_in(out.assign(category="市容环境"), "tickets")
    assert sorted((p.column, p.rows) for p in problems) == [
        ("rework_count", ("1006",)),  # missing
        ("stage", ("1006",)),
    ]  # 挂起 unknown


def test_apply_mapping_members_cameras_and_failures():
    members = apply_mapping(
        _ticket_frame(性别=["女", "男"], 党籍=["正式党员", "预备党员"], 类别=["在职党员", "社区党员"]),
        {"gender": "性别", "status": "党籍", "kind": "类别"},
        "members",
    )
    assert members[["gender", "status", "kind"]].values.tolist() == [
        ["female", "full", "in_service"],
        ["male", "probationary", "community"],
    ]
    cameras = apply_mapping(
        _ticket_frame(s=["在线", "离线", "故障", "Online"], a=["90", "", "x", "1"]),
        {"status": "s", "azimuth_deg": "a"},
        "cameras",
    )
    assert cameras["status"].tolist() == ["online", "offline", "fault", "online"]
    assert cameras["azimuth_deg"].tolist() == ["90", "", "x", "1"]  # "x" is left for validation
    bad_times = _ticket_frame(t=["2018-09-24 14:03", "next Tuesday"])
    out = apply_mapping(bad_times, {"created_at": "t"}, "tickets")
    assert out["created_at"].tolist() == ["2018-09-24 14:03", "next Tuesday"]


def test_apply_mapping_keeps_clashing_columns_and_checks_the_mapping():
    frame = _ticket_frame(name=["旧"], 网格名称=["新"])
    out = apply_mapping(frame, {"name": "网格名称"}, "grids")
    assert out["name"].tolist() == ["新"] and out["name_file"].tolist() == ["旧"]
    with pytest.raises(ValueError, match="unknown canonical columns"):
        apply_mapping(frame, {"colour": "name"}, "grids")
    with pytest.raises(ValueError, match="missing file columns"):
        apply_mapping(frame, {"name": "nope"}, "grids")


def test_apply_mapping_keeps_aware_and_localises_naive_datetimes():
    naive = pd.Series(pd.to_datetime(["2026-03-01 08:30"]))
    out = apply_mapping(
        _ticket_frame(t=naive, u=naive.dt.tz_localize("UTC")), {"created_at": "t", "closed_at": "u"}, "tickets"
    )
    assert out["created_at"].iloc[0] == pd.Timestamp("2026-03-01 08:30", tz=DEFAULT_TIMEZONE)
    assert out["closed_at"].iloc[0] == pd.Timestamp("2026-03-01 16:30", tz=DEFAULT_TIMEZONE)


def test_a_fixed_value_is_converted_like_a_file_value_and_replaces_the_mapped_column():
    frame = gpd.GeoDataFrame({"状态": ["离线", "在线"], "n": ["1", "2"]}, geometry=[shapely.Point(0, 0)] * 2)
    out = apply_mapping(frame, {"status": "状态"}, "cameras", fixed={"status": "在线", "range_m": "80"})
    assert out["status"].tolist() == ["online", "online"]
    assert out["range_m"].tolist() == [80.0, 80.0]
    assert "状态" in out.columns, "the file column no longer mapped is kept"
