"""The algorithms behind ``core.siting.MaximalCovering.solve``, on the reduced covering model.

``ReducedModel`` is what the solvers see: a boolean demand × candidate cover matrix with demand points
that nothing can newly cover set aside and points reached by exactly the same candidates merged (an
exact reduction). On it:

* ``greedy`` — repeatedly add the site that covers the most uncovered weight (within 1 − 1/e of the
  optimum, coverage being submodular); ``swap`` improves a choice by one-for-one swaps while they help;
  ``greedy_order`` drops redundant sites and orders the rest by what each adds.
* ``lp_relaxation`` — the LP relaxation by HiGHS's interior point method (``scipy.optimize.linprog``):
  an upper bound and fractional site values to round; ``lagrangian_bound`` — a subgradient bound for
  when the LP does not finish in time.
* ``solve_exact`` — the exact MIP by CBC through pulp, warm-started.

What is NOT here: the model, its validation, the order of the stages and the result (``core.siting``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np
import pulp
import scipy.sparse
from scipy.optimize import linprog
from scipy.spatial import cKDTree

from core.errors import SitingError

__all__ = [
    "LAGRANGIAN_STEPS",
    "ReducedModel",
    "cover_matrix",
    "greedy",
    "greedy_order",
    "lagrangian_bound",
    "lp_relaxation",
    "solve_exact",
    "swap",
]

LAGRANGIAN_STEPS = 1000


@dataclass(frozen=True, eq=False)
class ReducedModel:
    """The model the solvers see: ``cover`` (rows: merged demand, columns: ``candidates`` that cover
    something) as a boolean CSR matrix, and the merged ``weight`` of each row."""

    cover: scipy.sparse.csr_matrix
    weight: np.ndarray
    candidates: np.ndarray

    @classmethod
    def build(cls, cover: scipy.sparse.csr_matrix, weight: np.ndarray) -> ReducedModel:
        useful = (weight > 0) & (np.diff(cover.indptr) > 0)
        rows = cover[useful]
        candidates = np.flatnonzero(np.diff(rows.tocsc().indptr) > 0)
        rows = rows[:, candidates].tocsr()
        rows.sort_indices()
        keys = [rows.indices[a:b].tobytes() for a, b in zip(rows.indptr[:-1], rows.indptr[1:])]
        _, first, group = np.unique(np.array(keys, dtype=object), return_index=True, return_inverse=True)
        merged = np.bincount(group.ravel(), weights=weight[useful], minlength=len(first))
        return cls(rows[first].tocsr(), merged, candidates)

    def objective(self, chosen: np.ndarray) -> float:
        """Weight covered by the reduced-model columns ``chosen``."""
        if len(chosen) == 0:
            return 0.0
        covered = np.asarray(self.cover[:, chosen].sum(axis=1)).ravel() > 0
        return float(self.weight[covered].sum())


def cover_matrix(demand_xy: np.ndarray, candidate_xy: np.ndarray, radius_m: float) -> scipy.sparse.csr_matrix:
    """Boolean (demand × candidates) matrix of pairs within ``radius_m`` (inclusive), from KD-trees."""
    pairs = cKDTree(demand_xy).query_ball_tree(cKDTree(candidate_xy), radius_m)
    counts = np.fromiter((len(p) for p in pairs), dtype=np.int64, count=len(pairs))
    indices = np.fromiter((j for p in pairs for j in p), dtype=np.int64, count=int(counts.sum()))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    data = np.ones(len(indices), dtype=bool)
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(len(demand_xy), len(candidate_xy)))


def greedy(cover: scipy.sparse.csr_matrix, weight: np.ndarray, k: int) -> np.ndarray:
    """Greedy choice of up to ``k`` columns: each time the one adding the most uncovered weight (lowest
    index on ties); stops early when nothing adds weight."""
    by_column = cover.tocsc()
    open_weight = weight.astype(float).copy()
    chosen = []
    for _ in range(min(k, cover.shape[1])):
        gain = by_column.T @ open_weight
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        open_weight[by_column.indices[by_column.indptr[best] : by_column.indptr[best + 1]]] = 0.0
    return np.array(chosen, dtype=np.int64)


def greedy_order(
    cover: scipy.sparse.csr_matrix, weight: np.ndarray, chosen: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``chosen`` without the sites the others make redundant (whose weight is all covered twice),
    ordered greedily (most new weight first), and the weight each adds in that order."""
    by_column = cover[:, chosen].tocsc()
    count = np.asarray(by_column.sum(axis=1)).ravel()
    keep = np.ones(len(chosen), dtype=bool)
    for column in range(len(chosen)):
        rows = by_column.indices[by_column.indptr[column] : by_column.indptr[column + 1]]
        if np.all((count[rows] >= 2) | (weight[rows] <= 0)):
            keep[column] = False
            count[rows] -= 1
    kept = np.flatnonzero(keep)
    order = kept[greedy(by_column[:, kept].tocsr(), weight, len(kept))]
    covered = np.zeros(cover.shape[0], dtype=bool)
    added = []
    for column in order:
        rows = by_column.indices[by_column.indptr[column] : by_column.indptr[column + 1]]
        added.append(weight[rows[~covered[rows]]].sum())
        covered[rows] = True
    return chosen[order], np.array(added, dtype=float)


def swap(model: ReducedModel, chosen: np.ndarray) -> np.ndarray:
    """Local search from ``chosen``: for each site in turn, swap it for the candidate that adds the most
    in its place, while that covers more; repeat until no swap helps."""
    chosen = np.array(chosen, dtype=np.int64)
    if len(chosen) == 0:
        return chosen
    by_column = model.cover.tocsc()
    gains = by_column.T.astype(float)
    count = np.asarray(model.cover[:, chosen].sum(axis=1)).ravel()
    improved = True
    while improved:
        improved = False
        for position, site in enumerate(chosen):
            rows = by_column.indices[by_column.indptr[site] : by_column.indptr[site + 1]]
            count[rows] -= 1
            gain = gains @ (model.weight * (count == 0))
            best = int(np.argmax(gain))
            if gain[best] > gain[site] * (1 + 1e-12) + 1e-12:
                chosen[position] = site = best
                rows = by_column.indices[by_column.indptr[site] : by_column.indptr[site + 1]]
                improved = True
            count[rows] += 1
    return chosen


def solve_exact(model: ReducedModel, k: int, start: np.ndarray, time_limit_s: float) -> tuple[np.ndarray, bool]:
    """CBC on the reduced model, warm-started from ``start``: (chosen columns, proven optimal)."""
    n, m = model.cover.shape
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [problem.add_variable(f"x{j}", 0, 1, cat=pulp.LpBinary) for j in range(m)]
    y = [problem.add_variable(f"y{i}", 0, 1) for i in range(n)]
    problem += pulp.LpAffineExpression(zip(y, model.weight.tolist()))
    indptr, indices = model.cover.indptr, model.cover.indices
    for i in range(n):
        terms = [(x[j], 1) for j in indices[indptr[i] : indptr[i + 1]]]
        terms.append((y[i], -1))
        problem += pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintGE, rhs=0)
    problem += pulp.LpConstraint(pulp.LpAffineExpression((v, 1) for v in x), pulp.LpConstraintLE, rhs=k)
    started = set(start.tolist())
    covered = np.asarray(model.cover[:, start].sum(axis=1)).ravel() > 0 if len(start) else np.zeros(n, bool)
    for j, variable in enumerate(x):
        variable.setInitialValue(1 if j in started else 0)
    for i, variable in enumerate(y):
        variable.setInitialValue(1 if covered[i] else 0)
    solver = pulp.COIN_CMD(path=_cbc_path(), msg=False, timeLimit=time_limit_s, warmStart=True)
    problem.solve(solver)
    if problem.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        raise SitingError(
            f"the solver found no solution ({pulp.LpStatus[problem.status]}); "
            "try a longer time limit or fewer candidates",
            code="no_solution",
            params={"status": pulp.LpStatus[problem.status]},
        )
    chosen = np.array([j for j, variable in enumerate(x) if (variable.value() or 0) > 0.5], dtype=np.int64)
    return chosen, problem.sol_status == pulp.LpSolutionOptimal


def _cbc_path() -> str:
    """The CBC executable: one on the PATH (``pip install pulp[cbc]`` provides it), else the one bundled
    with pulp 3 (what its deprecated ``PULP_CBC_CMD`` runs)."""
    return shutil.which("cbc") or pulp.PULP_CBC_CMD.pulp_cbc_path


def lp_relaxation(model: ReducedModel, k: int, time_limit_s: float) -> tuple[float, np.ndarray | None]:
    """The optimum of the LP relaxation (an upper bound on the covered weight) and its site values,
    by HiGHS's interior point method (much faster than simplex on this degenerate LP); (inf, None) if
    it does not finish in ``time_limit_s``."""
    n, m = model.cover.shape
    a_ub = scipy.sparse.vstack(
        [
            scipy.sparse.hstack([-model.cover.astype(float), scipy.sparse.identity(n)]),
            scipy.sparse.hstack([np.ones((1, m)), scipy.sparse.csr_matrix((1, n))]),
        ]
    ).tocsr()
    b_ub = np.concatenate([np.zeros(n), [k]])
    result = linprog(
        np.concatenate([np.zeros(m), -model.weight]),
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=(0, 1),
        method="highs-ipm",
        options={"time_limit": max(time_limit_s, 0.1)},
    )
    if result.status != 0:
        return np.inf, None
    return float(-result.fun), result.x[:m]


def lagrangian_bound(model: ReducedModel, k: int, lower: float) -> float:
    """An upper bound on the covered weight when the LP relaxation does not finish in time.

    Relaxing y_i ≤ Σ_j a_ij x_j with multipliers 0 ≤ λ_i ≤ w_i leaves Σ_i max(0, w_i − λ_i) plus the K
    largest Σ_i λ_i a_ij: an upper bound for any λ. Subgradient steps (Held–Karp step sizes towards
    ``lower``, a known objective) lower it towards the LP bound; ``LAGRANGIAN_STEPS`` take about a
    second for 5,000 × 2,000 with 80 candidates per demand point.
    """
    cover = model.cover.astype(float)
    gains = cover.T.tocsr()
    weight = model.weight
    multipliers = weight / 2
    best, step, stalled = np.inf, 2.0, 0
    for _ in range(LAGRANGIAN_STEPS):
        value = gains @ multipliers
        top = np.argpartition(-value, k - 1)[:k] if k < len(value) else np.arange(len(value))
        bound = np.maximum(weight - multipliers, 0).sum() + np.maximum(value[top], 0).sum()
        if bound < best - 1e-9:
            best, stalled = bound, 0
        else:
            stalled += 1
            if stalled >= 20:
                step, stalled = step / 2, 0
        chosen = np.zeros(len(value))
        chosen[top] = 1
        slope = cover @ chosen - (weight > multipliers)
        norm = slope @ slope
        if norm == 0 or step < 1e-3 or best <= lower:
            break
        multipliers = np.clip(multipliers - step * (bound - lower) / norm * slope, 0, weight)
    return float(best)
