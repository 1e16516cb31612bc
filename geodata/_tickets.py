"""Twelve months of synthetic resident tickets (诉求/事件) and their handling.

The catalogue below is the model: for each category its share of all tickets, its subcategories (each
with the unit that handles it and the committed handling time in days), who usually reports it, how it
varies over the year, and how much of it gathers at the district's hot spots. ``ticket_table`` draws
the tickets from it in a few vectorised passes:

1. how many per (category, source); the day of each (season × weekday × holidays × slow growth), the
   hour (office hours for grid workers, evenings for residents, nights for noise);
2. the subcategory and handling unit; where it happened (background ∝ population, or a hot spot);
3. its life: dispatch delay, deadline, handling time (most on time, some late, a few reworked), and
   its stage as of the cut-off date (recent tickets still open, a few long-stuck ones overdue).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from core import schema
from geodata._space import DEMO_TIMEZONE, grid_index, sample_in_polygons

TICKETS_PER_YEAR = 22_000
SELF_FIX_CHANCE = 0.55  # chance a grid worker fixes a simple problem they found on the spot
CANCELLED_SHARE = 0.015  # duplicates and invalid reports
STUCK_OPEN = 48  # long-standing tickets still open, far past their deadline
RATED_SHARE = 0.86  # closed resident/hotline tickets with a return-visit rating
REWORK_SHARE = 0.03
HOTSPOT_SCALE = 0.6  # scales every category's hot-spot shares (1 = as listed in the catalogue)
SELF_HANDLER = "网格员"

# --- time profiles -------------------------------------------------------------------------------
HOURS = {  # relative weight of each hour 0..23
    "office": (
        0.05,
        0.05,
        0.05,
        0.05,
        0.05,
        0.1,
        0.3,
        1.2,
        3.0,
        5.0,
        5.0,
        4.0,
        1.5,
        2.5,
        4.5,
        5.0,
        4.0,
        2.0,
        0.6,
        0.4,
        0.3,
        0.2,
        0.1,
        0.05,
    ),
    "public": (
        0.4,
        0.25,
        0.15,
        0.1,
        0.1,
        0.2,
        0.6,
        1.5,
        3.5,
        5.0,
        5.0,
        4.0,
        3.0,
        3.0,
        4.0,
        4.0,
        4.0,
        3.5,
        3.0,
        3.5,
        3.5,
        3.0,
        2.2,
        1.2,
    ),
    "night": (
        3.0,
        2.5,
        1.5,
        0.8,
        0.4,
        0.5,
        1.5,
        2.0,
        1.5,
        1.2,
        1.0,
        1.0,
        1.2,
        1.5,
        1.0,
        1.0,
        1.0,
        1.2,
        1.8,
        2.8,
        4.0,
        5.0,
        6.0,
        5.0,
    ),
    "video": (
        0.3,
        0.2,
        0.2,
        0.2,
        0.2,
        0.4,
        1.0,
        2.5,
        3.5,
        3.5,
        3.5,
        3.0,
        2.5,
        2.5,
        3.0,
        3.0,
        3.0,
        3.0,
        2.5,
        2.0,
        1.5,
        1.0,
        0.6,
        0.4,
    ),
}
WEEKDAY = {  # Monday..Sunday
    "office": (1.0, 1.05, 1.0, 1.0, 0.95, 0.45, 0.35),
    "public": (1.05, 1.0, 1.0, 1.0, 1.0, 1.1, 1.05),
    "leisure": (0.85, 0.85, 0.9, 0.95, 1.15, 1.45, 1.35),
    "flat": (1.0,) * 7,
}
# Public holidays of the period: (first day, last day, factor for office sources, for the public)
HOLIDAYS = (
    ("2026-01-01", "2026-01-03", 0.4, 0.9),
    ("2026-02-15", "2026-02-23", 0.25, 0.65),  # Spring Festival
    ("2026-04-04", "2026-04-06", 0.4, 0.95),
    ("2026-05-01", "2026-05-05", 0.4, 1.0),
    ("2026-06-19", "2026-06-21", 0.4, 0.95),
    ("2026-09-25", "2026-09-27", 0.4, 1.0),
    ("2026-10-01", "2026-10-07", 0.3, 1.05),  # National Day
)
GROWTH = 0.16  # the last month has ~16 % more tickets than the first (more app reports)

SOURCES = schema.TICKET_SOURCES  # grid_worker, resident, hotline, unit, video
GRID_WORKER = SOURCES.index("grid_worker")
PUBLIC_SOURCES = [SOURCES.index("resident"), SOURCES.index("hotline")]  # rated on a return visit
_FLAT = (1,) * 12
_SUMMER = (0.7, 0.7, 0.8, 0.9, 1.1, 1.35, 1.6, 1.6, 1.25, 1.0, 0.8, 0.7)
_WINTER = (1.4, 1.35, 1.1, 0.9, 0.8, 0.8, 0.85, 0.85, 0.9, 1.0, 1.2, 1.4)
_RAINY = (0.8, 0.8, 0.9, 1.0, 1.1, 1.6, 1.5, 1.3, 1.3, 0.9, 0.8, 0.8)  # plum rains, typhoons


@dataclass(frozen=True)
class Sub:
    """A subcategory: name, relative weight, handling unit, committed days, fixable on the spot."""

    name: str
    weight: float
    handler: str
    days: float
    self_fix: bool = False


@dataclass(frozen=True)
class Category:
    """A ticket category and how it behaves."""

    name: str
    share: float
    subs: tuple[Sub, ...]
    sources: tuple[float, float, float, float, float]  # grid_worker, resident, hotline, unit, video
    season: tuple[float, ...] = _FLAT  # January..December
    hours: str = "public"  # profile for resident/hotline reports
    weekday: str = "public"
    hotspots: tuple[float, float, float] = (0.0, 0.0, 0.0)  # market, nightlife street, old estate
    stuck: float = 0.0  # relative chance of being one of the long-stuck open tickets


CATALOGUE = (
    Category(
        "市容环境",
        0.27,
        (
            Sub("暴露垃圾", 4, "环卫所", 1, True),
            Sub("乱堆物堆料", 3, "城管中队", 2, True),
            Sub("店外经营", 3, "城管中队", 1),
            Sub("乱张贴乱涂写", 2, "环卫所", 2, True),
            Sub("占道经营", 2, "城管中队", 1),
        ),
        (0.70, 0.06, 0.09, 0.03, 0.12),
        hotspots=(0.14, 0.06, 0.06),
        weekday="office",
    ),
    Category(
        "违章停车",
        0.11,
        (
            Sub("机动车乱停放", 4, "交警中队", 1),
            Sub("非机动车乱停放", 4, "城管中队", 1, True),
            Sub("占用消防通道", 2, "消防救援站", 1),
        ),
        (0.58, 0.10, 0.14, 0.02, 0.16),
        hotspots=(0.10, 0.18, 0.05),
        weekday="office",
    ),
    Category(
        "噪音扰民",
        0.07,
        (
            Sub("施工噪音", 3, "城管中队", 2),
            Sub("社会生活噪音", 3, "派出所", 1),
            Sub("商业经营噪音", 3, "生态环境分局", 3),
        ),
        (0.10, 0.30, 0.58, 0.02, 0.0),
        season=_SUMMER,
        hours="night",
        weekday="leisure",
        hotspots=(0.03, 0.30, 0.05),
    ),
    Category(
        "养犬管理",
        0.03,
        (Sub("未牵绳遛犬", 3, "城管中队", 2), Sub("犬只扰民", 2, "派出所", 3), Sub("犬只伤人", 0.5, "派出所", 1)),
        (0.35, 0.25, 0.38, 0.02, 0.0),
        season=(0.8, 0.8, 1.0, 1.2, 1.2, 1.1, 1.0, 1.0, 1.1, 1.2, 1.0, 0.8),
        weekday="leisure",
    ),
    Category(
        "邻里纠纷",
        0.05,
        (
            Sub("噪音纠纷", 3, "人民调解委员会", 5),
            Sub("漏水纠纷", 3, "社区居委会", 5),
            Sub("公共空间占用", 2, "社区居委会", 5),
        ),
        (0.30, 0.30, 0.36, 0.04, 0.0),
        season=(1.0, 0.9, 1.0, 1.0, 1.0, 1.1, 1.2, 1.2, 1.0, 1.0, 1.0, 1.0),
        weekday="leisure",
        hotspots=(0.0, 0.0, 0.18),
        stuck=3,
    ),
    Category(
        "环境污染",
        0.04,
        (
            Sub("餐饮油烟", 3, "生态环境分局", 5),
            Sub("污水直排", 2, "城管中队", 3),
            Sub("异味扰民", 2, "生态环境分局", 5),
        ),
        (0.35, 0.20, 0.40, 0.05, 0.0),
        season=_SUMMER,
        hotspots=(0.10, 0.25, 0.0),
        stuck=2,
    ),
    Category(
        "消防安全",
        0.08,
        (
            Sub("楼道堆物", 4, "社区居委会", 2, True),
            Sub("电动车违规充电", 3, "消防救援站", 1, True),
            Sub("消防设施损坏", 2, "物业公司", 3),
        ),
        (0.76, 0.06, 0.08, 0.04, 0.06),
        season=_WINTER,
        weekday="office",
        hotspots=(0.0, 0.0, 0.30),
    ),
    Category(
        "治安隐患",
        0.03,
        (Sub("可疑人员", 2, "派出所", 1), Sub("群租房", 2, "派出所", 5), Sub("公共设施被盗", 1, "派出所", 3)),
        (0.55, 0.15, 0.25, 0.05, 0.0),
        hours="night",
        hotspots=(0.0, 0.20, 0.10),
    ),
    Category(
        "民政服务",
        0.05,
        (Sub("低保救助咨询", 3, "民政办", 7), Sub("养老服务", 3, "社区居委会", 5), Sub("残疾人帮扶", 1, "民政办", 7)),
        (0.40, 0.35, 0.23, 0.02, 0.0),
        weekday="office",
        hotspots=(0.0, 0.0, 0.15),
    ),
    Category(
        "市政设施",
        0.08,
        (
            Sub("路面破损", 3, "市政所", 3),
            Sub("井盖缺失破损", 2, "市政所", 1),
            Sub("路灯不亮", 2, "市政所", 2),
            Sub("道路积水", 2, "市政所", 1),
        ),
        (0.66, 0.07, 0.18, 0.04, 0.05),
        season=_RAINY,
        weekday="office",
        hotspots=(0.0, 0.0, 0.10),
    ),
    Category(
        "园林绿化",
        0.03,
        (Sub("绿化损毁", 2, "绿化养护所", 3), Sub("树木倾倒", 1, "绿化养护所", 1), Sub("毁绿种菜", 2, "城管中队", 5)),
        (0.65, 0.05, 0.20, 0.05, 0.05),
        season=(0.6, 0.6, 0.9, 1.1, 1.1, 1.2, 1.3, 1.6, 1.5, 1.0, 0.7, 0.6),
        weekday="office",
    ),
    Category(
        "物业管理",
        0.06,
        (
            Sub("电梯故障", 2, "物业公司", 2),
            Sub("公共设施维修", 3, "物业公司", 5),
            Sub("物业服务投诉", 2, "社区居委会", 7),
        ),
        (0.25, 0.30, 0.42, 0.03, 0.0),
        hotspots=(0.0, 0.0, 0.25),
        stuck=4,
    ),
    Category(
        "违法建设",
        0.03,
        (Sub("违章搭建", 3, "综合执法队", 7), Sub("破墙开店", 1, "综合执法队", 7)),
        (0.70, 0.10, 0.15, 0.05, 0.0),
        weekday="office",
        hotspots=(0.0, 0.0, 0.15),
        stuck=8,
    ),
    Category(
        "市场监管",
        0.04,
        (Sub("无证经营", 2, "市场监管所", 5), Sub("食品安全", 2, "市场监管所", 3), Sub("价格投诉", 1, "市场监管所", 5)),
        (0.40, 0.20, 0.35, 0.05, 0.0),
        hotspots=(0.35, 0.15, 0.0),
    ),
    Category(
        "劳动保障",
        0.02,
        (Sub("拖欠工资", 3, "人力社保所", 7), Sub("劳动合同纠纷", 1, "人力社保所", 7)),
        (0.15, 0.30, 0.52, 0.03, 0.0),
        season=(2.2, 1.6, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 1.0, 1.8),
        weekday="office",
        stuck=1,
    ),
)

UNIT_SPEED = {  # log-multiplier of a unit's handling time (negative = quicker than average)
    "环卫所": -0.35,
    "城管中队": 0.0,
    "交警中队": -0.2,
    "生态环境分局": 0.15,
    "派出所": -0.1,
    "人民调解委员会": 0.1,
    "社区居委会": -0.05,
    "消防救援站": -0.3,
    "民政办": 0.1,
    "市政所": 0.1,
    "绿化养护所": 0.05,
    "物业公司": 0.3,
    "综合执法队": 0.25,
    "市场监管所": 0.0,
    "人力社保所": 0.2,
    SELF_HANDLER: -1.2,
}


# the subcategories of all categories flattened into arrays, indexed by _SUB_OFFSET[category] + sub
_SUB_OFFSET = np.cumsum([0] + [len(c.subs) for c in CATALOGUE[:-1]])
_SUB_NAME = np.array([s.name for c in CATALOGUE for s in c.subs], dtype=object)
_SUB_HANDLER = np.array([s.handler for c in CATALOGUE for s in c.subs], dtype=object)
_SUB_DAYS = np.array([s.days for c in CATALOGUE for s in c.subs], dtype=float)
_SUB_SELF_FIX = np.array([s.self_fix for c in CATALOGUE for s in c.subs], dtype=bool)


@dataclass(frozen=True)
class Places:
    """Where tickets can happen (metres): grids with weights, and the three hot spots."""

    grid_polys: np.ndarray
    grid_weight: np.ndarray  # population × local propensity
    grid_speed: np.ndarray  # log-multiplier of handling time per grid
    market: np.ndarray  # (2,)
    nightlife: np.ndarray  # (2, 2) segment ends
    old_estate: np.ndarray  # (2,) centre
    old_estate_radius: float
    outline: shapely.Polygon


def _day_weights(days: pd.DatetimeIndex, cat: Category, source: str) -> np.ndarray:
    """Relative chance of each day for tickets of ``cat`` reported by ``source``."""
    office = source in ("grid_worker", "unit")
    weekday = WEEKDAY["office" if office else "flat" if source == "video" else cat.weekday]
    w = np.asarray(cat.season)[days.month - 1] * np.asarray(weekday)[days.day_of_week]
    w = w * (1.0 + GROWTH * np.linspace(0.0, 1.0, len(days)))
    for first, last, f_office, f_public in HOLIDAYS:
        inside = (days >= pd.Timestamp(first, tz=DEMO_TIMEZONE)) & (days <= pd.Timestamp(last, tz=DEMO_TIMEZONE))
        w[inside] *= f_office if office or source == "video" else f_public
    return w / w.sum()


def _hour_profile(cat: Category, source: str) -> np.ndarray:
    key = {"grid_worker": "office", "unit": "office", "video": "video"}.get(source, cat.hours)
    p = np.asarray(HOURS[key], dtype=float)
    return p / p.sum()


def _draw_times(rng: np.random.Generator, start: pd.Timestamp, n_days: int):
    """Category, source and creation time of every ticket (seconds since ``start``)."""
    days = pd.date_range(start, periods=n_days, freq="D")
    share = np.array([c.share for c in CATALOGUE])
    mix = np.array([c.sources for c in CATALOGUE])
    pair_p = (share[:, None] * mix / mix.sum(axis=1, keepdims=True)).ravel()
    pair_n = rng.multinomial(TICKETS_PER_YEAR, pair_p / pair_p.sum())
    cat, src, secs = [], [], []
    for pair, n in enumerate(pair_n):
        if n == 0:
            continue
        c, s = divmod(pair, len(SOURCES))
        day = rng.choice(n_days, size=n, p=_day_weights(days, CATALOGUE[c], SOURCES[s]))
        hour = rng.choice(24, size=n, p=_hour_profile(CATALOGUE[c], SOURCES[s]))
        cat.append(np.full(n, c))
        src.append(np.full(n, s))
        secs.append(day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n))
    return np.concatenate(cat), np.concatenate(src), np.concatenate(secs)


def _draw_subcategories(rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
    """Index into the category's ``subs`` for every ticket."""
    sub = np.zeros(len(cat), dtype=int)
    for c, category in enumerate(CATALOGUE):
        rows = np.flatnonzero(cat == c)
        w = np.array([s.weight for s in category.subs])
        sub[rows] = rng.choice(len(w), size=rows.size, p=w / w.sum())
    return sub


def _draw_locations(rng: np.random.Generator, cat: np.ndarray, places: Places, outside_share: float) -> np.ndarray:
    """Metric (x, y) of every ticket: background grids ∝ weight, or one of the hot spots."""
    n = len(cat)
    spots = HOTSPOT_SCALE * np.array([c.hotspots for c in CATALOGUE])[cat]  # (n, 3)
    u = rng.random(n)
    cum = np.cumsum(spots, axis=1)
    spot = np.where(u < cum[:, 0], 0, np.where(u < cum[:, 1], 1, np.where(u < cum[:, 2], 2, -1)))
    xy = np.empty((n, 2))

    background = np.flatnonzero(spot == -1)
    grid = rng.choice(len(places.grid_polys), size=background.size, p=places.grid_weight / places.grid_weight.sum())
    xy[background] = sample_in_polygons(rng, places.grid_polys, grid)

    market = np.flatnonzero(spot == 0)
    xy[market] = places.market + rng.normal(0.0, 110.0, (market.size, 2))

    night = np.flatnonzero(spot == 1)
    a, b = places.nightlife
    along = rng.random(night.size)[:, None]
    direction = (b - a) / np.linalg.norm(b - a)
    normal = np.array([-direction[1], direction[0]])
    xy[night] = a + along * (b - a) + rng.normal(0.0, 30.0, night.size)[:, None] * normal

    estate = np.flatnonzero(spot == 2)
    xy[estate] = places.old_estate + rng.normal(0.0, places.old_estate_radius / 2, (estate.size, 2))

    outside = rng.choice(n, size=round(outside_share * n), replace=False)
    xy[outside] = _just_outside(rng, places.outline, outside.size)
    return xy


def _just_outside(rng: np.random.Generator, outline, n: int) -> np.ndarray:
    """``n`` points 15–300 m outside the outline (neighbouring streets' cases reported here)."""
    ring = outline.exterior
    got = np.empty((0, 2))
    while len(got) < n:
        m = 2 * (n - len(got)) + 16
        on = shapely.line_interpolate_point(ring, rng.random(m), normalized=True)
        px, py = shapely.get_x(on), shapely.get_y(on)
        cx, cy = outline.centroid.x, outline.centroid.y
        d = np.hypot(px - cx, py - cy)
        step = rng.uniform(15.0, 300.0, m)
        x, y = px + (px - cx) / d * step, py + (py - cy) / d * step
        keep = ~shapely.contains_xy(outline, x, y)
        keep &= shapely.distance(outline, shapely.points(x, y)) > 10.0
        got = np.vstack([got, np.column_stack([x[keep], y[keep]])])
    return got[:n]


def ticket_table(
    rng: np.random.Generator, start: pd.Timestamp, as_of: pd.Timestamp, places: Places, outside_share: float = 0.02
) -> tuple[pd.DataFrame, np.ndarray]:
    """All tickets of the period ``start`` .. ``as_of`` as a frame plus their metric coordinates.

    ``outside_share`` of them lie just outside the street. Rows are sorted by creation time.
    """
    n_days = (as_of.normalize() - start.normalize()).days + 1
    cat, src, secs = _draw_times(rng, start, n_days)
    order = np.argsort(secs, kind="stable")
    cat, src, secs = cat[order], src[order], secs[order]
    n = len(cat)
    sub = _draw_subcategories(rng, cat)
    xy = _draw_locations(rng, cat, places, outside_share)
    grid = grid_index(places.grid_polys, xy)

    flat = _SUB_OFFSET[cat] + sub  # index into the flattened subcategory table
    handler = _SUB_HANDLER[flat].copy()
    self_fix = _SUB_SELF_FIX[flat] & (src == GRID_WORKER) & (rng.random(n) < SELF_FIX_CHANCE)
    handler[self_fix] = SELF_HANDLER

    life = _lifecycle(rng, secs, _SUB_DAYS[flat], cat, src, handler, self_fix, grid, places, as_of, start)
    frame = pd.DataFrame(
        {
            schema.CREATED_AT: _times(start, secs),
            schema.CATEGORY: np.array([c.name for c in CATALOGUE], dtype=object)[cat],
            schema.SUBCATEGORY: _SUB_NAME[flat],
            schema.DESCRIPTION: _describe(_SUB_NAME[flat]),
            schema.SOURCE: np.asarray(SOURCES, dtype=object)[src],
            **life,
        }
    )
    frame.insert(0, schema.TICKET_ID, _ticket_ids(frame[schema.CREATED_AT]))
    return frame, xy


_DESCRIPTIONS = (
    "居民反映{}，请尽快处理",
    "巡查发现{}，已拍照留存",
    "{}，多次反映未解决",
    "来电反映{}",
    "{}，影响居民出行",
)


def _describe(subcategories: np.ndarray) -> np.ndarray:
    """A short report text per ticket (no random draws, so adding it left every other column unchanged)."""
    templates = np.asarray(_DESCRIPTIONS, dtype=object)[np.arange(len(subcategories)) % len(_DESCRIPTIONS)]
    return np.array([t.format(s) for t, s in zip(templates, subcategories)], dtype=object)


def _ticket_ids(created: pd.Series) -> np.ndarray:
    """``SJ`` + date + 4-digit running number of the day, e.g. SJ202603140027."""
    day = created.dt.strftime("%Y%m%d")
    seq = day.groupby(day).cumcount() + 1
    return ("SJ" + day + seq.astype(str).str.zfill(4)).to_numpy(dtype=object)


def _lifecycle(
    rng, secs, days, cat, src, handler, self_fix, grid, places: Places, as_of: pd.Timestamp, start: pd.Timestamp
) -> dict:
    """Dispatch, deadline, closure, rework, stage, rating and handler of every ticket."""
    n = len(secs)
    cutoff = (as_of - start).total_seconds()
    night = ((secs % 86_400) < 7 * 3_600) | ((secs % 86_400) >= 21 * 3_600)
    delay = np.exp(rng.normal(np.log(1_800), 0.8, n)) * np.where(night, 3.0, 1.0)
    delay = np.where(self_fix, rng.uniform(60, 600, n), delay)
    dispatched = secs + np.round(delay)
    window = np.where(self_fix, 86_400.0, days * 86_400.0)
    deadline = dispatched + window

    speed = pd.Series(handler).map(UNIT_SPEED).to_numpy(dtype=float, copy=True)
    speed += np.where(grid >= 0, places.grid_speed[np.maximum(grid, 0)], 0.0)
    ratio = np.exp(rng.normal(np.log(0.33) + speed, 0.62, n))
    rework_p = np.where(
        np.isin(cat, [_cat_index("违法建设"), _cat_index("物业管理"), _cat_index("邻里纠纷")]),
        2 * REWORK_SHARE,
        REWORK_SHARE,
    )
    rework = (rng.random(n) < np.where(self_fix, 0.0, rework_p)).astype(int)
    rework += (rework > 0) & (rng.random(n) < 0.12)
    ratio *= 1.7**rework
    closed = dispatched + np.maximum(np.round(ratio * window), 1_200)

    stage = np.full(n, "closed", dtype=object)
    is_open = closed > cutoff
    progress = np.clip((cutoff - dispatched) / (closed - dispatched), -1.0, 1.0)
    stage[is_open] = np.select(
        [progress < 0, progress < 0.15, progress < 0.75, progress < 0.92],
        ["registered", "dispatched", "handling", "feedback"],
        "verified",
    )[is_open]
    undispatched = dispatched > cutoff
    stage[undispatched & (cutoff - secs < 900)] = "received"

    stuck = _pick_stuck(rng, cat, secs, cutoff, deadline, self_fix)
    stage[stuck] = rng.choice(["handling", "feedback"], size=stuck.size, p=[0.75, 0.25])
    cancelled = rng.choice(np.flatnonzero(~is_open & ~self_fix), size=int(CANCELLED_SHARE * n), replace=False)
    cancelled = np.setdiff1d(cancelled, stuck)
    stage[cancelled] = "cancelled"
    is_closed = stage == "closed"

    satisfaction = _ratings(rng, is_closed & np.isin(src, PUBLIC_SOURCES), closed > deadline, rework > 0)
    handler = handler.copy()
    handler[cancelled] = None
    no_dispatch = undispatched | np.isin(np.arange(n), cancelled)
    return {
        schema.STAGE: stage,
        schema.DISPATCHED_AT: _times(start, np.where(no_dispatch, np.nan, dispatched)),
        schema.DEADLINE_AT: _times(start, np.where(no_dispatch, np.nan, deadline)),
        schema.CLOSED_AT: _times(start, np.where(is_closed, closed, np.nan)),
        schema.REWORK_COUNT: np.where(is_closed | (stage == "handling") | (stage == "feedback"), rework, 0).astype(
            "int64"
        ),
        schema.SATISFACTION: satisfaction,
        schema.HANDLED_BY: np.where(undispatched, None, handler),
    }


def _cat_index(name: str) -> int:
    return next(i for i, c in enumerate(CATALOGUE) if c.name == name)


def _pick_stuck(rng, cat, secs, cutoff, deadline, self_fix) -> np.ndarray:
    """Indices of the long-stuck tickets: overdue by at least a week, mostly hard categories."""
    weight = np.array([c.stuck for c in CATALOGUE])[cat] + 0.05
    eligible = (deadline < cutoff - 7 * 86_400) & ~self_fix
    weight = np.where(eligible, weight * (0.5 + secs / cutoff), 0.0)  # recent ones more likely
    return np.sort(rng.choice(len(cat), size=STUCK_OPEN, replace=False, p=weight / weight.sum()))


def _ratings(rng, rated_pool, late, reworked) -> np.ndarray:
    """Return-visit ratings for closed resident/hotline tickets; late or reworked ones rate worse."""
    n = len(rated_pool)
    rated = rated_pool & (rng.random(n) < RATED_SHARE)
    bad = late | reworked
    u = rng.random(n)
    p_sat = np.where(bad, 0.62, 0.91)
    p_basic = np.where(bad, 0.22, 0.065)
    value = np.where(
        u < p_sat, "satisfied", np.where(u < p_sat + p_basic, "basically_satisfied", "dissatisfied")
    ).astype(object)
    value[~rated] = None
    return value


def _times(start: pd.Timestamp, secs: np.ndarray) -> pd.DatetimeIndex:
    """Seconds since ``start`` (NaN = missing) as tz-aware nanosecond timestamps."""
    return (start + pd.to_timedelta(secs, unit="s")).as_unit("ns")
