"""core.validate: every problem at once, with rows, what is wrong and the fix."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, Point, Polygon

from core import schema
from core.errors import ValidationError
from core.validate import conform, problems_in, validate

SQUARE = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
BOWTIE = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])


def grids(**overrides) -> gpd.GeoDataFrame:
    data = {
        schema.GRID_ID: ["g1", "g2", "g3"],
        schema.NAME: ["a", "b", "c"],
        schema.COMMUNITY: ["c1"] * 3,
        schema.STREET: ["s1"] * 3,
    }
    data.update(overrides.pop("columns", {}))
    geometry = overrides.pop("geometry", [SQUARE] * 3)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=overrides.pop("crs", schema.STORAGE_CRS))


def tickets(n: int = 2) -> gpd.GeoDataFrame:
    return conform(
        gpd.GeoDataFrame(
            {
                schema.TICKET_ID: [f"t{i}" for i in range(n)],
                schema.CREATED_AT: pd.Series(
                    pd.Timestamp("2026-05-01 09:00", tz=schema.DEFAULT_TIMEZONE), index=range(n)
                ),
                schema.CATEGORY: ["噪音扰民"] * n,
                schema.SOURCE: ["hotline"] * n,
                schema.STAGE: ["handling"] * n,
                schema.REWORK_COUNT: [0] * n,
            },
            geometry=[Point(120.1, 30.2)] * n,
            crs=schema.STORAGE_CRS,
        ),
        schema.TICKETS.name,
    )


def test_a_conforming_layer_passes_unchanged():
    frame = conform(grids(), schema.GRIDS.name)
    assert validate(frame, schema.GRIDS.name) is frame


def test_conform_adds_optional_columns_empty_and_orders_them():
    frame = conform(grids(), schema.GRIDS.name)
    assert list(frame.columns) == [*schema.GRIDS.column_names, "geometry"]
    assert frame[schema.WORKER_PHONE].isna().all()


def test_all_problems_are_reported_together():
    bad = grids(
        columns={schema.GRID_ID: ["g1", "g1", None], schema.HOUSEHOLDS: [10, -5, 2.5]},
        geometry=[BOWTIE, LineString([(0, 0), (1, 1)]), None],
    )
    bad = bad.drop(columns=schema.COMMUNITY)
    with pytest.raises(ValidationError) as info:
        validate(bad, schema.GRIDS.name)
    found = {(p.column, p.what.split(" (")[0].split(",")[0]): p for p in info.value.problems}
    assert len(info.value.problems) == 8
    assert found[(schema.COMMUNITY, "required column `community`")].fix.startswith("add a `community`")
    assert found[(schema.GRID_ID, "value is missing")].rows == ("#3",)
    assert found[(schema.GRID_ID, "ids are not unique")].rows == ("g1 (#1)", "g1 (#2)")
    assert found[(schema.HOUSEHOLDS, "value(s) -5.0 below 0")].rows == ("g1 (#2)",)
    assert found[(schema.HOUSEHOLDS, "expected int values")].rows == ("#3",)
    assert found[("geometry", "geometry is missing or empty")].rows == ("#3",)
    wrong_type = found[("geometry", "geometry is LineString")]
    assert "expected Polygon or MultiPolygon" in wrong_type.what and "close the rings" in wrong_type.fix
    invalid = found[("geometry", "invalid geometry")]
    assert "Self-intersection" in invalid.what and "make_valid" in invalid.fix


def test_unknown_codes_list_the_allowed_ones():
    frame = tickets()
    frame.loc[1, schema.STAGE] = "lost"
    (problem,) = problems_in(frame, schema.TICKETS.name)
    assert problem.rows == ("t1",)
    assert "'lost'" in problem.what
    assert "received, registered, dispatched" in problem.fix


def test_naive_datetimes_are_refused_with_an_example():
    frame = tickets()
    frame[schema.CREATED_AT] = frame[schema.CREATED_AT].dt.tz_localize(None)
    (problem,) = problems_in(frame, schema.TICKETS.name)
    assert problem.column == schema.CREATED_AT and "+08:00" in problem.fix


def test_crs_is_checked():
    assert "no coordinate system" in problems_in(grids(crs=None), schema.GRIDS.name)[0].what
    projected = grids().set_crs(3857, allow_override=True)
    assert "EPSG:3857" in problems_in(projected, schema.GRIDS.name)[0].what


def test_a_table_without_geometry_is_refused():
    (problem,) = problems_in(pd.DataFrame({"a": [1]}), schema.TICKETS.name)
    assert "no geometry column" in problem.what


def test_error_message_names_layer_count_and_rows():
    frame = tickets(3)
    frame[schema.SOURCE] = ["hotline", "pigeon", "pigeon"]
    with pytest.raises(
        ValidationError,
        match=r"`tickets` has 1 problem\(s\):\n- `tickets` column `source` "
        r"\(rows t1, t2\): unknown value\(s\) 'pigeon'",
    ):
        validate(frame, schema.TICKETS.name)


def test_real_xiacheng_grids_report_the_one_invalid_polygon(realdata):
    raw = pyogrio.read_dataframe(realdata / "hangzhou" / "xiacheng_grids_wangge.geojson")
    frame = raw.rename(columns={"网格编号": schema.GRID_ID, "所属组织": schema.NAME})
    frame[schema.COMMUNITY] = frame[schema.NAME]
    frame[schema.STREET] = "下城区"
    invalid = [p for p in problems_in(frame, schema.GRIDS.name) if "invalid geometry" in p.what]
    assert len(invalid) == 1 and len(invalid[0].rows) == 1
    assert "120.16" in invalid[0].what and "30.33" in invalid[0].what


def test_real_multilinestring_outline_is_not_a_grid(realdata):
    folder = realdata / "china_awkward" / "gbk_zhejiang_outline_cgcs2000"
    raw = pyogrio.read_dataframe(next(folder.glob("*.shp")), encoding="gbk")
    frame = raw.to_crs(schema.STORAGE_CRS).assign(
        **{schema.GRID_ID: "z1", schema.NAME: "浙江", schema.COMMUNITY: "c", schema.STREET: "s"}
    )
    problems = problems_in(frame, schema.GRIDS.name)
    assert any("MultiLineString" in p.what and "close the rings" in p.fix for p in problems)
