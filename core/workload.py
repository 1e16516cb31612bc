"""Workload: how much patrol work each grid asks for, and how a districting plan shares it out.

``workload`` scores each grid (tickets by category severity, area, population, each as its share of
the district total, then weighted by ``WorkloadWeights``). ``plan_report`` measures a plan (any
assignment, proposed or in force): each team's workload against a fair share, its district's
compactness (Polsby-Popper), travel from its base and contiguity; ``max_min_ratio`` and ``gini`` sum
up how even the shares are.

Not here: making a plan (``core.districts``), which grids border which (``core.contiguity``) and the
roster itself (``core.roster``).

Errors: ``core.errors.DistrictPlanError`` for weights or severities that cannot be used, or a
workload that is zero everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from core import metrics, schema
from core.contiguity import Contiguity
from core.errors import DistrictPlanError
from core.geometry import area_km2, metric_crs
from core.roster import TEAM_NAME, examples_text

__all__ = ["WORKLOAD", "WorkloadWeights", "gini", "max_min_ratio", "plan_report", "workload", "workload_values"]

WORKLOAD = "workload"
"""The output column of a grid's (or a team's) workload."""


@dataclass(frozen=True)
class WorkloadWeights:
    """How much tickets, area and population count in a grid's workload (any non-negative scale)."""

    tickets: float = 0.5
    area: float = 0.25
    population: float = 0.25


def workload(
    grids: gpd.GeoDataFrame,
    tickets: pd.DataFrame,
    period: metrics.Period,
    weights: WorkloadWeights = WorkloadWeights(),
    category_severity: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Each grid's patrol workload, as a share of the whole district's (the column sums to 1).

    Columns (index ``grid_id``, grids' order): ``tickets`` (registered tickets created in ``period``),
    ``weighted_tickets`` (each counted by its category's severity; categories not in
    ``category_severity`` count 1), ``area_km2``, ``population`` and ``workload``. Each component is
    divided by its district total first, so the weights compare like with like; a component that is
    zero everywhere (no tickets in the period) drops out and the others share its weight.
    """
    given = {"tickets": weights.tickets, "area": weights.area, "population": weights.population}
    if any(not math.isfinite(v) or v < 0 for v in given.values()) or sum(given.values()) <= 0:
        raise DistrictPlanError(
            f"workload weights must be non-negative and not all zero; got {given}",
            code="workload_weights",
            params={"values": ", ".join(f"{k}={v}" for k, v in given.items())},
        )
    severity = dict(category_severity or {})
    bad = {k: v for k, v in severity.items() if not math.isfinite(v) or v < 0}
    if bad:
        raise DistrictPlanError(
            f"category severities must be non-negative numbers; got {bad}",
            code="severities",
            params={"values": ", ".join(f"{k}={v}" for k, v in bad.items())},
        )
    ids = grids[schema.GRID_ID].astype(str)
    counted = tickets[
        period.contains(tickets[schema.CREATED_AT]) & metrics.registered_mask(tickets) & tickets[schema.GRID_ID].notna()
    ]
    grid_of = counted[schema.GRID_ID].astype(str)
    weight = counted[schema.CATEGORY].map(severity).astype(float).fillna(1.0)
    out = pd.DataFrame(
        {
            "tickets": ids.map(grid_of.value_counts()).fillna(0).astype("int64").to_numpy(),
            "weighted_tickets": ids.map(weight.groupby(grid_of).sum()).fillna(0.0).to_numpy(),
            "area_km2": area_km2(grids).to_numpy(),
            "population": pd.to_numeric(grids[schema.POPULATION], errors="coerce").fillna(0).to_numpy(dtype=float),
        },
        index=pd.Index(ids.to_numpy(), name=schema.GRID_ID),
    )
    parts = {"tickets": out["weighted_tickets"], "area": out["area_km2"], "population": out["population"]}
    used = {k: given[k] for k, v in parts.items() if v.sum() > 0 and given[k] > 0}
    if not used:
        raise DistrictPlanError(
            "the workload is zero everywhere: the weighted components (tickets, area, "
            "population) are all empty; give weight to one the grids have",
            code="workload_zero",
        )
    total = sum(used.values())
    out[WORKLOAD] = sum((w / total) * parts[k] / parts[k].sum() for k, w in used.items())
    return out


def workload_values(workload: pd.Series | pd.DataFrame, grid_ids: np.ndarray) -> np.ndarray:
    """Each of ``grid_ids``' workload as an array, from a Series by grid_id or the frame ``workload()``
    returns; a ``DistrictPlanError`` naming the grids it lacks."""
    series = workload[WORKLOAD] if isinstance(workload, pd.DataFrame) else workload
    series = pd.Series(series.to_numpy(dtype=float), index=series.index.astype(str))
    values = series.reindex(grid_ids)
    if values.isna().any():
        raise DistrictPlanError(
            f"no workload for grid(s) {examples_text(grid_ids[values.isna().to_numpy()])}; "
            "compute it with core.workload.workload for the same grids",
            code="no_workload",
            params={"grids": examples_text(grid_ids[values.isna().to_numpy()])},
        )
    return values.to_numpy()


def max_min_ratio(values: ArrayLike) -> float:
    """Largest over smallest (inf when the smallest is 0, NaN when empty)."""
    values = np.asarray(values, dtype=float)
    if not values.size:
        return math.nan
    low = values.min()
    return math.inf if low <= 0 else float(values.max() / low)


def gini(values: ArrayLike) -> float:
    """Gini coefficient: 0 when all are equal, towards 1 when one holds everything."""
    values = np.sort(np.asarray(values, dtype=float))
    n = values.size
    if not n or values.sum() <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ values / (n * values.sum()))


def plan_report(
    grids: gpd.GeoDataFrame,
    assignment: pd.Series | pd.DataFrame,
    teams: gpd.GeoDataFrame,
    workload: pd.Series | pd.DataFrame,
    current: pd.Series | pd.DataFrame | None = None,
    contiguity: Contiguity | None = None,
) -> tuple[pd.DataFrame, dict]:
    """How a plan shares the work: one row per team and a summary.

    ``assignment`` (and ``current``) is a grid_id → team_id Series or an assignment table. Per team
    (index ``team_id``): ``team_name``, ``grids``, ``workload``, ``workload_vs_mean`` (1 = a fair
    share), ``area_km2``, ``population``, ``tickets`` (when ``workload`` is the frame ``workload()``
    returns), ``polsby_popper`` (4πA/P² of the district's outline: 1 for a disc, near 0 for a ragged or
    stretched one), ``travel_mean_m``/``travel_max_m`` (straight line from the team's base to its
    grids' representative points) and ``parts`` (connected pieces; 1 = contiguous). Summary:
    ``max_min_ratio``, ``gini``, ``polsby_popper_mean``, ``contiguous``, ``unassigned_grids``,
    ``teams_without_grids`` and ``changed_grids`` (grids whose team differs from ``current``; None
    without it). Areas and distances are measured in the grids' metric CRS.
    """
    grid_ids = grids[schema.GRID_ID].astype(str)
    team_ids = teams[schema.TEAM_ID].astype(str)
    owner = grid_ids.map(_owner_series(assignment))
    table = workload if isinstance(workload, pd.DataFrame) else pd.DataFrame({WORKLOAD: workload})
    table = table.set_axis(table.index.astype(str)).reindex(grid_ids.to_numpy())
    crs = metric_crs(grids)
    shapes = gpd.GeoSeries(grids.geometry.to_numpy(), crs=grids.crs).to_crs(crs)
    points = np.asarray(shapes.representative_point().array)
    bases = np.asarray(gpd.GeoSeries(teams.geometry.to_numpy(), crs=teams.crs).to_crs(crs).array)
    frame = pd.DataFrame(
        {
            schema.TEAM_ID: owner.to_numpy(),
            WORKLOAD: table[WORKLOAD].to_numpy(),
            "area_km2": shapes.area.to_numpy() / 1e6,
            "population": pd.to_numeric(grids[schema.POPULATION], errors="coerce").fillna(0).to_numpy(),
        }
    )
    if "tickets" in table.columns:
        frame["tickets"] = table["tickets"].to_numpy()
    by_team = frame.groupby(schema.TEAM_ID)
    out = pd.DataFrame(index=pd.Index(team_ids.to_numpy(), name=schema.TEAM_ID))
    out[TEAM_NAME] = teams[schema.NAME].to_numpy()
    out["grids"] = by_team.size().reindex(out.index).fillna(0).astype("int64")
    for column in [c for c in frame.columns if c != schema.TEAM_ID]:
        out[column] = by_team[column].sum().reindex(out.index).fillna(0)
    out.insert(3, "workload_vs_mean", out[WORKLOAD] / out[WORKLOAD].mean())
    graph = contiguity if contiguity is not None else Contiguity.from_grids(grids)
    parts = graph.parts(owner.to_numpy(dtype=object))
    pp, mean_m, max_m = [], [], []
    for t, team in enumerate(out.index):
        mine = (owner == team).to_numpy()
        if not mine.any():
            pp.append(np.nan)
            mean_m.append(np.nan)
            max_m.append(np.nan)
            continue
        outline = shapely.union_all(np.asarray(shapes.array)[mine])
        pp.append(4 * math.pi * outline.area / outline.length**2)
        travel = shapely.distance(bases[t], points[mine])
        mean_m.append(float(travel.mean()))
        max_m.append(float(travel.max()))
    out["polsby_popper"] = pp
    out["travel_mean_m"] = mean_m
    out["travel_max_m"] = max_m
    out["parts"] = parts.reindex(out.index).fillna(0).astype("int64")
    changed = None
    if current is not None:
        before = grid_ids.map(_owner_series(current))
        changed = int((before.fillna("") != owner.fillna("")).sum())
    summary = {
        "max_min_ratio": max_min_ratio(out[WORKLOAD]),
        "gini": gini(out[WORKLOAD]),
        "polsby_popper_mean": float(np.nanmean(pp)) if any(np.isfinite(pp)) else math.nan,
        "contiguous": bool((out.loc[out["grids"] > 0, "parts"] == 1).all()),
        "unassigned_grids": int(owner.isna().sum()),
        "teams_without_grids": int((out["grids"] == 0).sum()),
        "changed_grids": changed,
    }
    return out, summary


def _owner_series(assignment: pd.Series | pd.DataFrame) -> pd.Series:
    """grid_id → team_id from a Series or an assignment table."""
    if isinstance(assignment, pd.DataFrame):
        return pd.Series(
            assignment[schema.TEAM_ID].astype(str).to_numpy(), index=assignment[schema.GRID_ID].astype(str).to_numpy()
        )
    return pd.Series(assignment.astype(str).to_numpy(), index=assignment.index.astype(str))
