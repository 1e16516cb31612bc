"""The command-center map: boundaries drawn once, live layers pushed into it with ``gw.update``.

Two parts, so that a data refresh neither reloads the map nor loses its zoom and position:

* ``live_base_map`` — grids, community and street outlines, the layer control and the drawing code
  (``live_map.js``). It depends only on the boundaries and the language, so st_folium sees the same
  script on every rerun and keeps its component.
* ``live_update`` — a ``FeatureGroup`` (st_folium's ``feature_group_to_add``) whose script calls
  ``gw.update(payload)``: grid colours and tooltips, the ticket density hexagons, cameras, service
  points, open tickets and tonight's sign-ins. st_folium swaps it in place when it changes.

Sizes: geometry and points travel as Google encoded polylines (precision 5, ~1 m), about 5 bytes a
coordinate instead of folium GeoJSON's ~42. Points are clustered in the browser when far out and
drawn one by one (camera view sectors closer still) only for what is in view.

Every string from a file or a resident is HTML-escaped here; the JSON is made safe to sit in a
``<script>`` (``<``, ``>``, ``&``, ``'`` and the JavaScript line separators are escaped).
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from PIL import Image

from core import schema
from dashboard.components import maps
from dashboard.components.offline import make_offline
from dashboard.components.palettes import (
    CAMERA_COLORS,
    DENSITY_PALETTE,
    DENSITY_RAMP,
    DIVERGING,
    PALETTE,
    SERVICE_COLORS,
)

DETAIL_ZOOM = 16  # cameras one by one from here
VIEW_ZOOM = 17  # camera view sectors from here
RATE_BREAKS = np.array([0.8, 0.9, 0.95, 0.99, 1.0])
_COMMON_JS = Path(__file__).with_name("map_common.js").read_text(encoding="utf-8")
_JS = Path(__file__).with_name("live_map.js").read_text(encoding="utf-8").replace("__COMMON__", _COMMON_JS)
_CHOROPLETH_JS = Path(__file__).with_name("choropleth.js").read_text(encoding="utf-8").replace("__COMMON__", _COMMON_JS)


# ---- compact encodings ---------------------------------------------------------------------------
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
    k = np.arange(7, dtype=np.uint64)
    chunks = ((zigzag[:, None] >> (np.uint64(5) * k)) & np.uint64(31)).astype(np.uint8)
    more = k[None, :].astype(np.int64) < (length[:, None] - 1)
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
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("'", "\\u0027"),
        ("%", "\\u0025"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return _TEMPLATE_OPENER.sub("\\\\u007b", text)


_TEMPLATE_OPENER = re.compile(r"\{(?=[{#])")


def escaped(values: pd.Series) -> list[str]:
    return values.fillna("").astype(str).map(html.escape).tolist()


# ---- the base map --------------------------------------------------------------------------------
class _Script(MacroElement):
    """A drawing script with its configuration, run against the map it is added to."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this.code.replace('__MAP__', this._parent.get_name()) }}{% endmacro %}"
    )

    def __init__(self, code: str, config: dict):
        super().__init__()
        self._name = "GridWatchScript"
        self.code = code.replace("__CONFIG__", script_json(config))


class _Update(MacroElement):
    """A call of ``window.<target>.update(payload)`` (the target was set up by a ``_Script``)."""

    _template = Template(
        "{% macro script(this, kwargs) %}window.{{ this.target }}.update({{ this.payload_json }});{% endmacro %}"
    )

    def __init__(self, target: str, payload: dict):
        super().__init__()
        self._name = "GridWatchUpdate"
        self.target = target
        self.payload_json = script_json(payload)


@dataclass(frozen=True)
class Outline:
    frame: gpd.GeoDataFrame
    group: str  # "communities" or "streets"
    color: str
    weight: float


def live_base_map(config: dict) -> folium.Map:
    """The static part, from ``base_config`` (a new map object each time: st_folium renames a map's
    variables as it renders it)."""
    m = maps.base_map(tuple(config["bounds"]))
    _Script(_JS, config).add_to(m)
    return make_offline(m)


def base_config(grids: gpd.GeoDataFrame, outlines: list[Outline], labels: dict) -> dict:
    """What the static part draws. ``grids`` (display-simplified) fix the order of every per-grid
    array sent later. ``labels`` holds the translated strings: ``layer.<group>`` for each layer,
    ``status`` (code → text), ``service_kinds`` (code → (label, symbol)), and ``cameras``, ``down``,
    ``services``, ``open``, ``overdue``, ``tickets``, ``members``, ``checkins``."""
    kinds = labels["service_kinds"]
    return {
        "bounds": [float(v) for v in grids.total_bounds],
        "grids": {"rings": polygon_rings(grids.geometry.array), "names": escaped(grids[schema.NAME])},
        "outlines": [
            {"rings": polygon_rings(o.frame.geometry.array), "group": o.group, "color": o.color, "weight": o.weight}
            for o in outlines
        ],
        "layers": [
            {"group": group, "label": html.escape(labels[f"layer.{group}"]), "on": on}
            for group, on in (
                ("grids", True),
                ("communities", True),
                ("streets", True),
                ("density", False),
                ("cameras", True),
                ("views", True),
                ("services", True),
                ("tickets", True),
                ("checkins", True),
            )
            if group not in ("communities", "streets") or any(o.group == group for o in outlines)
        ],
        "labels": {
            key: html.escape(labels[key])
            for key in ("cameras", "down", "services", "open", "overdue", "tickets", "members", "checkins")
        }
        | {"status": [html.escape(labels["status"][s]) for s in schema.CAMERA_STATUSES]},
        "cameraColors": [CAMERA_COLORS[s] for s in schema.CAMERA_STATUSES],
        "serviceKinds": [
            {
                "label": html.escape(kinds[k][0]),
                "symbol": html.escape(kinds[k][1]),
                "color": SERVICE_COLORS[i % len(SERVICE_COLORS)],
            }
            for i, k in enumerate(schema.SERVICE_KINDS)
        ],
        "detailZoom": DETAIL_ZOOM,
        "viewZoom": VIEW_ZOOM,
    }


def live_update(payload: dict) -> folium.FeatureGroup:
    """The live part, for st_folium's ``feature_group_to_add``."""
    group = folium.FeatureGroup(name="live", control=False)
    _Update("gw", payload).add_to(group)
    return group


# ---- the indicator map (Performance page): same split, outlines drawn once ----------------------
def choropleth_config(units: gpd.GeoDataFrame, label_column: str) -> dict:
    """The static part: encoded outlines and escaped names of ``units`` (display-simplified)."""
    return {
        "bounds": [float(v) for v in units.total_bounds],
        "rings": polygon_rings(units.geometry.array),
        "names": escaped(units[label_column]),
    }


def choropleth_base_map(config: dict) -> folium.Map:
    m = maps.base_map(tuple(config["bounds"]))
    _Script(_CHOROPLETH_JS, config).add_to(m)
    return make_offline(m)


def choropleth_update(
    values: pd.Series, *, title: str, better: bool | None, percent: bool, zero_neutral: bool = False
) -> folium.FeatureGroup:
    """Colours, hover values and legend for ``values`` (aligned with the config's units); see
    ``maps.choropleth_classes``."""
    fills, legend, text = maps.choropleth_classes(
        values, title=title, better=better, percent=percent, zero_neutral=zero_neutral
    )
    return colour_update(fills, ["–" if pd.isna(v) else text(v) for v in values], legend)


@dataclass(frozen=True)
class Overlay:
    """Polygons drawn over the units in one colour, as a layer of the map's layer switch."""

    geometries: np.ndarray  # display-simplified polygons in EPSG:4326
    label: str
    color: str
    fill_opacity: float = 0.5
    on: bool = True
    tips: tuple[str, ...] | None = None  # hover text per polygon (escaped here)


def colour_update(
    fills: list[str],
    values: list[str],
    legend: maps.Legend,
    *,
    fill_opacity: float = 0.8,
    overlay: folium.raster_layers.ImageOverlay | None = None,
    hover_title: str | None = None,
    overlays: tuple[Overlay, ...] = (),
) -> folium.FeatureGroup:
    """The indicator map's live part: a fill colour and hover text per unit (under ``hover_title``, by
    default the legend's title), the legend, optionally an image drawn over the units (with
    ``fill_opacity`` 0 the units are outlines only) and polygon ``overlays``."""
    group = folium.FeatureGroup(name="live", control=False)
    if overlay is not None:
        overlay.add_to(group)
    title = legend.title if hover_title is None else hover_title
    layers = [
        {
            "rings": polygon_rings(o.geometries),
            "label": html.escape(o.label),
            "color": o.color,
            "opacity": o.fill_opacity,
            "on": o.on,
            "tips": None if o.tips is None else [html.escape(tip) for tip in o.tips],
        }
        for o in overlays
    ]
    _Update(
        "gwp",
        {
            "fills": fills,
            "values": [html.escape(v) for v in values],
            "title": html.escape(title),
            "legend": maps.legend_html(legend),
            "fillOpacity": fill_opacity,
            "overlays": layers,
        },
    ).add_to(group)
    return group


def density_overlay(
    values: np.ndarray, bounds: tuple[float, float, float, float], *, opacity: float = 0.75
) -> folium.raster_layers.ImageOverlay:
    """A density raster (row 0 = north) as a PNG inlined in the page: yellow → red on a log scale from
    a hundredth of the peak, transparent below it."""
    peak = float(np.nanmax(values)) if values.size else 0.0
    scaled = (
        np.zeros(values.shape)
        if peak <= 0
        else np.clip(np.log10(np.maximum(values, peak / 100) / (peak / 100)) / 2, 0, 1)
    )
    ramp = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in DENSITY_RAMP], dtype=float)
    position = scaled * (len(ramp) - 1)
    low = np.floor(position).astype(int).clip(0, len(ramp) - 2)
    frac = (position - low)[..., None]
    rgb = ramp[low] * (1 - frac) + ramp[low + 1] * frac
    alpha = np.where(values > peak / 100, 80 + 175 * scaled, 0) if peak > 0 else np.zeros(values.shape)
    image = Image.fromarray(np.dstack([rgb, alpha]).round().astype(np.uint8), "RGBA")
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    west, south, east, north = bounds
    return folium.raster_layers.ImageOverlay(
        "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"),
        bounds=[[south, west], [north, east]],
        opacity=opacity,
        interactive=False,
    )


# ---- the live payload ----------------------------------------------------------------------------
def measure_colors(values: pd.Series, kind: str) -> tuple[list[int], tuple[str, ...], maps.Legend]:
    """Palette index per grid (-1 = no value), the palette and the legend labels (title left empty).

    Rates use fixed classes (red = worse); counts and per-1,000 figures use quantile classes."""
    if kind == "rate":
        idx = np.searchsorted(RATE_BREAKS, values.to_numpy(dtype=float), side="left")
        lows = np.concatenate([[0.0], RATE_BREAKS[:-1]])
        texts = tuple(f"{lo:.0%}–{hi:.0%}" if hi < 1 else f"≥ {lo:.0%}" for lo, hi in zip(lows, RATE_BREAKS))
        palette = DIVERGING
    else:
        breaks = maps.class_breaks(values)
        palette = maps.spread(PALETTE, len(breaks))
        idx = np.searchsorted(breaks, values.to_numpy(dtype=float), side="left")
        texts = maps.legend_for("", breaks).labels
    fill = [-1 if pd.isna(v) else int(min(i, len(palette) - 1)) for v, i in zip(values, idx)]
    return fill, tuple(palette), maps.Legend("", texts, tuple(palette[: len(texts)]))


def density_payload(rings: list[np.ndarray], counts: pd.Series) -> dict:
    """Hexagons (lon/lat outlines) with their counts, in six quantile classes."""
    breaks = maps.class_breaks(counts)
    palette = maps.spread(DENSITY_PALETTE, len(breaks))
    cls = np.minimum(np.searchsorted(breaks, counts.to_numpy(dtype=float), side="left"), len(palette) - 1)
    lengths = np.array([len(r) for r in rings], dtype=np.int64)
    coords = np.concatenate(rings) if rings else np.empty((0, 2))
    encoded = (
        encode_polyline(coords[:, 1], coords[:, 0], np.concatenate([[0], np.cumsum(lengths)[:-1]])) if rings else []
    )
    return {"rings": encoded, "counts": counts.astype(int).tolist(), "cls": cls.tolist(), "palette": list(palette)}


def _value_text(value: float, kind: str) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:.1%}" if kind == "rate" else f"{value:.1f}" if kind == "ratio" else f"{int(value):,}"


def asset_payload(cameras: gpd.GeoDataFrame, services: gpd.GeoDataFrame, checkins: gpd.GeoDataFrame) -> dict:
    """The layers that no ticket filter changes: cameras, service points, tonight's sign-ins
    (``checkins`` carries a ``team_name``). Camera ids travel only for cameras that are down."""
    service_kind = {k: i for i, k in enumerate(schema.SERVICE_KINDS)}
    status = {s: i for i, s in enumerate(schema.CAMERA_STATUSES)}
    down = np.flatnonzero((cameras[schema.STATUS] != "online").to_numpy())
    return {
        "cameras": {
            "pts": points_code(cameras),
            "ids": dict(zip(map(str, down), escaped(cameras[schema.CAMERA_ID].iloc[down]), strict=True)),
            "status": cameras[schema.STATUS].map(status).fillna(0).astype(int).tolist(),
            "az": cameras[schema.AZIMUTH_DEG].astype(float).fillna(-1).round().astype(int).tolist(),
            "fov": cameras[schema.FOV_DEG].astype(float).round().astype(int).tolist(),
            "range": cameras[schema.RANGE_M].astype(float).round().astype(int).tolist(),
        },
        "services": {
            "pts": points_code(services),
            "names": escaped(services[schema.NAME]),
            "kind": services[schema.KIND].map(service_kind).fillna(len(service_kind) - 1).astype(int).tolist(),
        },
        "checkins": {
            "pts": points_code(checkins),
            "tips": [
                f"{html.escape(str(team))} · {at.strftime('%H:%M')}"
                for team, at in zip(
                    checkins["team_name"].fillna(checkins[schema.TEAM_ID]), checkins[schema.CHECKED_AT], strict=True
                )
            ],
        },
    }


def ticket_payload(
    grid_ids: pd.Series,
    measures: pd.DataFrame,
    measure: str,
    kind: str,
    *,
    open_tickets: gpd.GeoDataFrame,
    labels: dict,
) -> dict:
    """Grid colours and tooltips for ``measure`` and the open-ticket markers. ``grid_ids`` is the
    base map's grid order; ``measures`` is ``core.command.grid_measures``; ``kind`` is "count",
    "ratio" or "rate"; ``open_tickets`` carries an ``overdue`` flag. ``labels``: ``measure`` (the
    legend title), ``stage`` (code → text) and ``deadline``."""
    rows = measures.reindex(grid_ids.to_numpy())
    values = rows[measure]
    fill, palette, legend = measure_colors(values, kind)
    legend = maps.Legend(labels["measure"], legend.labels, legend.colors)
    stages = labels["stage"]
    ticket_tips = [
        f"<b>{html.escape(str(tid))}</b> · {html.escape(str(cat))}<br>{html.escape(str(desc)[:80])}<br>"
        f"{html.escape(stages.get(stage, str(stage)))} · {html.escape(labels['deadline'])} "
        f"{'' if pd.isna(deadline) else deadline.strftime('%m-%d %H:%M')}"
        for tid, cat, desc, stage, deadline in zip(
            open_tickets[schema.TICKET_ID],
            open_tickets[schema.CATEGORY],
            open_tickets[schema.DESCRIPTION].fillna(""),
            open_tickets[schema.STAGE],
            open_tickets[schema.DEADLINE_AT],
            strict=True,
        )
    ]
    return {
        "grid": {
            "fill": fill,
            "palette": list(palette),
            "legend": maps.legend_html(legend),
            "measure": html.escape(labels["measure"]),
            "values": [_value_text(v, kind) for v in values],
            "open": rows["open"].fillna(0).astype(int).tolist(),
            "overdue": rows["overdue"].fillna(0).astype(int).tolist(),
            "members": rows["members"].fillna(0).astype(int).tolist(),
        },
        "tickets": {
            "pts": points_code(open_tickets),
            "tips": ticket_tips,
            "overdue": open_tickets["overdue"].astype(int).tolist(),
        },
    }


def live_payload(
    grid_ids: pd.Series,
    tickets: dict,
    assets: dict,
    density: dict,
    *,
    focus: tuple[float, float] | None = None,
    selected: str | None = None,
) -> dict:
    """What ``gw.update`` draws: ``ticket_payload`` + ``asset_payload`` + ``density_payload``, the
    ``focus`` (lat, lon) to ring and the ``selected`` grid to outline."""
    ids = grid_ids.to_numpy()
    return {
        **tickets,
        **assets,
        "density": density,
        "focus": list(focus) if focus else None,
        "selected": int(np.flatnonzero(ids == selected)[0]) if selected is not None and selected in ids else -1,
    }
