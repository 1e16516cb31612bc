"""A small workspace the intake tests write into: two grids, two tickets, a patrol team and a camera."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point
from store_cases import grids_frame, tickets_frame

from core import schema, workspaces
from core.store import Store


def teams_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.TEAM_ID: ["p1"], schema.NAME: ["一队"], schema.SIZE: [3], schema.SHIFT: ["day"]},
        geometry=[Point(0.5, 0.5)],
        crs=schema.STORAGE_CRS,
    )


def cameras_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.CAMERA_ID: ["cam1"],
            schema.SITE_KIND: ["intersection"],
            schema.STATUS: ["online"],
            schema.FOV_DEG: [90.0],
            schema.RANGE_M: [50.0],
        },
        geometry=[Point(0.5, 0.5)],
        crs=schema.STORAGE_CRS,
    )


def intake_workspace(home: Path, name: str = "intake") -> Store:
    """Tickets t1 (registered) and t2 (closed) of category 市容环境, so the default service code c01."""
    tickets = tickets_frame(["t1", "t2"])
    tickets[schema.STAGE] = ["registered", "closed"]
    layers = {"grids": grids_frame(), "tickets": tickets, "patrol_teams": teams_frame(), "cameras": cameras_frame()}
    return workspaces.create_workspace(name, home=home, layers=layers)
