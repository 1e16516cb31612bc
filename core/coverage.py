"""Coverage by people: party members per grid (党员联户, 联户覆盖率) and grid staffing against a
target of households per grid worker.

Tables come back one row per grid, indexed by ``grid_id`` in the order of ``grids``. The dashboard's
coverage table puts these beside the camera measures (``core.viewsheds``) and the 15-minute service
circle (``core.reach``).

Not here: camera views (``core.viewsheds``), walking reach (``core.reach``), where to add cameras or
service points (``core.siting``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import schema
from core.errors import Problem, ValidationError
from core.overlay import numeric_column

__all__ = [
    "HOUSEHOLDS_PER_WORKER",
    "OFF_TARGET_STATUSES",
    "STAFFING_STATUSES",
    "district_shares",
    "member_measures",
    "staffing",
]

STAFFING_STATUSES = ("no_worker", "unknown", "under", "within", "over")
HOUSEHOLDS_PER_WORKER = (300, 500)  # the target range of households per grid worker, inclusive
OFF_TARGET_STATUSES = ("no_worker", "under", "over")  # of STAFFING_STATUSES: what a grid needs done about


def member_measures(grids: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Party members per grid (index ``grid_id``, in ``grids`` order), from members joined to the
    grids (``core.joins.join_to_grids``; unassigned members count nowhere):

    * ``members``, ``community_members`` and ``in_service_members`` (``kind``);
    * ``linked_households``: households the grid's members are linked to (党员联户), summed;
    * ``linked_share`` (联户覆盖率) = linked households / ``households``, capped at 1 — two members may
      list the same household, so the sum can exceed the households there are; empty where the
      grid's households are unknown or zero;
    * ``has_member``.
    """
    layer = schema.MEMBERS.name
    missing = [c for c in (schema.GRID_ID, schema.KIND, schema.LINKED_HOUSEHOLDS) if c not in members.columns]
    if missing:
        joined_first = "join the members to the grids first (core.joins.join_to_grids)"
        fixes = {
            c: joined_first if c == schema.GRID_ID else f"add a `{c}` column (see core.schema.MEMBERS)" for c in missing
        }
        raise ValidationError(layer, [Problem.missing_column(layer, c, fix) for c, fix in fixes.items()])
    ids = pd.Index(grids[schema.GRID_ID], name=schema.GRID_ID)
    mine = members[members[schema.GRID_ID].isin(ids)]

    def count(frame: pd.DataFrame) -> np.ndarray:
        return frame[schema.GRID_ID].value_counts().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)

    per_member = pd.to_numeric(mine[schema.LINKED_HOUSEHOLDS], errors="coerce").fillna(0)
    linked = per_member.groupby(mine[schema.GRID_ID]).sum().reindex(ids, fill_value=0).to_numpy(dtype=float)
    households = numeric_column(grids, schema.HOUSEHOLDS)
    out = pd.DataFrame(index=ids)
    out["members"] = count(mine)
    out["community_members"] = count(mine[mine[schema.KIND] == "community"])
    out["in_service_members"] = count(mine[mine[schema.KIND] == "in_service"])
    out["linked_households"] = linked.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["linked_share"] = np.where(households > 0, np.minimum(linked / households, 1.0), np.nan)
    out["has_member"] = out["members"] > 0
    return out


def staffing(grids: pd.DataFrame, households_per_worker: tuple[float, float] = HOUSEHOLDS_PER_WORKER) -> pd.DataFrame:
    """Staffing per grid (index ``grid_id``, in ``grids`` order): ``no_leader`` and ``no_worker``
    (empty or blank names), ``households_per_worker`` (a grid has one grid worker, so its households;
    empty without a worker) and ``status`` (``STAFFING_STATUSES``): ``no_worker``, ``unknown``
    (households not known), or ``under`` / ``within`` / ``over`` the inclusive target range."""
    low, high = households_per_worker
    if not 0 <= low <= high:
        raise ValueError(f"households_per_worker must be (low, high) with 0 <= low <= high, got {(low, high)}")
    no_leader, no_worker = _blank(grids, schema.LEADER), _blank(grids, schema.WORKER)
    households = numeric_column(grids, schema.HOUSEHOLDS)
    per_worker = np.where(no_worker, np.nan, households)
    status = np.select(
        [no_worker, np.isnan(households), households < low, households > high],
        ["no_worker", "unknown", "under", "over"],
        "within",
    )
    return pd.DataFrame(
        {"no_leader": no_leader, "no_worker": no_worker, "households_per_worker": per_worker, "status": status},
        index=pd.Index(grids[schema.GRID_ID], name=schema.GRID_ID),
    )


def _blank(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Whether each value is missing or only whitespace (all, when the column is absent)."""
    if column not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    values = frame[column]
    return (values.isna() | (values.astype("string").str.strip() == "")).to_numpy(dtype=bool, na_value=True)


def district_shares(table: pd.DataFrame) -> dict[str, float]:
    """The district's figures from a coverage table (one row per grid: ``area_km2``, ``households``,
    ``population`` and the columns of ``camera_coverage``, ``service_reach``, ``member_measures`` and
    ``staffing``). Shares are of the district's sums, NaN where that sum is 0; a figure whose columns
    the table lacks (its layer is not loaded) is left out:

    * ``covered_share``, ``tickets_in_view_share``, ``key_points_covered_share`` and ``served_share``
      (``any_served`` of the population);
    * ``lost_share``: the grids' lost shares weighted by their areas;
    * ``linked_share``: linked households of the grids with known households, each grid's capped at its
      households (联户 counts a household once);
    * ``grids_without_member`` and ``grids_off_target`` (``OFF_TARGET_STATUSES``), counts.
    """

    def share(part: pd.Series, whole: pd.Series) -> float:
        total = whole.sum()
        return float(part.sum() / total) if total else np.nan

    out: dict[str, float] = {}
    for name, (part, whole) in {
        "covered_share": ("covered_area_km2", "area_km2"),
        "lost_share": ("lost_share", "area_km2"),
        "tickets_in_view_share": ("tickets_in_view", "tickets_recent"),
        "key_points_covered_share": ("key_points_covered", "key_points"),
        "served_share": ("any_served", schema.POPULATION),
        "linked_share": ("linked_households", schema.HOUSEHOLDS),
    }.items():
        if part not in table or whole not in table:
            continue
        if name == "lost_share":
            out[name] = share(table[part] * table[whole], table[whole])
        elif name == "linked_share":
            known = table[whole].notna() & (table[whole] > 0)
            households = table.loc[known, whole]
            out[name] = share(table.loc[known, part].clip(upper=households), households)
        else:
            out[name] = share(table[part], table[whole])
    if "has_member" in table:
        out["grids_without_member"] = int((~table["has_member"].astype(bool)).sum())
    out["grids_off_target"] = int(table["status"].isin(OFF_TARGET_STATUSES).sum())
    return out
