"""components.map_encoding: encoded polylines and script-safe JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from jinja2 import Template
from shapely.geometry import MultiPolygon, Polygon, box

from dashboard.components import map_encoding


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
    assert map_encoding.encode_polyline(lat, lon) == ["_p~iF~ps|U_ulLnnqC_mqNvxq`@"]


def test_sequences_restart_from_absolute_values():
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-80, 80, 50), rng.uniform(-179, 179, 50)
    parts = map_encoding.encode_polyline(lat, lon, np.array([0, 7, 30]))
    decoded = [p for part in parts for p in decode(part)]
    assert np.allclose(decoded, np.column_stack([lat, lon]), atol=1e-5)
    assert [len(decode(p)) for p in parts] == [7, 23, 20]


def test_polygon_rings_keep_holes_and_parts():
    square = Polygon(box(120, 30, 120.01, 30.01).exterior, [box(120.004, 30.004, 120.006, 30.006).exterior.coords])
    multi = MultiPolygon([box(121, 31, 121.01, 31.01), box(121.02, 31, 121.03, 31.01)])
    rings = map_encoding.polygon_rings(np.array([square, multi], dtype=object))
    assert [len(polys) for polys in rings] == [1, 2]
    assert len(rings[0][0]) == 2  # shell and hole
    shell = decode(rings[0][0][0])
    assert len(shell) == 4  # closing vertex dropped
    assert {(round(y, 5), round(x, 5)) for x, y in shapely.get_coordinates(square.exterior)} == set(shell)
    assert map_encoding.polygon_rings(np.array([], dtype=object)) == []  # an empty layer (e.g. no camera down)
    assert map_encoding.polygon_rings(np.array([Polygon()], dtype=object)) == [[]]


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
    text = map_encoding.script_json(value)
    assert json.loads(text) == value
    for forbidden in ("<", ">", "{{", "{%", "{#", "\u2028", "'"):
        assert forbidden not in text
    assert Template(text).render() == text  # branca re-renders scripts through Jinja
