"""core.siting_inputs: lattice and intersection candidates, ticket and population demand, on shapes
drawn in local metres with known answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from coverage_cases import UTM, X0, Y0, stored
from coverage_cases import make_points as points
from shapely.geometry import LineString, box

from core import joins, schema, siting
from core.errors import SitingError
from core.siting_inputs import intersection_candidates, lattice_candidates, population_demand, ticket_demand


def local_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(frame.geometry.to_crs(UTM).array) - [X0, Y0]


def test_lattice_candidates_are_cell_centres_inside_the_area():
    # a 1 km square whose corners sit on multiples of 250 m (UTM): centres at 125, 375, 625, 875
    area = stored([box(0, 0, 1000, 1000)]).iloc[0]
    lattice = lattice_candidates(area, 250)
    assert len(lattice) == 16 and lattice[siting.CANDIDATE_ID].iloc[0] == "L1"
    assert sorted(set(np.round(local_xy(lattice)[:, 0], 3))) == [125, 375, 625, 875]
    half = lattice_candidates(
        gpd.GeoSeries([area], crs=schema.STORAGE_CRS).to_crs(UTM).translate(-500, 0).to_crs(schema.STORAGE_CRS), 250
    )
    assert len(half) == 16


def test_intersection_candidates_are_junctions_and_camera_intersection_sites_merged():
    roads = gpd.GeoDataFrame(
        geometry=stored(
            [
                LineString([(-200, 0), (0, 0), (200, 0)]),
                LineString([(0, 0), (0, 200)]),  # a T at the origin
                LineString([(1000, -100), (1000, 100)]),  # a lone road: no junction
            ]
        ).array,
        crs=schema.STORAGE_CRS,
    )
    cameras = points(
        [(10, 10), (600, 600), (620, 600), (0, 500)],
        **{schema.SITE_KIND: ["intersection", "intersection", "intersection", "key_site"]},
    )
    found = intersection_candidates(roads, cameras)
    xy = local_xy(found)
    # the T junction and the camera 14 m from it merge at their mean; the two cameras 20 m apart merge
    assert sorted(map(tuple, np.round(xy, 3))) == [(5, 5), (610, 600)]
    assert len(intersection_candidates(roads)) == 1
    with pytest.raises(SitingError, match="need a road network or cameras"):
        intersection_candidates()


def test_ticket_demand_weights_by_category_and_drops_zero_weights():
    tickets = points(
        [(0, 0), (1, 1), (2, 2)],
        **{schema.TICKET_ID: ["t1", "t2", "t3"], schema.CATEGORY: ["治安", "市容环境", "其他"]},
    )
    demand = ticket_demand(tickets, {"治安": 3.0, "其他": 0})
    assert demand[schema.TICKET_ID].tolist() == ["t1", "t2"] and demand[siting.WEIGHT].tolist() == [3.0, 1.0]
    assert ticket_demand(tickets)[siting.WEIGHT].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(SitingError, match="0 or more"):
        ticket_demand(tickets, {"治安": -1})


def test_population_demand_spreads_each_grid_over_its_lattice_points():
    grids = gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["big", "small", "unknown"],
            schema.POPULATION: pd.array([1000, 30, pd.NA], dtype="Int64"),
        },
        geometry=stored([box(0, 0, 100, 100), box(200, 10, 210, 20), box(300, 0, 400, 100)]).array,
        crs=schema.STORAGE_CRS,
    )
    demand = population_demand(grids, 50)
    weights = demand.groupby(schema.GRID_ID)[siting.WEIGHT]
    assert weights.count().to_dict() == {"big": 4, "small": 1, "unknown": 4}
    assert weights.sum().to_dict() == {"big": 1000, "small": 30, "unknown": 0}
    assert (demand.loc[demand[schema.GRID_ID] == "big", siting.WEIGHT] == 250).all()
    assert (
        joins.assign_points(demand, grids) == pd.Index(grids[schema.GRID_ID]).get_indexer(demand[schema.GRID_ID])
    ).all()
