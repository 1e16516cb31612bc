"""core.grid_coverage: the per-grid coverage table joins the grids' own figures, whichever measures there
are and staffing, on two hand-built grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from core import grid_coverage, schema


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2"],
            schema.NAME: ["One", "Two"],
            schema.COMMUNITY: ["c", "c"],
            schema.HOUSEHOLDS: [400, 200],
            schema.POPULATION: [1000, 500],
            schema.LEADER: ["Li", ""],
            schema.WORKER: ["Wang", None],
            schema.STREET: ["s", "s"],
        },
        geometry=[box(120.0, 30.0, 120.01, 30.01), box(120.01, 30.0, 120.02, 30.01)],
        crs=schema.STORAGE_CRS,
    )


def test_the_grids_own_figures_then_the_measures_then_staffing():
    cameras = pd.DataFrame({"camera_share": [0.5, 0.25]}, index=pd.Index(["g1", "g2"], name=schema.GRID_ID))
    table = grid_coverage.coverage_table(grids(), [cameras, None], (300, 500), area_km2=np.array([1.0, 2.0]))
    assert table.index.tolist() == ["g1", "g2"]
    assert table.columns[:6].tolist() == [*grid_coverage.GRID_COLUMNS[1:], "area_km2", "camera_share"]
    assert table["area_km2"].tolist() == [1.0, 2.0] and table["camera_share"].tolist() == [0.5, 0.25]
    assert table["no_leader"].tolist() == [False, True] and table["no_worker"].tolist() == [False, True]
    assert table.loc["g1", "households_per_worker"] == 400 and np.isnan(table.loc["g2", "households_per_worker"])
    assert table["status"].tolist() == ["within", "no_worker"]


def test_areas_are_measured_when_not_given():
    table = grid_coverage.coverage_table(grids(), [], (300, 500))
    utm = grids().to_crs(grids().estimate_utm_crs())
    assert table["area_km2"].tolist() == pytest.approx((utm.area / 1e6).tolist())
