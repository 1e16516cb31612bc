"""The Coverage page's table: every coverage measure per grid in one frame, the grid's own figures first
(name, community, households, population, area), then whichever of camera coverage, the 15-minute circle,
members and staffing the workspace has the layers for.

What is NOT here: computing the measures (camera coverage, service reach, member measures and staffing:
``core.coverage``), and the map of them (``dashboard``).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from core import coverage, geometry, schema

__all__ = ["GRID_COLUMNS", "coverage_table"]

GRID_COLUMNS = (schema.GRID_ID, schema.NAME, schema.COMMUNITY, schema.HOUSEHOLDS, schema.POPULATION)


def coverage_table(
    grids: gpd.GeoDataFrame,
    measures: Sequence[pd.DataFrame | None],
    households_per_worker: tuple[float, float],
    *,
    area_km2: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per grid (indexed by ``grid_id``): ``GRID_COLUMNS``, ``area_km2``, the columns of each of
    ``measures`` (per-grid tables such as ``viewsheds.camera_coverage``; None for a layer the workspace
    lacks, left out) and ``coverage.staffing`` at ``households_per_worker``. Pass ``area_km2`` (the grids'
    areas, in their order) when it is at hand; it is measured otherwise."""
    out = grids[list(GRID_COLUMNS)].set_index(schema.GRID_ID)
    out["area_km2"] = geometry.area_km2(grids).to_numpy() if area_km2 is None else area_km2
    parts = [out, *measures, coverage.staffing(grids, households_per_worker)]
    return pd.concat([p for p in parts if p is not None], axis=1)
