"""Small canonical layers the store tests write: two grids, and tickets at one point."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Point, Polygon

from core import schema


def grids_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2"],
            schema.NAME: ["一网格", "二网格"],
            schema.COMMUNITY: ["c", "c"],
            schema.STREET: ["s", "s"],
            schema.HOUSEHOLDS: [300, None],
        },
        geometry=[
            Polygon([(0, 0), (1, 0), (1, 1), (0, 1)]),
            MultiPolygon([Polygon([(1, 0), (2, 0), (2, 1)]), Polygon([(3, 0), (4, 0), (4, 1)])]),
        ],
        crs=schema.STORAGE_CRS,
    )


def tickets_frame(ids: list[str]) -> gpd.GeoDataFrame:
    n = len(ids)
    return gpd.GeoDataFrame(
        {
            schema.TICKET_ID: ids,
            schema.CREATED_AT: pd.Series(pd.Timestamp("2026-03-01 08:30", tz=schema.DEFAULT_TIMEZONE), index=range(n)),
            schema.CATEGORY: ["市容环境"] * n,
            schema.SOURCE: ["resident"] * n,
            schema.STAGE: ["closed"] * n,
            schema.REWORK_COUNT: [0] * n,
        },
        geometry=[Point(0.5, 0.5)] * n,
        crs=schema.STORAGE_CRS,
    )
