"""core.geojson: GeoJSON (its crs member never reaching GDAL) and Open311 lists, read through core.io."""

from __future__ import annotations

import json

import pandas as pd
import pyproj
import pytest
from test_io import (
    HANGZHOU,
    feature_collection,
    point_feature,
)

from core.errors import ReadError
from core.io import apply_mapping, read_upload, suggest_mapping
from core.schema import DEFAULT_TIMEZONE


def test_geojson_is_wgs84_with_its_properties():
    result = read_upload("网格.geojson", feature_collection([point_feature(*HANGZHOU, 名称="灯芯巷网格1")]))
    assert (result.source_crs, result.crs_origin) == ("EPSG:4326", "file")
    assert result.frame.crs == "EPSG:4326"
    assert result.frame["名称"].tolist() == ["灯芯巷网格1"]
    assert (result.layers, result.layer, result.confirm) == (("网格",), "网格", ())


def test_geojson_named_crs_is_converted():
    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(*HANGZHOU)
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}}
    result = read_upload("gk.geojson", feature_collection([point_feature(x, y)], crs=crs))
    assert result.source_crs == "EPSG:4549"
    assert result.frame.geometry.x.iloc[0] == pytest.approx(HANGZHOU[0], abs=1e-7)
    assert any("converted from EPSG:4549" in note for note in result.notes)


def test_geojson_link_crs_is_never_followed():
    crs = {"type": "link", "properties": {"href": "http://192.0.2.1/crs.prj", "type": "proj4"}}
    result = read_upload("a.geojson", feature_collection([point_feature(*HANGZHOU)], crs=crs))
    assert result.source_crs == "EPSG:4326"
    assert any("crs" in c for c in result.confirm)


def test_geojson_in_gbk_is_decoded():
    data = feature_collection([point_feature(*HANGZHOU, 街道="石桥街道")]).decode().encode("gbk")
    result = read_upload("streets.geojson", data)
    assert (result.encoding, result.encoding_origin) == ("gbk", "detected")
    assert result.frame["街道"].tolist() == ["石桥街道"]


def test_multilinestring_boundaries_are_read_as_they_are():
    line = {
        "type": "MultiLineString",
        "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3]], [[120.2, 30.3], [120.1, 30.2]]],
    }
    result = read_upload("边界.geojson", feature_collection([{"type": "Feature", "geometry": line, "properties": {}}]))
    assert result.frame.geom_type.tolist() == ["MultiLineString"]


OPEN311 = [
    {
        "service_request_id": "638344",
        "status": "closed",
        "service_name": "Sidewalk and Curb Issues",
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "lat": 37.762221815,
        "long": -122.4651145,
        "media_url": None,
    },
    {
        "service_request_id": "638349",
        "status": "open",
        "service_name": "Graffiti",
        "requested_datetime": "2010-04-19T06:37:38-08:00",
        "lat": 37.76,
        "long": -122.46,
        "attributes": [{"code": "x"}],
    },
    {
        "service_request_id": "638350",
        "status": "open",
        "service_name": "Pothole",
        "requested_datetime": "2010-04-19T07:00:00-08:00",
    },
]


def test_open311_requests_become_tickets():
    result = read_upload("requests.json", json.dumps(OPEN311).encode())
    frame = result.frame
    assert len(frame) == 3 and frame.geometry.iloc[2] is None
    assert frame.geometry.x.iloc[0] == pytest.approx(-122.4651145)
    assert result.source_crs == "EPSG:4326" and result.crs_origin == "file"
    mapping = suggest_mapping(list(frame.columns), "tickets")
    assert mapping == {
        "ticket_id": "service_request_id",
        "created_at": "requested_datetime",
        "category": "service_name",
        "stage": "status",
    }
    tickets = apply_mapping(frame, mapping, "tickets")
    assert tickets["stage"].tolist() == ["closed", "received", "received"]
    assert tickets["created_at"].iloc[0] == pd.Timestamp("2010-04-14 22:37:38", tz=DEFAULT_TIMEZONE)


def test_json_that_is_neither_geojson_nor_open311():
    with pytest.raises(ReadError, match="without Open311 fields"):
        read_upload("x.json", b'[{"a": 1}]')
    with pytest.raises(ReadError, match="not valid JSON"):
        read_upload("x.geojson", b'{"type": ')


def test_geojson_crs_member_is_read_without_parsing_the_whole_file_twice():
    from core.geojson import _leading_crs

    named = {
        "type": "FeatureCollection",
        "name": "x",
        "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"note": "{crs}"},
                "geometry": {"type": "Point", "coordinates": [13358338.9, 3503549.8]},
            }
        ],
    }
    declared, rest = _leading_crs(json.dumps(named))
    assert declared == {"type": "name", "properties": {"name": "EPSG:3857"}}
    assert json.loads(rest)["features"][0]["properties"]["note"] == "{crs}" and "crs" not in json.loads(rest)
    result = read_upload("x.geojson", json.dumps(named).encode())
    assert (result.source_crs, result.crs_origin) == ("EPSG:3857", "file")
    assert abs(result.frame.geometry.iloc[0].x - 120.0) < 1e-6
    # a "crs" that is only a property name cannot be told apart without parsing: the slow path reads it
    only_property = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"crs": "x"}, "geometry": {"type": "Point", "coordinates": [120, 30]}}
        ],
    }
    assert _leading_crs(json.dumps(only_property)) is None
    assert read_upload("y.geojson", json.dumps(only_property).encode()).frame["crs"].tolist() == ["x"]
