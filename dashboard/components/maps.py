"""The one map system of every page: outlines drawn once, live layers swapped into them (no Streamlit).

Every map has two parts, so that new data neither reloads it nor loses its zoom and position:

* the **base map** — the outlines as encoded polylines and the script that draws them. It depends only
  on the boundaries and the language, so st_folium sees the same script on every rerun and keeps its
  component. ``live_base_map`` draws the Command center (grids, outlines, points; ``live_map.js``);
  ``choropleth_base_map`` every other map (units coloured by one value, optional outlines and a layer
  switch; ``choropleth.js``).
* the **live part** — the script that calls ``gw.update`` / ``gwp.update`` with the colours, hover
  values, legend and overlays: ``live_script`` for the Command center (run by the prepared map,
  ``map_view.show_prepared_map``), a ``FeatureGroup`` for st_folium's ``feature_group_to_add``
  elsewhere (``colour_update``, ``choropleth_update``). Either is swapped in place.

Every map is offline (``offline.make_offline``): no CDN, and no basemap unless ``GRIDWATCH_TILES`` names
a tile server. Also here: the colour classes of values and their legends. Not here: the encodings
(``components.map_encoding``), the colours (``components.palettes``), what each page draws
(``components.map_builders``) and handing a map to the browser (``components.map_view``).
"""

from __future__ import annotations

import base64
import html
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template
from PIL import Image

from core import settings
from dashboard.components.map_encoding import escaped, polygon_rings, script_json
from dashboard.components.offline import make_offline
from dashboard.components.palettes import DENSITY_RAMP, DIVERGING, NEUTRAL, NO_DATA, PALETTE, SCRIPT_COLORS

__all__ = [
    "Legend",
    "MetricScale",
    "Outline",
    "Overlay",
    "base_map",
    "choropleth_base_map",
    "choropleth_classes",
    "choropleth_config",
    "choropleth_update",
    "class_breaks",
    "colors_for",
    "colour_update",
    "count_classes",
    "density_overlay",
    "legend_for",
    "legend_html",
    "live_base_map",
    "live_script",
    "measure_colors",
    "spread",
]

RATE_BREAKS = np.array([0.8, 0.9, 0.95, 0.99, 1.0])
_COMMON_JS = Path(__file__).with_name("map_common.js").read_text(encoding="utf-8")
_JS = Path(__file__).with_name("live_map.js").read_text(encoding="utf-8").replace("__COMMON__", _COMMON_JS)
_CHOROPLETH_JS = Path(__file__).with_name("choropleth.js").read_text(encoding="utf-8").replace("__COMMON__", _COMMON_JS)


# ---- colour classes and legends ------------------------------------------------------------------
@dataclass(frozen=True)
class Legend:
    title: str
    labels: tuple[str, ...]
    colors: tuple[str, ...]


def legend_html(legend: Legend) -> str:
    """The legend's title and colour swatches as HTML (text escaped)."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:10px;margin-right:6px;'
        f'background:{c};border:1px solid #999"></span>{html.escape(lbl)}</div>'
        for lbl, c in zip(legend.labels, legend.colors)
    )
    return f"<b>{html.escape(legend.title)}</b>{rows}"


def class_breaks(values: pd.Series, classes: int = len(PALETTE)) -> np.ndarray:
    """Whole-number upper bounds of up to ``classes`` quantile classes of counts (distinct, increasing)."""
    finite = values.dropna().to_numpy(dtype=float)
    if finite.size == 0:
        return np.array([0.0])
    return np.unique(np.ceil(np.quantile(finite, np.linspace(0, 1, classes + 1)[1:])))


def colors_for(values: pd.Series, breaks: np.ndarray) -> list[str]:
    palette = PALETTE[-len(breaks) :] if len(breaks) < len(PALETTE) else PALETTE
    idx = np.searchsorted(breaks, values.to_numpy(dtype=float), side="left")
    return [NO_DATA if pd.isna(v) else palette[min(i, len(palette) - 1)] for v, i in zip(values, idx)]


def legend_for(title: str, breaks: np.ndarray, lowest: int = 0) -> Legend:
    palette = PALETTE[-len(breaks) :] if len(breaks) < len(PALETTE) else PALETTE
    lows = np.concatenate([[lowest], np.floor(breaks[:-1]) + 1])
    labels = tuple(f"{int(lo)}–{int(hi)}" if int(lo) < int(hi) else f"{int(hi)}" for lo, hi in zip(lows, breaks))
    return Legend(title, labels, tuple(palette[: len(breaks)]))


def count_classes(counts: pd.Series, title: str) -> tuple[list[str], Legend]:
    """(fill per count, legend) of counts in quantile classes of the palette. A zero is neutral white,
    not the palette's lightest class: zero is not "a few"."""
    zero = (counts == 0).to_numpy()
    breaks = class_breaks(counts[~zero])
    fills = [NEUTRAL if z else f for f, z in zip(colors_for(counts, breaks), zero, strict=True)]
    legend = legend_for(title, breaks, lowest=1) if (~zero).any() else Legend(title, (), ())
    if zero.any():
        legend = Legend(title, ("0", *legend.labels), (NEUTRAL, *legend.colors))
    return fills, legend


def spread(palette: tuple[str, ...], classes: int) -> tuple[str, ...]:
    """``classes`` colours spread over a sequential ``palette``, lightest and darkest kept, so that
    two classes are not two shades of dark red."""
    if classes >= len(palette):
        return palette
    return tuple(palette[i] for i in np.linspace(0, len(palette) - 1, max(classes, 1)).round().astype(int))


def choropleth_classes(
    values: pd.Series, *, title: str, better: bool | None, percent: bool, zero_neutral: bool = False
) -> tuple[list[str], Legend, Callable[[float], str]]:
    """(fill colour per value, the legend, the value formatter) for ``values``, coloured for what they
    mean. A share with a direction (``better``: True = higher is better) sits on the fixed 0–100 %
    scale in five classes, red to green, so 8 % coverage is red however the other grids do. Other
    measures get quintile classes of the values, red to green when ``better`` says which way is
    better, else light to dark; ``zero_neutral`` (counts) shows 0 as its own neutral class, and a
    map where every value is the same shows it neutral (there is nothing to compare)."""

    def text(v: float) -> str:
        return f"{v:.1%}" if percent else f"{v:,.1f}"

    numbers = values.to_numpy(dtype=float)
    if percent and better is not None:
        palette = DIVERGING if better else DIVERGING[::-1]
        idx = np.minimum(np.floor(np.nan_to_num(numbers, nan=0.0).clip(0, 1) * len(palette)), len(palette) - 1)
        edges = np.linspace(0, 1, len(palette) + 1)
        labels = tuple(f"{text(lo)} – {text(hi)}" for lo, hi in itertools.pairwise(edges))
        fills = [NO_DATA if np.isnan(v) else palette[int(i)] for v, i in zip(numbers, idx, strict=True)]
        return fills, Legend(title, labels, tuple(palette)), text
    zero = (numbers == 0) if zero_neutral else np.zeros(len(numbers), bool)
    finite = numbers[np.isfinite(numbers) & ~zero]
    if finite.size == 0 or finite.min() == finite.max():
        labels = (text(finite[0]),) if finite.size else ()
        labels = (("0",) if zero.any() else ()) + labels
        fills = [NO_DATA if np.isnan(v) else NEUTRAL for v in numbers]
        return fills, Legend(title, labels, (NEUTRAL,) * len(labels)), text
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, 6)))
    inner = edges[1:-1]
    idx = np.searchsorted(inner, numbers, side="right")
    classes = len(inner) + 1
    if better is None:
        palette = spread(PALETTE, classes)
    else:
        palette = spread(DIVERGING if better else DIVERGING[::-1], classes)
    bounds = np.concatenate([edges[:1], inner, edges[-1:]])
    labels = tuple(f"{text(lo)} – {text(hi)}" for lo, hi in itertools.pairwise(bounds))
    fills = [
        NO_DATA if np.isnan(v) else NEUTRAL if z else palette[min(i, len(palette) - 1)]
        for v, i, z in zip(numbers, idx, zero, strict=True)
    ]
    legend = Legend(
        title,
        (("0",) if zero.any() else ()) + labels[: len(palette)],
        ((NEUTRAL,) if zero.any() else ()) + tuple(palette),
    )
    return fills, legend, text


def measure_colors(values: pd.Series, kind: str) -> tuple[list[int], tuple[str, ...], Legend]:
    """Palette index per grid (-1 = no value), the palette and the legend labels (title left empty).

    Rates use fixed classes (red = worse); counts and per-1,000 figures use quantile classes."""
    if kind == "rate":
        idx = np.searchsorted(RATE_BREAKS, values.to_numpy(dtype=float), side="left")
        lows = np.concatenate([[0.0], RATE_BREAKS[:-1]])
        texts = tuple(f"{lo:.0%}–{hi:.0%}" if hi < 1 else f"≥ {lo:.0%}" for lo, hi in zip(lows, RATE_BREAKS))
        palette = DIVERGING
    else:
        breaks = class_breaks(values)
        palette = spread(PALETTE, len(breaks))
        idx = np.searchsorted(breaks, values.to_numpy(dtype=float), side="left")
        texts = legend_for("", breaks).labels
    fill = [-1 if pd.isna(v) else int(min(i, len(palette) - 1)) for v, i in zip(values, idx)]
    return fill, tuple(palette), Legend("", texts, tuple(palette[: len(texts)]))


# ---- the map and its scripts ---------------------------------------------------------------------
class MetricScale(MacroElement):
    """A metric-only scale bar (folium's ``control_scale`` also shows feet and miles)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


def base_map(bounds: tuple[float, float, float, float]) -> folium.Map:
    """An empty map fitted to ``bounds`` (minx, miny, maxx, maxy), offline unless tiles are configured."""
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, prefer_canvas=True, zoom_snap=0.25)
    MetricScale().add_to(m)
    tile_url = settings.tile_url()
    if tile_url:
        folium.TileLayer(tile_url, attr=settings.tile_attribution() or " ", name="basemap").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


class _Script(MacroElement):
    """A drawing script with its configuration (and ``palettes.SCRIPT_COLORS``), run against the map it
    is added to."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this.code.replace('__MAP__', this._parent.get_name()) }}{% endmacro %}"
    )

    def __init__(self, code: str, config: dict):
        super().__init__()
        self._name = "GridWatchScript"
        self.code = code.replace("__CONFIG__", script_json(config | {"colors": SCRIPT_COLORS}))


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
    """Unfilled outlines drawn once with the base map; hovers and clicks pass through them."""

    frame: gpd.GeoDataFrame
    group: str  # the Command center's layer ("communities" or "streets"); other maps: their own layer
    color: str
    weight: float
    label: str = ""  # other maps: the name in the layer switch ("" = always shown, no switch)
    below: bool = False  # other maps: drawn under the units rather than over them


# ---- the Command center's map (live_map.js) ------------------------------------------------------
def live_base_map(config: dict) -> folium.Map:
    """The Command center's static part, from ``map_builders.base_config`` (a new map object each time:
    st_folium renames a map's variables as it renders it)."""
    m = base_map(tuple(config["bounds"]))
    _Script(_JS, config).add_to(m)
    return make_offline(m)


def live_script(payload: dict) -> str:
    """The Command center's live part (``map_builders.live_payload``): the script that hands it to the
    drawn map (``map_view.show_prepared_map``; no Jinja, so a city's payload costs only its JSON)."""
    return f"window.gw.update({script_json(payload)});"


# ---- every other map: units coloured by a value (choropleth.js) ---------------------------------
def choropleth_config(
    units: gpd.GeoDataFrame,
    label_column: str,
    *,
    outlines: tuple[Outline, ...] = (),
    layer: str = "",
    bounds: tuple[float, float, float, float] | None = None,
) -> dict:
    """The static part: encoded outlines and escaped names of ``units`` (display-simplified), the
    ``outlines`` drawn with them, the units' ``layer`` name in a layer switch (with any labelled
    outline; "" = no switch for them) and the ``bounds`` to fit (default: the units')."""
    return {
        "bounds": [float(v) for v in (units.total_bounds if bounds is None else bounds)],
        "rings": polygon_rings(units.geometry.array),
        "names": escaped(units[label_column]),
        "layer": html.escape(layer),
        "outlines": [
            {
                "rings": polygon_rings(o.frame.geometry.array),
                "color": o.color,
                "weight": o.weight,
                "label": html.escape(o.label),
                "below": o.below,
            }
            for o in outlines
        ],
    }


def choropleth_base_map(config: dict) -> folium.Map:
    m = base_map(tuple(config["bounds"]))
    _Script(_CHOROPLETH_JS, config).add_to(m)
    return make_offline(m)


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
    legend: Legend,
    *,
    fill_opacity: float = 0.8,
    overlay: folium.raster_layers.ImageOverlay | None = None,
    hover_title: str | None = None,
    overlays: tuple[Overlay, ...] = (),
    lines: list[str] | None = None,
    line_weight: float = 0.6,
) -> folium.FeatureGroup:
    """The live part: a fill colour and hover text per unit (under ``hover_title``, by default the
    legend's title; "" = the text alone), the legend, optionally an image drawn over the units (with
    ``fill_opacity`` 0 the units are outlines only), polygon ``overlays``, and a line colour per unit
    (``lines``, default grey) of ``line_weight``."""
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
            "legend": legend_html(legend),
            "fillOpacity": fill_opacity,
            "overlays": layers,
            "lines": lines,
            "weight": line_weight,
        },
    ).add_to(group)
    return group


def choropleth_update(
    values: pd.Series, *, title: str, better: bool | None, percent: bool, zero_neutral: bool = False
) -> folium.FeatureGroup:
    """Colours, hover values and legend for ``values`` (aligned with the config's units); see
    ``choropleth_classes``."""
    fills, legend, text = choropleth_classes(
        values, title=title, better=better, percent=percent, zero_neutral=zero_neutral
    )
    return colour_update(fills, ["–" if pd.isna(v) else text(v) for v in values], legend)


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
