"""Map a file's columns onto a canonical layer: suggest which column is which, rename and convert.

:func:`suggest_mapping` matches headers against the names Chinese and English exports use (网格编号,
上报时间, service_request_id …). :func:`apply_mapping` renames, then gives each canonical column the
schema's type through ``core.values`` (text, numbers, date-times, enumerated values). Values that cannot be
converted are left as they are for ``core.validate`` to report with their rows.

Not here: converting and recoding the values themselves, and the value-mapping step of an upload
(``core.values``); the header normaliser (``core.tables.normalised_header``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import pandas as pd

from core import schema
from core.tables import normalised_header
from core.values import as_code, as_datetime, as_number, as_text

__all__ = ["apply_mapping", "suggest_mapping"]

# Header synonyms per canonical column, matched after ``core.tables.normalised_header`` (case, spaces, punctuation
# and bracketed units ignored). Only exact matches count: a predictable suggestion the user corrects
# beats a clever one that guesses wrong. One row per canonical column, its synonyms separated by spaces.
_SYNONYMS = {
    schema.GRID_ID: "grid_id grid_code 网格编号 网格编码 网格代码 网格id 网格号 编号",
    schema.NAME: "name 名称",
    schema.COMMUNITY: "community 社区 社区名称 所属社区 村社区 社区居委会",
    schema.STREET: "street 街道 街道名称 所属街道 乡镇街道 镇街 街镇",
    schema.LEADER: "leader 网格长 网格长姓名",
    schema.WORKER: "worker 网格员 网格员姓名 专职网格员",
    schema.WORKER_PHONE: "worker_phone 网格员电话 网格员手机 网格员联系电话 联系电话 电话 手机 手机号 phone",
    schema.HOUSEHOLDS: "households 户数 总户数 住户数",
    schema.POPULATION: "population 人口 人口数 总人口 常住人口 户籍人口",
    schema.CAMERA_ID: "camera_id 摄像头编号 摄像机编号 设备编号 设备编码 点位编号 国标编码 监控编号 device_id 编号",
    schema.SITE_KIND: "site_kind 点位类型 点位类别 位置类型 安装位置类型 场所类型",
    schema.STATUS: "status 状态 设备状态 在线状态 运行状态 党员状态 党籍状态",
    schema.AZIMUTH_DEG: "azimuth_deg azimuth 方位角 朝向 朝向角 方向角",
    schema.FOV_DEG: "fov_deg fov 视场角 水平视场角 视角",
    schema.RANGE_M: "range_m range 监控距离 可视距离 监控半径 覆盖半径",
    schema.POINT_ID: "point_id 站点编号 服务点编号 点位编号 编号",
    schema.KIND: "kind 类型 类别 服务类型 设施类型 党员类别 党员类型",
    schema.TICKET_ID: "ticket_id 事件编号 工单编号 工单号 诉求编号 案件编号 案卷编号 案卷号 event_no event_id service_request_id case_id 编号",
    schema.CREATED_AT: "created_at 上报时间 受理时间 创建时间 发现时间 登记时间 发生时间 requested_datetime created_date open_date",
    schema.CATEGORY: "category 事件类型 事件大类 问题类型 问题大类 案件类型 案件大类 诉求类型 大类 service_name",
    schema.SUBCATEGORY: "subcategory 事件小类 事件子类 问题小类 案件小类 诉求小类 小类 service_subtype",
    schema.DESCRIPTION: "description 事件描述 问题描述 诉求内容 诉求描述 案件描述 反映内容 内容 描述",
    schema.SOURCE: "source 来源 事件来源 来源平台 上报来源 案件来源 诉求来源 上报渠道 渠道 origin",
    schema.STAGE: "stage 事件状态 处置状态 办理状态 案件状态 工单状态 诉求状态 状态 status",
    schema.DISPATCHED_AT: "dispatched_at 派遣时间 派单时间 分派时间 交办时间",
    schema.DEADLINE_AT: "deadline_at 截止时间 处置时限 办结时限 应结时间 deadline expected_datetime",
    schema.CLOSED_AT: "closed_at 结案时间 办结时间 关闭时间 完成时间 closed_date closed_datetime",
    schema.REWORK_COUNT: "rework_count 返工次数 返工数 退回次数",
    schema.SATISFACTION: "satisfaction 满意度 评价 满意评价 群众评价 评价结果",
    schema.HANDLED_BY: "handled_by 处置部门 处置单位 办理部门 承办单位 承办部门 责任单位 agency_responsible",
    schema.MEMBER_ID: "member_id 党员编号 党员id 编号",
    schema.GENDER: "gender sex 性别",
    schema.BRANCH: "branch 党支部 所在支部 所属支部 支部",
    schema.POST: "post 职务 岗位 网格职务",
    schema.LINKED_HOUSEHOLDS: "linked_households 联系户数 联户数 联系户 联户",
    schema.TEAM_ID: "team_id 队伍编号 巡查队编号 巡逻队编号 队伍id 编号",
    schema.SIZE: "size 人数 队员人数 队伍人数",
    schema.SHIFT: "shift 班次 巡查时段 时段",
    schema.CHECKIN_ID: "checkin_id 签到编号 打卡编号 编号",
    schema.CHECKED_AT: "checked_at 签到时间 打卡时间 巡查时间",
    schema.SOURCE_GRID_CODE: "source_grid_code grid_id grid_code 网格编号 网格编码 网格代码 所属网格编号",
}
_HEADERS: dict[str, tuple[str, ...]] = {column: tuple(names.split()) for column, names in _SYNONYMS.items()}

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
            found = by_header.get(normalised_header(synonym))
            if found is not None and found not in mapping.values():
                mapping[target] = found
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


def _targets(layer: schema.Layer) -> tuple[str, ...]:
    """Canonical columns a file column may be mapped to (point layers may keep the file's grid code)."""
    extra = (schema.SOURCE_GRID_CODE,) if layer.is_point_layer else ()
    return layer.column_names + extra


def _coerce(series: pd.Series, layer: schema.Layer, target: str, tz: str) -> pd.Series:
    if target == schema.SOURCE_GRID_CODE:
        return as_text(series)
    column = layer.column(target)
    if column.allowed is not None:
        return as_code(series, target, column.allowed)
    if column.kind == "str":
        return as_text(series)
    if column.kind in ("int", "float"):
        return as_number(series, integer=column.kind == "int")
    if column.kind == "datetime":
        return as_datetime(series, tz)
    return series
