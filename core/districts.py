"""Balanced patrol districts: ``DistrictPlan`` partitions the grids into one connected district per
team, balancing their workloads (``core.workload``).

1. *Contiguity* (``core.contiguity.Contiguity``): the graph of grids that border each other, pieces
   the borders leave apart joined by bridges, so every district can be one connected piece.
2. *Starts*: spopt's contiguity-constrained Ward clustering of the grids' positions (compact connected
   regions), labelled with teams by ``scipy.optimize.linear_sum_assignment``; and, when given, the
   current plan. Each start is repaired into a feasible plan: locks applied (and joined by shortest
   paths), stray pieces of a district handed to neighbours, every team given a district.
3. *Local improvement* (``core.district_search``): boundary grids move or swap between neighbouring
   districts, all kept connected, while that lowers the objective

   ``sum(((W_k - mean) / mean) ** 2)`` (workload imbalance)
   + ``compactness`` × spread (squared distances of grids to their district's centre, in units of
   a district's radius: a k-means term, so districts stay round)
   + ``travel`` × distance of each grid from its team's base (in district radii, weighted by workload)
   + ``stability`` × each grid that changes team against the current plan (weighted by workload).

   The last two are per grid and team, so labelling districts with teams is an assignment problem
   solved exactly.

The best start wins, preferring one no less balanced (max/min ratio and Gini of team workloads) than
the current plan; if neither is, a balance-only search runs from the better one. Locked grids stay
with their team. ``DistrictPlan.from_geodataframes`` adapts and validates the layers; ``solve``
returns a frozen ``PlanResult``.

Not here: scoring grids and reporting on a plan (``core.workload``), the search's moves
(``core.district_search``), the roster (``core.roster``).

Errors: ``core.errors.DistrictPlanError`` for a plan that cannot be made as asked;
``core.errors.ValidationError`` for a current assignment table with problems.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sparse
import shapely
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components, dijkstra

from core import schema
from core.contiguity import Contiguity, adjacency_matrix, neighbour_lists
from core.district_search import LocalSearch, stays_connected
from core.errors import DistrictPlanError
from core.geometry import metric_crs
from core.roster import examples_text, id_text, validate_assignments
from core.workload import WORKLOAD, gini, max_min_ratio, workload_values

# libpysal and spopt are imported where they are used: together they take ~2 s to import (spopt pulls in
# networkx, scikit-learn and matplotlib), which every page that merely reads assignments would pay.

__all__ = ["DistrictPlan", "PlanResult", "Progress"]

Progress = Callable[[str, float], None]
"""A progress callback: ``progress(stage, fraction)``."""


@dataclass(frozen=True, eq=False)
class PlanResult:
    """A proposed plan. ``assignment``: grid_id → team_id for every grid; ``team_workload``: team_id →
    summed workload; ``objective`` = ``imbalance`` + spread, travel and stability terms (lower is
    better); ``iterations``: rounds of local search behind the plan; ``status``: "local_optimum" (no
    move or swap improves, and ``patience`` perturbations in a row found nothing better), "time_limit"
    or "iteration_limit"; ``start``: "seed" or "current", the start the plan grew from;
    ``not_worse_than_current``: max/min ratio and Gini at most the current plan's (None without one)."""

    assignment: pd.Series
    team_workload: pd.Series
    objective: float
    imbalance: float
    iterations: int
    status: str
    seconds: float
    start: str
    not_worse_than_current: bool | None

    @property
    def max_min_ratio(self) -> float:
        return max_min_ratio(self.team_workload)

    @property
    def gini(self) -> float:
        return gini(self.team_workload)

    def table(self) -> pd.DataFrame:
        """The plan as an assignment table (``team_id``, ``grid_id``), the workspace's shape."""
        return pd.DataFrame({schema.TEAM_ID: self.assignment.to_numpy(), schema.GRID_ID: self.assignment.index})


@dataclass(frozen=True, eq=False)
class DistrictPlan:
    """The districting problem as arrays: build it with ``from_geodataframes``, then ``solve``.

    ``workload`` (N), ``edges`` (E × 2 neighbour positions, a connected graph), ``distance_m`` (K × N:
    team base to grid), ``xy`` (N × 2 metric positions), ``current`` and ``locks`` (N team positions,
    -1 for none). ``compactness``, ``travel`` and ``stability`` weigh the objective's terms besides
    imbalance (see the module docstring); the defaults keep districts within a few percent of an equal
    share. Raises ``DistrictPlanError`` when no plan can satisfy the request.
    """

    grid_ids: np.ndarray
    team_ids: np.ndarray
    workload: np.ndarray
    edges: np.ndarray
    distance_m: np.ndarray
    xy: np.ndarray
    current: np.ndarray | None = None
    locks: np.ndarray | None = None
    compactness: float = 0.05
    travel: float = 0.02
    stability: float = 0.05
    _cost: np.ndarray = field(init=False, repr=False)
    _spread_xy: np.ndarray = field(init=False, repr=False)
    _pinned: np.ndarray = field(init=False, repr=False)
    _current: np.ndarray = field(init=False, repr=False)
    _locks: np.ndarray = field(init=False, repr=False)

    TRAVEL_FLOOR = 0.1
    """Grids count at least this share of the mean workload in the travel term, so that grids without
    work still prefer compact districts."""

    def __post_init__(self) -> None:
        n, k = len(self.grid_ids), len(self.team_ids)
        if k == 0 or n == 0:
            raise DistrictPlanError(
                f"a plan needs grids and teams; got {n} grid(s) and {k} team(s)",
                code="plan_empty",
                params={"grids": n, "teams": k},
            )
        if k > n:
            raise DistrictPlanError(
                f"{k} teams cannot each get a district from {n} grids; use at most {n} teams or add grids",
                code="too_many_teams",
                params={"grids": n, "teams": k},
            )
        w = np.asarray(self.workload, dtype=float)
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise DistrictPlanError("workloads must be non-negative numbers, not all zero", code="workloads")
        if connected_components(adjacency_matrix(n, self.edges), directed=False)[0] != 1:
            raise DistrictPlanError(
                "the grids do not form one connected map; build edges with Contiguity", code="not_connected"
            )
        locks = np.full(n, -1) if self.locks is None else np.asarray(self.locks)
        current = np.full(n, -1) if self.current is None else np.asarray(self.current)
        for name, labels in (("locks", locks), ("current", current)):
            object.__setattr__(self, name, labels)
            object.__setattr__(self, f"_{name}", labels)  # the same array, typed as always present
        target = w.sum() / k
        radius = np.sqrt(max(np.ptp(self.xy[:, 0]) * np.ptp(self.xy[:, 1]), 1.0) / (math.pi * k))
        travel_weight = (w + self.TRAVEL_FLOOR * w.mean()) / target
        changed = (current[None, :] >= 0) & (current[None, :] != np.arange(k)[:, None])
        cost = travel_weight[None, :] * (self.travel * self.distance_m / radius + self.stability * changed)
        object.__setattr__(self, "_cost", cost)
        spread_scale = np.sqrt(self.compactness * k / (n * radius**2 / 2))
        object.__setattr__(self, "_spread_xy", (self.xy - self.xy.mean(axis=0)) * spread_scale)
        object.__setattr__(self, "_pinned", self._lock_skeleton())

    @classmethod
    def from_geodataframes(
        cls,
        grids: gpd.GeoDataFrame,
        teams: gpd.GeoDataFrame,
        workload: pd.Series | pd.DataFrame,
        current: pd.DataFrame | None = None,
        locks: Mapping[str, str] | pd.DataFrame | None = None,
        compactness: float = 0.05,
        travel: float = 0.02,
        stability: float = 0.05,
        contiguity: Contiguity | None = None,
    ) -> DistrictPlan:
        """The problem for ``grids`` and ``teams`` (bases = team points).

        ``workload``: per grid_id, a Series or the frame ``workload()`` returns. ``current``: the
        assignment table in force (checked with ``validate_assignments``). ``locks``: grid_id → team_id,
        as a mapping or a table with ``grid_id`` and ``team_id`` (a grid locked to two teams is an error).
        """
        grid_ids = grids[schema.GRID_ID].astype(str).to_numpy()
        team_ids = teams[schema.TEAM_ID].astype(str).to_numpy()
        values = workload_values(workload, grid_ids)
        crs = metric_crs(grids)
        shapes = gpd.GeoSeries(grids.geometry.to_numpy(), crs=grids.crs).to_crs(crs)
        points = np.asarray(shapes.representative_point().array)
        bases = gpd.GeoSeries(teams.geometry.to_numpy(), crs=teams.crs).to_crs(crs)
        no_base = bases.is_empty.to_numpy() | bases.isna().to_numpy()
        if no_base.any():
            raise DistrictPlanError(
                f"team(s) {examples_text(team_ids[no_base])} have no base location; place each "
                "team's point at the base it starts from",
                code="no_base",
                params={"teams": examples_text(team_ids[no_base])},
            )
        xy = shapely.get_coordinates(points)
        base_xy = shapely.get_coordinates(np.asarray(bases.array))
        distance = np.hypot(base_xy[:, None, 0] - xy[None, :, 0], base_xy[:, None, 1] - xy[None, :, 1])
        team_pos = pd.Series(np.arange(len(team_ids)), index=team_ids)
        grid_pos = pd.Series(np.arange(len(grid_ids)), index=grid_ids)
        current_labels = None
        if current is not None:
            table = validate_assignments(current, grids, teams)
            current_labels = np.full(len(grid_ids), -1)
            current_labels[grid_pos[table[schema.GRID_ID]].to_numpy()] = team_pos[table[schema.TEAM_ID]].to_numpy()
        lock_labels = _lock_labels(locks, grid_pos, team_pos) if locks is not None else None
        graph = contiguity if contiguity is not None else Contiguity.from_grids(grids)
        return cls(
            grid_ids,
            team_ids,
            values,
            graph.edges,
            distance,
            xy,
            current_labels,
            lock_labels,
            compactness,
            travel,
            stability,
        )

    # ---- solving -------------------------------------------------------------------------------

    def solve(
        self,
        progress: Progress | None = None,
        seed: int = 0,
        time_limit_s: float | None = None,
        max_iterations: int | None = None,
        patience: int = 50,
    ) -> PlanResult:
        """The best plan found from each start (the spopt seed; the current plan if given).

        ``progress(stage, fraction)`` is called as the work goes on (stages "seed", "current",
        "balance", "done"; fraction of the whole, 0 to 1). ``seed`` drives the random choices of the
        local search. Each start is improved until ``patience`` rounds of perturbation in a row find
        nothing better, or its share of ``time_limit_s`` is spent, or after ``max_iterations`` rounds
        (0 = the repaired start itself). The balance-only search, run only when no start is as balanced
        as the current plan, is not bound by ``time_limit_s``.
        """
        began = time.perf_counter()
        report: Progress = progress or (lambda stage, fraction: None)
        starts: list[tuple[str, np.ndarray | None]] = [("seed", None)]
        if (self._current >= 0).any():
            starts.append(("current", self._current))
        neighbours = neighbour_lists(len(self.grid_ids), self.edges)
        finished = []
        for index, (name, labels) in enumerate(starts):
            report(name, index / len(starts))
            if labels is None:
                labels = self._label(self._ward_labels())
            labels = self._repair(labels, neighbours)
            deadline = None if time_limit_s is None else began + time_limit_s * (index + 1) / len(starts)
            search = LocalSearch(*self._terms(), neighbours, labels, seed + index, deadline, max_iterations, patience)
            status = search.run(_stage_progress(report, name, index, len(starts)))
            finished.append((name, self._label(np.asarray(search.labels)), search.rounds, status))
        balance = self._current_balance()
        if balance is not None and not any(self._balanced_as(f[1], balance) for f in finished):
            report("balance", 1.0)
            name, labels, rounds, _ = min(finished, key=lambda f: self._objective(f[1]))
            search = LocalSearch(
                *self._terms(), neighbours, labels, seed, None, max_iterations, patience, balance_only=True
            )
            status = search.run(lambda f: None)
            finished.append((name, self._label(np.asarray(search.labels)), rounds + search.rounds, status))
        name, labels, rounds, status = min(
            finished, key=lambda f: (not self._balanced_as(f[1], balance), self._objective(f[1]))
        )
        report("done", 1.0)
        loads = np.bincount(labels, weights=self.workload, minlength=len(self.team_ids))
        return PlanResult(
            assignment=pd.Series(
                self.team_ids[labels], index=pd.Index(self.grid_ids, name=schema.GRID_ID), name=schema.TEAM_ID
            ),
            team_workload=pd.Series(loads, index=pd.Index(self.team_ids, name=schema.TEAM_ID), name=WORKLOAD),
            objective=self._objective(labels),
            imbalance=self._imbalance(labels),
            iterations=rounds,
            status=status,
            seconds=time.perf_counter() - began,
            start=name,
            not_worse_than_current=None if balance is None else self._balanced_as(labels, balance),
        )

    def _terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What the local search weighs: workloads, the per grid and team costs, the scaled positions
        of the spread term, and which grids are locked."""
        return self.workload, self._cost, self._spread_xy, self._locks >= 0

    def _imbalance(self, labels: np.ndarray) -> float:
        loads = np.bincount(labels, weights=self.workload, minlength=len(self.team_ids))
        target = self.workload.sum() / len(self.team_ids)
        return float((((loads - target) / target) ** 2).sum())

    def _objective(self, labels: np.ndarray) -> float:
        k = len(self.team_ids)
        sizes = np.bincount(labels, minlength=k)
        sums = np.column_stack([np.bincount(labels, weights=c, minlength=k) for c in self._spread_xy.T])
        spread = (self._spread_xy**2).sum() - ((sums**2).sum(axis=1) / np.maximum(sizes, 1)).sum()
        return self._imbalance(labels) + float(spread) + float(self._cost[labels, np.arange(len(labels))].sum())

    def _current_balance(self) -> tuple[float, float] | None:
        """(max/min, Gini) of the current plan's team workloads; None without a current plan."""
        if not (self._current >= 0).any():
            return None
        assigned = self._current >= 0
        loads = np.bincount(self._current[assigned], weights=self.workload[assigned], minlength=len(self.team_ids))
        return max_min_ratio(loads), gini(loads)

    def _balanced_as(self, labels: np.ndarray, balance: tuple[float, float] | None) -> bool:
        if balance is None:
            return True
        loads = np.bincount(labels, weights=self.workload, minlength=len(self.team_ids))
        return max_min_ratio(loads) <= balance[0] + 1e-12 and gini(loads) <= balance[1] + 1e-12

    def _ward_labels(self) -> np.ndarray:
        """spopt's contiguity-constrained Ward clustering of grid positions into K compact regions."""
        from libpysal.weights import W
        from spopt.region import WardSpatial

        weights = W(dict(enumerate(neighbour_lists(len(self.grid_ids), self.edges))), silence_warnings=True)
        model = WardSpatial(
            pd.DataFrame(self.xy, columns=["x", "y"]), weights, ["x", "y"], n_clusters=len(self.team_ids)
        )
        model.solve()
        return np.asarray(model.labels_, dtype=np.int64)

    def _label(self, regions: np.ndarray) -> np.ndarray:
        """Teams for regions (labels 0..K-1), by the least total cost; a region holding a grid locked to
        another team costs prohibitively."""
        k = len(self.team_ids)
        onehot = sparse.csr_matrix((np.ones(len(regions)), (np.arange(len(regions)), regions)), shape=(len(regions), k))
        cost = np.asarray(onehot.T.dot(self._cost.T).T)
        locked = self._locks >= 0
        if locked.any():
            held = sparse.csr_matrix(
                (np.ones(locked.sum()), (self._locks[locked], regions[locked])), shape=(k, k)
            ).toarray()
            cost += 1e9 * (held.sum(axis=0)[None, :] - held)
        teams, regions_of = linear_sum_assignment(cost)
        team_of_region = np.empty(k, dtype=np.int64)
        team_of_region[regions_of] = teams
        return team_of_region[regions]

    def _lock_skeleton(self) -> np.ndarray:
        """Locked grids, plus for each team the grids that join its locked grids by the shortest path
        that crosses no grid locked (or joined) to another team. Raises if there is no such path."""
        n, k = len(self.grid_ids), len(self.team_ids)
        pinned = self._locks.copy()
        if (pinned >= k).any() or (pinned < -1).any():
            raise DistrictPlanError("locks name a team position that does not exist", code="lock_position")
        free_teams = k - len(np.unique(pinned[pinned >= 0]))
        if free_teams > (pinned < 0).sum():
            raise DistrictPlanError(
                f"{free_teams} team(s) without locked grids but only {(pinned < 0).sum()} "
                "grid(s) left unlocked; unlock grids or plan for fewer teams",
                code="too_few_unlocked",
                params={"teams": free_teams, "grids": int((pinned < 0).sum())},
            )
        length = np.hypot(*(self.xy[self.edges[:, 0]] - self.xy[self.edges[:, 1]]).T) + 1.0
        graph = sparse.csr_matrix(
            (
                np.r_[length, length],
                (np.r_[self.edges[:, 0], self.edges[:, 1]], np.r_[self.edges[:, 1], self.edges[:, 0]]),
            ),
            shape=(n, n),
        )
        counts = np.bincount(pinned[pinned >= 0], minlength=k)
        for team in np.argsort(-counts, kind="stable"):
            locked = np.flatnonzero(pinned == team)
            if locked.size < 2:
                continue
            allowed = np.flatnonzero((pinned < 0) | (pinned == team))
            position = pd.Series(np.arange(allowed.size), index=allowed)
            sub = graph[allowed][:, allowed]
            _, comp = connected_components(sub, directed=False)
            if len(set(comp[position[locked]])) > 1:
                raise DistrictPlanError(
                    f"the grids locked to team {self.team_ids[team]} ({examples_text(self.grid_ids[locked])}) cannot "
                    "form one connected district: grids locked to other teams (or joining their locked grids) "
                    "lie between them; change the locks",
                    code="locks_split",
                    params={"team": self.team_ids[team], "grids": examples_text(self.grid_ids[locked])},
                )
            tree = [position[locked[0]]]
            remaining = set(position[locked].tolist()) - set(tree)
            while remaining:
                dist, pred, _ = dijkstra(sub, indices=tree, min_only=True, return_predecessors=True)
                node = min(remaining, key=lambda r: dist[r])
                path = []
                while node >= 0 and node not in tree:
                    path.append(node)
                    node = pred[node]
                tree.extend(path)
                remaining -= set(path)
            pinned[allowed[tree]] = team
        return pinned

    def _repair(self, labels: np.ndarray, neighbours: list[list[int]]) -> np.ndarray:
        """A feasible plan near ``labels``: locks (and the paths joining them) applied, each district cut
        to its piece holding its locks (else its heaviest piece), every team given a grid, and the grids
        left over handed to the lightest neighbouring district until none is left."""
        k, w = len(self.team_ids), self.workload
        lab = np.asarray(labels, dtype=np.int64).copy()
        pinned = self._pinned >= 0
        lab[pinned] = self._pinned[pinned]
        m = adjacency_matrix(len(lab), self.edges)
        for team in range(k):
            members = np.flatnonzero(lab == team)
            if members.size < 2:
                continue
            count, comp = connected_components(m[members][:, members], directed=False)
            if count == 1:
                continue
            has_pin = np.bincount(comp, weights=pinned[members], minlength=count)
            keep = (
                int(np.argmax(has_pin))
                if has_pin.max() > 0
                else int(np.argmax(np.bincount(comp, weights=w[members] + 1e-12, minlength=count)))
            )
            lab[members[comp != keep]] = -1
        for team in range(k):
            if (lab == team).any():
                continue
            free = np.flatnonzero(lab < 0)
            if free.size:
                lab[free[np.argmin(self.distance_m[team, free])]] = team
                continue
            sizes = np.bincount(lab, minlength=k)
            movable = [
                i
                for i in np.argsort(self.distance_m[team])
                if not pinned[i] and sizes[lab[i]] > 1 and stays_connected(neighbours, lab, i)
            ]
            if not movable:
                raise DistrictPlanError(
                    f"team {self.team_ids[team]} cannot be given a district: every grid is "
                    "locked or holds its district together; unlock some grids",
                    code="no_district",
                    params={"team": self.team_ids[team]},
                )
            lab[movable[0]] = team
        loads = np.bincount(lab[lab >= 0], weights=w[lab >= 0], minlength=k)
        while (lab < 0).any():
            grew = False
            for i in np.flatnonzero(lab < 0):
                options = {lab[j] for j in neighbours[i] if lab[j] >= 0}
                if options:
                    team = min(options, key=lambda t: (loads[t], self._cost[t, i]))
                    lab[i] = team
                    loads[team] += w[i]
                    grew = True
            if not grew:
                raise DistrictPlanError("some grids cannot be reached from any district", code="unreachable")
        return lab


def _stage_progress(report: Progress, stage: str, index: int, count: int) -> Callable[[float], None]:
    """The progress of start ``index`` of ``count`` (a fraction of its own search) as a share of the whole."""
    return lambda fraction: report(stage, (index + fraction) / count)


def _lock_labels(locks: Mapping[str, str] | pd.DataFrame, grid_pos: pd.Series, team_pos: pd.Series) -> np.ndarray:
    if isinstance(locks, pd.DataFrame):
        pairs = [(id_text(g), id_text(t)) for g, t in zip(locks[schema.GRID_ID], locks[schema.TEAM_ID])]
    else:
        pairs = [(id_text(g), id_text(t)) for g, t in locks.items()]
    unknown_grids = [g for g, _ in pairs if g not in grid_pos.index]
    unknown_teams = [t for _, t in pairs if t not in team_pos.index]
    if unknown_grids or unknown_teams:
        raise DistrictPlanError(
            "locks name unknown "
            + "; ".join(
                f"{what} {examples_text(values)}"
                for what, values in (("grid(s)", unknown_grids), ("team(s)", unknown_teams))
                if values
            )
            + "; lock active grids to existing teams",
            code="locks_unknown",
            params={
                "grids": examples_text(unknown_grids) if unknown_grids else "–",
                "teams": examples_text(unknown_teams) if unknown_teams else "–",
            },
        )
    teams_of = pd.DataFrame(pairs, columns=["g", "t"]).drop_duplicates().groupby("g")["t"].agg(list)
    twice = teams_of[teams_of.map(len) > 1]
    if len(twice):
        raise DistrictPlanError(
            "grid(s) locked to more than one team: "
            + "; ".join(f"{g} ({', '.join(t)})" for g, t in twice.items())
            + "; lock each grid to one team",
            code="locked_twice",
            params={"grids": "; ".join(f"{g} ({', '.join(t)})" for g, t in twice.items())},
        )
    labels = np.full(len(grid_pos), -1)
    labels[grid_pos[teams_of.index].to_numpy()] = team_pos[[t[0] for t in teams_of]].to_numpy()
    return labels
