"""core.table_geometry: geometry from WKT, lon/lat and coordinate-pair columns of tables, read through core.io."""

from __future__ import annotations

import pyproj
import pytest
from test_io import (
    HANGZHOU,
)

from core.errors import ReadError
from core.io import read_upload


def test_lat_lon_text_like_chicago_open_data():
    text = 'ID,Location\n1,"(41.8781, -87.6298)"\n2,"(41.85, -87.65)"\n'
    result = read_upload("chicago.csv", text.encode())
    assert result.frame.geometry.x.tolist() == [-87.6298, -87.65]
    assert result.frame.geometry.y.tolist() == [41.8781, 41.85]
    assert any("read as (latitude, longitude)" in n for n in result.notes)


def test_coordinate_pair_order_is_told_by_ranges_in_china():
    text = '名称,坐标\n甲,"120.15,30.27"\n乙,"120.16,30.28"\n'
    result = read_upload("pts.csv", text.encode())
    assert result.frame.geometry.x.tolist() == [120.15, 120.16]
    assert not any("could be latitudes" in n for n in result.notes)


def test_wkt_column_is_detected_and_dropped():
    text = (
        'name,shape\nA,"POLYGON ((120.1 30.2, 120.2 30.2, 120.2 30.3, 120.1 30.2))"\n'
        'B,"POINT (120.15 30.25)"\nC,not wkt\n'
    )
    result = read_upload("grids.csv", text.encode())
    assert result.frame.geom_type.tolist()[:2] == ["Polygon", "Point"]
    assert result.frame.geometry.iloc[2] is None
    assert "shape" not in result.frame.columns
    assert any("not valid WKT" in n for n in result.notes)


def test_ewkt_srid_is_the_file_crs():
    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(*HANGZHOU)
    text = f'id,wkt\n1,"SRID=4549;POINT ({x} {y})"\n'
    result = read_upload("gk.csv", text.encode())
    assert (result.source_crs, result.crs_origin) == ("EPSG:4549", "file")
    assert result.frame.geometry.x.iloc[0] == pytest.approx(HANGZHOU[0], abs=1e-7)


def test_explicit_columns_swapped_values_and_missing_coordinates():
    text = "a,b,c\n30.2,120.1,x\n,120.2,y\n30.3,120.3,z\n"
    result = read_upload("t.csv", text.encode(), x_column="a", y_column="b")
    assert result.frame.geometry.x.iloc[0] == 120.1  # swapped: b holds longitudes
    assert result.frame.geometry.iloc[1] is None
    assert "`b` holds the longitudes (values above 90 cannot be latitudes)" in result.notes
    assert any("1 row(s) have no usable coordinates" in n for n in result.notes)
    with pytest.raises(ReadError, match="no column `q`"):
        read_upload("t.csv", text.encode(), x_column="q", y_column="b")


def test_table_without_coordinates_is_refused():
    with pytest.raises(ReadError, match=r"no columns GridWatch recognises as coordinates.*名称"):
        read_upload("t.csv", "名称,人口\n甲,1\n".encode())


def test_csv_without_rows_is_refused():
    with pytest.raises(ReadError, match="has a header but no rows"):
        read_upload("t.csv", b"lon,lat\n")


def test_coordinates_at_the_end_of_an_address_text_are_found():
    text = (
        'ID,LOCATION\n1,"121 N LASALLE ST\nCHICAGO, IL 60602\n(41.8837, -87.6324)"\n'
        '2,"CHICAGO (IL) (41.85, -87.65)"\n3,\n'
    )
    result = read_upload("chicago.csv", text.encode())
    assert result.frame.geometry.x.tolist()[:2] == [-87.6324, -87.65]
    assert result.frame.geometry.y.tolist()[:2] == [41.8837, 41.85]
    assert result.frame.geometry.iloc[2] is None
    assert "1 row(s) have no usable coordinates and no geometry" in result.notes


def test_state_plane_x_y_columns_give_way_to_a_location_text_column():
    text = (
        "SR_NUMBER,X_COORDINATE,Y_COORDINATE,LOCATION\n"
        'A,1175000.5,1901000.2,"(41.88, -87.63)"\nB,1176000.5,1902000.2,"(41.89, -87.62)"\n'
    )
    result = read_upload("chicago.csv", text.encode())
    assert result.frame.geometry.x.tolist() == [-87.63, -87.62]
    assert "X_COORDINATE" in result.frame.columns


def test_pairs_that_are_not_degrees_are_not_taken_for_coordinates():
    text = 'id,range\n1,"(300, 400)"\n2,"(500, 600)"\n'
    with pytest.raises(ReadError, match="no columns GridWatch recognises as coordinates"):
        read_upload("t.csv", text.encode())
