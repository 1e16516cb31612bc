"""Synthetic grid attributes and point layers other than tickets: cameras, service points, party
members, patrol teams and their sign-ins.

Every function takes the random generator and plain arrays in metres (``_space``'s UTM 51N) and returns
a ``pandas.DataFrame`` of attribute columns plus an (n, 2) array of metric coordinates; ``generate``
turns them into validated GeoDataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from core import schema
from geodata import _names
from geodata._space import kmeans, sample_in_polygons

# ---- grids ----------------------------------------------------------------------------------------
COUNTY_CODE = "330199"  # made up: 3301xx is Hangzhou, 99 is not a real county
STREET_CODE = "005"
HOUSEHOLDS_MEAN, HOUSEHOLDS_SD, HOUSEHOLDS_RANGE = 400, 55, (290, 530)
HOUSEHOLD_SIZE_RANGE = (2.15, 2.75)
CADRES_PER_COMMUNITY = (4, 6)  # community cadres who lead the grids as 网格长

# ---- cameras --------------------------------------------------------------------------------------
ARTERIAL_EVERY = 4  # every 4th lattice road is an arterial
# GB/T 28181-style 20-digit device code: 8-digit centre (made-up county 330199 + unit 05),
# 2-digit industry (00), 3-digit type (132 = IP camera), 1-digit network (0), then a 6-digit serial
CAMERA_ID_PREFIX = "33019905" + "00" + "132" + "0"
STATUS_P = {"online": 0.962, "offline": 0.022, "fault": 0.016}
OUTAGE_RADIUS_M = 260.0  # one fibre cut leaves the cameras around one spot offline
KEY_SITE_KINDS = (  # kind, how many, cameras per site (low, high), placed by population or by area
    ("小学", 6, (3, 6), "people"),
    ("中学", 3, (4, 7), "people"),
    ("幼儿园", 8, (2, 4), "people"),
    ("医院", 2, (5, 9), "people"),
    ("地铁站", 4, (4, 8), "people"),
    ("公交首末站", 3, (2, 4), "area"),
    ("商业综合体", 3, (5, 9), "people"),
    ("银行网点", 6, (2, 3), "people"),
    ("加油站", 3, (2, 3), "area"),
    ("农贸市场", 3, (3, 6), "people"),
)
KEY_AREA_KINDS = (("文化广场", 3, (6, 10)), ("公园", 3, (6, 12)), ("滨河绿道", 2, (6, 10)), ("商业步行街", 1, (8, 12)))
OTHER_CAMERAS = 70
_COMPOUND_SUFFIXES = ("苑", "花园", "家园", "新村", "公寓", "小区", "嘉园", "府")
_DIRECTIONS = ("北向", "东向", "南向", "西向")

# ---- members and patrols -------------------------------------------------------------------------
MEMBERS = 1_938
MEMBERS_FEMALE_SHARE = 0.352
MEMBERS_PROBATIONARY = 14
MEMBERS_IN_SERVICE_SHARE = 0.27
GRIDS_PER_BRANCH = 4
IN_SERVICE_BRANCHES = (
    "区教育局机关党支部",
    "区卫生健康局党支部",
    "区城市管理局党支部",
    "区市场监管局党支部",
    "区税务局第二党支部",
    "供电服务中心党支部",
    "示范实验学校党支部",
    "区人民医院第三党支部",
    "农商银行支行党支部",
    "燃气公司党支部",
    "区司法局党支部",
    "区图书馆党支部",
)
PATROL_TEAMS = 6
PATROL_NIGHTS = 90
CHECKPOINTS_PER_TEAM = 10
TEAM_MISS_CHANCE = 0.06  # a team skips a night (weather, duty elsewhere)
STORM_NIGHTS = 2  # typhoon nights when no team goes out


@dataclass(frozen=True)
class Roads:
    """The synthetic street lattice: node coordinates, lattice row/column and road names."""

    xy: np.ndarray
    row: np.ndarray
    col: np.ndarray
    bearing: float  # radians, the lattice's rotation from east
    east_west: list
    north_south: list

    @property
    def arterial(self) -> np.ndarray:
        return (self.row % ARTERIAL_EVERY == 0) | (self.col % ARTERIAL_EVERY == 0)

    def name_at(self, i: np.ndarray) -> np.ndarray:
        ew = np.asarray(self.east_west, dtype=object)[self.row[i]]
        ns = np.asarray(self.north_south, dtype=object)[self.col[i]]
        return ew + "与" + ns

    def nearest(self, xy: np.ndarray) -> np.ndarray:
        """Index of the nearest node to each point."""
        d2 = ((xy[:, None, :] - self.xy[None, :, :]) ** 2).sum(axis=2)
        return d2.argmin(axis=1)


# ---- grids ----------------------------------------------------------------------------------------
def grid_table(
    rng: np.random.Generator,
    community_names: list[str],
    grid_community: np.ndarray,
    grid_seq: np.ndarray,
    total_population: int,
) -> pd.DataFrame:
    """Codes, names, staff and residents of every grid; population sums to ``total_population``."""
    n = len(grid_community)
    community = np.asarray(community_names, dtype=object)[grid_community]
    community_code = np.char.zfill((grid_community + 1).astype(str), 3)
    seq = np.char.zfill(grid_seq.astype(str), 2)
    grid_id = np.char.add(np.char.add(COUNTY_CODE + STREET_CODE, community_code), seq)
    households = np.clip(np.round(rng.normal(HOUSEHOLDS_MEAN, HOUSEHOLDS_SD, n)), *HOUSEHOLDS_RANGE)
    raw = households * rng.uniform(*HOUSEHOLD_SIZE_RANGE, n)
    population = _round_to_total(raw * total_population / raw.sum(), total_population)
    return pd.DataFrame(
        {
            schema.GRID_ID: grid_id.astype(object),
            schema.NAME: community + "第" + grid_seq.astype(str).astype(object) + "网格",
            schema.COMMUNITY: community,
            schema.STREET: _names.STREET_NAME,
            schema.LEADER: _grid_leaders(rng, grid_community),
            schema.WORKER: _names.person_names(rng, rng.random(n) < 0.62),  # most grid workers are women
            schema.WORKER_PHONE: _names.mobile_numbers(rng, n),
            schema.HOUSEHOLDS: households.astype("int64"),
            schema.POPULATION: population.astype("int64"),
        }
    )


def _grid_leaders(rng: np.random.Generator, grid_community: np.ndarray) -> np.ndarray:
    """Each community's cadres lead its grids, a few grids each (网格长)."""
    leaders = np.empty(len(grid_community), dtype=object)
    for c in np.unique(grid_community):
        rows = np.flatnonzero(grid_community == c)
        n_cadres = rng.integers(*CADRES_PER_COMMUNITY, endpoint=True)
        cadres = _names.person_names(rng, rng.random(n_cadres) < 0.5)
        leaders[rows] = cadres[np.arange(rows.size) * len(cadres) // rows.size]
    return leaders


def _round_to_total(values: np.ndarray, total: int) -> np.ndarray:
    """Round to integers that sum to ``total`` (largest remainder)."""
    floor = np.floor(values).astype(int)
    floor[np.argsort(-(values - floor))[: total - floor.sum()]] += 1
    return floor


# ---- cameras --------------------------------------------------------------------------------------
def camera_table(
    rng: np.random.Generator,
    roads: Roads,
    grids: np.ndarray,
    grid_weight: np.ndarray,
    key_sites: pd.DataFrame,
    key_areas: pd.DataFrame,
) -> tuple[pd.DataFrame, np.ndarray]:
    """All cameras: intersections, community entrances, key sites, key areas and a few others.

    Cameras are the street's own, so any that scatter past the boundary are moved just inside it.
    """
    parts = [
        _intersection_cameras(rng, roads),
        _entrance_cameras(rng, grids, grid_weight),
        _cluster_cameras(rng, key_sites, "key_site", spread_m=35.0, dome_share=0.35),
        _cluster_cameras(rng, key_areas, "key_area", spread_m=70.0, dome_share=0.5),
        _other_cameras(rng, grids),
    ]
    frame = pd.concat([p[0] for p in parts], ignore_index=True)
    xy = pull_inside(np.vstack([p[1] for p in parts]), shapely.union_all(grids))
    n = len(frame)
    dome = frame.pop("dome").to_numpy(dtype=bool)
    frame[schema.AZIMUTH_DEG] = np.where(dome, np.nan, frame[schema.AZIMUTH_DEG].to_numpy(dtype=float))
    frame[schema.FOV_DEG] = np.where(dome, 360.0, np.round(rng.uniform(60, 110, n)))
    frame[schema.RANGE_M] = np.where(dome, np.round(rng.uniform(60, 120, n)), np.round(rng.uniform(30, 100, n)))
    frame[schema.STATUS] = _camera_status(rng, xy)
    serial = np.char.zfill(np.arange(1, n + 1).astype(str), 6)
    frame.insert(0, schema.CAMERA_ID, np.char.add(CAMERA_ID_PREFIX, serial).astype(object))
    return frame, xy


def pull_inside(xy: np.ndarray, area, margin_m: float = 5.0) -> np.ndarray:
    """Points outside ``area`` moved to the nearest place ``margin_m`` inside its border."""
    inner = shapely.buffer(area, -margin_m)
    outside = ~shapely.contains_xy(inner, xy[:, 0], xy[:, 1])
    if outside.any():
        nearest = shapely.shortest_line(shapely.points(xy[outside]), inner)
        xy = xy.copy()
        xy[outside] = shapely.get_coordinates(shapely.get_point(nearest, 1))
    return xy


def _camera_status(rng: np.random.Generator, xy: np.ndarray) -> np.ndarray:
    """Mostly online; scattered offline/fault units plus one patch cut off by a fibre break."""
    status = rng.choice(list(STATUS_P), size=len(xy), p=list(STATUS_P.values())).astype(object)
    centre = xy[rng.integers(len(xy))]
    status[np.hypot(*(xy - centre).T) < OUTAGE_RADIUS_M] = "offline"
    return status


def _frame(name, site_kind, azimuth, dome) -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.NAME: np.asarray(name, dtype=object),
            schema.SITE_KIND: site_kind,
            schema.AZIMUTH_DEG: azimuth,
            "dome": dome,
        }
    )


def _intersection_cameras(rng: np.random.Generator, roads: Roads) -> tuple[pd.DataFrame, np.ndarray]:
    """Approach cameras at every intersection: 4 + a dome at arterial crossings, fewer elsewhere."""
    both = (roads.row % ARTERIAL_EVERY == 0) & (roads.col % ARTERIAL_EVERY == 0)
    one = roads.arterial & ~both
    n_dir = np.where(both, 4, np.where(one, 2 + (rng.random(len(both)) < 0.4), rng.random(len(both)) < 0.75))
    n_dome = np.where(both, 1, np.where(one, rng.random(len(both)) < 0.5, rng.random(len(both)) < 0.55))
    n_dome = np.where(n_dir + n_dome == 0, 1, n_dome)
    node = np.concatenate([np.repeat(np.arange(len(both)), n_dir), np.repeat(np.arange(len(both)), n_dome)])
    dome = np.concatenate([np.zeros(n_dir.sum(), bool), np.ones(n_dome.sum(), bool)])
    # directional cameras watch the approaches: north, east, south, west of the lattice, in that order
    approach = np.concatenate([_ranks(np.repeat(np.arange(len(both)), n_dir)), np.zeros(n_dome.sum(), int)]) % 4
    start = rng.integers(0, 4, len(both))[node]
    approach = (approach + np.where(both[node], 0, start)) % 4
    compass = (90.0 * approach - np.degrees(roads.bearing) + rng.normal(0, 6, node.size)) % 360.0
    corner = np.radians(45.0 + 90.0 * rng.integers(0, 4, node.size)) + roads.bearing
    offset = rng.uniform(6, 16, node.size)[:, None] * np.column_stack([np.cos(corner), np.sin(corner)])
    label = np.where(dome, "球机", np.asarray(_DIRECTIONS, dtype=object)[approach])
    names = roads.name_at(node) + "路口" + label
    return _frame(names, "intersection", compass, dome), roads.xy[node] + offset


def _ranks(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each run of equal values of a sorted array."""
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    return np.arange(groups.size) - np.repeat(starts, np.diff(np.r_[starts, groups.size]))


def _entrance_cameras(
    rng: np.random.Generator, grids: np.ndarray, grid_weight: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Gate cameras of residential compounds: 1–3 compounds a grid, 1–2 gates each, 1–2 cameras a gate."""
    compounds = 1 + rng.binomial(2, np.clip(grid_weight / grid_weight.max(), 0.2, 0.9))
    grid = np.repeat(np.arange(len(grids)), compounds)
    compound_xy = sample_in_polygons(rng, grids, grid, shrink_m=30.0)
    compound_name = _compound_names(rng, grid.size)
    gates = 1 + (rng.random(grid.size) < 0.55)
    c = np.repeat(np.arange(grid.size), gates)
    gate_dir = (rng.integers(0, 4, grid.size)[c] + _ranks(c) * 2) % 4
    per_gate = 1 + (rng.random(c.size) < 0.45)
    g = np.repeat(np.arange(c.size), per_gate)
    toward = np.radians(90.0 - 90.0 * gate_dir[g])  # north, east, south, west in maths angles
    xy = compound_xy[c[g]] + rng.uniform(40, 90, g.size)[:, None] * np.column_stack([np.cos(toward), np.sin(toward)])
    azimuth = (90.0 * gate_dir[g] + 180.0 + rng.normal(0, 20, g.size)) % 360.0  # looking at the gate
    dome = rng.random(g.size) < 0.12
    names = compound_name[c[g]] + np.asarray(["北门", "东门", "南门", "西门"], dtype=object)[gate_dir[g]]
    return _frame(names, "community_entrance", azimuth, dome), xy


def _compound_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Residential compound names: a two-character stem (from the road-name pool) + 苑/花园/新村 …"""
    east_west, _ = _names.road_names(rng, 200, 0)
    stems = np.asarray([s[:2] for s in east_west], dtype=object)
    stem = stems[rng.choice(stems.size, size=n, replace=n > stems.size)]
    return stem + np.asarray(_COMPOUND_SUFFIXES, dtype=object)[rng.integers(0, len(_COMPOUND_SUFFIXES), n)]


def _cluster_cameras(
    rng: np.random.Generator, sites: pd.DataFrame, site_kind: str, spread_m: float, dome_share: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """Several cameras around each key site or area (``sites`` has name, x, y, cameras[, x2, y2])."""
    site = np.repeat(np.arange(len(sites)), sites["cameras"].to_numpy())
    centre = sites[["x", "y"]].to_numpy()[site]
    if {"x2", "y2"} <= set(sites.columns):  # areas along a street: spread along the segment
        end = sites[["x2", "y2"]].to_numpy()[site]
        along = rng.random(site.size)[:, None]
        centre = np.where(np.isnan(end), centre, centre + along * (np.nan_to_num(end) - centre))
    xy = centre + rng.normal(0, spread_m, (site.size, 2))
    number = (_ranks(site) + 1).astype(str).astype(object)
    names = sites["name"].to_numpy(dtype=object)[site] + number + "号点位"
    dome = rng.random(site.size) < dome_share
    return _frame(names, site_kind, rng.uniform(0, 360, site.size).round(), dome), xy


def _other_cameras(rng: np.random.Generator, grids: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Back-lane and building cameras not tied to a listed site."""
    xy = sample_in_polygons(rng, grids, rng.integers(0, len(grids), OTHER_CAMERAS))
    names = np.asarray(["背街小巷", "楼宇周边", "停车场"], dtype=object)[rng.integers(0, 3, OTHER_CAMERAS)]
    names = names + (np.arange(OTHER_CAMERAS) + 1).astype(str).astype(object) + "号点位"
    return _frame(names, "other", rng.uniform(0, 360, OTHER_CAMERAS).round(), rng.random(OTHER_CAMERAS) < 0.3), xy


def key_sites(
    rng: np.random.Generator,
    grids: np.ndarray,
    grid_weight: np.ndarray,
    grid_community: np.ndarray,
    community_names: list[str],
    market_xy: np.ndarray,
) -> pd.DataFrame:
    """Schools, hospitals, stations, markets …: name, x, y, cameras. The first market is the hot spot."""
    rows = []
    area = shapely.area(grids)
    for kind, count, (lo, hi), placed_by in KEY_SITE_KINDS:
        w = grid_weight if placed_by == "people" else area
        grid = rng.choice(len(grids), size=count, replace=False, p=w / w.sum())
        xy = sample_in_polygons(rng, grids, grid, shrink_m=40.0)
        if kind == "农贸市场":
            xy[0] = market_xy
        for k, (g, (x, y)) in enumerate(zip(grid, xy)):
            stem = community_names[grid_community[g]].removesuffix("社区")
            rows.append(
                {
                    "name": f"{stem}{kind}"
                    if k == 0 or kind not in ("小学", "幼儿园")
                    else f"{stem}第{_names.chinese_ordinal(k + 1)}{kind}",
                    "x": x,
                    "y": y,
                    "cameras": int(rng.integers(lo, hi, endpoint=True)),
                }
            )
    frame = pd.DataFrame(rows)
    frame["name"] = _dedupe(frame["name"])
    return frame


def key_areas(rng: np.random.Generator, grids: np.ndarray, nightlife: np.ndarray) -> pd.DataFrame:
    """Squares, parks, greenways and streets: name, x, y[, x2, y2 for streets], cameras."""
    rows = [
        {
            "name": "美食夜市街",
            "x": nightlife[0, 0],
            "y": nightlife[0, 1],
            "x2": nightlife[1, 0],
            "y2": nightlife[1, 1],
            "cameras": 14,
        }
    ]
    for kind, count, (lo, hi) in KEY_AREA_KINDS:
        grid = rng.choice(len(grids), size=count, replace=False)
        xy = sample_in_polygons(rng, grids, grid, shrink_m=80.0)
        for k, (x, y) in enumerate(xy):
            rows.append(
                {
                    "name": f"{kind}{_names.chinese_ordinal(k + 1)}区",
                    "x": x,
                    "y": y,
                    "x2": np.nan,
                    "y2": np.nan,
                    "cameras": int(rng.integers(lo, hi, endpoint=True)),
                }
            )
    return pd.DataFrame(rows)


def _dedupe(names: pd.Series) -> pd.Series:
    """Append （二）, （三）… to repeated names."""
    k = names.groupby(names).cumcount()
    suffix = k.map(lambda i: "" if i == 0 else f"（{_names.chinese_ordinal(i + 1)}）")
    return names + suffix


# ---- service points ------------------------------------------------------------------------------
def service_point_table(
    rng: np.random.Generator,
    roads: Roads,
    community_polys: np.ndarray,
    community_names: list[str],
    density_sample: np.ndarray,
    street_centre: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """~25 service points: a party service centre per community, the street's hall, police rooms …"""
    names, kinds, xy = [], [], []

    def add(name: str, kind: str, at: np.ndarray) -> None:
        names.append(name)
        kinds.append(kind)
        xy.append(np.asarray(at, dtype=float))

    centres = shapely.get_coordinates(shapely.point_on_surface(community_polys))
    for name, at in zip(community_names, centres):
        add(f"{name}党群服务中心", "party_service_center", at)
    hall = roads.xy[roads.nearest(street_centre[None, :])[0]]
    street = _names.STREET_NAME.removesuffix("（模拟）")
    add(f"{street}便民服务中心（模拟）", "service_hall", hall + [25.0, 20.0])
    add(f"{street}公共法律服务工作站（模拟）", "legal_aid", hall + [-30.0, 15.0])
    add(f"{street}人民调解委员会调解工作站（模拟）", "mediation_station", hall + [20.0, -35.0])
    for kind, label, k in (("police_room", "警务室", 4), ("health_station", "社区卫生服务站", 4)):
        spots = roads.xy[roads.nearest(kmeans(rng, density_sample, k))]
        for at in spots + rng.normal(0, 20, (k, 2)):
            add(f"{_community_at(at, community_polys, community_names)}{label}", kind, at)
    busiest = int(np.argmin(np.hypot(*(centres - density_sample.mean(axis=0)).T)))
    add(f"{community_names[busiest]}矛盾纠纷调解室", "mediation_station", centres[busiest] + [40.0, -25.0])
    add(
        f"{community_names[busiest]}新时代文明实践站（志愿服务）", "volunteer_station", centres[busiest] + [-35.0, 30.0]
    )
    frame = pd.DataFrame(
        {schema.POINT_ID: [f"SP{i + 1:03d}" for i in range(len(names))], schema.NAME: names, schema.KIND: kinds}
    )
    frame[schema.NAME] = _dedupe(frame[schema.NAME])
    return frame, np.vstack(xy)


def _community_at(xy: np.ndarray, community_polys: np.ndarray, community_names: list[str]) -> str:
    inside = shapely.contains_xy(community_polys, xy[0], xy[1])
    i = (
        int(np.argmax(inside))
        if inside.any()
        else int(np.argmin(shapely.distance(community_polys, shapely.points(xy))))
    )
    return community_names[i].removesuffix("社区")


# ---- party members -------------------------------------------------------------------------------
def member_table(
    rng: np.random.Generator,
    grids: np.ndarray,
    grid_population: np.ndarray,
    grid_community: np.ndarray,
    grid_seq: np.ndarray,
    community_names: list[str],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Party members living in the grids (党员进网格), with branches, posts and linked households."""
    n = MEMBERS
    grid = np.sort(rng.choice(len(grids), size=n, p=grid_population / grid_population.sum()))
    female = _exact_share(rng, n, round(MEMBERS_FEMALE_SHARE * n))
    probationary = _exact_share(rng, n, MEMBERS_PROBATIONARY)
    in_service = rng.random(n) < MEMBERS_IN_SERVICE_SHARE
    community = np.asarray(community_names, dtype=object)[grid_community[grid]]
    branch_no = (grid_seq[grid] - 1) // GRIDS_PER_BRANCH + 1
    community_branch = (
        community + "第" + pd.Series(branch_no).map(_names.chinese_ordinal).to_numpy(dtype=object) + "党支部"
    )
    branch = np.where(
        in_service,
        np.asarray(IN_SERVICE_BRANCHES, dtype=object)[rng.integers(0, len(IN_SERVICE_BRANCHES), n)],
        community_branch,
    )
    post = _member_posts(rng, grid, in_service)
    linked = np.where(in_service, rng.integers(2, 7, n), rng.integers(4, 16, n))
    linked = np.where(pd.isna(post), linked, linked + rng.integers(4, 10, n))
    linked = np.where(~in_service & (rng.random(n) < 0.11), 0, linked)  # elderly members, no households
    frame = pd.DataFrame(
        {
            schema.MEMBER_ID: [f"DY{i + 1:05d}" for i in range(n)],
            schema.NAME: _names.person_names(rng, female),
            schema.GENDER: np.where(female, "female", "male").astype(object),
            schema.STATUS: np.where(probationary, "probationary", "full").astype(object),
            schema.KIND: np.where(in_service, "in_service", "community").astype(object),
            schema.BRANCH: branch,
            schema.POST: post,
            schema.LINKED_HOUSEHOLDS: linked.astype("int64"),
        }
    )
    return frame, sample_in_polygons(rng, grids, grid, shrink_m=10.0)


def _exact_share(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    flag = np.zeros(n, dtype=bool)
    flag[rng.choice(n, size=k, replace=False)] = True
    return flag


def _member_posts(rng: np.random.Generator, grid: np.ndarray, in_service: np.ndarray) -> np.ndarray:
    """One 网格党小组长 per grid, 楼栋长 and a few other posts among community members; most none."""
    n = grid.size
    post = np.full(n, None, dtype=object)
    candidates = np.flatnonzero(~in_service)
    order = candidates[rng.permutation(candidates.size)]
    first_in_grid = order[np.unique(grid[order], return_index=True)[1]]
    post[first_in_grid] = "网格党小组长"
    free = np.flatnonzero(pd.isna(post))
    u = rng.random(free.size)
    community_free = ~in_service[free]
    post[free[community_free & (u < 0.16)]] = "楼栋长"
    post[free[community_free & (u >= 0.16) & (u < 0.20)]] = "单元长"
    post[free[(u >= 0.20) & (u < 0.235)]] = "志愿服务队长"
    post[free[community_free & (u >= 0.235) & (u < 0.255)]] = "人民调解员"
    return post


# ---- patrols -------------------------------------------------------------------------------------
def patrol_tables(
    rng: np.random.Generator,
    police_xy: np.ndarray,
    roads: Roads,
    community_polys: np.ndarray,
    last_night: pd.Timestamp,
    as_of: pd.Timestamp,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    """Patrol teams based at the police rooms, and their sign-ins on ``PATROL_NIGHTS`` nights."""
    team_ids = [f"XF{i + 1:02d}" for i in range(PATROL_TEAMS)]
    base = police_xy[np.arange(PATROL_TEAMS) % len(police_xy)] + rng.normal(0, 12, (PATROL_TEAMS, 2))
    shift = np.where(np.arange(PATROL_TEAMS) == PATROL_TEAMS - 1, "evening", "night").astype(object)
    teams = pd.DataFrame(
        {
            schema.TEAM_ID: team_ids,
            schema.NAME: [f"平安巡防{_names.chinese_ordinal(i + 1)}队" for i in range(PATROL_TEAMS)],
            schema.SIZE: rng.integers(4, 9, PATROL_TEAMS).astype("int64"),
            schema.SHIFT: shift,
        }
    )
    areas = team_areas(base, community_polys)
    nights = pd.date_range(end=last_night, periods=PATROL_NIGHTS, freq="D")
    storm = rng.choice(np.arange(1, PATROL_NIGHTS - 1), size=STORM_NIGHTS, replace=False)  # not first/last
    frames, xys = [], []
    for t, team_id in enumerate(team_ids):
        points = _checkpoints(rng, roads, community_polys[areas == t], base[t])
        f, xy = _team_checkins(rng, team_id, points, nights, shift[t], storm)
        frames.append(f)
        xys.append(xy)
    checkins = pd.concat(frames, ignore_index=True)
    xy = np.vstack(xys)
    keep = (checkins[schema.CHECKED_AT] <= as_of).to_numpy()
    checkins, xy = checkins[keep].reset_index(drop=True), xy[keep]
    order = np.argsort(checkins[schema.CHECKED_AT].to_numpy(), kind="stable")
    return teams, base, checkins.iloc[order].reset_index(drop=True), xy[order]


def team_areas(base: np.ndarray, community_polys: np.ndarray) -> np.ndarray:
    """Deal communities to teams in turns, each team taking the nearest one left to its base."""
    centres = shapely.get_coordinates(shapely.centroid(community_polys))
    owner = np.full(len(centres), -1)
    while (owner < 0).any():
        for t in range(len(base)):
            free = np.flatnonzero(owner < 0)
            if free.size == 0:
                break
            owner[free[np.argmin(np.hypot(*(centres[free] - base[t]).T))]] = t
    return owner


def _checkpoints(rng: np.random.Generator, roads: Roads, area_polys: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Fixed sign-in points (QR plates) at intersections of the team's area, in route order."""
    area = shapely.union_all(area_polys)
    inside = np.flatnonzero(shapely.contains_xy(area, roads.xy[:, 0], roads.xy[:, 1]))
    chosen = roads.xy[rng.choice(inside, size=min(CHECKPOINTS_PER_TEAM, inside.size), replace=False)]
    angle = np.arctan2(*(chosen - chosen.mean(axis=0)).T[::-1])
    return chosen[np.argsort(angle)]


def _team_checkins(
    rng: np.random.Generator, team_id: str, points: np.ndarray, nights: pd.DatetimeIndex, shift: str, storm: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """One team's sign-ins: on each night it goes out, 4–8 consecutive checkpoints 20–50 min apart."""
    out = rng.random(nights.size) >= TEAM_MISS_CHANCE
    out[storm] = False
    night = np.flatnonzero(out)
    visits = rng.integers(4, min(8, len(points)) + 1, night.size)
    v_night = np.repeat(night, visits)
    k = _ranks(np.repeat(np.arange(night.size), visits))
    first = rng.integers(0, len(points), night.size)
    point = (np.repeat(first, visits) + k) % len(points)
    start_h = 18.5 if shift == "evening" else 20.0
    start = start_h * 3600 + rng.normal(0, 900, night.size)
    gaps = rng.uniform(20 * 60, 50 * 60, v_night.size)
    gaps[np.r_[0, np.cumsum(visits)[:-1]]] = 0.0
    offset = np.repeat(start, visits) + _cumsum_within(gaps, visits)
    checked = (nights[v_night] + pd.to_timedelta(np.round(offset), unit="s")).as_unit("ns")
    night_code = pd.Index(nights[v_night].strftime("%Y%m%d")).astype(object)
    ids = team_id + "-" + night_code + "-" + pd.Index(k + 1).astype(str).str.zfill(2).astype(object)
    frame = pd.DataFrame({schema.CHECKIN_ID: ids, schema.TEAM_ID: team_id, schema.CHECKED_AT: checked})
    return frame, points[point] + rng.normal(0, 8, (v_night.size, 2))


def _cumsum_within(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each group of the given lengths."""
    total = np.cumsum(values)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    before = np.repeat(total[starts] - values[starts], lengths)
    return total - before
