"""Values of a file's columns given the schema's types and codes: text stripped, numbers parsed,
date-times made timezone-aware, enumerated values recoded (已结案 → closed, 在线 → online …).

:func:`as_text`, :func:`as_number`, :func:`as_datetime` and :func:`as_code` convert one column (used by
``core.columns.apply_mapping``); a column with a value they cannot convert is left as it is for
``core.validate`` to report. :func:`unknown_values`, :func:`suggest_code` and :func:`apply_values` are the
value-mapping step of an upload: the values that are no code, the code each most likely means, and the
user's choices applied.

Not here: which file column is which canonical column (``core.columns``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import tzinfo
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from core import schema

__all__ = [
    "apply_values",
    "as_code",
    "as_datetime",
    "as_number",
    "as_text",
    "suggest_code",
    "unknown_values",
]

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
_EPOCHS: tuple[tuple[tuple[float, float], Literal["s", "ms"]], ...] = ((_EPOCH_SECONDS, "s"), (_EPOCH_MILLIS, "ms"))
_FORMAT_SAMPLE = 50  # values each date-time format is tried on before the whole column


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


def _value_key(value: str) -> str:
    return re.sub(r"[\s_\-]", "", value).lower()


def as_code(series: pd.Series, target: str, allowed: tuple[str, ...]) -> pd.Series:
    """Text with known synonyms replaced by the schema's codes (only codes ``allowed`` here)."""
    lookup = {_value_key(code): code for code in allowed}
    lookup.update({_value_key(k): v for k, v in _VALUES.get(target, {}).items() if v in allowed})
    text = as_text(series)
    codes = {value: lookup.get(_value_key(value), value) for value in text.dropna().unique()}
    return text.map(codes).astype("str")


def as_text(series: pd.Series) -> pd.Series:
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
    return series.astype("str").str.strip().replace({"": pd.NA})


def as_number(series: pd.Series, integer: bool) -> pd.Series:
    """Numbers (thousands separators allowed); the column is left as it is if any value is not one."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.astype("float64")
    else:
        text = as_text(series).str.replace(",", "", regex=False)
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        if (text.notna() & values.isna()).any():
            return series
    if integer and values.dropna().map(float.is_integer).all():
        return values.astype("Int64")
    return values


def as_datetime(series: pd.Series, tz: str) -> pd.Series:
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
    for (low, high), unit in _EPOCHS:
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
    text = as_text(series[~objects]).str.replace(r"\s+", " ", regex=True)
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
