"""Compact, script-safe encodings of what a map draws: Google encoded polylines and JSON for a ``<script>``.

Geometry and points travel as encoded polylines (precision 5, ~1 m), about 5 bytes a coordinate instead
of folium GeoJSON's ~42; every string from a file or a resident is HTML-escaped, and the JSON is made safe
to sit in a ``<script>`` that branca renders through Jinja a second time. Not here: what a map draws and
how (``components.maps``), and what each page puts on it (``components.map_builders``).
"""

from __future__ import annotations

import html
import itertools
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["encode_polyline", "escaped", "points_code", "polygon_rings", "script_json"]


def encode_polyline(lat: np.ndarray, lon: np.ndarray, starts: np.ndarray | None = None) -> list[str]:
    """Google encoded polylines (precision 5) of the sequences that begin at ``starts`` (default: one
    sequence). Vectorised: a city's 200,000 vertices take a few milliseconds."""
    n = len(lat)
    starts = np.array([0], dtype=np.int64) if starts is None else np.asarray(starts, dtype=np.int64)
    if n == 0:
        return [""] * len(starts)
    ints = np.column_stack([np.round(np.asarray(lat) * 1e5), np.round(np.asarray(lon) * 1e5)]).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    deltas[starts] = ints[starts]  # each sequence starts from absolute values
    values = deltas.ravel()
    zigzag = ((values << 1) ^ (values >> 63)).astype(np.uint64)
    length = np.ones(len(zigzag), dtype=np.int64)
    for k in range(1, 7):
        length += zigzag >= np.uint64(1 << (5 * k))
    chunk = np.arange(7, dtype=np.uint64)
    chunks = ((zigzag[:, None] >> (np.uint64(5) * chunk)) & np.uint64(31)).astype(np.uint8)
    more = chunk[None, :].astype(np.int64) < (length[:, None] - 1)
    chars = (chunks + 63 + 32 * more).astype(np.uint8)
    text = chars[np.arange(7)[None, :] < length[:, None]].tobytes().decode("ascii")
    per_coordinate = length.reshape(-1, 2).sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(per_coordinate)])
    bounds = np.append(starts, n)
    return [text[offsets[a] : offsets[b]] for a, b in itertools.pairwise(bounds)]


def polygon_rings(geometries: np.ndarray) -> list[list[list[str]]]:
    """Per (multi)polygon: its polygons, each a list of encoded rings (closing vertex dropped)."""
    parts, part_of = shapely.get_parts(geometries, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    if not len(coords):  # nothing to draw (an empty layer)
        return [[] for _ in range(len(geometries))]
    closing = np.r_[coord_of[1:] != coord_of[:-1], True]  # the last vertex of each ring repeats the first
    coords, coord_of = coords[~closing], coord_of[~closing]
    starts = np.searchsorted(coord_of, np.arange(len(rings)))
    encoded = encode_polyline(coords[:, 1], coords[:, 0], starts)
    out: list[list[list[str]]] = [[] for _ in range(len(geometries))]
    polygon_slot: dict[int, list[str]] = {}
    for ring_number, part in enumerate(ring_of):
        if part not in polygon_slot:
            polygon_slot[part] = []
            out[part_of[part]].append(polygon_slot[part])
        polygon_slot[part].append(encoded[ring_number])
    return out


def points_code(points: gpd.GeoDataFrame) -> str:
    """All points of ``points`` as one encoded polyline (lat/lon order kept)."""
    if points.empty:
        return ""
    return encode_polyline(points.geometry.y.to_numpy(), points.geometry.x.to_numpy())[0]


def script_json(value: object) -> str:
    """JSON that can sit inside a ``<script>`` element (no tag, entity or line-separator breakouts).

    branca renders a map's scripts through Jinja a second time, and encoded polylines are full of
    braces, so no ``{{``, ``{%`` or ``{#`` may remain: in compact JSON a structural ``{`` is always
    followed by ``"`` or ``}``, so a brace before ``{``/``#`` is inside a string and is escaped, and so
    is every ``%`` (which only occurs inside strings)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, replacement in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("'", "\\u0027"),
        ("%", "\\u0025"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, replacement)
    return _TEMPLATE_OPENER.sub("\\\\u007b", text)


_TEMPLATE_OPENER = re.compile(r"\{(?=[{#])")


def escaped(values: pd.Series) -> list[str]:
    """The values as HTML-escaped text (missing ones empty)."""
    return values.fillna("").astype(str).map(html.escape).tolist()
