"""A synthetic city-sized GridWatch workspace for benchmarks: every canonical layer, at city scale.

    python tests/perf/city.py /tmp/city-home                 # 20,000 grids, 1,000,000 tickets
    python tests/perf/city.py /tmp/city-home --tickets 100000 --check

All of it is SYNTHETIC and describes no real place or person. The grids are the irregular clean
coverage of ``bench_upload.active_grids`` (~20,000 grids around Hangzhou, communities of ~12 grids,
streets of ~12 communities, made-up staff and population). Every other layer resamples the attribute
rows of the bundled demo district (``geodata.load_demo``) with fresh unique ids and puts each point at
a uniform random place in a grid drawn in proportion to its population:

* tickets keep the demo's share of open ones; each keeps its own created/dispatched/deadline/closed
  times moved by one offset (whole weeks, so weekday and hour stay, plus up to half an hour of jitter;
  open tickets only the jitter, so they stay as recent as in the demo), inside the demo's period;
* cameras, service points (one per 5 grids) and party members (15 per grid) are resampled as they are;
  the demo's community and street names in service point names and party branches become those of
  the grid the point lands in (camera names keep the demo's made-up roads);
* patrol teams (one per 50 grids) start from random police rooms; on each of the demo's last 90 nights
  a team copies a random night of the demo team it was resampled from: its sign-in times and where
  they were relative to the team's base (or misses the night, as the demo team did).

``city_layers`` builds the layers (each conformed and validated as ``geodata.generate`` does it, in
EPSG:4326), ``write_city`` stores them as version 1 of a workspace. The same seed gives the same city.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_upload import active_grids

from core import schema
from core.errors import StoreError
from core.store import Store, open_store
from core.validate import conform, problems_in, validate
from geodata import load_demo
from geodata.generate import AS_OF, PERIOD_START, finish_layer

NOTE = "synthetic city"
GRIDS_PER_SERVICE_POINT = 5
MEMBERS_PER_GRID = 15
GRIDS_PER_PATROL_TEAM = 50
PATROL_NIGHTS = 90  # the demo's: the nights up to AS_OF
NIGHT_JITTER_S = 15 * 60  # a copied night starts up to this much earlier or later
TICKET_SHIFT_WEEKS = 8  # closed tickets move by up to this many whole weeks either way
TICKET_JITTER_S = 30 * 60
TICKET_PROPENSITY_SD = 0.35  # log-normal spread of tickets per resident between grids, as the demo's
CAMERA_ID_PREFIX = "3301020000132"  # GB/T 28181 style: 8-digit centre, 2 industry, 3 type (132 camera)
DAY_S = 86_400
WEEK_S = 7 * DAY_S


def city_layers(
    n_grids: int = 20_000, n_tickets: int = 1_000_000, n_cameras: int = 50_000, seed: int = 7
) -> dict[str, gpd.GeoDataFrame]:
    """Every canonical layer of a synthetic city of about ``n_grids`` grids, validated, keys in
    ``schema.LAYERS`` order."""
    rng = np.random.default_rng(seed)
    demo = load_demo()
    grids = active_grids(n_grids, rng)
    city = _City.from_grids(grids)
    services, service_xy = _service_points(rng, demo, city, max(len(grids) // GRIDS_PER_SERVICE_POINT, 1))
    police_xy = service_xy[(services[schema.KIND] == "police_room").to_numpy()]
    teams, team_xy, template = _patrol_teams(rng, demo, city, police_xy, max(len(grids) // GRIDS_PER_PATROL_TEAM, 1))
    frames = {
        schema.CAMERAS.name: _cameras(rng, demo, city, n_cameras),
        schema.SERVICE_POINTS.name: (services, service_xy),
        schema.TICKETS.name: _tickets(rng, demo, city, n_tickets),
        schema.MEMBERS.name: _members(rng, demo, city, MEMBERS_PER_GRID * len(grids)),
        schema.PATROL_TEAMS.name: (teams, team_xy),
        schema.PATROL_CHECKINS.name: _patrol_checkins(rng, demo, city, teams, team_xy, template),
    }
    layers = {schema.GRIDS.name: validate(conform(grids, schema.GRIDS.name), schema.GRIDS.name)}
    layers |= {
        name: finish_layer(name, frame, shapely.points(xy))
        for name, (frame, xy) in frames.items()
        if name in schema.POINT_LAYERS
    }
    return {name: layers[name] for name in schema.LAYERS}


def write_city(home: Path, name: str = "city", **sizes) -> Store:
    """Build a city (``sizes`` as for ``city_layers``) and store it as version 1 of workspace ``name``
    under ``home``."""
    return _store(home, name, city_layers(**sizes))


def city_home(home: Path | None, tmp: Path, **sizes) -> Path:
    """``home`` when a benchmark was given one (a city built before), else a city built under ``tmp``
    (``sizes`` as for ``city_layers``), saying so while it builds."""
    if home is not None:
        return home
    print(f"building the city workspace {sizes or ''} …", flush=True)
    write_city(tmp / "city", **sizes)
    return tmp / "city"


def _store(home: Path, name: str, layers: dict[str, gpd.GeoDataFrame]) -> Store:
    store = open_store(name, Path(home))
    if not store.initialize(layers, note=NOTE):
        raise StoreError(f"workspace `{name}` under {home} already holds data; pick another name or an empty directory")
    return store


# ---- where points go ------------------------------------------------------------------------------
class _City:
    """The grids as arrays: prepared polygons, their bounds, population, community and street."""

    def __init__(self, polygons: np.ndarray, population: np.ndarray, community: np.ndarray, street: np.ndarray):
        shapely.prepare(polygons)
        self.polygons = polygons
        self.bounds = shapely.bounds(polygons)
        self.population = population
        self.community = community
        self.street = street
        self.tree = shapely.STRtree(polygons)

    @classmethod
    def from_grids(cls, grids: gpd.GeoDataFrame) -> _City:
        return cls(
            np.asarray(grids.geometry.array, dtype=object).copy(),
            grids[schema.POPULATION].to_numpy(dtype=float),
            grids[schema.COMMUNITY].to_numpy(dtype=object),
            grids[schema.STREET].to_numpy(dtype=object),
        )

    def points(
        self, rng: np.random.Generator, n: int, weight: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` uniform random points, each in a grid drawn ∝ ``weight`` (default: population);
        (lon/lat, grid index). Rejection sampling in each grid's bounds, all points at once."""
        weight = self.population if weight is None else weight
        grid = rng.choice(len(self.polygons), size=n, p=weight / weight.sum())
        xy = np.empty((n, 2))
        todo = np.arange(n)
        while todo.size:
            low, high = self.bounds[grid[todo], :2], self.bounds[grid[todo], 2:]
            candidate = low + rng.random((todo.size, 2)) * (high - low)
            inside = shapely.contains_xy(self.polygons[grid[todo]], candidate[:, 0], candidate[:, 1])
            xy[todo[inside]] = candidate[inside]
            todo = todo[~inside]
        return xy, grid

    def covers(self, xy: np.ndarray) -> np.ndarray:
        """Whether each point lies in some grid."""
        inside = np.zeros(len(xy), dtype=bool)
        inside[self.tree.query(shapely.points(xy), predicate="within")[0]] = True
        return inside


# ---- layers ---------------------------------------------------------------------------------------
def _resample(
    rng: np.random.Generator, layer: gpd.GeoDataFrame, n: int, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """``n`` attribute rows drawn with replacement from ``layer`` (or from its ``rows``)."""
    pool = np.arange(len(layer)) if rows is None else rows
    return pd.DataFrame(layer.drop(columns=layer.geometry.name)).iloc[rng.choice(pool, n)].reset_index(drop=True)


def _ids(prefix: str, n: int, width: int) -> list[str]:
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


def _cameras(rng: np.random.Generator, demo: dict, city: _City, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = _resample(rng, demo[schema.CAMERAS.name], n)
    frame[schema.CAMERA_ID] = _ids(CAMERA_ID_PREFIX, n, 7)
    xy, _ = city.points(rng, n)
    return frame, xy


def _service_points(rng: np.random.Generator, demo: dict, city: _City, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = _resample(rng, demo[schema.SERVICE_POINTS.name], n)
    frame[schema.POINT_ID] = _ids("SP", n, len(str(n)))
    xy, grid = city.points(rng, n)
    frame[schema.NAME] = _local_names(frame[schema.NAME], demo, city, grid)
    return frame, xy


def _members(rng: np.random.Generator, demo: dict, city: _City, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = _resample(rng, demo[schema.MEMBERS.name], n)
    frame[schema.MEMBER_ID] = _ids("DY", n, len(str(n)))
    xy, grid = city.points(rng, n)
    frame[schema.BRANCH] = _local_names(frame[schema.BRANCH], demo, city, grid)
    return frame, xy


def _local_names(text: pd.Series, demo: dict, city: _City, grid: np.ndarray) -> pd.Series:
    """``text`` with a leading demo community (社区 optional) or street name swapped for the one of
    ``grid``: 星河警务室 → 第12社区警务室, 示范街道便民服务中心（模拟） → 第3街道便民服务中心（模拟）.
    """
    grids = demo[schema.GRIDS.name]
    communities = [c.removesuffix("社区") for c in grids[schema.COMMUNITY].unique()]
    streets = [s.removesuffix("（模拟）") for s in grids[schema.STREET].unique()]
    for names, suffix, local in ((communities, "(?:社区)?", city.community), (streets, "", city.street)):
        pattern = f"^(?:{'|'.join(map(re.escape, names))}){suffix}"
        matched = text.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
        rest = text.str.replace(pattern, "", regex=True)
        text = text.where(~matched, pd.Series(local[grid], index=text.index) + rest)
    return text


def _tickets(rng: np.random.Generator, demo: dict, city: _City, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` tickets, as many open in proportion as the demo's, in time order, ids SJ<day><number>."""
    source = demo[schema.TICKETS.name]
    is_open = source[schema.STAGE].isin(schema.OPEN_STAGES).to_numpy()
    n_open = round(n * is_open.mean())
    frame = pd.concat(
        [
            _resample(rng, source, n_open, np.flatnonzero(is_open)),
            _resample(rng, source, n - n_open, np.flatnonzero(~is_open)),
        ],
        ignore_index=True,
    )
    offset = pd.Series(pd.to_timedelta(_ticket_offsets_s(rng, frame, np.arange(n) < n_open), unit="s"))
    for col in (schema.CREATED_AT, schema.DISPATCHED_AT, schema.DEADLINE_AT, schema.CLOSED_AT):
        frame[col] = frame[col] + offset
    order = np.argsort(frame[schema.CREATED_AT].to_numpy(dtype="datetime64[ns]"), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    created = frame[schema.CREATED_AT].dt
    day = (created.year * 10_000 + created.month * 100 + created.day).to_numpy(dtype=np.int64)
    number = np.arange(n) - np.searchsorted(day, day) + 1  # within its day; days are sorted
    width = max(4, len(str(number.max(initial=0))))
    frame[schema.TICKET_ID] = "SJ" + pd.Series(day * 10**width + number).astype(str)
    weight = city.population * np.exp(rng.normal(0.0, TICKET_PROPENSITY_SD, len(city.population)))
    xy, _ = city.points(rng, n, weight)
    return frame, xy


def _ticket_offsets_s(rng: np.random.Generator, frame: pd.DataFrame, is_open: np.ndarray) -> np.ndarray:
    """Seconds to move each ticket by: whole weeks (none for open tickets) plus jitter, keeping its
    creation at or after PERIOD_START and its last event (dispatch or closing) at or before AS_OF."""

    def seconds(col: str) -> np.ndarray:
        return (frame[col] - PERIOD_START).dt.total_seconds().to_numpy(dtype=float)

    period_s = (AS_OF - PERIOD_START).total_seconds()
    low = -seconds(schema.CREATED_AT)
    high = period_s - np.fmax.reduce(
        [seconds(schema.CREATED_AT), seconds(schema.DISPATCHED_AT), seconds(schema.CLOSED_AT)]
    )
    reach = TICKET_SHIFT_WEEKS * WEEK_S
    first_week = np.ceil(np.maximum(low, -reach) / WEEK_S)
    last_week = np.floor(np.minimum(high, reach) / WEEK_S)
    weeks = np.floor(first_week + rng.random(len(frame)) * (last_week - first_week + 1))
    weeks = np.where(is_open, 0.0, weeks)
    shift = weeks * WEEK_S
    jitter_low = np.maximum(low - shift, -TICKET_JITTER_S)
    jitter_high = np.minimum(high - shift, TICKET_JITTER_S)
    return np.round(shift + jitter_low + rng.random(len(frame)) * (jitter_high - jitter_low)).astype(np.int64)


def _patrol_teams(
    rng: np.random.Generator, demo: dict, city: _City, police_xy: np.ndarray, n: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Teams resampled from the demo's (and which demo team each copies), based at police rooms."""
    source = demo[schema.PATROL_TEAMS.name]
    template = rng.integers(0, len(source), n)
    frame = pd.DataFrame(source.drop(columns=source.geometry.name)).iloc[template].reset_index(drop=True)
    frame[schema.TEAM_ID] = _ids("XF", n, max(2, len(str(n))))
    frame[schema.NAME] = [f"平安巡防{i}队" for i in range(1, n + 1)]
    if len(police_xy):
        xy = police_xy[rng.integers(0, len(police_xy), n)]
    else:
        xy, _ = city.points(rng, n)
    return frame, xy, template


def _patrol_checkins(
    rng: np.random.Generator, demo: dict, city: _City, teams: pd.DataFrame, team_xy: np.ndarray, template: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Each team, each night, repeats a random night of its demo team: the same sign-in times (all
    moved by up to ``NIGHT_JITTER_S``) and the same displacements from its base (mirrored, or the
    base itself, where they would leave the city)."""
    demo_teams, demo_checkins = demo[schema.PATROL_TEAMS.name], demo[schema.PATROL_CHECKINS.name]
    nights = pd.date_range(end=AS_OF.normalize(), periods=PATROL_NIGHTS, freq="D")
    checked = demo_checkins[schema.CHECKED_AT]
    night_start = (checked - pd.Timedelta(hours=12)).dt.normalize()
    after_s = (checked - night_start).dt.total_seconds().to_numpy()
    night = ((night_start - nights[0]).dt.days).to_numpy()
    team = pd.Index(demo_teams[schema.TEAM_ID]).get_indexer(demo_checkins[schema.TEAM_ID])
    base = shapely.get_coordinates(demo_teams.geometry.array)
    offset_xy = shapely.get_coordinates(demo_checkins.geometry.array) - base[team]
    slot = team * PATROL_NIGHTS + night  # every sign-in of one demo team-night, contiguous after sorting
    order = np.argsort(slot, kind="stable")
    count = np.bincount(slot, minlength=len(demo_teams) * PATROL_NIGHTS)
    start = np.cumsum(count) - count

    copied = (
        template[:, None] * PATROL_NIGHTS + rng.integers(0, PATROL_NIGHTS, (len(teams), PATROL_NIGHTS))
    ).ravel()  # row-major: team by team, night by night
    k = count[copied]
    rank = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    source = order[np.repeat(start[copied], k) + rank]
    city_team = np.repeat(np.repeat(np.arange(len(teams)), PATROL_NIGHTS), k)
    city_night = np.repeat(np.tile(np.arange(PATROL_NIGHTS), len(teams)), k)

    late_s = np.repeat(rng.uniform(-NIGHT_JITTER_S, NIGHT_JITTER_S, len(copied)), k)  # not in lockstep
    at = nights[city_night] + pd.to_timedelta(np.round(after_s[source] + late_s), unit="s")
    xy = team_xy[city_team] + offset_xy[source]
    mirrored = team_xy[city_team] - offset_xy[source]
    xy = np.where(city.covers(xy)[:, None], xy, np.where(city.covers(mirrored)[:, None], mirrored, team_xy[city_team]))
    day = nights[city_night].strftime("%Y%m%d").to_numpy(dtype=object)
    ids = (
        teams[schema.TEAM_ID].to_numpy(dtype=object)[city_team]
        + "-"
        + day
        + "-"
        + pd.Index(rank + 1).astype(str).str.zfill(2).to_numpy(dtype=object)
    )
    frame = pd.DataFrame(
        {
            schema.CHECKIN_ID: ids,
            schema.TEAM_ID: teams[schema.TEAM_ID].to_numpy(dtype=object)[city_team],
            schema.CHECKED_AT: at,
        }
    )
    keep = (frame[schema.CHECKED_AT] <= AS_OF).to_numpy()
    order = np.argsort(frame[schema.CHECKED_AT].to_numpy(dtype="datetime64[ns]")[keep], kind="stable")
    return frame[keep].iloc[order].reset_index(drop=True), xy[keep][order]


# ---- command line ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path, help="data directory; the workspace goes to <home>/workspaces/")
    parser.add_argument("--name", default="city", help="workspace name (default city)")
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--cameras", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="read every layer back and validate it")
    args = parser.parse_args()

    start = time.perf_counter()
    layers = city_layers(args.grids, args.tickets, args.cameras, args.seed)
    built_s = time.perf_counter() - start
    start = time.perf_counter()
    store = _store(args.home, args.name, layers)
    written_s = time.perf_counter() - start
    size_mb = store.path.stat().st_size / 2**20 if hasattr(store, "path") else float("nan")

    print(f"{'layer':<16} {'rows':>10}")
    for name, gdf in layers.items():
        print(f"{name:<16} {len(gdf):>10,}")
    print(
        f"built in {built_s:.1f} s, written as version {store.version()} of `{store.name}` in "
        f"{written_s:.1f} s ({size_mb:.0f} MB); total {built_s + written_s:.1f} s"
    )
    if args.check:
        start = time.perf_counter()
        for name in layers:
            back = store.read(name)
            problems = problems_in(back, name)
            print(
                f"read back {name:<16} {len(back):>10,} rows, {len(problems)} problems"
                + "".join(f"\n  {p}" for p in problems)
            )
        print(f"read back and validated in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
