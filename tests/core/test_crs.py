"""core.crs: coordinate systems inferred from the numbers, chosen by the user, checked to be on Earth."""

from __future__ import annotations

import pyproj
import pytest
from test_io import (
    HANGZHOU,
    shapefile_parts,
    shapefile_zip,
)

from core.errors import ReadError
from core.io import read_upload


def gauss_kruger_csv(epsg: int) -> bytes:
    x, y = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(*HANGZHOU)
    return f"id,x,y\n1,{x:.3f},{y:.3f}\n".encode()


def test_gauss_kruger_with_zone_prefix_is_inferred():
    result = read_upload("gk.csv", gauss_kruger_csv(4528))  # 3° zone 40 (120°E), x = 40xxxxxx
    assert (result.source_crs, result.crs_origin) == ("EPSG:4528", "inferred")
    assert result.frame.geometry.x.iloc[0] == pytest.approx(HANGZHOU[0], abs=1e-6)
    assert any("zone number 40" in c for c in result.confirm)


def test_gauss_kruger_without_zone_needs_the_user():
    data = gauss_kruger_csv(4549)
    with pytest.raises(ReadError, match=r"without a zone number.*EPSG:4549"):
        read_upload("gk.csv", data)
    result = read_upload("gk.csv", data, crs="EPSG:4549")
    assert (result.source_crs, result.crs_origin) == ("EPSG:4549", "user")
    assert result.frame.geometry.y.iloc[0] == pytest.approx(HANGZHOU[1], abs=1e-6)


def test_user_crs_overrides_the_file(tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path)  # .prj says EPSG:4326
    result = read_upload("a.zip", shapefile_zip(parts), crs="EPSG:4490")
    assert (result.source_crs, result.crs_origin) == ("EPSG:4490", "user")
    with pytest.raises(ReadError, match="not a coordinate system GridWatch knows"):
        read_upload("a.zip", shapefile_zip(parts), crs="EPSG:99999999")


def test_unknown_coordinates_are_refused():
    with pytest.raises(ReadError, match="neither longitude/latitude degrees nor Chinese Gauss-Krüger"):
        read_upload("t.csv", b"x,y\n50000000,1\n")


def test_prj_that_contradicts_the_numbers_is_refused(tmp_path, provinces):
    projected = provinces.to_crs(4549).set_crs(4326, allow_override=True)
    with pytest.raises(ReadError, match=r"the file says .* EPSG:4326.*not on Earth"):
        read_upload("a.zip", shapefile_zip(shapefile_parts(projected, tmp_path)))
