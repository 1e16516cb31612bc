"""Map a file's columns onto a canonical layer: suggest which column is which, rename and convert.

:func:`suggest_mapping` matches headers against the names Chinese and English exports use (网格编号,
上报时间, service_request_id …). :func:`apply_mapping` renames, converts text, numbers and date-times
to the schema's types, and translates enumerated values (已结案 → closed, 在线 → online …). Values it
cannot convert are left as they are for ``core.validate`` to report with their rows.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import tzinfo

import geopandas as gpd
import numpy as np
import pandas as pd

from core import schema
from core.tables import normalised_header

# Header synonyms per canonical column, matched after ``core.tables.normalised_header`` (case, spaces, punctuation
# and bracketed units ignored). Only exact matches count: a predictable suggestion the user corrects
# beats a clever one that guesses wrong.
_HEADERS: dict[str, tuple[str, ...]] = {
    schema.GRID_ID: ("grid_id", "grid_code", "网格编号", "网格编码", "网格代码", "网格id", "网格号", "编号"),
    schema.NAME: ("name", "名称"),
    schema.COMMUNITY: ("community", "社区", "社区名称", "所属社区", "村社区", "社区居委会"),
    schema.STREET: ("street", "街道", "街道名称", "所属街道", "乡镇街道", "镇街", "街镇"),
    schema.LEADER: ("leader", "网格长", "网格长姓名"),
    schema.WORKER: ("worker", "网格员", "网格员姓名", "专职网格员"),
    schema.WORKER_PHONE: (
        "worker_phone",
        "网格员电话",
        "网格员手机",
        "网格员联系电话",
        "联系电话",
        "电话",
        "手机",
        "手机号",
        "phone",
    ),
    schema.HOUSEHOLDS: ("households", "户数", "总户数", "住户数"),
    schema.POPULATION: ("population", "人口", "人口数", "总人口", "常住人口", "户籍人口"),
    schema.CAMERA_ID: (
        "camera_id",
        "摄像头编号",
        "摄像机编号",
        "设备编号",
        "设备编码",
        "点位编号",
        "国标编码",
        "监控编号",
        "device_id",
        "编号",
    ),
    schema.SITE_KIND: ("site_kind", "点位类型", "点位类别", "位置类型", "安装位置类型", "场所类型"),
    schema.STATUS: ("status", "状态", "设备状态", "在线状态", "运行状态", "党员状态", "党籍状态"),
    schema.AZIMUTH_DEG: ("azimuth_deg", "azimuth", "方位角", "朝向", "朝向角", "方向角"),
    schema.FOV_DEG: ("fov_deg", "fov", "视场角", "水平视场角", "视角"),
    schema.RANGE_M: ("range_m", "range", "监控距离", "可视距离", "监控半径", "覆盖半径"),
    schema.POINT_ID: ("point_id", "站点编号", "服务点编号", "点位编号", "编号"),
    schema.KIND: ("kind", "类型", "类别", "服务类型", "设施类型", "党员类别", "党员类型"),
    schema.TICKET_ID: (
        "ticket_id",
        "事件编号",
        "工单编号",
        "工单号",
        "诉求编号",
        "案件编号",
        "案卷编号",
        "案卷号",
        "event_no",
        "event_id",
        "service_request_id",
        "case_id",
        "编号",
    ),
    schema.CREATED_AT: (
        "created_at",
        "上报时间",
        "受理时间",
        "创建时间",
        "发现时间",
        "登记时间",
        "发生时间",
        "requested_datetime",
        "created_date",
        "open_date",
    ),
    schema.CATEGORY: (
        "category",
        "事件类型",
        "事件大类",
        "问题类型",
        "问题大类",
        "案件类型",
        "案件大类",
        "诉求类型",
        "大类",
        "service_name",
    ),
    schema.SUBCATEGORY: (
        "subcategory",
        "事件小类",
        "事件子类",
        "问题小类",
        "案件小类",
        "诉求小类",
        "小类",
        "service_subtype",
    ),
    schema.DESCRIPTION: (
        "description",
        "事件描述",
        "问题描述",
        "诉求内容",
        "诉求描述",
        "案件描述",
        "反映内容",
        "内容",
        "描述",
    ),
    schema.SOURCE: (
        "source",
        "来源",
        "事件来源",
        "来源平台",
        "上报来源",
        "案件来源",
        "诉求来源",
        "上报渠道",
        "渠道",
        "origin",
    ),
    schema.STAGE: ("stage", "事件状态", "处置状态", "办理状态", "案件状态", "工单状态", "诉求状态", "状态", "status"),
    schema.DISPATCHED_AT: ("dispatched_at", "派遣时间", "派单时间", "分派时间", "交办时间"),
    schema.DEADLINE_AT: (
        "deadline_at",
        "截止时间",
        "处置时限",
        "办结时限",
        "应结时间",
        "deadline",
        "expected_datetime",
    ),
    schema.CLOSED_AT: ("closed_at", "结案时间", "办结时间", "关闭时间", "完成时间", "closed_date", "closed_datetime"),
    schema.REWORK_COUNT: ("rework_count", "返工次数", "返工数", "退回次数"),
    schema.SATISFACTION: ("satisfaction", "满意度", "评价", "满意评价", "群众评价", "评价结果"),
    schema.HANDLED_BY: (
        "handled_by",
        "处置部门",
        "处置单位",
        "办理部门",
        "承办单位",
        "承办部门",
        "责任单位",
        "agency_responsible",
    ),
    schema.MEMBER_ID: ("member_id", "党员编号", "党员id", "编号"),
    schema.GENDER: ("gender", "sex", "性别"),
    schema.BRANCH: ("branch", "党支部", "所在支部", "所属支部", "支部"),
    schema.POST: ("post", "职务", "岗位", "网格职务"),
    schema.LINKED_HOUSEHOLDS: ("linked_households", "联系户数", "联户数", "联系户", "联户"),
    schema.TEAM_ID: ("team_id", "队伍编号", "巡查队编号", "巡逻队编号", "队伍id", "编号"),
    schema.SIZE: ("size", "人数", "队员人数", "队伍人数"),
    schema.SHIFT: ("shift", "班次", "巡查时段", "时段"),
    schema.CHECKIN_ID: ("checkin_id", "签到编号", "打卡编号", "编号"),
    schema.CHECKED_AT: ("checked_at", "签到时间", "打卡时间", "巡查时间"),
    schema.SOURCE_GRID_CODE: (
        "source_grid_code",
        "grid_id",
        "grid_code",
        "网格编号",
        "网格编码",
        "网格代码",
        "所属网格编号",
    ),
}

# Headers whose meaning depends on the layer; tried before the generic ones. In the Xiacheng grids
# 所属组织 ("organisation") holds the grid's full name, e.g. 石桥街道华丰社区华丰社区第二网格.
_LAYER_HEADERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("grids", schema.NAME): ("网格名称", "网格名", "所属组织", "网格"),
    ("cameras", schema.NAME): ("摄像头名称", "点位名称", "设备名称", "监控点名称", "安装位置"),
    ("service_points", schema.NAME): ("服务点名称", "站点名称", "场所名称", "设施名称"),
    ("members", schema.NAME): ("姓名", "党员姓名"),
    ("patrol_teams", schema.NAME): ("队伍名称", "巡查队", "巡逻队", "队名"),
    ("patrol_checkins", schema.TEAM_ID): ("巡查队", "巡逻队", "队伍"),
}

# Enumerated values: what files write (Chinese and English) → the schema's code. Values are matched
# after ``_value_key``; a code in the schema also matches itself. Unknown values are left for validation.
_VALUES: dict[str, dict[str, str]] = {
    schema.STAGE: {
        **dict.fromkeys(
            (
                "受理",
                "已受理",
                "待受理",
                "接收",
                "已接收",
                "上报",
                "已上报",
                "待立案",
                "新建",
                "new",
                "open",
                "submitted",
            ),
            "received",
        ),
        **dict.fromkeys(("立案", "已立案", "登记", "已登记"), "registered"),
        **dict.fromkeys(
            ("派遣", "已派遣", "派单", "已派单", "分派", "已分派", "转办", "已转办", "交办", "待处置", "assigned"),
            "dispatched",
        ),
        **dict.fromkeys(
            ("处置中", "处理中", "办理中", "正在处理", "在办", "处置", "inprogress", "processing"), "handling"
        ),
        **dict.fromkeys(("反馈", "已反馈", "已处置", "处置完成", "待核查"), "feedback"),
        **dict.fromkeys(("核查", "已核查", "核查通过", "已核实", "待结案"), "verified"),
        **dict.fromkeys(
            (
                "结案",
                "已结案",
                "办结",
                "已办结",
                "关闭",
                "已关闭",
                "完成",
                "已完成",
                "网格员关闭",
                "网格长关闭",
                "done",
                "completed",
            ),
            "closed",
        ),
        **dict.fromkeys(("作废", "已作废", "撤销", "已撤销", "取消", "已取消", "不予立案", "canceled"), "cancelled"),
    },
    schema.SOURCE: {
        **dict.fromkeys(
            ("网格员上报", "网格员", "网格员发现", "巡查发现", "网格巡查", "巡查上报", "自行发现", "gridworker"),
            "grid_worker",
        ),
        **dict.fromkeys(
            ("群众", "居民", "群众上报", "居民上报", "群众来访", "来访", "市民", "随手拍", "public", "citizen"),
            "resident",
        ),
        **dict.fromkeys(
            ("12345", "12345热线", "热线", "市长热线", "服务热线", "电话", "311", "phone", "call"), "hotline"
        ),
        **dict.fromkeys(("部门", "单位", "部门上报", "职能部门", "agency", "department"), "unit"),
        **dict.fromkeys(("视频", "视频发现", "视频监控", "智能发现", "天网", "camera", "cctv"), "video"),
    },
    schema.STATUS: {
        **dict.fromkeys(("在线", "正常", "on"), "online"),
        **dict.fromkeys(("离线", "掉线", "不在线", "off"), "offline"),
        **dict.fromkeys(("故障", "损坏", "异常", "维修", "报修", "broken", "error"), "fault"),
        **dict.fromkeys(("正式党员", "正式"), "full"),
        **dict.fromkeys(("预备党员", "预备"), "probationary"),
    },
    schema.SITE_KIND: {
        **dict.fromkeys(("路口", "交叉口", "十字路口", "道路路口"), "intersection"),
        **dict.fromkeys(("重点部位", "重点场所", "重点单位"), "key_site"),
        **dict.fromkeys(("小区出入口", "社区出入口", "出入口", "小区门口"), "community_entrance"),
        **dict.fromkeys(("重点区域", "重点地区"), "key_area"),
        **dict.fromkeys(("其他", "其它"), "other"),
    },
    schema.KIND: {
        **dict.fromkeys(("便民服务中心", "便民服务大厅", "政务服务中心", "服务大厅"), "service_hall"),
        **dict.fromkeys(("党群服务中心", "党群服务站", "党建服务中心"), "party_service_center"),
        **dict.fromkeys(("警务室", "社区警务室", "警务站"), "police_room"),
        **dict.fromkeys(("法律援助站", "法律援助", "法律服务站"), "legal_aid"),
        **dict.fromkeys(
            ("卫生服务站", "社区卫生服务站", "卫生服务中心", "社区卫生服务中心", "卫生室"), "health_station"
        ),
        **dict.fromkeys(("调解工作站", "人民调解室", "调解室", "调解委员会"), "mediation_station"),
        **dict.fromkeys(("志愿服务站", "志愿者服务站"), "volunteer_station"),
        **dict.fromkeys(("社区党员", "居民党员"), "community"),
        **dict.fromkeys(("在职党员", "在职", "报到党员"), "in_service"),
        **dict.fromkeys(("其他", "其它"), "other"),
    },
    schema.SATISFACTION: {
        **dict.fromkeys(("满意", "非常满意"), "satisfied"),
        **dict.fromkeys(("基本满意", "比较满意", "一般"), "basically_satisfied"),
        **dict.fromkeys(("不满意", "非常不满意"), "dissatisfied"),
    },
    schema.GENDER: {**dict.fromkeys(("女", "女性", "f"), "female"), **dict.fromkeys(("男", "男性", "m"), "male")},
    schema.SHIFT: {
        **dict.fromkeys(("夜班", "夜间", "夜巡"), "night"),
        **dict.fromkeys(("白班", "日间", "白天"), "day"),
        **dict.fromkeys(("晚班", "晚间", "傍晚"), "evening"),
    },
}

# Wordings of open-data exports (US 311 portals and the like) that are only suggested in the value
# mapping step, never applied unasked: 'Internet' may be a resident or a unit's web form.
_SUGGESTED_VALUES: dict[str, dict[str, str]] = {
    schema.SOURCE: {
        **dict.fromkeys(
            ("phone call", "phone", "telephone", "call center", "call centre", "311 call", "voice in", "热线电话"),
            "hotline",
        ),
        **dict.fromkeys(
            (
                "internet",
                "web",
                "website",
                "web form",
                "online",
                "mobile device",
                "mobile",
                "mobile app",
                "app",
                "email",
                "e-mail",
                "walk in",
                "text",
                "sms",
                "social media",
                "twitter",
                "微信",
                "app上报",
                "网络",
            ),
            "resident",
        ),
        **dict.fromkeys(
            (
                "city department",
                "alderman's office",
                "spot checker",
                "generated in house",
                "employee generated",
                "internal",
            ),
            "unit",
        ),
    },
    schema.STAGE: {
        **dict.fromkeys(("open - dup", "pending", "in progress", "work in progress"), "handling"),
        **dict.fromkeys(("completed - dup", "resolved", "closed - dup"), "closed"),
        **dict.fromkeys(("cancelled - dup", "duplicate", "rejected", "invalid"), "cancelled"),
    },
    schema.STATUS: {
        **dict.fromkeys(("active", "working", "normal", "ok"), "online"),
        **dict.fromkeys(("inactive", "down", "disconnected", "no signal"), "offline"),
        **dict.fromkeys(("faulty", "damaged", "repair", "out of order"), "fault"),
    },
    schema.SATISFACTION: {
        **dict.fromkeys(("very satisfied", "good"), "satisfied"),
        **dict.fromkeys(("fair", "neutral", "ok"), "basically_satisfied"),
        **dict.fromkeys(("very dissatisfied", "poor", "bad", "unsatisfied"), "dissatisfied"),
    },
}
_SUGGEST_CUTOFF = 0.8  # difflib ratio a wording must reach to be suggested for a file value

# Date-time formats tried in order on text that is not ISO 8601; month/day before day/month (the
# Xiacheng export writes 9/24/2018 14:03:00), day/month only where month/day cannot be.
_DATE_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
)
_DIGIT_DATE_FORMATS = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
# patterns as text, so pandas runs them in pyarrow rather than row by row in Python
_AWARE = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|z|[+-]\d{2}:?\d{2})$"
_NUMBER = r"^-?\d+(?:\.\d+)?$"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_SERIALS = (1, 200_000)  # days; up to the year 2447
_EPOCH_SECONDS = (1e9, 1e11)  # 2001 … 5138
_EPOCH_MILLIS = (1e12, 1e14)
_FORMAT_SAMPLE = 50  # values each date-time format is tried on before the whole column


def suggest_mapping(columns: Sequence[str], layer_name: str) -> dict[str, str]:
    """Canonical column → file column, for the file columns whose headers GridWatch recognises.

    Headers match after ignoring case, spaces, punctuation and bracketed units ("上报时间（北京时间）"
    is 上报时间). Each file column is suggested once; coordinate columns are never suggested.
    """
    layer = schema.LAYERS[layer_name]
    by_header: dict[str, str] = {}
    for column in columns:
        by_header.setdefault(normalised_header(column), column)
    mapping: dict[str, str] = {}
    for target in _targets(layer):
        synonyms = _LAYER_HEADERS.get((layer_name, target), ()) + _HEADERS.get(target, ())
        for synonym in synonyms:
            column = by_header.get(normalised_header(synonym))
            if column is not None and column not in mapping.values():
                mapping[target] = column
                break
    return mapping


def apply_mapping(
    frame: gpd.GeoDataFrame,
    mapping: Mapping[str, str],
    layer_name: str,
    fixed: Mapping[str, str] | None = None,
    tz: str = schema.DEFAULT_TIMEZONE,
) -> gpd.GeoDataFrame:
    """``frame`` with mapped columns renamed to canonical names and canonical columns given their types.

    Text is stripped (whole-number floats such as ids read from a DBF become "1001", not "1001.0");
    numbers are parsed; date-times become timezone-aware (naive ones are taken in ``tz``, the workspace's zone),
    from ISO 8601, 2018/9/24 14:03, 9/24/2018 14:03:00, 2018年9月24日, Excel serial days or Unix
    epochs. Enumerated values are translated from what files write (已结案 → closed, 在线 → online,
    网格员上报 → grid_worker, 女 → female, …). A value that cannot be converted is left as it is, and
    a date-time column with any such value keeps its text, so ``core.validate`` reports it. Columns
    that are not mapped are kept; one whose name a mapped column takes gets the suffix ``_file``.
    ``fixed`` (canonical column → value as text) gives a column one value in every row, converted like a
    file's value, in place of any file column mapped to it.
    """
    layer = schema.LAYERS[layer_name]
    targets = _targets(layer)
    fixed = dict(fixed or {})
    mapping = {target: column for target, column in mapping.items() if target not in fixed}
    unknown = [c for c in (*mapping, *fixed) if c not in targets]
    absent = [c for c in mapping.values() if c not in frame.columns]
    if unknown or absent:
        raise ValueError(
            f"mapping for {layer_name} has unknown canonical columns {unknown} or missing file columns {absent}"
        )
    geometry = frame.geometry.name
    mapped = {target: frame[column] for target, column in mapping.items()}
    mapped.update({target: pd.Series(value, index=frame.index, dtype=object) for target, value in fixed.items()})
    rest = frame.drop(columns=[*set(mapping.values()), geometry])
    rest = rest.rename(columns={c: f"{c}_file" for c in rest.columns if c in mapped})
    out = pd.concat([pd.DataFrame(mapped, index=frame.index), rest], axis=1)
    for target in (t for t in targets if t in out.columns):
        out[target] = _coerce(out[target], layer, target, tz)
    return gpd.GeoDataFrame(out, geometry=frame.geometry, crs=frame.crs)


def unknown_values(frame: pd.DataFrame, layer_name: str) -> dict[str, pd.Series]:
    """Per enumerated column of ``frame`` (canonical, after :func:`apply_mapping`): the values that are
    not one of its codes, with how many rows hold each, most frequent first."""
    layer = schema.LAYERS[layer_name]
    found = {}
    for column in layer.columns:
        if column.allowed is None or column.name not in frame.columns:
            continue
        values = frame[column.name].dropna()
        counts = values[~values.isin(column.allowed)].astype("str").value_counts()
        if len(counts):
            found[column.name] = counts
    return found


def suggest_code(layer_name: str, target: str, value: str) -> str | None:
    """The code a file value most likely means (open-data wordings such as 'Phone Call' → hotline, then the
    closest known wording), or None when nothing is close."""
    allowed = schema.LAYERS[layer_name].column(target).allowed or ()
    known = {_value_key(code): code for code in allowed}
    known.update(
        {
            _value_key(k): v
            for table in (_VALUES, _SUGGESTED_VALUES)
            for k, v in table.get(target, {}).items()
            if v in allowed
        }
    )
    key = _value_key(value)
    if key in known:
        return known[key]
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=_SUGGEST_CUTOFF)
    return known[close[0]] if close else None


def apply_values(frame: gpd.GeoDataFrame, layer_name: str, values: Mapping[str, Mapping[str, str]]) -> gpd.GeoDataFrame:
    """``frame`` with file values recoded: ``values`` maps a canonical column to {file value: code}; only
    codes the column allows are used, other values are left for ``core.validate`` to report."""
    layer = schema.LAYERS[layer_name]
    out = frame
    for target, recode in values.items():
        if target not in frame.columns:
            continue
        allowed = layer.column(target).allowed or ()
        usable = {value: code for value, code in recode.items() if code in allowed}
        if usable:
            out = out.assign(
                **{target: frame[target].map(lambda v, usable=usable: usable.get(v, v)).astype(frame[target].dtype)}
            )
    return out


def _targets(layer: schema.Layer) -> tuple[str, ...]:
    """Canonical columns a file column may be mapped to (point layers may keep the file's grid code)."""
    extra = (schema.SOURCE_GRID_CODE,) if layer.is_point_layer else ()
    return layer.column_names + extra


def _coerce(series: pd.Series, layer: schema.Layer, target: str, tz: str) -> pd.Series:
    if target == schema.SOURCE_GRID_CODE:
        return _as_text(series)
    column = layer.column(target)
    if column.allowed is not None:
        return _as_code(series, target, column.allowed)
    if column.kind == "str":
        return _as_text(series)
    if column.kind in ("int", "float"):
        return _as_number(series, integer=column.kind == "int")
    if column.kind == "datetime":
        return _as_datetime(series, tz)
    return series


def _as_text(series: pd.Series) -> pd.Series:
    """Stripped text, empty → missing; whole-number floats without ".0"."""
    if pd.api.types.is_float_dtype(series) and series.dropna().map(float.is_integer).all():
        series = series.astype("Int64")
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("str")
    if not pd.api.types.is_string_dtype(series) or series.dtype == object:
        series = series.map(
            lambda v: (
                v
                if isinstance(v, str) or pd.isna(v)
                else str(int(v))
                if isinstance(v, float) and v.is_integer()
                else str(v)
            )
        )
    return series.astype("str").str.strip().replace("", pd.NA)


def _value_key(value: str) -> str:
    return re.sub(r"[\s_\-]", "", value).lower()


def _as_code(series: pd.Series, target: str, allowed: tuple[str, ...]) -> pd.Series:
    """Text with known synonyms replaced by the schema's codes (only codes ``allowed`` here)."""
    lookup = {_value_key(code): code for code in allowed}
    lookup.update({_value_key(k): v for k, v in _VALUES.get(target, {}).items() if v in allowed})
    text = _as_text(series)
    codes = {value: lookup.get(_value_key(value), value) for value in text.dropna().unique()}
    return text.map(codes).astype("str")


def _as_number(series: pd.Series, integer: bool) -> pd.Series:
    """Numbers (thousands separators allowed); the column is left as it is if any value is not one."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.astype("float64")
    else:
        text = _as_text(series).str.replace(",", "", regex=False)
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        if (text.notna() & values.isna()).any():
            return series
    if integer and values.dropna().map(float.is_integer).all():
        return values.astype("Int64")
    return values


def _as_datetime(series: pd.Series, tz: str) -> pd.Series:
    """Timezone-aware date-times in ``tz``; the column is left as it is if any value fails."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert(tz).dt.as_unit("ns")
    if pd.api.types.is_datetime64_dtype(series):
        return _localised(series, tz)
    if pd.api.types.is_numeric_dtype(series):
        parsed = _from_numbers(series.astype("float64"), _empty_times(series.index, tz))
    else:
        parsed = _from_text(series, _empty_times(series.index, tz))
    if (series.notna() & parsed.isna()).any():
        return series
    return parsed


def _localised(naive: pd.Series, tz: str | tzinfo) -> pd.Series:
    return naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").dt.as_unit("ns")


def _empty_times(index: pd.Index, tz: str | tzinfo) -> pd.Series:
    return pd.Series(pd.NaT, index=index, dtype=pd.DatetimeTZDtype("ns", tz))


def _from_numbers(values: pd.Series, out: pd.Series) -> pd.Series:
    """Excel serial days (local), Unix epoch seconds or milliseconds (UTC) → aware date-times, filled into
    the empty ``out`` (whose zone is the workspace's)."""
    tz = out.dt.tz
    serial = values.between(*_EXCEL_SERIALS, inclusive="left")
    out[serial] = _localised(_EXCEL_EPOCH + pd.to_timedelta(values[serial], unit="D"), tz)
    for (low, high), unit in ((_EPOCH_SECONDS, "s"), (_EPOCH_MILLIS, "ms")):
        epoch = values.between(low, high, inclusive="left")
        out[epoch] = pd.to_datetime(values[epoch], unit=unit, utc=True).dt.tz_convert(tz).dt.as_unit("ns")
    return out


def _from_text(series: pd.Series, out: pd.Series) -> pd.Series:
    """Parse text date-times: ISO 8601 with or without offset, the ``_DATE_FORMATS``, digit runs
    (20180924), numbers (Excel serials, epochs), and datetime objects (e.g. from a spreadsheet), filled
    into the empty ``out`` (whose zone is the workspace's)."""
    tz = out.dt.tz
    objects = pd.Series(False, index=series.index)
    if series.dtype == object:
        objects = series.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "tzinfo"))
    for key in series.index[objects]:
        stamp = pd.Timestamp(series[key])
        out[key] = stamp.tz_convert(tz) if stamp.tzinfo else stamp.tz_localize(tz)
    text = _as_text(series[~objects]).str.replace(r"\s+", " ", regex=True)
    text = text[text.notna()]
    numeric = text.str.match(_NUMBER)
    aware = ~numeric & text.str.contains(_AWARE)
    out[aware[aware].index] = (
        pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce").dt.tz_convert(tz).dt.as_unit("ns")
    )
    todo = text[~numeric & ~aware]
    formats = ("ISO8601", *_DATE_FORMATS)
    sample = todo.iloc[:: max(1, len(todo) // _FORMAT_SAMPLE)]
    likely = [f for f in formats if pd.to_datetime(sample, format=f, errors="coerce").notna().any()]
    for fmt in likely + [f for f in formats if f not in likely]:  # the rest only for what is left
        todo = _fill(out, todo, fmt)
    digits = text[numeric]
    for width, fmt in _DIGIT_DATE_FORMATS.items():
        _fill(out, digits[digits.str.len() == width], fmt)
    rest = digits[out[digits.index].isna()]
    out[rest.index] = _from_numbers(rest.astype("float64"), _empty_times(rest.index, tz))
    return out


def _fill(out: pd.Series, todo: pd.Series, fmt: str) -> pd.Series:
    """Parse ``todo`` with ``fmt`` into ``out`` (naive → local); return what is still unparsed."""
    if todo.empty:
        return todo
    parsed = pd.to_datetime(todo, format=fmt, errors="coerce")
    done = parsed.notna()
    out[done[done].index] = _localised(parsed[done], out.dt.tz)
    return todo[~done]
