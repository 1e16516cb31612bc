"""Where to put the next K cameras or service points: the maximal covering location problem (MCLP).

Given weighted demand points (tickets, or population spread over a lattice), candidate sites (road
junctions, camera intersection sites, or a regular lattice) and a service radius, choose at most K
candidates so that the demand weight within the radius of a chosen site is as large as possible.
Demand that an existing site already covers counts as covered before and adds nothing.

``MaximalCovering.from_geodataframes`` adapts and validates the layers and delegates to the array
core (``MaximalCovering``); ``solve`` returns a frozen ``SitingResult``. Solving:

1. **distances** — a KD-tree on the candidates (metric CRS) finds every demand–candidate pair within
   the radius; no dense distance matrix. Demand points covered by an existing site, of zero weight or
   out of reach of every candidate are set aside, and points reached by exactly the same candidates
   are merged (their weights added): an exact reduction.
2. **greedy** — the baseline: repeatedly add the site that covers the most uncovered weight. Coverage
   is submodular, so greedy is within a factor 1 − 1/e of the optimum. A swap search (replace one
   site by the best other while that helps) then improves it.
3. **relaxation** — the LP relaxation (HiGHS interior point, through ``scipy.optimize.linprog``) gives
   the upper bound; its site values, rounded to the K largest and swap-improved, another answer.
   When the best answer reaches the bound it is optimal and CBC is not needed. If the LP does not
   finish in half the time limit, a Lagrangian relaxation (subgradient steps, about a second) gives
   the bound instead: a little weaker, never invalid.
4. **solving** — the exact model (binary x per candidate, continuous 0 ≤ y ≤ 1 per demand point,
   y_i ≤ Σ x_j over the candidates within reach, Σ x ≤ K; maximise Σ w_i y_i) solved by CBC through
   pulp, warm-started from the best answer so far, for the rest of the time limit.

The result is never worse than the greedy baseline. Its upper bound is the objective when CBC (or
the LP bound) proves optimality, else the LP (or Lagrangian) relaxation's bound; the gap is
(bound − objective) / bound. On hard instances (every demand point within reach of dozens of candidates, K sites able to
cover most but not all) CBC's root LP alone takes seconds and the gap stays a few percent at the
time limit; the measured cases are in ``tests/perf/bench_coverage.py``.

spopt's ``MCLP.from_cost_matrix`` builds the same model from a dense cost matrix with a Python loop
over every demand × candidate cell (10 million for 5,000 × 2,000) and makes y binary; building the
sparse model directly gives the same optimum far faster (``tests/perf/bench_coverage.py`` measures it).

Here: the model (``MaximalCovering``: validation, the stages of ``solve``) and its ``SitingResult``.
Not here: the reduced model and the algorithms the stages run, greedy, swaps, LP and Lagrangian bounds,
CBC (``core.siting_solvers``); building candidates and demand (``core.siting_inputs``); what is covered
today (``core.viewsheds``, ``core.reach``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse
from scipy.spatial import cKDTree

from core import schema, siting_solvers
from core.errors import Message, Problem, SitingError, ValidationError
from core.geometry import metric_crs
from core.overlay import numeric_column, points_xy

__all__ = ["CANDIDATE_ID", "STAGES", "WEIGHT", "MaximalCovering", "Progress", "SitingResult", "site_circles"]

CANDIDATE_ID = "candidate_id"
WEIGHT = "weight"
DEMAND_LAYER = "demand"  # the layer names problems with demand points and candidates are reported under
CANDIDATE_LAYER = "candidates"
STAGES = ("distances", "greedy", "relaxation", "solving", "done")
"""The stages ``MaximalCovering.solve`` reports to its ``progress`` callback, in order."""

LP_SHARE = 0.5
"""Share of the time limit the LP relaxation may take (then the Lagrangian bound stands in)."""

Progress = Callable[[str, float], None]


def _quiet(stage: str, fraction: float) -> None:
    """The progress callback that reports nothing."""


@dataclass(frozen=True, eq=False)
class SitingResult:
    """The answer of ``MaximalCovering.solve``.

    ``chosen`` are positions into the candidates, in greedy order of the chosen set (each adds the most
    of what the sites before it left uncovered), ``chosen_ids`` their ids and ``added`` the demand weight
    each adds in that order. ``assignment`` has one entry per demand point: the index into ``chosen`` of
    the first site (in that order) covering it, ``COVERED_BEFORE`` if an existing site covers it, or
    ``UNCOVERED``. Weights: ``total`` demand, ``covered_before`` by existing sites, ``objective`` newly
    covered by the chosen sites, ``covered_after`` = before + objective. ``greedy_objective`` is the
    greedy baseline's objective; ``upper_bound`` bounds the best possible objective (``bound`` says
    where it comes from) and ``gap`` = (upper_bound − objective) / upper_bound (0 when both are 0).
    ``status``: "optimal" (proven), "time_limit" (stopped with the best solution found) or
    "nothing_to_add" (no candidate covers any demand that is not already covered).
    """

    chosen: tuple[int, ...]
    chosen_ids: tuple[str, ...]
    added: tuple[float, ...]
    assignment: np.ndarray
    objective: float
    total: float
    covered_before: float
    covered_after: float
    greedy_objective: float
    upper_bound: float
    gap: float
    bound: Message
    status: str
    solve_seconds: float

    COVERED_BEFORE = -2
    UNCOVERED = -1

    @property
    def share_before(self) -> float:
        """The share of the demand existing sites cover (``covered_before`` / ``total``); NaN without demand."""
        return self.covered_before / self.total if self.total else np.nan

    @property
    def share_after(self) -> float:
        """The share covered with the chosen sites added (``covered_after`` / ``total``); NaN without demand."""
        return self.covered_after / self.total if self.total else np.nan

    def sites(self, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The chosen rows of ``candidates`` (the model's), in order: ``rank`` (1 = chosen first), the
        candidates' columns and ``adds`` (the demand weight each adds)."""
        sites = candidates.iloc[list(self.chosen)].reset_index(drop=True)
        sites.insert(0, "rank", range(1, len(sites) + 1))
        sites["adds"] = self.added
        return sites


def site_circles(sites: gpd.GeoDataFrame, radius_m: float) -> gpd.GeoSeries:
    """Each site's circle of ``radius_m`` (what it covers), drawn in the sites' metric CRS and returned in
    EPSG:4326."""
    return sites.to_crs(metric_crs(sites)).buffer(radius_m).to_crs(schema.STORAGE_CRS)


@dataclass(frozen=True, eq=False)
class MaximalCovering:
    """The array core of the MCLP: coordinates in metres (one metric CRS), weights, radius and K.

    ``demand_xy`` (n, 2) with ``weight`` (n,) ≥ 0; ``candidate_xy`` (m, 2) with ``candidate_ids``;
    ``existing_xy`` (e, 2) sites already built. A demand point is covered by a site within
    ``radius_m`` (inclusive). Raises ``SitingError`` for an empty or meaningless model.
    """

    demand_xy: np.ndarray
    weight: np.ndarray
    candidate_xy: np.ndarray
    candidate_ids: tuple[str, ...]
    radius_m: float
    k: int
    existing_xy: np.ndarray

    def __post_init__(self) -> None:
        if len(self.demand_xy) == 0:
            raise SitingError(
                "there is no demand to cover: choose tickets or population as demand, or widen the filters",
                code="no_demand",
            )
        if len(self.candidate_xy) == 0:
            raise SitingError(
                "there are no candidate sites: use a lattice, or upload roads or cameras at intersections",
                code="no_candidates",
            )
        if not (np.isfinite(self.radius_m) and self.radius_m > 0):
            raise SitingError(
                f"the service radius must be a positive number of metres, got {self.radius_m}",
                code="radius",
                params={"value": self.radius_m},
            )
        if not (isinstance(self.k, (int, np.integer)) and self.k >= 1):
            raise SitingError(
                f"the number of sites to add must be a whole number of at least 1, got {self.k}",
                code="site_count",
                params={"value": self.k},
            )
        if len(self.weight) != len(self.demand_xy) or len(self.candidate_ids) != len(self.candidate_xy):
            raise ValueError("weight and demand_xy, candidate_ids and candidate_xy must have matching lengths")
        if not (np.all(np.isfinite(self.weight)) and np.all(self.weight >= 0)):
            raise ValueError("weights must be finite and non-negative")

    @classmethod
    def from_geodataframes(
        cls,
        demand: gpd.GeoDataFrame,
        candidates: gpd.GeoDataFrame,
        radius_m: float,
        k: int,
        weight: str | None = WEIGHT,
        existing: gpd.GeoDataFrame | None = None,
    ) -> MaximalCovering:
        """The model of point layers in any CRS (measured in the candidates' UTM zone).

        ``weight`` names the demand column of weights (None: every point weighs 1); candidate ids come
        from a ``candidate_id`` column, else the index. ``existing`` are the sites already there (e.g.
        the online cameras, or the service points of the kind being sited). Raises ``ValidationError``
        for rows without a point or with a missing or negative weight.
        """
        if len(candidates) == 0:
            raise SitingError(
                "there are no candidate sites: use a lattice, or upload roads or cameras at intersections",
                code="no_candidates",
            )
        crs = metric_crs(candidates)
        if weight is None:
            weights = np.ones(len(demand))
        elif weight not in demand.columns:
            raise ValidationError(
                DEMAND_LAYER,
                [
                    Problem(
                        DEMAND_LAYER,
                        weight,
                        (),
                        f"the weight column `{weight}` is missing",
                        "build the demand with ticket_demand or population_demand, or pass weight=None",
                        code="missing_weight",
                        params={"column": weight},
                    )
                ],
            )
        else:
            weights = numeric_column(demand, weight)
            bad = ~(weights >= 0) | ~np.isfinite(weights)
            if bad.any():
                raise ValidationError(
                    DEMAND_LAYER,
                    [
                        Problem(
                            DEMAND_LAYER,
                            weight,
                            tuple(str(v) for v in demand.index[bad]),
                            "is missing, not a number or negative",
                            "give every demand point a weight of 0 or more",
                            code="bad_weight",
                        )
                    ],
                )
        ids = candidates[CANDIDATE_ID] if CANDIDATE_ID in candidates.columns else candidates.index
        existing_xy = points_xy(existing, "existing", crs) if existing is not None else np.empty((0, 2))
        return cls(
            points_xy(demand, DEMAND_LAYER, crs),
            weights,
            points_xy(candidates, CANDIDATE_LAYER, crs),
            tuple(str(v) for v in ids),
            float(radius_m),
            int(k),
            existing_xy,
        )

    def solve(self, time_limit_s: float = 20.0, progress: Progress | None = None) -> SitingResult:
        """Choose at most K sites (see the module docstring for the method); sites that would add
        nothing are not proposed. ``progress(stage, fraction)`` is called as each of ``STAGES`` starts
        ("done" with 1.0). The whole solve stops after about ``time_limit_s``: CBC gets what is left (at
        least a second) when the relaxation has not already proven the answer optimal, and overruns it
        by the seconds it takes to read and write its model files (a few on a busy machine)."""
        report = progress or _quiet
        started = time.perf_counter()
        report("distances", 0.0)
        before = self._covered_by_existing()
        cover = siting_solvers.cover_matrix(self.demand_xy, self.candidate_xy, self.radius_m)
        model = siting_solvers.ReducedModel.build(cover, np.where(before, 0.0, self.weight))

        report("greedy", 0.1)
        greedy = siting_solvers.greedy(model.cover, model.weight, self.k)
        greedy_objective = model.objective(greedy)
        best = siting_solvers.swap(model, greedy)

        report("relaxation", 0.2)
        something_to_add = model.weight.sum() > 0
        upper, bound, proven = 0.0, Message("nothing to add", code="bound_none"), True
        if something_to_add:
            upper, relaxed = siting_solvers.lp_relaxation(model, self.k, time_limit_s * LP_SHARE)
            bound = Message("LP relaxation (HiGHS)", code="bound_lp")
            if relaxed is None:
                upper = siting_solvers.lagrangian_bound(model, self.k, model.objective(best))
                bound = Message("Lagrangian relaxation", code="bound_lagrangian")
            else:
                rounded = siting_solvers.swap(model, np.argsort(-relaxed, kind="stable")[: self.k])
                best = max(best, rounded, key=model.objective)
            proven = model.objective(best) >= upper * (1 - 1e-9)

        report("solving", 0.4)
        if not proven:
            remaining = time_limit_s - (time.perf_counter() - started)
            chosen, proven = siting_solvers.solve_exact(model, self.k, best, max(1.0, remaining))
            best = max(best, chosen, key=model.objective)
            bound = Message("CBC proved optimality", code="bound_cbc") if proven else bound
        status = ("optimal" if proven else "time_limit") if something_to_add else "nothing_to_add"
        objective = model.objective(best)
        upper = objective if status == "optimal" else max(upper, objective)

        order, added = siting_solvers.greedy_order(model.cover, model.weight, best)
        sites = model.candidates[order]
        total = float(self.weight.sum())
        covered_before = float(self.weight[before].sum())
        result = SitingResult(
            chosen=tuple(int(s) for s in sites),
            chosen_ids=tuple(self.candidate_ids[s] for s in sites),
            added=tuple(float(a) for a in added),
            assignment=_assignment(cover, sites, before),
            objective=objective,
            total=total,
            covered_before=covered_before,
            covered_after=covered_before + objective,
            greedy_objective=greedy_objective,
            upper_bound=upper,
            gap=(upper - objective) / upper if upper > 0 else 0.0,
            bound=bound,
            status=status,
            solve_seconds=time.perf_counter() - started,
        )
        report("done", 1.0)
        return result

    def _covered_by_existing(self) -> np.ndarray:
        if len(self.existing_xy) == 0:
            return np.zeros(len(self.demand_xy), dtype=bool)
        distance, _ = cKDTree(self.existing_xy).query(self.demand_xy)
        return distance <= self.radius_m


def _assignment(cover: scipy.sparse.csr_matrix, sites: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Per demand point: index into ``sites`` of the first site covering it, else COVERED_BEFORE or
    UNCOVERED."""
    assignment = np.where(before, SitingResult.COVERED_BEFORE, SitingResult.UNCOVERED).astype(np.int64)
    by_column = cover.tocsc()
    for position in range(len(sites) - 1, -1, -1):  # last to first, so the first covering site wins
        site = sites[position]
        rows = by_column.indices[by_column.indptr[site] : by_column.indptr[site + 1]]
        rows = rows[~before[rows]]
        assignment[rows] = position
    return assignment
