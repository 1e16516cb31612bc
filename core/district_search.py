"""The district search: iterated local search over boundary grids, every district kept connected.

``LocalSearch`` improves a feasible plan (labels: a team position per grid) for ``core.districts``:
a boundary grid moves to, or swaps with, a neighbouring district whenever that lowers the objective
and both districts stay connected (``stays_connected``: a removal is checked by searching the
district from the grid's neighbours); then a few random moves shake the plan and the descent runs
again, keeping whatever is better.

Not here: the model, its objective's weights and the starts the search runs from
(``core.districts.DistrictPlan``), or the contiguity graph (``core.contiguity``).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable

import numpy as np

__all__ = ["LocalSearch", "stays_connected"]


def stays_connected(neighbours: list[list[int]], lab: np.ndarray, i: int) -> bool:
    """Whether grid ``i``'s district stays connected without it: its neighbours in the district must
    still reach one another (the district was connected, so then all of it is)."""
    a = lab[i]
    near = [j for j in neighbours[i] if lab[j] == a]
    if len(near) <= 1:
        return True
    targets = set(near[1:])
    seen = {i, near[0]}
    stack = [near[0]]
    while stack:
        u = stack.pop()
        for v in neighbours[u]:
            if v not in seen and lab[v] == a:
                if v in targets:
                    targets.discard(v)
                    if not targets:
                        return True
                seen.add(v)
                stack.append(v)
    return False


class LocalSearch:
    """Iterated local search over boundary grids, every district kept connected.

    *Descent*: a grid moves to a neighbouring district, or swaps with a grid of one, whenever that
    lowers the objective and both districts stay connected; only grids in or next to districts that
    changed are looked at again. *Perturbation*: a few random connected moves around one boundary
    grid, then descent again; the result is kept if it beats the best plan so far, else undone.
    Stops after ``patience`` rounds without improvement, or at the deadline or round limit.

    The spread term of a district is ``Q - |S|² / n`` over its grids' scaled positions (``S`` their
    sum, ``Q`` the sum of their squared lengths), so a move changes it by a constant-time update. The
    state is kept in plain Python lists: the hot loop reads single items, which lists serve several
    times faster than numpy arrays.

    Inputs are the plan's arrays (``DistrictPlan._terms``): ``workload`` (N), ``cost`` (K × N: the
    travel and stability terms of each grid in each team's district), ``spread_xy`` (N × 2, positions
    scaled so the spread term is their sum of squares), ``locked`` (N) and the starting ``labels``.
    ``balance_only`` drops the cost and spread terms.
    """

    EPS = 1e-12
    CHECK_EVERY = 128  # grids looked at between clock checks

    def __init__(
        self,
        workload: np.ndarray,
        cost: np.ndarray,
        spread_xy: np.ndarray,
        locked: np.ndarray,
        neighbours: list[list[int]],
        labels: np.ndarray,
        seed: int,
        deadline: float | None,
        max_rounds: int | None,
        patience: int,
        balance_only: bool = False,
    ):
        k = len(cost)
        spread_xy = np.zeros_like(spread_xy) if balance_only else spread_xy
        cost = np.zeros_like(cost) if balance_only else cost
        self.neighbours = neighbours
        self.w = workload.tolist()
        self.cost = cost.tolist()
        self.locked = np.asarray(locked, dtype=bool).tolist()
        self.x, self.y = spread_xy[:, 0].tolist(), spread_xy[:, 1].tolist()
        self.labels = labels.tolist()
        self.members = [set(np.flatnonzero(labels == d).tolist()) for d in range(k)]
        self.loads = np.bincount(labels, weights=workload, minlength=k).tolist()
        self.sizes = np.bincount(labels, minlength=k).tolist()
        self.sx = np.bincount(labels, weights=spread_xy[:, 0], minlength=k).tolist()
        self.sy = np.bincount(labels, weights=spread_xy[:, 1], minlength=k).tolist()
        target = workload.sum() / k
        self.scale = 1.0 / (target * target)
        self.value = 0.0  # objective relative to the start
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.max_rounds = max_rounds
        self.patience = patience
        self.strength = max(2, round(math.sqrt(len(labels) / k)))
        self.rounds = 0
        self.stopped = ""
        self.log: list[tuple[int, int, int]] = []  # moves since the best plan, to undo

    def run(self, report: Callable[[float], None]) -> str:
        """Descend, then perturb and descend until out of patience or budget; returns the status."""
        if self._out_of_budget():
            return self.stopped
        self.rounds += 1
        self._descend(range(len(self.sizes)))
        best, since, shown = self.value, 0, 0.0
        self.log.clear()
        while since < self.patience and not self._out_of_budget():
            self.rounds += 1
            touched = self._perturb()
            self._descend(touched)
            if self.value < best - self.EPS:
                best, since = self.value, 0
            else:
                self._undo()
                self.value = best
                since += 1
            self.log.clear()
            shown = max(shown, since / self.patience)
            report(min(shown, 0.99))
        report(1.0)
        return self.stopped or "local_optimum"

    def _out_of_budget(self) -> bool:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.stopped = "time_limit"
        elif self.max_rounds is not None and self.rounds >= self.max_rounds:
            self.stopped = "iteration_limit"
        return bool(self.stopped)

    def _descend(self, districts: Iterable[int]) -> None:
        """Moves, then swaps, of the grids in and next to ``districts``, and then around whatever
        changes, until none helps."""
        swap_dirty = set(districts)
        pending = self._around(swap_dirty)
        while pending:
            order = list(pending)
            self.rng.shuffle(order)
            changed: set[int] = set()
            for count, i in enumerate(order):
                if count % self.CHECK_EVERY == 0 and self.deadline is not None and time.perf_counter() > self.deadline:
                    return
                if not self.locked[i]:
                    changed.update(self._try_move(i))
            if not changed:
                order = list(self._around(swap_dirty))
                self.rng.shuffle(order)
                for i in order:
                    if not self.locked[i]:
                        changed.update(self._try_swap(i))
                swap_dirty = set()
            swap_dirty |= changed
            pending = self._around(changed)

    def _around(self, districts: Iterable[int]) -> set[int]:
        """The grids of ``districts`` and their neighbours (whose moves into them changed value)."""
        out = set()
        for d in districts:
            for i in self.members[d]:
                out.add(i)
                out.update(self.neighbours[i])
        return out

    def _perturb(self) -> set[int]:
        """A few random moves around a random boundary grid; returns the districts they touched."""
        lab, nbrs, n = self.labels, self.neighbours, len(self.labels)
        for _ in range(64):
            i = self.rng.randrange(n)
            if not self.locked[i] and any(lab[j] != lab[i] for j in nbrs[i]):
                break
        else:
            return set()
        area = list({i, *nbrs[i], *(v for u in nbrs[i] for v in nbrs[u])})
        self.rng.shuffle(area)
        touched: set[int] = set()
        left = self.rng.randint(1, self.strength)
        for g in area:
            a = lab[g]
            others = [lab[j] for j in nbrs[g] if lab[j] != a]
            if left and others and not self.locked[g] and self.sizes[a] > 1 and stays_connected(nbrs, lab, g):
                b = self.rng.choice(others)
                self.value += self._leaving(g, a) + self._joining(g, b)
                self._place(g, a, b)
                touched.update((a, b))
                left -= 1
        return touched

    def _undo(self) -> None:
        for i, a, b in reversed(self.log):
            self._place(i, b, a, log=False)
        self.log.clear()

    def _spread_change(self, d: int, dx: float, dy: float, dn: int) -> float:
        """Change of ``-|S|² / n`` for district ``d`` when ``S`` grows by (dx, dy) and ``n`` by dn (the
        ``Q`` parts of a move cancel between the two districts)."""
        sx, sy, n = self.sx[d], self.sy[d], self.sizes[d]
        return (sx * sx + sy * sy) / n - ((sx + dx) ** 2 + (sy + dy) ** 2) / (n + dn)

    def _leaving(self, i: int, a: int) -> float:
        """The part of the change for moving ``i`` out of ``a`` that does not depend on where it goes."""
        wi, sx, sy, n = self.w[i], self.sx[a], self.sy[a], self.sizes[a]
        return (
            2 * wi * (wi - self.loads[a]) * self.scale
            - self.cost[a][i]
            + (sx * sx + sy * sy) / n
            - ((sx - self.x[i]) ** 2 + (sy - self.y[i]) ** 2) / (n - 1)
        )

    def _joining(self, i: int, b: int) -> float:
        """The rest of the change, for ``i`` joining ``b``."""
        sx, sy, n = self.sx[b], self.sy[b], self.sizes[b]
        return (
            2 * self.w[i] * self.loads[b] * self.scale
            + self.cost[b][i]
            + (sx * sx + sy * sy) / n
            - ((sx + self.x[i]) ** 2 + (sy + self.y[i]) ** 2) / (n + 1)
        )

    def _try_move(self, i: int) -> tuple[int, ...]:
        """Move ``i`` to its best neighbouring district if that helps; returns the districts changed."""
        lab = self.labels
        a = lab[i]
        others = {lab[j] for j in self.neighbours[i]}
        others.discard(a)
        if not others or self.sizes[a] == 1:
            return ()
        leaving = self._leaving(i, a)
        best, best_b = -self.EPS, -1
        for b in others:
            delta = leaving + self._joining(i, b)
            if delta < best:
                best, best_b = delta, b
        if best_b < 0 or not stays_connected(self.neighbours, lab, i):
            return ()
        self.value += best
        self._place(i, a, best_b)
        return a, best_b

    def _try_swap(self, i: int) -> tuple[int, ...]:
        """Swap ``i`` with a neighbouring grid of another district, if that helps; returns the districts
        changed."""
        lab, loads, cost, w, x, y = self.labels, self.loads, self.cost, self.w, self.x, self.y
        a = lab[i]
        best, pair = -self.EPS, None
        for j in self.neighbours[i]:
            b = lab[j]
            if b == a or self.locked[j]:
                continue
            net, dx, dy = w[i] - w[j], x[j] - x[i], y[j] - y[i]
            delta = (
                2 * net * (loads[b] - loads[a] + net) * self.scale
                + cost[b][i]
                - cost[a][i]
                + cost[a][j]
                - cost[b][j]
                + self._spread_change(a, dx, dy, 0)
                + self._spread_change(b, -dx, -dy, 0)
            )
            if delta < best:
                best, pair = delta, (j, b)
        if pair is None:
            return ()
        j, b = pair
        lab[i], lab[j] = b, a
        connected = self._connected(a, j) and self._connected(b, i)
        lab[i], lab[j] = a, b
        if not connected:
            return ()
        self.value += best
        self._place(i, a, b)
        self._place(j, b, a)
        return a, b

    def _connected(self, district: int, start: int) -> bool:
        lab, nbrs = self.labels, self.neighbours
        seen = {start}
        stack = [start]
        while stack:
            u = stack.pop()
            for v in nbrs[u]:
                if v not in seen and lab[v] == district:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == self.sizes[district]

    def _place(self, i: int, a: int, b: int, log: bool = True) -> None:
        self.labels[i] = b
        self.members[a].discard(i)
        self.members[b].add(i)
        self.loads[a] -= self.w[i]
        self.loads[b] += self.w[i]
        self.sizes[a] -= 1
        self.sizes[b] += 1
        self.sx[a] -= self.x[i]
        self.sx[b] += self.x[i]
        self.sy[a] -= self.y[i]
        self.sy[b] += self.y[i]
        if log:
            self.log.append((i, a, b))
