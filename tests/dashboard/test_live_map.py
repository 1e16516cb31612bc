"""components.live_map: compact encodings, script-safe JSON and the live payload."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from jinja2 import Template
from shapely.geometry import MultiPolygon, Point, Polygon, box

from core import schema
from dashboard.components import live_map, palettes


def decode(text: str) -> list[tuple[float, float]]:
    """Reference decoder (Google's published algorithm, written out plainly)."""
    out, index, lat, lng = [], 0, 0, 0
    while index < len(text):
        values = []
        for _ in range(2):
            shift = result = 0
            while True:
                b = ord(text[index]) - 63
                index += 1
                result |= (b & 31) << shift
                shift += 5
                if b < 32:
                    break
            values.append(~(result >> 1) if result & 1 else result >> 1)
        lat += values[0]
        lng += values[1]
        out.append((lat / 1e5, lng / 1e5))
    return out


def test_encoding_matches_googles_published_example():
    lat = np.array([38.5, 40.7, 43.252])
    lon = np.array([-120.2, -120.95, -126.453])
    assert live_map.encode_polyline(lat, lon) == ["_p~iF~ps|U_ulLnnqC_mqNvxq`@"]


def test_sequences_restart_from_absolute_values():
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-80, 80, 50), rng.uniform(-179, 179, 50)
    parts = live_map.encode_polyline(lat, lon, np.array([0, 7, 30]))
    decoded = [p for part in parts for p in decode(part)]
    assert np.allclose(decoded, np.column_stack([lat, lon]), atol=1e-5)
    assert [len(decode(p)) for p in parts] == [7, 23, 20]


def test_polygon_rings_keep_holes_and_parts():
    square = Polygon(box(120, 30, 120.01, 30.01).exterior, [box(120.004, 30.004, 120.006, 30.006).exterior.coords])
    multi = MultiPolygon([box(121, 31, 121.01, 31.01), box(121.02, 31, 121.03, 31.01)])
    rings = live_map.polygon_rings(np.array([square, multi], dtype=object))
    assert [len(polys) for polys in rings] == [1, 2]
    assert len(rings[0][0]) == 2  # shell and hole
    shell = decode(rings[0][0][0])
    assert len(shell) == 4  # closing vertex dropped
    assert {(round(y, 5), round(x, 5)) for x, y in shapely.get_coordinates(square.exterior)} == set(shell)
    assert live_map.polygon_rings(np.array([], dtype=object)) == []  # an empty layer (e.g. no camera down)
    assert live_map.polygon_rings(np.array([Polygon()], dtype=object)) == [[]]


@pytest.mark.parametrize(
    "value",
    [
        {"a": "{{|x{#y%z"},
        {"s": "</script><img src=x onerror=alert(1)>"},
        {"t": "${alert(1)} \u2028 '"},
        [{"b": {}}, {"c": [{"d": "{{{"}]}],
    ],
)
def test_script_json_round_trips_and_survives_a_second_jinja_pass(value):
    text = live_map.script_json(value)
    assert json.loads(text) == value
    for forbidden in ("<", ">", "{{", "{%", "{#", "\u2028", "'"):
        assert forbidden not in text
    assert Template(text).render() == text  # branca re-renders scripts through Jinja


def test_payload_escapes_every_file_string():
    hostile = "<img src=x onerror=alert(1)>"
    grids = pd.Series(["g1", "g2"])
    measures = pd.DataFrame(
        {"open": [1, 0], "overdue": [1, 0], "members": [3, 0], "on_time_rate": [0.5, np.nan]}, index=["g1", "g2"]
    )
    point = gpd.GeoSeries([Point(120.1, 30.2)], crs=4326)
    cameras = gpd.GeoDataFrame(
        {
            schema.CAMERA_ID: [hostile],
            schema.STATUS: ["fault"],
            schema.AZIMUTH_DEG: [None],
            schema.FOV_DEG: [360.0],
            schema.RANGE_M: [50.0],
        },
        geometry=point,
    )
    services = gpd.GeoDataFrame({schema.NAME: [hostile], schema.KIND: ["police_room"]}, geometry=point)
    tickets = gpd.GeoDataFrame(
        {
            schema.TICKET_ID: ["T1"],
            schema.CATEGORY: [hostile],
            schema.DESCRIPTION: [hostile + " ${alert(1)}"],
            schema.STAGE: ["handling"],
            schema.DEADLINE_AT: [pd.Timestamp("2026-10-31 12:00", tz=schema.DEFAULT_TIMEZONE)],
            "overdue": [True],
        },
        geometry=point,
    )
    checkins = gpd.GeoDataFrame(
        {
            schema.TEAM_ID: ["A"],
            "team_name": [hostile],
            schema.CHECKED_AT: [pd.Timestamp("2026-10-31 20:05", tz=schema.DEFAULT_TIMEZONE)],
        },
        geometry=point,
    )
    labels = {"measure": "按期结案率", "deadline": "时限", "stage": {"handling": "处置中"}}
    payload = live_map.live_payload(
        grids,
        live_map.ticket_payload(grids, measures, "on_time_rate", "rate", open_tickets=tickets, labels=labels),
        live_map.asset_payload(cameras, services, checkins),
        live_map.density_payload([], pd.Series(dtype=int)),
        selected="g2",
    )
    text = json.dumps(payload, ensure_ascii=False)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert payload["grid"]["values"] == ["50.0%", "–"] and payload["grid"]["fill"] == [0, -1]
    assert payload["cameras"]["az"] == [-1] and payload["cameras"]["status"] == [2]
    assert payload["cameras"]["ids"] == {"0": "&lt;img src=x onerror=alert(1)&gt;"}  # down cameras only
    assert payload["tickets"]["overdue"] == [1] and "${alert(1)}" in payload["tickets"]["tips"][0]
    assert payload["checkins"]["tips"] == ["&lt;img src=x onerror=alert(1)&gt; · 20:05"]
    assert payload["selected"] == 1
    assert decode(payload["cameras"]["pts"]) == [(30.2, 120.1)]


def test_density_hexagons_are_encoded_in_one_pass():
    rings = [np.array([[120.1, 30.2], [120.2, 30.2], [120.2, 30.3]]), np.array([[121.0, 31.0], [121.1, 31.1]])]
    payload = live_map.density_payload(rings, pd.Series([1, 9]))
    assert [decode(r) for r in payload["rings"]] == [
        [(30.2, 120.1), (30.2, 120.2), (30.3, 120.2)],
        [(31.0, 121.0), (31.1, 121.1)],
    ]
    assert payload["counts"] == [1, 9] and payload["cls"] == [0, len(payload["palette"]) - 1]
    assert payload["palette"][0] == palettes.DENSITY_PALETTE[0]  # the lightest colour for the fewest
